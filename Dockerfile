# Deployment image: Astro Runtime 3.3 (Apache Airflow 3.3, the minor version pinned in constraints.txt).
# Runtime 3 tags read <airflow major.minor>-<Astro release>; the -python-3.11 distribution keeps the image on
# the Python that constraints.txt is resolved for (`make lock` uses --python-version 3.11), as local and CI are.
#
# The Runtime's ONBUILD steps run first: they install packages.txt (apt) and requirements.txt (pip, into the
# Runtime's own Python, with no constraints file) and copy the project into /usr/local/airflow as the `astro`
# user. So requirements.txt pins every package the image adds to the versions CI tested (`make lock` writes it
# from requirements.in and constraints.txt; tests/static/test_deployment_files.py keeps the two in step). The RUN steps below
# come after them, so the project's files are already in place. .dockerignore keeps the local cloud (dev/),
# tests, docs and local state out of the image.
FROM astrocrpublic.azurecr.io/runtime:3.3-2-python-3.11

# dbt lives in its own virtualenv, as Cosmos documents, so its pins never fight Airflow's. Same versions as
# local development and CI: requirements-dbt.txt under the full lock (constraints.txt).
ENV DBT_VENV=/usr/local/airflow/dbt_venv
RUN python -m venv "${DBT_VENV}" \
    && "${DBT_VENV}/bin/pip" install --no-cache-dir --disable-pip-version-check \
        -r /usr/local/airflow/requirements-dbt.txt -c /usr/local/airflow/constraints.txt

# Cosmos runs dbt from here (include/transform/cosmos_config.py reads DBT_EXECUTABLE_PATH).
ENV DBT_EXECUTABLE_PATH=/usr/local/airflow/dbt_venv/bin/dbt

# Airflow settings every component of the Deployment runs with (the local cloud reads these ENV AIRFLOW__ lines
# too: dev/localcloud/env.py). OpenLineage emits each task's events from a time-bounded thread of the task process
# instead of a forked copy of it: no fork per event (a copy of a task process that holds dbt's manifest), and no
# inherited supervisor connection that can leave a task stuck in `running` (the provider's `execute_in_thread`).
ENV AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD=True

# The manifest Cosmos renders the dbt project from (LoadMode.DBT_MANIFEST), built into the image so DAG
# parsing never runs dbt. Parsing needs no warehouse; the `local` target is the one whose profile has no
# secrets to resolve. At run time dbt parses again with the Deployment's real target.
RUN cd /usr/local/airflow/dbt_project \
    && "${DBT_EXECUTABLE_PATH}" parse --project-dir . --profiles-dir . --target local --quiet \
    && test -s target/manifest.json
