"""The activation run's own parts beyond dbt and the syncs: the gate before Salesforce, the record of what each run
did (in the warehouse) and the run page that shows it in Airflow."""
