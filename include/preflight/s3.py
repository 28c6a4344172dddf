"""S3: can the pipeline's ``aws_landing`` connection put, list and delete objects in the landing bucket?

The ingestions write gzip NDJSON under the bucket (``include/landing.py``), list and delete what an earlier run of
the same interval left (``clear_prefix``) and never read it back: Snowflake reads through the stage. So the probe
is exactly those three calls, on one small object under ``preflight/`` (a prefix no COPY reads), removed again.
Error codes are S3's (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); the permissions
each call needs are those of the S3 actions PutObject, ListBucket (for ListObjectsV2) and DeleteObject
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from include.preflight.checks import Check, error_text, failed, passed

SERVICE = "S3"
PROBE_PREFIX = "preflight/"
#: Step -> (what it does, the IAM action it needs, on which resource).
STEPS = {
    "put": ("put an object", "s3:PutObject", "arn:aws:s3:::{bucket}/*"),
    "list": ("list the bucket", "s3:ListBucket", "arn:aws:s3:::{bucket}"),
    "delete": ("delete an object", "s3:DeleteObject", "arn:aws:s3:::{bucket}/*"),
}
_CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}


def probe_key(now: datetime | None = None, token: str | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{PROBE_PREFIX}probe-{moment:%Y%m%dT%H%M%SZ}-{token or uuid.uuid4().hex[:12]}.txt"


def error_code(exc: BaseException) -> str | None:
    """S3's error code of a botocore ``ClientError`` (``AccessDenied``, ``NoSuchBucket``, ...), else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


def step_fix(step: str, code: str | None, exc_name: str, bucket: str, conn_id: str) -> str:
    """The fix for a failed step, from S3's error code (or the client's exception for a missing credential)."""
    if code == "NoSuchBucket":
        return f"create the bucket {bucket}, or set LANDING_BUCKET to the bucket the pipeline lands files in"
    if code in _CREDENTIAL_ERRORS:
        return f"correct the credentials of the {conn_id} connection (README, Connections)"
    if exc_name in {"NoCredentialsError", "PartialCredentialsError"}:
        return f"give the Deployment an IAM role (workload identity), or an access key in the {conn_id} connection"
    if exc_name in {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionError"}:
        return f"check the network path to S3 and the region or endpoint_url in the {conn_id} connection's extra"
    verb, action, resource = STEPS[step]
    return (
        f"allow {action} on {resource.format(bucket=bucket)} for the identity of the {conn_id} connection"
        f" (the pipeline must {verb})"
    )


def s3_checks(conn_id: str | None = None, bucket: str | None = None) -> list[Check]:
    """Put, list and delete a probe object: one line, failing at the first step S3 refuses."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.connections import LANDING_S3
    from include.settings import landing_bucket

    conn_id, bucket = conn_id or LANDING_S3, bucket or landing_bucket()
    name = f"landing bucket {bucket}"
    key = probe_key()
    url = f"s3://{bucket}/{key}"
    step = "put"
    try:
        hook: Any = S3Hook(aws_conn_id=conn_id)
        hook.load_bytes(b"preflight probe: safe to delete\n", key=key, bucket_name=bucket, replace=True)
        step = "list"
        listed = hook.list_keys(bucket_name=bucket, prefix=key) or []
        if key not in listed:
            return [
                failed(
                    SERVICE,
                    name,
                    f"put {url}, but listing {PROBE_PREFIX} does not show it (the object is left there)",
                    f"check that the {conn_id} connection reaches the bucket it writes to (endpoint, region)",
                )
            ]
        step = "delete"
        hook.delete_objects(bucket=bucket, keys=[key])
        if key in (hook.list_keys(bucket_name=bucket, prefix=key) or []):
            fix = step_fix(step, None, "", bucket, conn_id)
            return [failed(SERVICE, name, f"deleted {url}, but it is still listed", fix)]
    except Exception as exc:  # noqa: BLE001 - whatever S3 or the client refuses is this check's finding
        left = f" ({url} is left there)" if step != "put" else ""
        return [
            failed(
                SERVICE,
                name,
                f"cannot {STEPS[step][0]}: {error_text(exc)}{left}",
                step_fix(step, error_code(exc), type(exc).__name__, bucket, conn_id),
            )
        ]
    return [passed(SERVICE, name, f"put, listed and deleted {url} through the {conn_id} connection")]
