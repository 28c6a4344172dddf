"""The dbt profile for the Airflow Snowflake connection, whichever way that connection authenticates.

Production service users sign in with a key pair (Snowflake refuses passwords for SERVICE users); the local
stand-in uses a password. Cosmos has one profile mapping per method, so this one picks the mapping from the
connection itself, when a task renders the profile (never at DAG parse time: no connection lookup on import).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from cosmos.profiles import (
    BaseProfileMapping,
    SnowflakePrivateKeyPemProfileMapping,
    SnowflakeUserPasswordProfileMapping,
)


class SnowflakeConnectionProfileMapping(BaseProfileMapping):
    """Key pair when the connection's extra holds ``private_key_content``, else user and password."""

    airflow_connection_type: str = "snowflake"
    dbt_profile_type: str = "snowflake"

    @cached_property
    def method(self) -> BaseProfileMapping:
        extra = super().conn.extra_dejson
        key_pair = extra.get("private_key_content") or extra.get("extra__snowflake__private_key_content")
        mapping = SnowflakePrivateKeyPemProfileMapping if key_pair else SnowflakeUserPasswordProfileMapping
        return mapping(self.conn_id, self.profile_args, self.disable_event_tracking, self.dbt_config_vars)

    def can_claim_connection(self) -> bool:
        return self.method.can_claim_connection()

    @property
    def profile(self) -> dict[str, Any]:
        return self.method.profile

    @property
    def mock_profile(self) -> dict[str, Any]:
        # Parsing needs no credentials: the user/password shape, with this project's profile args.
        return SnowflakeUserPasswordProfileMapping(self.conn_id, self.profile_args).mock_profile

    @property
    def env_vars(self) -> dict[str, str]:
        return self.method.env_vars

    def get_profile_file_contents(
        self, profile_name: str, target_name: str = "cosmos_target", use_mock_values: bool = False
    ) -> str:
        if use_mock_values:
            return super().get_profile_file_contents(profile_name, target_name, use_mock_values=True)
        return self.method.get_profile_file_contents(profile_name, target_name)
