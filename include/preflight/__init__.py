"""``make preflight``: prove a real set-up (S3, Snowflake, Salesforce, Hightouch) before the first run.

Each service module holds pure check functions over what the service answered (unit-tested on payloads) and
one function at the edge that makes the calls through the pipeline's own Airflow connections
(``include.connections``) and turns every answer, error included, into ``Check`` results. ``run`` runs them,
``python -m include.preflight`` prints them, and ``dags/preflight.py`` runs the same inside a Deployment.
"""
