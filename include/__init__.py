"""Pipeline code shared by the DAGs: connection ids, settings, warehouse helpers and SQL.

Astro puts the project root on ``PYTHONPATH``, so DAGs import this as ``include.<module>``.
"""
