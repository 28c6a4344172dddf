"""Salesforce's error shapes: a JSON list at the top level, ``statusCode`` inside collection results."""

from __future__ import annotations

from typing import Any

NOT_FOUND_MESSAGE = "The requested resource does not exist"
ROLLED_BACK_MESSAGE = "Record rolled back because not all records were valid and the request was using AllOrNone header"


class ApiError(Exception):
    """An error Salesforce would answer with; ``fields`` is None where Salesforce sends no ``fields`` key."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]

    def as_result_error(self) -> dict[str, Any]:
        """The entry of an ``errors`` list in a collection result (where Salesforce says statusCode)."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", NOT_FOUND_MESSAGE)


def json_parser_error(message: str) -> ApiError:
    return ApiError(400, "JSON_PARSER_ERROR", message)


def record_error(code: str, message: str, *fields: str) -> ApiError:
    """A DML failure on one record: 400 on the single-record endpoints, a result entry in collections."""
    return ApiError(400, code, message, list(fields))
