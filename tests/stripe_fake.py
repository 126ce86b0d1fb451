"""A stand-in for Stripe's servers at the HTTP boundary (no network here).

It replaces only the socket: the stripe library still encodes every request and
parses every answer. It answers the calls the product makes (customers, Checkout
sessions, subscription cancel/update), honours idempotency keys like Stripe does
(same key, same answer) and records every request for the tests to read.

Also what Stripe sends the other way: events (:func:`stripe_event`) and the
signature of a webhook delivery (:func:`stripe_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import stripe


class FakeStripe(stripe.HTTPClient):
    name = "fake-stripe"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        self._by_key: dict[str, tuple[str, int, dict]] = {}
        self._counter = 0
        self.events: list[dict] = []  # what GET /v1/events lists, newest first
        self._lock = threading.Lock()

    # The stripe library calls these.
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = urlsplit(url).path
        params = dict(parse_qsl(post_data or urlsplit(url).query or "", keep_blank_values=True))
        key = (headers or {}).get("Idempotency-Key")
        with self._lock:
            self.requests.append({"method": method.upper(), "path": path, "params": params, "key": key})
            if self.fail_with:
                body = {"error": {"type": "api_error", "message": "Stripe is having a bad day"}}
                return json.dumps(body), self.fail_with, {}
            if key and key in self._by_key:
                return self._by_key[key]
            answer = self._answer(method.upper(), path, params)
            if key:
                self._by_key[key] = answer
            return answer

    def close(self):
        pass

    # What Stripe would answer.
    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_fake{self._counter:04d}"

    def _answer(self, method: str, path: str, params: dict):
        if method == "POST" and path == "/v1/customers":
            return self._ok({"id": self._next("cus"), "object": "customer", "email": params.get("email")})
        if method == "POST" and path == "/v1/checkout/sessions":
            session_id = self._next("cs_test")
            return self._ok(
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                    "mode": params.get("mode"),
                    "customer": params.get("customer"),
                    "payment_status": "unpaid",
                    "amount_total": int(params.get("line_items[0][price_data][unit_amount]", 0)),
                    "metadata": {
                        k[len("metadata[") : -1]: v for k, v in params.items() if k.startswith("metadata[")
                    },
                }
            )
        if method == "GET" and path == "/v1/events":
            after = params.get("starting_after")
            events = self.events
            if after:
                events = events[[e["id"] for e in events].index(after) + 1 :]
            page = events[: int(params.get("limit", 10))]
            return self._ok(
                {"object": "list", "url": "/v1/events", "data": page, "has_more": len(events) > len(page)}
            )
        if path.startswith("/v1/subscriptions/"):
            sub_id = path.rsplit("/", 1)[-1]
            if method == "DELETE":
                return self._ok({"id": sub_id, "object": "subscription", "status": "canceled"})
            return self._ok(
                {
                    "id": sub_id,
                    "object": "subscription",
                    "status": "active",
                    "cancel_at_period_end": params.get("cancel_at_period_end") == "true",
                }
            )
        return json.dumps({"error": {"type": "invalid_request_error", "message": "unknown"}}), 404, {}

    @staticmethod
    def _ok(body: dict):
        return json.dumps(body), 200, {"Request-Id": "req_fake"}

    # Helpers for tests.
    def calls(self, method: str, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"] == path]


def stripe_event(kind: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event as Stripe sends it (``data.object`` is ``obj``)."""
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(8)}",
        "object": "event",
        "type": kind,
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def stripe_signature(body: bytes, secret: str, *, at: int | None = None) -> str:
    """The ``Stripe-Signature`` header of a delivery of ``body``: ``t=<ts>,v1=<HMAC-SHA256
    of "<ts>.<body>">``. Stripe signs each delivery attempt afresh."""
    ts = at if at is not None else int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"
