"""The exception family of the backends, mapped once from HTTP responses and transport errors."""

from __future__ import annotations

from typing import Any


class BackendError(Exception):
    """A request to a service failed.

    ``retryable`` is true when the same request may succeed later; ``code`` and
    ``request_id`` come from the service's error envelope when it sent one.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        url: str | None = None,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.url = url
        self.details = details
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"(code {self.code}")
            parts[-1] += f", request {self.request_id})" if self.request_id else ")"
        return " ".join(parts)


class AuthError(BackendError):
    """401: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(BackendError):
    """403: the account is suspended or the key lacks a permission."""


class RateLimitError(BackendError):
    """429 rate_limit_exceeded: too many requests this minute; wait ``retry_after`` seconds."""

    retryable = True


class ConcurrencyLimitError(BackendError):
    """429 concurrent_limit_reached: every running slot is taken; submit again when one frees."""

    retryable = True


class QueueFullError(BackendError):
    """429 queue_full: the service's queue for this account is full."""

    retryable = True


class ValidationError(BackendError):
    """400/422 and other permanent 4xx responses about this job's content."""


class NotFoundError(BackendError):
    """404: the service does not know the job (or the endpoint)."""


class ServerError(BackendError):
    """5xx, 408 or 409: the service failed; the same request may succeed later."""

    retryable = True


class NetworkError(BackendError):
    """The request did not complete: connection refused or dropped, DNS failure, timeout."""

    retryable = True
