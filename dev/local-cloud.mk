# The local cloud's make targets, included by the Makefile when dev/ is there. They need dev/ (the stand-ins and
# emulators), its packages (dev/requirements.txt, installed by `make setup`) and, for the browser test, Chromium.
# A fork without the local cloud deletes dev/ and these targets go with it (docs/fork-this-template.md).

.PHONY: up down status logs demo integration browser bench alerts sql soql clean

# make test also runs the integration tests, and one of them drives Chromium.
TEST_NEEDS += browser
# make preflight with no AIRFLOW_CONN_* in the environment checks the local cloud's generated connections.
PREFLIGHT_LOCAL_ENV = $(VPY) -m dev.localcloud.env

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
	  else echo "No Chromium: the run page's browser test will fail; install Chromium (see dev/local-cloud.mk, browser)"; fi; }

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
