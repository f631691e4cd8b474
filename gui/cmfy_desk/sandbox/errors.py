"""The error envelope every /v1 error response of the sandbox uses."""

from __future__ import annotations

import uuid
from typing import Any


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


class ApiError(Exception):
    """An error response: HTTP status, ``error.code``, message and optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.retry_after = retry_after

    def envelope(self, request_id: str) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "retry_after": self.retry_after,
                "request_id": request_id,
            }
        }
