"""Warehouse helpers: bootstrap and loading through the Airflow Snowflake connection."""
