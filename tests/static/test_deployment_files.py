"""The deployment files agree with the code and with the tools that read them, checked without Docker or Astro.

What the test suite cannot run (a Docker build, `astro deploy`, GitHub Actions, Snowflake) is checked here
statically: the image's base matches the pinned Airflow, .dockerignore keeps the local cloud out, the workflows
are valid against GitHub's schema and do what docs/deploy-to-astro.md says, the production SQL creates what the
pipeline uses, and airflow_settings.yaml is what `astro dev start` expects and holds no secret.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from include.hightouch.syncs import default_syncs
from include.settings import WarehouseNames, warehouse_names
from include.warehouse.bootstrap import render_bootstrap_sql

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
WORKFLOW_SCHEMA = Path(__file__).with_name("schemas") / "github-workflow.json"
PRODUCTION_SQL = REPO / "include" / "sql" / "production_setup.sql"
# The Python `make lock` resolves constraints.txt for, and that local development and CI run.
LOCKED_PYTHON = re.search(r"--python-version (\d+\.\d+)", (REPO / "Makefile").read_text()).group(1)


# --- Dockerfile and .dockerignore -------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for parts in (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    ]


def pinned_version(package: str, path: Path) -> str:
    match = re.search(rf"^{re.escape(package)}==([\w.]+)\s*$", path.read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned with == in {path.name}"
    return match.group(1)


def test_base_image_is_the_astro_runtime_of_the_pinned_airflow_minor_and_locked_python() -> None:
    froms = [args for instruction, args in dockerfile_instructions() if instruction == "FROM"]
    assert len(froms) == 1, f"one build stage expected (Astro builds the last one): {froms}"
    match = re.fullmatch(
        r"astrocrpublic\.azurecr\.io/runtime:(?P<airflow>\d+\.\d+)-(?P<release>\d+)(?:-python-(?P<python>\d+\.\d+))?",
        froms[0],
    )
    assert match, f"not an Astro Runtime 3 image from Astro's registry: {froms[0]}"
    airflow = pinned_version("apache-airflow", REPO / "constraints.txt")
    assert pinned_version("apache-airflow", REPO / "requirements-dev.txt") == airflow
    # Runtime 3 tags are <Airflow major.minor>-<Astro release>: the image runs the Airflow minor we lock.
    assert match["airflow"] == ".".join(airflow.split(".")[:2]), f"Runtime {match['airflow']} vs Airflow {airflow}"
    assert match["python"] == LOCKED_PYTHON, "the image's Python must be the one constraints.txt is resolved for"


def test_dbt_gets_its_own_virtualenv_with_the_locked_pins_and_cosmos_uses_it() -> None:
    runs = [args for instruction, args in dockerfile_instructions() if instruction == "RUN"]
    env = " ".join(args for instruction, args in dockerfile_instructions() if instruction == "ENV")
    venv_installs = [run for run in runs if re.search(r"-m venv\b", run)]
    assert venv_installs, "dbt must be installed in its own virtualenv (Cosmos' documented set-up)"
    install = venv_installs[0]
    assert re.search(r"-r\s+\S*requirements-dbt\.txt", install), install
    assert re.search(r"-c\s+\S*constraints\.txt", install), "dbt must install under the same lock as CI"
    # Cosmos reads the executable from DBT_EXECUTABLE_PATH (include/transform/cosmos_config.py).
    assert "DBT_EXECUTABLE_PATH" in (REPO / "include" / "transform" / "cosmos_config.py").read_text()
    assert re.search(r"DBT_EXECUTABLE_PATH=\S*dbt_venv/bin/dbt\b", env), env
    # The Runtime installs requirements.txt itself (ONBUILD); installing it again would bypass that.
    assert not any(re.search(r"-r\s+\S*requirements\.txt", run) for run in runs)


def _package(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins(path: Path) -> dict[str, str]:
    """package -> version of every `name==version` line (the lock format `make lock` writes)."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if match:
            pins[_package(match.group(1))] = match.group(2)
    return pins


