# One entry point for people and CI. `make demo` and `make test` do all the set-up they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The one Python the lock (constraints.txt, `make lock`), pyproject.toml and the deployment image are made for.
SUPPORTED_PYTHON := 3.11
PYTHON ?= $(shell command -v python$(SUPPORTED_PYTHON) || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project

.PHONY: help setup lock preflight test lint unit

# The local cloud's targets (make up, demo, integration, bench, ...) and its packages live in dev/, the one seam a
# fork removes to do without it (docs/fork-this-template.md, "Without the local cloud"). Without dev/, make test runs
# the unit, DAG and static tests.
LOCAL_CLOUD_REQUIREMENTS := $(wildcard dev/requirements.txt)
TEST_NEEDS :=
-include dev/local-cloud.mk

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# $(call require_python,<interpreter>): stop with what to do unless it is Python $(SUPPORTED_PYTHON).
define require_python
@found="$$($(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)"; \
if [ "$$found" != "$(SUPPORTED_PYTHON)" ]; then \
	echo "Python $(SUPPORTED_PYTHON) is required (the pinned stack in constraints.txt is resolved for it);" \
		"$(or $(1),no python3) is $${found:-not a working Python}." >&2; \
	echo "Install Python $(SUPPORTED_PYTHON) (python.org, your package manager, pyenv or 'uv python install" \
		"$(SUPPORTED_PYTHON)'), then run: $(if $(filter $(VPY),$(1)),rm -rf $(VENV); )make" \
		"PYTHON=/path/to/python$(SUPPORTED_PYTHON) $(MAKECMDGOALS)" >&2; \
	exit 1; \
fi
endef

$(VPY):
	$(call require_python,$(PYTHON))
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements or lock file changed: setup is idempotent and fast when current.
$(STAMP): $(VPY) requirements.in requirements.txt requirements-dbt.txt requirements-dev.txt $(LOCAL_CLOUD_REQUIREMENTS) constraints.txt
	$(call require_python,$(VPY))
	@echo "Installing the pinned stack into $(VENV): a few minutes the first time"
	@$(VPY) -m pip --version >/dev/null 2>&1 || $(VPY) -m ensurepip --upgrade  # a venv made by uv has no pip
	$(VPY) -m pip install --quiet --disable-pip-version-check 'uv>=0.5'
	@# --compile-bytecode: every Airflow task, dbt and `airflow dags test` process imports compiled modules (pip does
	@# this by default; uv does not, and with PYTHONDONTWRITEBYTECODE set nothing would ever be cached).
	$(VENV)/bin/uv pip install --python $(VPY) --compile-bytecode -r requirements-dev.txt \
		$(addprefix -r ,$(LOCAL_CLOUD_REQUIREMENTS)) -c constraints.txt
	@touch $(STAMP)

# The manifest Cosmos renders the dbt project from (LoadMode.DBT_MANIFEST): rebuilt when the project changes.
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -name target -prune -o -name logs -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	@echo "Building the dbt manifest ($(MANIFEST))"
	$(VENV)/bin/dbt parse --project-dir dbt_project --profiles-dir dbt_project --target local --quiet

setup: $(STAMP) $(MANIFEST)  ## create .venv with the pinned stack and the dbt manifest (idempotent)

# constraints.txt: the full lock every machine installs. requirements.txt: what the image's Runtime build installs
# (it reads no constraints file), so it pins requirements.in and all it pulls in to the lock's versions; the
# Runtime ships apache-airflow itself and refuses a requirements.txt that names it.
lock: $(VPY)  ## re-resolve constraints.txt and requirements.txt after changing a requirements file
	$(VPY) -m pip install --quiet 'uv>=0.5'
	$(VENV)/bin/uv pip compile requirements-dev.txt $(LOCAL_CLOUD_REQUIREMENTS) --python-version 3.11 --upgrade \
		-o constraints.txt
	$(VENV)/bin/uv pip compile requirements.in --python-version 3.11 -c constraints.txt \
		--no-emit-package apache-airflow --annotation-style line --custom-compile-command "make lock" -o requirements.txt
	$(VENV)/bin/uv pip install --python $(VPY) --quiet -r requirements-dev.txt \
		$(addprefix -r ,$(LOCAL_CLOUD_REQUIREMENTS)) -c constraints.txt
	$(VPY) -m include.warehouse.public_suffixes  # the seed follows the locked publicsuffixlist

# The connections in your environment when you have set any AIRFLOW_CONN_* (real accounts), else the local cloud's
# generated ones (PREFLIGHT_LOCAL_ENV, from dev/local-cloud.mk). ONLY=s3,snowflake,salesforce,hightouch narrows it.
PREFLIGHT_LOCAL_ENV ?=
preflight: setup  ## check S3, Snowflake, Salesforce and Hightouch as the pipeline sees them; exit 1 on any ✗
	@if env | grep -q '^AIRFLOW_CONN_'; then \
		echo "preflight through the AIRFLOW_CONN_* connections of your environment"; \
	else \
		env_file="$(if $(PREFLIGHT_LOCAL_ENV),$$($(PREFLIGHT_LOCAL_ENV)))"; \
		if [ ! -f "$$env_file" ]; then \
			echo "no AIRFLOW_CONN_* variables set and no local cloud: export your connections (README," \
				"Point it at real accounts)$(if $(PREFLIGHT_LOCAL_ENV), or run make up)" >&2; exit 2; \
		fi; \
		echo "preflight through the local cloud's connections ($$env_file; make up starts it)"; \
		set -a; . "$$env_file"; set +a; \
	fi; \
	$(VPY) -m include.preflight $(if $(ONLY),--only $(ONLY))

lint: setup  ## ruff, ruff format, sqlfluff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# --processes 0: one sqlfluff process per CPU (its default is one in all). Its worker pool can exit without
	@# releasing a semaphore, which Python's resource tracker removes at shutdown with a warning: silenced.
	PYTHONWARNINGS="ignore::UserWarning:multiprocessing.resource_tracker" \
		$(VENV)/bin/sqlfluff lint --processes 0 include/sql dbt_project/models

unit: setup  ## fast tests: no services
	$(VPY) -m pytest -m "not integration"

# Three workers, whole modules each (--dist loadfile), each worker with its own local cloud: much of a DAG run is
# waiting (schedules, polls, hand-offs), so three overlap better than two even on 2 cores. The slowest tests are
# listed at the end.
test: lint $(TEST_NEEDS)  ## everything CI runs: lint, then all tests (they start and stop their own services); lists the slowest
	$(VPY) -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=15

