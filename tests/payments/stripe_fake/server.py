"""A local HTTP server that answers stripe-python the way api.stripe.com does, for tests.

Everything the API does goes through HTTP (auth, form parsing, idempotency, errors); what the
shopper, the bank, the card network and Stripe's own systems do is driven through Python
methods on `FakeStripeServer` (no HTTP endpoint the application could call by mistake)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import fnmatch
import json
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from stripe._api_version import _ApiVersion

from . import cards, connect, disputes, payments
from .errors import StripeFakeError, invalid, unknown_param
from .forms import Params, parse_form
from .routes import Route, match
from .store import RequestContext, Store, new_id, now, token
from .webhooks import SignedWebhook, event_payload, signature_header

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


@dataclass
class RecordedRequest:
    """One request as the fake received it, and what it answered."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    request_id: str
    status: int | None = None
    response: Any = None
    replayed: bool = False
    fault: FaultKind | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def idempotency_key(self) -> str | None:
        return self.header("Idempotency-Key")

    @property
    def stripe_account(self) -> str | None:
        return self.header("Stripe-Account")

    @property
    def stripe_version(self) -> str | None:
        return self.header("Stripe-Version")


class FaultKind(StrEnum):
    ERROR = "error"  # a Stripe error answer instead of running the request
    DISCONNECT = "disconnect"  # the connection closes before the request runs
    DISCONNECT_AFTER = "disconnect_after"  # the request runs, its answer is lost
    DELAY = "delay"  # the request waits before it runs


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    method: str | None
    path: str | None
    error: StripeFakeError | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or fnmatch.fnmatchcase(path, self.path)
        )


@dataclass
class _Saved:
    fingerprint: str
    done: bool = False
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str = ""


