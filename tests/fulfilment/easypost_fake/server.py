"""A fake EasyPost API on 127.0.0.1 and a free port, for tests through the real `easypost` SDK
(pointed at it with `api_base=<url>/v2`), like tests/payments/stripe_fake for Stripe.

It answers the calls fulfilment makes, with EasyPost's JSON shapes (objects "Shipment", "Rate",
"PostageLabel", "Tracker", "TrackingDetail"; errors as {"error": {"code", "message", "errors"}}):
- POST /v2/shipments {"shipment": {to_address, from_address, parcel, is_return?}}: a shipment
  with its rates (from `rate_table`, by weight);
- GET /v2/shipments/{id};
- POST /v2/shipments/{id}/buy {"rate": {"id"}}: the label (postage_label, tracking_code,
  tracker); a second buy of the same shipment is refused with SHIPMENT.POSTAGE.EXISTS, as
  EasyPost does;
- POST /v2/trackers {"tracker": {tracking_code, carrier}} (one tracker per tracking code, as
  EasyPost de-duplicates) and GET /v2/trackers/{id}.
Tests drive it: `tracker_advance(code, status, ...)` adds tracking news, `fail_next(...)` answers
the next matching request with an error, `lose_next_answer(...)` does the work and then answers
500 (an answer lost on the way), `requests` records what the client sent.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# carrier, service, base price, price per ounce, delivery days
RATE_TABLE = (
    ("USPS", "GroundAdvantage", Decimal("4.75"), Decimal("0.10"), 4),
    ("USPS", "Priority", Decimal("7.20"), Decimal("0.15"), 2),
    ("UPS", "Ground", Decimal("8.90"), Decimal("0.12"), 3),
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


class _Error(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "errors": self.errors}}


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str


@dataclass
class _Fault:
    method: str
    pattern: str
    status: int = 422
    code: str = ""
    message: str = ""
    lose_answer: bool = False
    used: bool = field(default=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def do_GET(self) -> None:
        self.server.fake._handle(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeEasyPostServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class FakeEasyPostServer:
    def __init__(self) -> None:
        self.api_key = f"EZTK{secrets.token_hex(12)}"
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}  # by id
        self.requests: list[Recorded] = []
        self.internal_errors: list[str] = []
        self.rate_table = RATE_TABLE
        self.currency = "USD"  # what the account quotes in
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._httpd: _HTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeEasyPostServer:
        self._httpd = _HTTPServer(self)
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeEasyPostServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    # --- test controls ---------------------------------------------------------------------

    def fail_next(self, method: str, pattern: str, *, status: int, code: str, message: str):
        """The next request matching (method, path regex) gets this EasyPost error."""
        with self._lock:
            self._faults.append(_Fault(method, pattern, status, code, message))

    def lose_next_answer(self, method: str, pattern: str) -> None:
        """The next matching request is done, then answered 500 (the answer was lost)."""
        with self._lock:
            self._faults.append(
                _Fault(method, pattern, 500, "INTERNAL_SERVER_ERROR", "lost", lose_answer=True)
            )

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for r in self.requests if r.method == method and re.fullmatch(pattern, r.path))

    def tracker_advance(
        self, tracking_code: str, status: str, message: str = "", *, at: str | None = None
    ) -> dict[str, Any]:
        """Add a piece of tracking news to the tracker of `tracking_code` (created if needed)."""
        with self._lock:
            tracker = self._tracker_for(tracking_code, "")
            tracker["status"] = status
            tracker["tracking_details"].append(
                {
                    "object": "TrackingDetail",
                    "message": message or status.replace("_", " ").capitalize(),
                    "status": status,
                    "status_detail": status,
                    "datetime": at or _now(),
                    "source": tracker["carrier"] or "USPS",
                    "tracking_location": {
                        "object": "TrackingLocation",
                        "city": "Springfield",
                        "state": "IL",
                        "country": "US",
                        "zip": "62701",
                    },
                }
            )
            tracker["updated_at"] = _now()
            return tracker

    # --- HTTP ------------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        try:
            length = int(handler.headers.get("Content-Length") or 0)
            raw = handler.rfile.read(length) if length else b""
            path = handler.path.split("?", 1)[0]
            body = json.loads(raw) if raw else {}
            with self._lock:
                self.requests.append(
                    Recorded(handler.command, path, body, handler.headers.get("Authorization", ""))
                )
                fault = next(
                    (
                        f
                        for f in self._faults
                        if not f.used
                        and f.method == handler.command
                        and re.fullmatch(f.pattern, path)
                    ),
                    None,
                )
                if fault is not None:
                    fault.used = True
                if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
                    raise _Error(401, "APIKEY.INACTIVE", "This api key is no longer active.")
                if fault is not None and not fault.lose_answer:
                    raise _Error(fault.status, fault.code, fault.message)
                status, answer = self._route(handler.command, path, body)
                if fault is not None:  # done, but the answer is lost
                    raise _Error(fault.status, fault.code, "Internal error; please retry.")
        except _Error as error:
            status, answer = error.status, error.body()
        except Exception:  # noqa: BLE001 - the fake must answer, and the test must fail
            import traceback

            self.internal_errors.append(traceback.format_exc())
            status, answer = 500, _Error(500, "INTERNAL_SERVER_ERROR", "fake crashed").body()
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v2/shipments":
            return 201, self._shipment_create(body.get("shipment") or {})
        if (m := re.fullmatch(r"/v2/shipments/(shp_\w+)/buy", path)) and method == "POST":
            return 200, self._shipment_buy(m.group(1), body)
        if (m := re.fullmatch(r"/v2/shipments/(shp_\w+)", path)) and method == "GET":
            return 200, self._shipment(m.group(1))
        if method == "POST" and path == "/v2/trackers":
            params = body.get("tracker") or {}
            code = str(params.get("tracking_code") or "")
            if not code:
                raise _Error(
                    422,
                    "TRACKER.TRACKING_CODE.INVALID",
                    "A tracking code is required.",
                    [{"field": "tracking_code", "message": "cannot be blank"}],
                )
            return 201, self._tracker_for(code, str(params.get("carrier") or ""))
        m = re.fullmatch(r"/v2/trackers/(trk_\w+)", path)
        if m and method == "GET" and m.group(1) in self.trackers:
            return 200, self.trackers[m.group(1)]
        raise _Error(404, "NOT_FOUND", "The requested resource could not be found.")

    # --- resources -------------------------------------------------------------------------

    @staticmethod
    def _address(params: dict[str, Any], field_name: str) -> dict[str, Any]:
        missing = [k for k in ("street1", "city", "zip", "country") if not params.get(k)]
        if missing:
            raise _Error(
                422,
                "ADDRESS.VERIFY.FAILURE",
                f"Unable to verify {field_name}.",
                [{"field": f"{field_name}.{k}", "message": "cannot be blank"} for k in missing],
            )
        return {"id": _id("adr"), "object": "Address", "mode": "test", **params}

    def _shipment_create(self, params: dict[str, Any]) -> dict[str, Any]:
        to_address = self._address(params.get("to_address") or {}, "to_address")
        from_address = self._address(params.get("from_address") or {}, "from_address")
        parcel = params.get("parcel") or {}
        try:
            weight = Decimal(str(parcel.get("weight")))
        except ArithmeticError:
            weight = Decimal(0)
        if not weight > 0:
            raise _Error(
                422,
                "SHIPMENT.INVALID_PARAMS",
                "Missing required parameter.",
                [{"field": "parcel.weight", "message": "must be greater than 0"}],
            )
        shipment_id = _id("shp")
        rates = [
            {
                "id": _id("rate"),
                "object": "Rate",
                "mode": "test",
                "shipment_id": shipment_id,
                "carrier": carrier,
                "service": service,
                "rate": str((base + per_oz * weight).quantize(Decimal("0.01"))),
                "currency": self.currency,
                "retail_rate": None,
                "list_rate": None,
                "delivery_days": days,
                "delivery_date": None,
                "delivery_date_guaranteed": False,
                "est_delivery_days": days,
                "carrier_account_id": _id("ca"),
                "created_at": _now(),
                "updated_at": _now(),
            }
            for carrier, service, base, per_oz, days in self.rate_table
        ]
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "reference": None,
            "status": "unknown",
            "is_return": bool(params.get("is_return")),
            "to_address": to_address,
            "from_address": from_address,
            "return_address": from_address,
            "buyer_address": to_address,
            "parcel": {"id": _id("prcl"), "object": "Parcel", "weight": float(weight)},
            "rates": rates,
            "messages": [],
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "fees": [],
            "created_at": _now(),
            "updated_at": _now(),
        }
        self.shipments[shipment_id] = shipment
        return shipment

    def _shipment(self, shipment_id: str) -> dict[str, Any]:
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise _Error(404, "NOT_FOUND", "The requested resource could not be found.")
        return shipment

    def _shipment_buy(self, shipment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        shipment = self._shipment(shipment_id)
        if shipment["postage_label"] is not None:
            raise _Error(
                422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
            )
        rate_id = str((body.get("rate") or {}).get("id") or "")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise _Error(
                422,
                "SHIPMENT.RATE.INVALID",
                "The rate is not one of this shipment's rates.",
                [{"field": "rate.id", "message": "is invalid"}],
            )
        code = f"EZ{next(self._numbers):010d}{secrets.token_hex(2).upper()}"
        label_id = _id("pl")
        shipment.update(
            {
                "selected_rate": rate,
                "tracking_code": code,
                "status": "unknown",
                "postage_label": {
                    "id": label_id,
                    "object": "PostageLabel",
                    "label_date": _now(),
                    "label_resolution": 300,
                    "label_size": "4x6",
                    "label_type": "default",
                    "label_file_type": "image/png",
                    "label_url": f"https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/{label_id}.png",
                    "label_pdf_url": None,
                    "created_at": _now(),
                    "updated_at": _now(),
                },
                "tracker": self._tracker_for(code, rate["carrier"]),
                "updated_at": _now(),
            }
        )
        return shipment

    def _tracker_for(self, code: str, carrier: str) -> dict[str, Any]:
        for tracker in self.trackers.values():
            if tracker["tracking_code"] == code:
                return tracker
        tracker = {
            "id": _id("trk"),
            "object": "Tracker",
            "mode": "test",
            "tracking_code": code,
            "status": "pre_transit",
            "status_detail": "status_update",
            "carrier": carrier,
            "tracking_details": [],
            "public_url": f"https://track.easypost.com/{code}",
            "created_at": _now(),
            "updated_at": _now(),
        }
        self.trackers[tracker["id"]] = tracker
        return tracker
