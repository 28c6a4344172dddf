"""The dbt profile follows the Snowflake connection's authentication: password locally, key pair in production."""

from __future__ import annotations

import json

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from include.connections import SNOWFLAKE
from include.transform.cosmos_config import DBT_PROJECT_DIR, PROFILE_NAME, PROJECT_NAME, profile_config, project_config

BASE_EXTRA = {"account": "acme-prod", "warehouse": "TRANSFORMING", "database": "RAW", "role": "TRANSFORMER"}


def _connection(monkeypatch: pytest.MonkeyPatch, **fields: object) -> None:
    conn = {"conn_type": "snowflake", "login": "AIRFLOW", "schema": "PUBLIC", **fields}
    monkeypatch.setenv(f"AIRFLOW_CONN_{SNOWFLAKE.upper()}", json.dumps(conn))


def _profile(mapping) -> dict[str, object]:
    return yaml.safe_load(mapping.get_profile_file_contents(PROFILE_NAME, "prod"))[PROFILE_NAME]["outputs"]["prod"]


def test_a_password_connection_renders_a_password_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    _connection(monkeypatch, password="s3cret", extra=BASE_EXTRA)
    mapping = profile_config().profile_mapping
    profile = _profile(mapping)
    assert profile["user"] == "AIRFLOW"
    assert profile["account"] == "acme-prod"
    assert "private_key" not in profile
    assert "s3cret" not in json.dumps(profile), "secrets go through env vars, never into profiles.yml"
    assert "s3cret" in mapping.env_vars.values()


def test_a_key_pair_connection_renders_a_key_pair_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    _connection(monkeypatch, extra={**BASE_EXTRA, "private_key_content": pem})
    mapping = profile_config().profile_mapping
    profile = _profile(mapping)
    assert profile["user"] == "AIRFLOW"
    assert "password" not in profile
    assert profile["private_key"].startswith("{{ env_var(")
    assert any("BEGIN PRIVATE KEY" in value for value in mapping.env_vars.values())


def test_parsing_needs_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"AIRFLOW_CONN_{SNOWFLAKE.upper()}", raising=False)
    mock = yaml.safe_load(profile_config().profile_mapping.get_profile_file_contents(PROFILE_NAME, "prod", True))
    assert mock[PROFILE_NAME]["outputs"]["prod"]["type"] == "snowflake"


def test_the_project_and_profile_names_are_the_dbt_projects() -> None:
    dbt_project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert dbt_project["name"] == PROJECT_NAME
    assert dbt_project["profile"] == PROFILE_NAME
    assert PROFILE_NAME in yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    assert project_config().project_name == PROJECT_NAME
    assert profile_config().profile_name == PROFILE_NAME
