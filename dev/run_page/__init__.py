"""The run page: one HTML page per activation run that ``make demo`` writes under ``.local/runs/``, showing
what the run's signups became in Salesforce, per account manager (``shape``: the data, ``collect``: the
queries, ``render``: the page)."""
