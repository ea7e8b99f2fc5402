"""Stripe's error responses: `{"error": {...}}` with the HTTP status the SDK maps to its classes
(400/404 InvalidRequestError or IdempotencyError, 401 AuthenticationError, 402 CardError,
403 PermissionError, 429 RateLimitError, 409 and 5xx APIError)."""

from __future__ import annotations

from typing import Any


class StripeFakeError(Exception):
    """An API error the fake answers with. `saved` says whether an idempotent request that
    ends in it stores the response for replay: Stripe saves a result only once the endpoint
    began executing, so parameter validation errors and missing resources are not saved."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        saved: bool = True,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.saved = saved
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.param:
            error["param"] = self.param
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeFakeError:
    """A request Stripe refuses before running the endpoint (not saved for idempotent replay)."""
    return StripeFakeError(400, message, param=param, code=code, saved=False)


def missing_param(param: str) -> StripeFakeError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown_param(param: str) -> StripeFakeError:
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def no_such(kind: str, object_id: str, *, param: str | None = "id") -> StripeFakeError:
    return StripeFakeError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
        saved=False,
    )


def unexpected_state(message: str, **extra: Any) -> StripeFakeError:
    return StripeFakeError(
        400, message, code="payment_intent_unexpected_state", extra=extra or None
    )


def state_error(
    message: str, *, code: str | None = None, param: str | None = None
) -> StripeFakeError:
    """A refusal decided by the endpoint from the objects' state (saved for replay)."""
    return StripeFakeError(400, message, code=code, param=param)
