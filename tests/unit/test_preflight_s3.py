"""The S3 probe over a fake S3Hook: put, list, delete, and the fix for each refusal (S3's error codes,
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from include.preflight import s3
from include.preflight.checks import Status


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class FakeS3Hook:
    """Keeps objects in a dict; ``refuse`` maps a method name to the exception it raises."""

    refuse: ClassVar[dict[str, Exception]] = {}
    objects: ClassVar[dict[tuple[str, str], bytes]] = {}

    def __init__(self, aws_conn_id: str) -> None:
        self.conn_id = aws_conn_id

    def _maybe_refuse(self, method: str) -> None:
        if method in self.refuse:
            raise self.refuse[method]

    def load_bytes(self, data: bytes, key: str, bucket_name: str, replace: bool) -> None:
        self._maybe_refuse("load_bytes")
        self.objects[(bucket_name, key)] = data

    def list_keys(self, bucket_name: str, prefix: str) -> list[str]:
        self._maybe_refuse("list_keys")
        return [k for (b, k) in self.objects if b == bucket_name and k.startswith(prefix)]

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        self._maybe_refuse("delete_objects")
        for key in keys:
            self.objects.pop((bucket, key), None)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> type[FakeS3Hook]:
    from airflow.providers.amazon.aws.hooks import s3 as s3_hooks

    FakeS3Hook.refuse, FakeS3Hook.objects = {}, {}
    monkeypatch.setattr(s3_hooks, "S3Hook", FakeS3Hook)
    return FakeS3Hook


def test_the_probe_key_sits_under_the_preflight_prefix() -> None:
    key = s3.probe_key(datetime(2026, 11, 30, 9, 15, tzinfo=UTC), "abc")
    assert key == "preflight/probe-20261130T091500Z-abc.txt"


def test_a_bucket_the_connection_may_write_passes_and_keeps_nothing(hook: Any) -> None:
    [check] = s3.s3_checks("aws_landing", "acme-landing")
    assert check.status is Status.PASSED, check.line()
    assert check.name == "landing bucket acme-landing"
    assert hook.objects == {}


@pytest.mark.parametrize(
    ("method", "error", "fix"),
    [
        ("load_bytes", client_error("AccessDenied", "PutObject"), "allow s3:PutObject on arn:aws:s3:::acme-landing/*"),
        (
            "list_keys",
            client_error("AccessDenied", "ListObjectsV2"),
            "allow s3:ListBucket on arn:aws:s3:::acme-landing",
        ),
        ("delete_objects", RuntimeError("Errors when deleting: AccessDenied"), "allow s3:DeleteObject"),
        (
            "load_bytes",
            client_error("NoSuchBucket", "PutObject"),
            "create the bucket acme-landing, or set LANDING_BUCKET",
        ),
        ("load_bytes", client_error("InvalidAccessKeyId", "PutObject"), "correct the credentials of the aws_landing"),
        ("load_bytes", NoCredentialsError(), "give the Deployment an IAM role"),
    ],
)
def test_each_refusal_names_its_fix(hook: Any, method: str, error: Exception, fix: str) -> None:
    hook.refuse = {method: error}
    [check] = s3.s3_checks("aws_landing", "acme-landing")
    assert check.failed
    assert fix in (check.fix or ""), check.line()


def test_a_probe_that_cannot_be_deleted_is_reported_as_left_behind(hook: Any) -> None:
    hook.refuse = {"delete_objects": client_error("AccessDenied", "DeleteObjects")}
    [check] = s3.s3_checks("aws_landing", "acme-landing")
    assert check.detail.startswith("cannot delete an object")
    assert "is left there" in check.detail