class _Idempotency:
    """Stripe's idempotency layer: the first request with a key runs; a later one with the
    same parameters gets the saved response; different parameters are an idempotency_error;
    one arriving while the first still runs gets a 409 (the SDK retries those)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str | None, str], _Saved] = {}

    def begin(self, scope: tuple[str, str | None, str], fingerprint: str) -> _Saved | None:
        """None: run the request (the key is now in progress); a saved response: replay it."""
        key = scope[2]
        if len(key) > 255:
            raise invalid("Idempotency-Key must be at most 255 characters long.")
        with self._lock:
            saved = self._entries.get(scope)
            if saved is None:
                self._entries[scope] = _Saved(fingerprint)
                return None
            done, same = saved.done, saved.fingerprint == fingerprint
        if not done:
            raise StripeFakeError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                f"going through): {key}. Please try again later.",
                code="idempotency_key_in_use",
                saved=False,
            )
        if not same:
            raise StripeFakeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
                saved=False,
            )
        return saved

    def finish(
        self,
        scope: tuple[str, str | None, str],
        *,
        status: int,
        body: bytes,
        headers: dict[str, str],
        request_id: str,
    ) -> None:
        with self._lock:
            saved = self._entries[scope]
            saved.status, saved.body, saved.headers = status, body, headers
            saved.request_id = request_id
            saved.done = True

    def abandon(self, scope: tuple[str, str | None, str]) -> None:
        """Nothing is saved when the endpoint did not run: the key may be used again."""
        with self._lock:
            del self._entries[scope]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    # Headers and body go out in separate writes; with Nagle's algorithm the body then waits
    # for the client's delayed ACK (40 ms a response).
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    do_POST = do_GET
    do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeStripeServer) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return  # the client went away first (its timeout, a dropped connection)
        self.fake.internal_errors.append(traceback.format_exc())

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class FakeStripeServer:
    """A Stripe API for one platform account, on 127.0.0.1 and a free port."""

    def __init__(self, *, api_version: str = _ApiVersion.CURRENT) -> None:
        self.api_version = api_version
        suffix = token()
        self.secret_key = f"sk_test_fake{suffix}"
        self.publishable_key = f"pk_test_fake{suffix}"
        self.webhook_secret = f"whsec_fake{suffix}"
        self.store = Store(api_version=api_version)
        self.internal_errors: list[str] = []
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._idempotency = _Idempotency()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeStripeServer:
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeStripeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def client(
        self,
        *,
        max_network_retries: int = 0,
        timeout: float = 10.0,
        stripe_account: str | None = None,
        stripe_version: str | None = None,
        api_key: str | None = None,
    ) -> stripe.StripeClient:
        """A real StripeClient pointed at this server."""
        return stripe.StripeClient(
            api_key or self.secret_key,
            base_addresses={"api": self.url, "connect": self.url, "files": self.url},
            max_network_retries=max_network_retries,
            stripe_account=stripe_account,
            stripe_version=stripe_version,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    # --- what was asked ------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._requests_lock:
            return list(self._requests)

    def requests_to(
        self, method: str | None = None, path: str | None = None
    ) -> list[RecordedRequest]:
        """Requests by method and path (a glob: `/v1/payment_intents/*/confirm`)."""
        return [
            request
            for request in self.requests
            if (method is None or request.method == method.upper())
            and (path is None or fnmatch.fnmatchcase(request.path, path))
        ]

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def get(self, object_id: str) -> dict[str, Any]:
        """Any object the fake holds, as it is now (a copy)."""
        with self.store.lock:
            return copy.deepcopy(self.store.objects[object_id])

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Recorded events, oldest first; `event_type` may be a glob (`charge.dispute.*`)."""
        with self.store.lock:
            found = [self.store.objects[event_id] for event_id in self.store.event_ids]
            return copy.deepcopy(
                [
                    event
                    for event in found
                    if event_type is None or fnmatch.fnmatchcase(event["type"], event_type)
                ]
            )

    def last_event(self, event_type: str) -> dict[str, Any]:
        found = self.events(event_type)
        if not found:
            raise LookupError(f"no {event_type} event was recorded")
        return found[-1]

    # --- faults --------------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        method: str | None = None,
        path: str | None = None,
        code: str | None = None,
        message: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a Stripe error of `status` before
        they reach the endpoint (nothing happens, nothing is saved for idempotent replay).
        429 answers as Stripe's rate limiter does; `should_retry` sets Stripe-Should-Retry."""
        if status == 429:
            error_type = "invalid_request_error"
            code = code or "rate_limit"
            message = message or (
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits."
            )
        elif status >= 500:
            error_type, message = "api_error", message or "An unknown error occurred"
        else:
            error_type, message = "invalid_request_error", message or "Injected error"
        headers = {}
        if should_retry is not None:
            headers["Stripe-Should-Retry"] = "true" if should_retry else "false"
        error = StripeFakeError(
            status, message, type=error_type, code=code, saved=False, headers=headers
        )
        self._add_fault(_Fault(FaultKind.ERROR, count, _method(method), path, error=error))

    def drop_next(
        self,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        after_processing: bool = False,
    ) -> None:
        """Close the connection of the next `count` matching requests without an answer.
        With `after_processing` the request takes effect first and only its response is lost
        (a retry with the same Idempotency-Key then replays it)."""
        kind = FaultKind.DISCONNECT_AFTER if after_processing else FaultKind.DISCONNECT
        self._add_fault(_Fault(kind, count, _method(method), path))

    def delay_next(
        self,
        seconds: float,
        count: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Hold the next `count` matching requests for `seconds` before they run (their
        Idempotency-Key counts as in progress meanwhile); pair with a client timeout."""
        self._add_fault(_Fault(FaultKind.DELAY, count, _method(method), path, seconds=seconds))

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        with self._faults_lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
        return None

    # --- what others than the API caller do ----------------------------------------------

    def create_payment_method(
        self,
        like: str = "pm_card_visa",
        *,
        fingerprint: str | None = None,
        country: str | None = None,
        billing_country: str | None = None,
    ) -> str:
        """A card PaymentMethod as Stripe.js would make it, behaving as the test id `like`;
        give a `fingerprint` to make two cards look like one (velocity rules), `country` for
        the card's issuing country and `billing_country` for the billing address the shopper
        typed (charges copy it into billing_details)."""
        with self.store.lock:
            card = cards.card_like(like, fingerprint=fingerprint, country=country)
            payment_method = payments.make_payment_method(self.store, card, None)
            payment_method["billing_details"]["address"]["country"] = billing_country
            return payment_method["id"]

    def create_bank_debit_payment_method(self) -> str:
        """A US bank account PaymentMethod: confirming with it leaves the intent `processing`
        until `settle()`."""
        with self.store.lock:
            return payments.make_payment_method(self.store, cards.BANK_DEBIT, None)["id"]

    def authenticate(self, payment_intent_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """The shopper completes (or fails) the 3-D Secure challenge of an intent in
        `requires_action`."""
        with self.store.lock:
            intent = payments.complete_authentication(
                self.store, payment_intent_id, succeed=succeed
            )
            return copy.deepcopy(intent)

    def settle(
        self,
        payment_intent_id: str,
        *,
        succeed: bool = True,
        failure_code: str = "insufficient_funds",
    ) -> dict[str, Any]:
        """The bank settles (or returns) a `processing` payment."""
        with self.store.lock:
            intent = payments.settle_processing(
                self.store, payment_intent_id, succeed=succeed, failure_code=failure_code
            )
            return copy.deepcopy(intent)

    def open_dispute(
        self,
        charge_or_payment_intent: str,
        *,
        reason: str = "fraudulent",
        amount: int | None = None,
        inquiry: bool = False,
    ) -> dict[str, Any]:
        """The cardholder disputes a charge: charge.dispute.created, and unless it is an
        inquiry the funds are withdrawn (charge.dispute.funds_withdrawn)."""
        with self.store.lock:
            dispute = disputes.open_dispute(
                self.store,
                charge_or_payment_intent,
                reason=reason,
                amount=amount,
                inquiry=inquiry,
            )
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, *, won: bool) -> dict[str, Any]:
        """The card network decides: won (funds reinstated) or lost."""
        with self.store.lock:
            return copy.deepcopy(disputes.decide_dispute(self.store, dispute_id, won=won))

    def create_early_fraud_warning(
        self,
        charge_or_payment_intent: str,
        *,
        fraud_type: str = "made_with_stolen_card",
        actionable: bool = True,
    ) -> dict[str, Any]:
        with self.store.lock:
            warning = disputes.create_early_fraud_warning(
                self.store,
                charge_or_payment_intent,
                fraud_type=fraud_type,
                actionable=actionable,
            )
            return copy.deepcopy(warning)

    def set_account(
        self,
        account_id: str,
        *,
        charges_enabled: bool | None = None,
        payouts_enabled: bool | None = None,
        details_submitted: bool | None = None,
        capabilities: dict[str, str] | None = None,
        currently_due: list[str] | None = None,
        disabled_reason: str | None = None,
    ) -> dict[str, Any]:
        """Change a connected account's onboarding state (records account.updated)."""
        with self.store.lock:
            account = connect.set_account_state(
                self.store,
                account_id,
                charges_enabled=charges_enabled,
                payouts_enabled=payouts_enabled,
                details_submitted=details_submitted,
                capabilities=capabilities,
                currently_due=currently_due,
                disabled_reason=disabled_reason,
            )
            return copy.deepcopy(account)

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The seller finishes onboarding: details submitted, charges and payouts enabled,
        requested capabilities active, nothing due."""
        with self.store.lock:
            requested = self.store.objects[account_id]["capabilities"]
            return self.set_account(
                account_id,
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                capabilities=dict.fromkeys(requested, "active"),
                currently_due=[],
            )

    def make_funds_available(self) -> None:
        """Pending balance becomes available (what Stripe's settlement does in days)."""
        with self.store.lock:
            payments.make_funds_available(self.store)

    def webhook(
        self,
        event: str | dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> SignedWebhook:
        """The delivery of a recorded event, signed with `secret` (default: this server's
        webhook_secret) at `timestamp` (default: now)."""
        if isinstance(event, str):
            event = self.get(event)
        payload = event_payload(event)
        signature = signature_header(
            payload, secret or self.webhook_secret, now() if timestamp is None else timestamp
        )
        return SignedWebhook(event["id"], event["type"], payload, signature)

    def webhooks(
        self, event_type: str | None = None, *, secret: str | None = None
    ) -> list[SignedWebhook]:
        """Signed deliveries of the recorded events (of `event_type`, a glob), oldest first."""
        return [self.webhook(event, secret=secret) for event in self.events(event_type)]

    # --- HTTP ----------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        record = self._receive(handler)
        fault = self._take_fault(record.method, record.path)
        record.fault = fault.kind if fault else None
        if fault is not None and fault.kind is FaultKind.DISCONNECT:
            handler.close_connection = True
            return
        if fault is not None and fault.error is not None:
            self._refuse(handler, record, fault.error)
            return
        try:
            account, version = self._authenticate(record)
            route, path_ids = self._route(record)
        except StripeFakeError as refused:
            self._refuse(handler, record, refused)
            return
        ctx = RequestContext(
            request_id=record.request_id,
            idempotency_key=record.idempotency_key if record.method == "POST" else None,
            account=account,
            api_version=version,
            version_header=record.stripe_version,
        )
        scope = None
        if ctx.idempotency_key is not None:
            scope = (self.secret_key, account, ctx.idempotency_key)
            fingerprint = json.dumps([record.method, record.path, record.params], sort_keys=True)
            try:
                saved = self._idempotency.begin(scope, fingerprint)
            except StripeFakeError as refused:
                self._refuse(handler, record, refused)
                return
            if saved is not None:
                record.replayed = True
                replay = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                self._send(handler, record, saved.status, saved.body, {**saved.headers, **replay})
                return

        if fault is not None and fault.kind is FaultKind.DELAY:
            time.sleep(fault.seconds)
        status, payload, headers, saved_for_replay = self._run(route, path_ids, ctx, record.params)
        data = json.dumps(payload, indent=2).encode()
        headers = {**headers, "Request-Id": record.request_id, "Stripe-Version": version}
        if ctx.idempotency_key is not None:
            headers["Idempotency-Key"] = ctx.idempotency_key
        if scope is not None and saved_for_replay:
            self._idempotency.finish(
                scope, status=status, body=data, headers=headers, request_id=record.request_id
            )
        elif scope is not None:
            self._idempotency.abandon(scope)
        if fault is not None and fault.kind is FaultKind.DISCONNECT_AFTER:
            record.status, record.response = status, payload
            handler.close_connection = True
            return
        self._send(handler, record, status, data, headers)

    def _receive(self, handler: _Handler) -> RecordedRequest:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        form = body.decode("utf-8", "replace") if handler.command == "POST" else url.query
        record = RecordedRequest(
            method=handler.command,
            path=url.path,
            params=parse_form(parse_qsl(form, keep_blank_values=True)),
            headers=dict(handler.headers.items()),
            request_id=new_id("req"),
        )
        with self._requests_lock:
            self._requests.append(record)
        return record

    def _route(self, record: RecordedRequest) -> tuple[Route, tuple[str, ...]]:
        found = match(record.method, record.path)
        if found is None:
            raise StripeFakeError(
                404,
                f"Unrecognized request URL ({record.method}: {record.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        return found

    def _authenticate(self, record: RecordedRequest) -> tuple[str | None, str]:
        authorization = record.header("Authorization") or ""
        scheme, _, credentials = authorization.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credentials.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(credentials).decode().split(":", 1)[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        if not key:
            raise StripeFakeError(401, _NO_KEY)
        if key == self.publishable_key:
            raise StripeFakeError(
                401,
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key. You can find a list of your API keys at "
                "https://dashboard.stripe.com/account/apikeys.",
                code="secret_key_required",
            )
        if key != self.secret_key:
            raise StripeFakeError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        version = record.stripe_version or self.api_version
        if record.stripe_version is not None and not _valid_version(record.stripe_version):
            raise invalid(f"Invalid Stripe API version: {record.stripe_version}")
        account = record.stripe_account
        if account is not None:
            with self.store.lock:
                known = self.store.objects.get(account)
                if known is None or known["object"] != "account":
                    raise StripeFakeError(
                        403,
                        f"The provided key '{key[:8]}****{key[-4:]}' does not have access to "
                        f"account '{account}' (or that account does not exist). Application "
                        "access may have been revoked.",
                        code="account_invalid",
                    )
        return account, version

    def _run(
        self, route: Route, path_ids: tuple[str, ...], ctx: RequestContext, params: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str], bool]:
        """(status, body, headers, saved-for-idempotent-replay)."""
        try:
            for name in params:
                if name not in route.params:
                    raise unknown_param(name)
            p = Params(params)
            expand = p.string_list("expand")
            with self.store.lock:
                result = route.handler(self.store, ctx, *path_ids, p)
                try:
                    rendered = self.store.render(result, expand, owner=ctx.account)
                except StripeFakeError as error:
                    # The endpoint already ran: a retry must see this answer, not run again.
                    return error.status, error.body(ctx.request_id), error.headers, True
                return 200, rendered, {}, True
        except StripeFakeError as error:
            return error.status, error.body(ctx.request_id), error.headers, error.saved
        except Exception:  # noqa: BLE001 - a bug in the fake answers 500 and fails the test
            self.internal_errors.append(traceback.format_exc())
            crash = StripeFakeError(500, "An unknown error occurred", type="api_error")
            return 500, crash.body(ctx.request_id), {}, False

    def _refuse(self, handler: _Handler, record: RecordedRequest, error: StripeFakeError) -> None:
        data = json.dumps(error.body(record.request_id), indent=2).encode()
        self._send(
            handler, record, error.status, data, {**error.headers, "Request-Id": record.request_id}
        )

    def _send(
        self,
        handler: _Handler,
        record: RecordedRequest,
        status: int,
        data: bytes,
        headers: dict[str, str],
    ) -> None:
        record.status = status
        record.response = json.loads(data)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def _method(method: str | None) -> str | None:
    return method.upper() if method else None


def _valid_version(version: str) -> bool:
    date, _, _name = version.partition(".")
    try:
        time.strptime(date, "%Y-%m-%d")
    except ValueError:
        return False
    return True
