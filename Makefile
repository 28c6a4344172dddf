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

.PHONY: help setup lock up down status logs demo preflight test lint unit integration browser bench alerts sql soql clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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
$(STAMP): $(VPY) requirements.in requirements.txt requirements-dbt.txt requirements-dev.txt constraints.txt
	$(call require_python,$(VPY))
	@echo "Installing the pinned stack into $(VENV): a few minutes the first time"
	@$(VPY) -m pip --version >/dev/null 2>&1 || $(VPY) -m ensurepip --upgrade  # a venv made by uv has no pip
	$(VPY) -m pip install --quiet --disable-pip-version-check 'uv>=0.5'
	@# --compile-bytecode: every Airflow task, dbt and `airflow dags test` process imports compiled modules (pip does
	@# this by default; uv does not, and with PYTHONDONTWRITEBYTECODE set nothing would ever be cached).
	$(VENV)/bin/uv pip install --python $(VPY) --compile-bytecode -r requirements-dev.txt -c constraints.txt
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
	$(VENV)/bin/uv pip compile requirements-dev.txt --python-version 3.11 --upgrade -o constraints.txt
	$(VENV)/bin/uv pip compile requirements.in --python-version 3.11 -c constraints.txt \
		--no-emit-package apache-airflow --annotation-style line --custom-compile-command "make lock" -o requirements.txt
	$(VENV)/bin/uv pip install --python $(VPY) --quiet -r requirements-dev.txt -c constraints.txt
	$(VPY) -m include.warehouse.public_suffixes  # the seed follows the locked publicsuffixlist

up: setup  ## start the local cloud: S3, Snowflake, Airflow (idempotent)
	$(VPY) -m dev.localcloud up

down:  ## stop every process the local cloud started
	@if [ -x $(VPY) ]; then $(VPY) -m dev.localcloud down; fi

status: setup  ## health of each local service
	$(VPY) -m dev.localcloud status

# SERVICE=<name or group> for one (make logs SERVICE=airflow-scheduler); N=<lines> shown before following.
logs:  ## follow the local cloud's logs: all, or one with SERVICE=airflow-scheduler (Ctrl-C stops)
	@if [ -x $(VPY) ]; then $(VPY) -m dev.localcloud logs $(SERVICE) $(if $(N),--lines $(N)); \
	else echo "no $(VENV) yet: make up starts the local cloud"; fi

demo: up  ## run the pipeline end to end on the local cloud and print what it did
	$(VPY) -m dev.demo

# The connections in your environment when you have set any AIRFLOW_CONN_* (real accounts), else the local cloud's
# generated ones. ONLY=s3,snowflake,salesforce,hightouch narrows it.
preflight: setup  ## check S3, Snowflake, Salesforce and Hightouch as the pipeline sees them; exit 1 on any ✗
	@if env | grep -q '^AIRFLOW_CONN_'; then \
		echo "preflight through the AIRFLOW_CONN_* connections of your environment"; \
	else \
		env_file="$$($(VPY) -m dev.localcloud.env)"; \
		if [ ! -f "$$env_file" ]; then \
			echo "no AIRFLOW_CONN_* variables set and no local cloud: export your connections (README," \
				"Point it at real accounts) or run make up" >&2; exit 2; \
		fi; \
		echo "preflight through the local cloud's connections ($$env_file; make up starts it)"; \
		set -a; . "$$env_file"; set +a; \
	fi; \
	$(VPY) -m include.preflight $(if $(ONLY),--only $(ONLY))

lint: setup  ## ruff, ruff format, sqlfluff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint include/sql dbt_project/models

unit: setup  ## fast tests: no services
	$(VPY) -m pytest -m "not integration"

integration: setup browser  ## tests against a local cloud they start and stop themselves
	$(VPY) -m pytest -m integration

# The run page's browser test drives the system Chromium (Playwright uses it as installed). Debian/Ubuntu: installed
# here with apt-get when missing; elsewhere install Chromium yourself (macOS: brew install --cask chromium).
browser:  ## install Chromium for the run page's browser test when missing (apt-get)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the run page's browser test (apt-get)"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || \
	      { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "No Chromium: the run page's browser test will fail; install Chromium (see Makefile, browser)"; fi; }

# Three workers, whole modules each (--dist loadfile), each worker with its own local cloud: much of a DAG run is
# waiting (schedules, polls, hand-offs), so three overlap better than two even on 2 cores. The slowest tests are
# listed at the end.
test: lint browser  ## everything CI runs: lint, then all tests (they start and stop their own services); lists the slowest
	$(VPY) -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=15

bench: setup  ## benchmarks against minimal baselines (BENCH=parse,latency for some); results in docs/benchmarks.md
	$(VPY) -m dev.bench

alerts: setup  ## the alerts the local cloud's chat received (failed tasks, missed deadlines, approvals)
	$(VPY) -m dev.chat

sql: setup  ## run one statement on the local warehouse: make sql Q='SELECT 1'
	$(VPY) -m dev.localcloud.sql "$(Q)"

soql: setup  ## run one SOQL query on the local Salesforce: make soql Q='SELECT Name FROM Account'
	$(VPY) -m dev.localcloud.salesforce_query "$(Q)"

clean: down  ## remove all local state (warehouse, S3 files, Airflow home)
	rm -rf .local