def lock_dependents() -> dict[str, set[str]]:
    """package -> what requires it, from constraints.txt's `# via` annotations (package names or `-r file`)."""
    via: dict[str, set[str]] = {}
    current = None
    for line in (REPO / "constraints.txt").read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==", line)
        if pinned:
            current = _package(pinned.group(1))
            via[current] = set()
            inline = re.search(r"#\s*via\s+(.+)$", line)
            entries = inline.group(1).split(",") if inline else []
        else:
            entry = re.match(r"^\s+#\s+(?:via\s+)?(-r \S+|[A-Za-z0-9][A-Za-z0-9_.\-]*)\s*$", line)
            entries = [entry.group(1)] if entry and entry.group(1) != "via" else []
        for item in (e.strip() for e in entries):
            if current:
                via[current].add(item if item.startswith("-") else _package(item))
    return via


def test_the_image_installs_exactly_the_locked_versions() -> None:
    """The Runtime's ONBUILD step runs `pip install -r requirements.txt` and reads no constraints file, so
    requirements.txt itself pins every package the image adds, at the versions CI tested (constraints.txt)."""
    locked, image = lock_pins(REPO / "constraints.txt"), lock_pins(REPO / "requirements.txt")
    requirement_lines = [line.split("#")[0].strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    unpinned = [line for line in requirement_lines if line and "==" not in line]
    assert not unpinned, f"requirements.txt must pin with ==: {unpinned}"
    diverged = {name: (version, locked.get(name)) for name, version in image.items() if locked.get(name) != version}
    assert not diverged, f"requirements.txt differs from constraints.txt (run `make lock`): {diverged}"
    # Every direct requirement is pinned, with what it pulls in (the lock's dependency annotations).
    direct = {
        _package(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0])
        for line in (REPO / "requirements.in").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    assert direct <= set(image), f"not pinned in requirements.txt (run `make lock`): {direct - set(image)}"
    via = lock_dependents()
    closure = {name for name, parents in via.items() if "-r requirements.in" in parents}
    while more := {name for name, parents in via.items() if parents & closure} - closure:
        closure |= more
    assert set(image) <= closure, f"pinned but not needed by requirements.in: {set(image) - closure}"
    # The Runtime ships Airflow and fails a build whose requirements.txt names apache-airflow itself.
    assert "apache-airflow" not in image
    assert not any(re.fullmatch(r"apache-airflow\s*[=~>]{1,2}.*", line) for line in requirement_lines)


def test_the_image_build_parses_the_dbt_manifest_cosmos_renders_from() -> None:
    runs = [args for instruction, args in dockerfile_instructions() if instruction == "RUN"]
    parses = [run for run in runs if re.search(r"(\bdbt|DBT_EXECUTABLE_PATH\}?\"?)\s+parse\b", run)]
    assert parses, "the manifest (LoadMode.DBT_MANIFEST) must be built at image build time"
    assert "dbt_project" in parses[0]
    assert "target/manifest.json" in parses[0], "the build should fail when dbt wrote no manifest"


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: Go filepath.Match per segment, plus `**` for any depth."""
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):  # "**/" also matches no directory at all
                out = out[:-2] + "(?:.*/)?"
                i += 1
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def excluded_by_dockerignore(path: str) -> bool:
    """Docker excludes a path when a pattern matches it or one of its parent folders; `!` re-includes; last wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in dockerignore_patterns():
        negated = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if negated else pattern)
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        "dev/demo.py",
        "dev/localcloud/services.py",
        "dev/dags/smoke_local_cloud.py",
        ".local/x",
        ".local/snowflake/RAW.db",
        ".venv/bin/python",
        "tests/unit/test_loading.py",
        ".env",
        "airflow_settings.yaml",
        "dbt_project/target/manifest.json",
        "include/__pycache__/settings.cpython-311.pyc",
        ".git/HEAD",
    ],
)
def test_dockerignore_keeps_the_local_cloud_local_state_and_tooling_out(path: str) -> None:
    assert excluded_by_dockerignore(path), f"{path} would be copied into the deployment image"


