"""How Airflow runs the dbt project (through astronomer-cosmos)."""
