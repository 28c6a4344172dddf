# Deployment image: Astro Runtime 3.3 (Apache Airflow 3.3, the minor version pinned in constraints.txt).
# The Runtime's ONBUILD steps install packages.txt and requirements.txt and copy the project;
# .dockerignore keeps the local cloud (dev/), tests and local state out of the image.
FROM astrocrpublic.azurecr.io/runtime:3.3-2

# dbt lives in its own virtualenv, as Cosmos documents, so its pins never fight Airflow's.
# Same versions as local development (constraints.txt).
COPY --chown=astro:0 requirements-dbt.txt constraints.txt /tmp/dbt/
RUN python -m venv /usr/local/airflow/dbt_venv \
    && /usr/local/airflow/dbt_venv/bin/pip install --no-cache-dir \
        -r /tmp/dbt/requirements-dbt.txt -c /tmp/dbt/constraints.txt

ENV DBT_EXECUTABLE_PATH=/usr/local/airflow/dbt_venv/bin/dbt

# The manifest Cosmos renders the dbt project from (LoadMode.DBT_MANIFEST), built into the image so DAG
# parsing never runs dbt. Parsing needs no warehouse; the `local` target is the one whose profile has no
# secrets to resolve. At run time dbt parses again with the Deployment's real target.
RUN cd /usr/local/airflow/dbt_project \
    && /usr/local/airflow/dbt_venv/bin/dbt parse --profiles-dir . --target local --quiet
