"""A stand-in for Meta's Graph API at the HTTP boundary (no network here).

It replaces only the exchange (``whatsapp.graph``'s transport, through
``app.extensions["whatsapp_http"]``): the product still builds every request and reads
every answer. It answers what the product asks (a phone number, sending a message,
a media's URL and its bytes, the templates), can fail the next sends with given
statuses (429, 500...), and records every request for the tests to read.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from whatsapp.graph import Answer

GRAPH = "https://graph.test/v21.0"
CDN = "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
TOKEN = "EAAG-test-only-access-token"

_ERRORS = {
    400: {
        "message": "(#131047) Re-engagement message",
        "type": "OAuthException",
        "code": 131047,
        "error_user_title": "Re-engagement message",
    },
    401: {
        "message": "Invalid OAuth access token - Cannot parse access token",
        "type": "OAuthException",
        "code": 190,
    },
    429: {"message": "(#80007) Rate limit hit", "type": "OAuthException", "code": 80007},
    500: {"message": "An unknown error has occurred.", "type": "OAuthException", "code": 1},
    503: {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2},
}


class FakeMeta:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.send_failures: list[int] = []  # statuses the next sends answer, in order
        self.media: dict[str, tuple[str, bytes]] = {}
        self.templates: list[dict] = []
        self.template_failures: dict[str, int] = {}  # status a business account's templates answer
        self.media_failures: list[int] = []  # statuses the next media lookups answer
        self.uploads: list[bytes] = []  # multipart bodies of POST /{phone-number-id}/media
        self.token = TOKEN
        self._sent = 0

    @property
    def sends(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].endswith("/messages")]

    def __call__(self, method: str, url: str, headers: dict, body: bytes | None) -> Answer:
        parts = urlsplit(url)
        multipart = headers.get("Content-Type", "").startswith("multipart/")
        payload = json.loads(body) if body and not multipart else None
        self.requests.append(
            {"method": method, "url": url, "path": parts.path, "json": payload, "headers": headers}
        )
        if headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401)
        if url.startswith(CDN):
            media_id = parse_qs(parts.query)["mid"][0]
            mime, content = self.media[media_id]
            return Answer(200, mime, content)
        if not url.startswith(GRAPH):
            raise AssertionError(f"the fake Meta was asked for {url}")
        path = parts.path[len(urlsplit(GRAPH).path) + 1 :].split("/")
        if method == "POST" and len(path) == 2 and path[1] == "messages":
            if self.send_failures:
                return self._error(self.send_failures.pop(0))
            self._sent += 1
            return self._json(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": payload["to"], "wa_id": payload["to"]}],
                    "messages": [{"id": f"wamid.FAKE{self._sent:04d}"}],
                }
            )
        if method == "POST" and len(path) == 2 and path[1] == "media":
            self.uploads.append(body)
            return self._json({"id": f"upload-{len(self.uploads)}"})
        if method == "GET" and len(path) == 2 and path[1] == "message_templates":
            if path[0] in self.template_failures:
                return self._error(self.template_failures[path[0]])
            return self._json({"data": self.templates, "paging": {"cursors": {"before": "x", "after": "y"}}})
        if method == "GET" and len(path) == 1 and path[0] in self.media and self.media_failures:
            return self._error(self.media_failures.pop(0))
        if method == "GET" and len(path) == 1 and path[0] in self.media:
            mime, content = self.media[path[0]]
            return self._json(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{CDN}?mid={path[0]}&ext=1&hash=abc",
                    "mime_type": mime,
                    "sha256": "0" * 64,
                    "file_size": len(content),
                    "id": path[0],
                }
            )
        if method == "GET" and len(path) == 1:
            return self._json(
                {
                    "verified_name": "Loja Alpha",
                    "display_phone_number": "+55 11 3000-0000",
                    "id": path[0],
                    "quality_rating": "GREEN",
                }
            )
        return self._error(400)

    @staticmethod
    def _json(data: dict, status: int = 200) -> Answer:
        return Answer(status, "application/json", json.dumps(data).encode())

    def _error(self, status: int) -> Answer:
        return self._json({"error": {**_ERRORS[status], "fbtrace_id": "Atest"}}, status)


def guard_meta(application) -> None:
    """Meta's Graph API (whatsapp.graph's transport, the only way out to it) refuses to
    connect; a test that needs it takes the ``fake_meta`` fixture."""

    def no_network(method, url, headers, body):
        raise AssertionError(f"a test tried to reach Meta: {method} {url}")

    application.extensions["whatsapp_http"] = no_network


@pytest.fixture
def fake_meta(app):
    """Meta's Graph API, faked at the HTTP boundary."""
    fake = FakeMeta()
    guard, url = app.extensions["whatsapp_http"], app.config["WHATSAPP_GRAPH_URL"]
    app.extensions["whatsapp_http"] = fake
    app.config["WHATSAPP_GRAPH_URL"] = GRAPH
    yield fake
    app.extensions["whatsapp_http"] = guard
    app.config["WHATSAPP_GRAPH_URL"] = url
