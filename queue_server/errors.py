"""Domain errors raised by the service layer; the API maps each to one HTTP status."""

from __future__ import annotations


class HallError(Exception):
    """Base of every error the service layer raises on purpose."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(HallError):
    """The hall, queue, window or ticket named does not exist."""

    status_code = 404


class Conflict(HallError):
    """The action does not fit the current state (ticket status, window busy, hall closed)."""

    status_code = 409


class Invalid(HallError):
    """The request is well-formed but its values are not acceptable."""

    status_code = 422


class Forbidden(HallError):
    """The caller is authenticated but may not do this."""

    status_code = 403


class Unauthorized(HallError):
    """No valid credentials."""

    status_code = 401


class TooManyRequests(HallError):
    """A public endpoint was called too often from one address or for one phone, case or code."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after_s: int = 60) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(HallError):
    """The server cannot do this now (its hall writer is backed up or stopped, the rate limiter's Redis does
    not answer); the caller may try again."""

    status_code = 503
