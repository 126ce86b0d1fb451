"""Every call to Meta's Graph API (WhatsApp Cloud API) goes through here.

The HTTP exchange itself is one function, ``transport(method, url, headers, body)``
returning ``(status, content_type, content)``: ``requests`` by default, replaced by the
suite at this boundary (``app.extensions["whatsapp_http"]``, tests/meta_fake.py), so
what we send and how we read Meta's answers is what runs in production.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import requests
from flask import current_app

TIMEOUT_SECONDS = 15


class GraphError(Exception):
    """Meta refused or could not be reached. ``retryable``: a rate limit (429), a server
    error (5xx) or no answer at all, worth another try later; otherwise the request
    itself is wrong (bad token, no such number, outside the window...)."""

    def __init__(self, status: int | None, title: str, code: int | None = None) -> None:
        super().__init__(f"{status} {code}: {title}")
        self.status = status
        self.title = title
        self.code = code

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500

    @property
    def reason(self) -> str:
        """What the message page shows: Meta's words and code."""
        return f"{self.title} ({self.code})" if self.code is not None else self.title


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    content: bytes


def requests_transport(method: str, url: str, headers: dict, body: bytes | None) -> Answer:
    answer = requests.request(method, url, headers=headers, data=body, timeout=TIMEOUT_SECONDS)
    return Answer(answer.status_code, answer.headers.get("Content-Type", ""), answer.content)


def _transport():
    return current_app.extensions.get("whatsapp_http") or requests_transport


def _exchange(method: str, url: str, token: str, payload: dict | None = None) -> Answer:
    headers = {"Authorization": f"Bearer {token}"}
    body = None
    if payload is not None:
        headers["Content-Type"] = "application/json"
        body = json.dumps(payload).encode()
    try:
        return _transport()(method, url, headers, body)
    except requests.RequestException as exc:
        raise GraphError(None, f"Meta could not be reached: {type(exc).__name__}") from None


def _json(answer: Answer) -> dict:
    try:
        data = json.loads(answer.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        data = None
    if not 200 <= answer.status < 300:
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            title = str(error.get("error_user_title") or error.get("message") or "error")[:200]
            code = error.get("code") if isinstance(error.get("code"), int) else None
            raise GraphError(answer.status, title, code)
        raise GraphError(answer.status, f"HTTP {answer.status}")
    if not isinstance(data, dict):
        raise GraphError(answer.status, "Meta's answer is not JSON")
    return data


def _url(*parts: str) -> str:
    return current_app.config["WHATSAPP_GRAPH_URL"] + "/" + "/".join(quote(p, safe="") for p in parts)


def phone_number(phone_number_id: str, token: str) -> dict:
    """``GET /{phone-number-id}``: the number's display name and quality (the settings'
    "test connection")."""
    return _json(_exchange("GET", _url(phone_number_id), token))


def send_message(phone_number_id: str, token: str, payload: dict) -> str:
    """``POST /{phone-number-id}/messages``: the new message's WhatsApp id (``wamid...``)."""
    data = _json(_exchange("POST", _url(phone_number_id, "messages"), token, payload))
    messages = data.get("messages")
    if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
        raise GraphError(200, "Meta's answer names no message")
    wamid = messages[0].get("id")
    if not isinstance(wamid, str) or not 0 < len(wamid) <= 100:
        raise GraphError(200, "Meta's answer names no message")
    return wamid


def upload_media(phone_number_id: str, token: str, content: bytes, content_type: str, filename: str) -> str:
    """``POST /{phone-number-id}/media`` (multipart): the uploaded file's media id, which a
    message then names."""
    boundary = secrets.token_hex(16)
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (("messaging_product", "whatsapp"), ("type", content_type))
    )
    body = (
        head.encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'.encode()
        + f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    try:
        answer = _transport()("POST", _url(phone_number_id, "media"), headers, body)
    except requests.RequestException as exc:
        raise GraphError(None, f"Meta could not be reached: {type(exc).__name__}") from None
    media_id = _json(answer).get("id")
    if not isinstance(media_id, str) or not 0 < len(media_id) <= 200:
        raise GraphError(answer.status, "Meta's answer names no media")
    return media_id


def media_info(media_id: str, token: str) -> dict:
    """``GET /{media-id}``: the file's short-lived ``url``, ``mime_type`` and ``file_size``."""
    return _json(_exchange("GET", _url(media_id), token))


def download(url: str, token: str, max_bytes: int) -> Answer:
    """The file at a media ``url`` (Meta's CDN, with the token); refused past ``max_bytes``."""
    answer = _exchange("GET", url, token)
    if not 200 <= answer.status < 300:
        raise GraphError(answer.status, f"the media download answered HTTP {answer.status}")
    if len(answer.content) > max_bytes:
        raise GraphError(answer.status, "the file is larger than the attachments' limit")
    return answer


def message_templates(business_account_id: str, token: str) -> list[dict]:
    """``GET /{waba-id}/message_templates``, every page (at most 20, 100 a page)."""
    url = _url(business_account_id, "message_templates") + "?limit=100"
    found: list[dict] = []
    for _page in range(20):
        data = _json(_exchange("GET", url, token))
        rows = data.get("data")
        if isinstance(rows, list):
            found.extend(row for row in rows if isinstance(row, dict))
        paging = data.get("paging") if isinstance(data.get("paging"), dict) else {}
        following = paging.get("next")
        if not isinstance(following, str) or not following.startswith(
            current_app.config["WHATSAPP_GRAPH_URL"]
        ):
            break
        url = following
    return found