@pytest.mark.parametrize(
    "path",
    [
        "dags/activate_salesforce.py",
        "include/settings.py",
        "include/sql/bootstrap_warehouse.sql",
        "include/hightouch/syncs.yaml",
        "dbt_project/dbt_project.yml",
        "dbt_project/models/marts/_marts.yml",
        "dbt_project/profiles.yml",
        "plugins/README.md",
        "requirements.txt",
        "requirements-dbt.txt",
        "constraints.txt",
        "packages.txt",
        "Dockerfile",
        ".astro/config.yaml",
    ],
)
def test_dockerignore_keeps_what_the_image_needs(path: str) -> None:
    assert not excluded_by_dockerignore(path), f"{path} is needed in the image but .dockerignore drops it"


# --- GitHub Actions ---------------------------------------------------------------------------------------------


def load_workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    # PyYAML (YAML 1.1) reads the bare key `on` as True.
    value = workflow.get("on", workflow.get(True))
    return {value: None} if isinstance(value, str) else dict(value)


@pytest.fixture(scope="module")
def workflow_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(WORKFLOW_SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_workflow_is_valid_against_githubs_workflow_schema(workflow_validator, name: str) -> None:
    workflow = load_workflow(name)
    workflow["on"] = triggers(workflow)  # back to the key GitHub reads
    workflow.pop(True, None)
    errors = sorted(workflow_validator.iter_errors(workflow), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_ci_runs_make_test_on_pushes_and_pull_requests_with_python_311_caches_and_a_time_limit() -> None:
    workflow = load_workflow("ci.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    test_job = workflow["jobs"]["test"]
    assert test_job["timeout-minutes"] <= 90, "CI has 90 minutes"
    steps = test_job["steps"]
    assert any(step.get("run", "").strip() == "make test" for step in steps), "CI must run exactly what people run"
    setup_python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup_python["with"]["python-version"]) == LOCKED_PYTHON
    assert setup_python["with"].get("cache") == "pip"
    uv_cache = [step for step in steps if step.get("uses", "").startswith("actions/cache@")]
    assert any("uv" in str(step["with"]["path"]) for step in uv_cache), "make setup installs with uv: cache it"


def test_ci_builds_the_image_and_runs_the_parse_check_and_the_dag_and_unit_tests_inside_it() -> None:
    """The image job is the only proof that the Dockerfile builds and that the DAGs import on the image's own
    packages: removing it, or a step of it, fails here."""
    jobs = load_workflow("ci.yml")["jobs"]
    image_jobs = [
        job for job in jobs.values()
        if any(step.get("uses", "").startswith("astronomer/setup-astro-cli@") for step in job.get("steps", []))
    ]  # fmt: skip
    assert len(image_jobs) == 1, "ci.yml needs one job that installs the Astro CLI and tests the image"
    (job,) = image_jobs
    runs = [" ".join(step.get("run", "").split()) for step in job["steps"]]
    assert "astro dev parse" in runs, "the parse check astro deploy runs (.astro/test_dag_integrity_default.py)"
    pytest_runs = [run for run in runs if run.startswith("astro dev pytest")]
    assert len(pytest_runs) == 1, runs
    assert "tests/dags" in pytest_runs[0], runs
    assert "tests/unit" in pytest_runs[0], runs
    assert any(step.get("uses", "").startswith("actions/checkout@") for step in job["steps"])
    assert job["timeout-minutes"] <= 60


def test_deploy_runs_only_after_tests_pass_and_only_for_main() -> None:
    jobs = load_workflow("ci.yml")["jobs"]
    deploy_call = jobs["deploy"]
    needs = {deploy_call["needs"]} if isinstance(deploy_call["needs"], str) else set(deploy_call["needs"])
    assert needs == set(jobs) - {"deploy"}, "deploy waits for every other job (make test and the image)"
    assert deploy_call["uses"] == "./.github/workflows/deploy.yml"
    assert "github.event_name == 'push'" in deploy_call["if"]
    assert "github.ref == 'refs/heads/main'" in deploy_call["if"]
    assert set(triggers(load_workflow("deploy.yml"))) == {"workflow_call"}, "deploy.yml must not run on its own"


def test_deploy_uses_a_pinned_astronomer_deploy_action_with_dag_only_inference() -> None:
    workflow = load_workflow("deploy.yml")
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    (deploy,) = [step for step in steps if step.get("uses", "").startswith("astronomer/deploy-action@")]
    assert re.fullmatch(r"astronomer/deploy-action@v\d+\.\d+\.\d+", deploy["uses"]), "pin an exact release"
    # `infer`: DAG-only deploy when only dags/ changed, image deploy otherwise (the action's documented default,
    # spelled out so a change of default upstream cannot silently change how this project deploys).
    assert deploy["with"]["deploy-type"] == "infer"
    # `astro deploy --parse`: the DAG-only deploys too run .astro/test_dag_integrity_default.py in the image first.
    assert deploy["with"]["parse"] is True
    assert deploy["with"]["root-folder"] in {".", "./"}
    assert deploy["with"]["deployment-id"] == "${{ vars.ASTRO_DEPLOYMENT_ID }}"
    assert deploy["env"]["ASTRO_API_TOKEN"] == "${{ secrets.ASTRO_API_TOKEN }}"
    declared = workflow.get("on", workflow.get(True))["workflow_call"]["secrets"]
    assert declared["ASTRO_API_TOKEN"]["required"] is True


# --- production_setup.sql ---------------------------------------------------------------------------------------


def production_statements() -> list[str]:
    """Statements of production_setup.sql, comments dropped and whitespace collapsed."""
    code = "\n".join(line for line in PRODUCTION_SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(statement.split()) for statement in code.split(";") if statement.strip()]


def statement(pattern: str) -> str:
    found = [s for s in production_statements() if re.fullmatch(pattern, s, flags=re.IGNORECASE)]
    assert len(found) == 1, f"expected one statement matching {pattern!r}, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def names(monkeypatch_module) -> WarehouseNames:
    return warehouse_names()


@pytest.fixture(scope="module")
def monkeypatch_module():
    """The production names are the defaults: ignore whatever this shell exported."""
    with pytest.MonkeyPatch.context() as patch:
        for var in ("SNOWFLAKE_RAW_DATABASE", "SNOWFLAKE_ANALYTICS_DATABASE", "SNOWFLAKE_LANDING_SCHEMA",
                    "SNOWFLAKE_LANDING_STAGE", "SNOWFLAKE_LANDING_FILE_FORMAT"):  # fmt: skip
            patch.delenv(var, raising=False)
        yield patch


def dbt_prod_default(key: str) -> str:
    """The default in dbt's prod profile, e.g. role: "{{ env_var('SNOWFLAKE_ROLE', 'TRANSFORMER') }}"."""
    profiles = yaml.safe_load((REPO / "dbt_project" / "profiles.yml").read_text())
    value = profiles["operational_pipeline"]["outputs"]["prod"][key]
    match = re.search(r"env_var\('\w+',\s*'(\w+)'\)", value)
    assert match, f"dbt prod profile {key} has no default: {value}"
    return match.group(1)


def storage_integration() -> str:
    """The integration name the bootstrap is documented to run with (include/warehouse/bootstrap.py)."""
    text = (REPO / "include" / "warehouse" / "bootstrap.py").read_text()
    found = set(re.findall(r"--storage-integration (\w+)", text))
    assert len(found) == 1, found
    return found.pop()


def test_creates_the_pipeline_role_and_warehouse_dbts_prod_profile_uses() -> None:
    role, warehouse = dbt_prod_default("role"), dbt_prod_default("warehouse")
    statement(rf"CREATE ROLE IF NOT EXISTS {role}\b.*")
    statement(rf"CREATE WAREHOUSE IF NOT EXISTS {warehouse}\b.*AUTO_SUSPEND = \d+.*")
    statement(rf"GRANT USAGE ON WAREHOUSE {warehouse} TO ROLE {role}")
    user = statement(rf"CREATE USER IF NOT EXISTS \w+ .*DEFAULT_ROLE = {role} .*")
    assert "RSA_PUBLIC_KEY" in user, "service users authenticate with a key pair"
    login = user.split()[5]
    statement(rf"GRANT ROLE {role} TO USER {login}")


def test_creates_the_storage_integration_the_bootstrap_uses_for_the_landing_bucket() -> None:
    role, integration = dbt_prod_default("role"), storage_integration()
    created = statement(rf"CREATE STORAGE INTEGRATION IF NOT EXISTS {integration} .*")
    assert "STORAGE_PROVIDER = 'S3'" in created
    assert "STORAGE_ALLOWED_LOCATIONS = ('s3://<landing-bucket>/')" in created
    statement(rf"GRANT USAGE ON INTEGRATION {integration} TO ROLE {role}")


def test_the_storage_integrations_iam_policy_lists_what_snowflakes_guide_requires() -> None:
    """Snowflake's storage-integration guide lists s3:GetBucketLocation beside the object and list permissions."""
    text = PRODUCTION_SQL.read_text()
    for permission in ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"):
        assert permission in text, f"production_setup.sql does not tell the administrator to grant {permission}"
    assert "kms:Decrypt" in text, "an SSE-KMS bucket needs kms:Decrypt on its key: say so"
    assert "data-load-s3-config-storage-integration" in text, "cite the guide the permissions come from"


def test_creates_the_stage_and_file_format_the_loader_copies_through(names: WarehouseNames) -> None:
    role, integration = dbt_prod_default("role"), storage_integration()
    # The same file format the bootstrap defines (and the local cloud uses), not a look-alike.
    bootstrap = " ".join(render_bootstrap_sql("s3://bucket/", integration, names).split())
    bootstrap_format = re.search(rf"CREATE FILE FORMAT IF NOT EXISTS {names.file_format_fqn} [^;]*", bootstrap)
    assert bootstrap_format, "the bootstrap no longer defines the file format this test compares against"
    assert statement(rf"CREATE FILE FORMAT IF NOT EXISTS {re.escape(names.file_format_fqn)} .*") == (
        bootstrap_format.group(0)
    )
    stage = statement(rf"CREATE STAGE IF NOT EXISTS {re.escape(names.stage_fqn)} .*")
    assert f"STORAGE_INTEGRATION = {integration}" in stage
    assert f"FILE_FORMAT = (FORMAT_NAME = '{names.file_format_fqn}')" in stage
    assert "URL = 's3://<landing-bucket>/'" in stage, "the stage reads the bucket root: COPY names exact prefixes"
    # The bootstrap re-creates the stage as the pipeline's role (CREATE OR REPLACE), so that role must own it.
    for kind, name in [
        ("STAGE", names.stage_fqn),
        ("FILE FORMAT", names.file_format_fqn),
        ("SCHEMA", f"{names.raw_database}.{names.landing_schema}"),
        ("DATABASE", names.raw_database),
        ("DATABASE", names.analytics_database),
    ]:
        statement(rf"GRANT OWNERSHIP ON {kind} {re.escape(name)} TO ROLE {role} COPY CURRENT GRANTS")


def test_hightouch_can_read_every_synced_mart_and_only_the_marts(names: WarehouseNames) -> None:
    schemas = {".".join(sync.model.split(".")[:2]) for sync in default_syncs().syncs}
    assert schemas == {f"{names.analytics_database}.MARTS"}, schemas
    (schema,) = schemas
    reader_grant = statement(rf"GRANT SELECT ON FUTURE TABLES IN SCHEMA {re.escape(schema)} TO ROLE \w+")
    reader = reader_grant.split()[-1]
    statement(rf"GRANT USAGE ON SCHEMA {re.escape(schema)} TO ROLE {reader}")
    statement(rf"GRANT USAGE ON DATABASE {names.analytics_database} TO ROLE {reader}")
    statement(rf"GRANT ROLE {reader} TO USER \w+")
    reader_grants = [s for s in production_statements() if s.startswith("GRANT") and s.endswith(f"ROLE {reader}")]
    privileges = {re.match(r"GRANT (.+?) ON ", grant).group(1) for grant in reader_grants}
    assert privileges <= {"USAGE", "SELECT"}, f"Hightouch's role only reads: {privileges}"


def test_every_statement_is_idempotent() -> None:
    creates = [s for s in production_statements() if s.upper().startswith("CREATE")]
    assert creates
    assert all(" IF NOT EXISTS " in s.upper() for s in creates), [s for s in creates if "IF NOT EXISTS" not in s]
    assert not [s for s in production_statements() if re.match(r"(DROP|CREATE OR REPLACE|ALTER)\b", s, re.I)]


def test_sqlfluff_accepts_the_production_sql() -> None:
    from sqlfluff.core import FluffConfig, Linter

    # The same configuration `make lint` applies (repository .sqlfluff plus include/sql/.sqlfluff).
    config = FluffConfig.from_path(str(PRODUCTION_SQL.parent))
    result = Linter(config=config).lint_paths((str(PRODUCTION_SQL),))
    violations = result.as_records()[0]["violations"]
    assert violations == [], "\n".join(f"L{v['start_line_no']} {v['code']}: {v['description']}" for v in violations)


# --- airflow_settings.yaml and .astro -----------------------------------------------------------------------------

_SETTINGS_SECTIONS = {
    "connections": {"conn_id", "conn_type", "conn_host", "conn_schema", "conn_login", "conn_password", "conn_port",
                    "conn_extra", "conn_uri", "conn_description"},
    "pools": {"pool_name", "pool_slot", "pool_description"},
    "variables": {"variable_name", "variable_value"},
}  # fmt: skip


def test_airflow_settings_has_the_structure_astro_dev_start_reads() -> None:
    settings = yaml.safe_load((REPO / "airflow_settings.yaml").read_text())
    assert set(settings) == {"airflow"}
    assert set(settings["airflow"]) <= set(_SETTINGS_SECTIONS)
    for section, entries in settings["airflow"].items():
        assert isinstance(entries, list), f"airflow.{section} must be a list"
        for entry in entries:
            assert isinstance(entry, dict)
            assert set(entry) <= _SETTINGS_SECTIONS[section], f"airflow.{section}: unknown keys {set(entry)}"


def test_airflow_settings_holds_no_secrets() -> None:
    settings = yaml.safe_load((REPO / "airflow_settings.yaml").read_text())["airflow"]
    for connection in settings.get("connections") or []:
        assert not connection.get("conn_password"), f"{connection.get('conn_id')}: password in airflow_settings"
        assert not connection.get("conn_uri"), f"{connection.get('conn_id')}: a URI can carry credentials"
        extra = json.dumps(connection.get("conn_extra") or {}).lower()
        assert not re.search(r"token|secret|password|private_key|key_id", extra), connection.get("conn_id")
    for variable in settings.get("variables") or []:
        assert not re.search(r"token|secret|password|key", str(variable.get("variable_name")), re.I), variable


def test_astro_project_config_names_the_project() -> None:
    config = yaml.safe_load((REPO / ".astro" / "config.yaml").read_text())
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", config["project"]["name"])
