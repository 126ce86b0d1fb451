"""The inbound mail webhook (issue 14, ``POST /mail/inbound``): a signed raw MIME body
is stored (bytes in storage, a row in the inbox) before the 202 and its processing is
queued; unsigned, wrongly signed, stale or oversized requests get 401/413 and leave
nothing behind. Requests are real signed HTTP posts."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import get_queue, get_redis
from core.storage import get_storage
from intake import inbox
from intake.models import InboundMessage
from intake.signatures import sign
from intake.states import ReceivedVia
from tests.conftest import MAIL_INBOUND_SECRET

RAW = (
    b"From: Ana <ana@cliente.test>\r\nTo: suporte@a.test\r\nSubject: Impressora parada\r\n"
    b"Message-ID: <m1@cliente.test>\r\n\r\nA impressora parou.\r\n"
)


def signed_headers(body: bytes, *, at: int | None = None, secret: str = MAIL_INBOUND_SECRET) -> dict:
    stamp = int(time.time()) if at is None else at
    return {"X-Mail-Timestamp": str(stamp), "X-Mail-Signature": sign(secret, stamp, body)}


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(InboundMessage))


def stored_files(app) -> list:
    folder = Path(app.config["STORAGE_DIR"]) / "intake"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def http(app):
    return app.test_client()


def test_a_signed_message_is_stored_before_the_202(app, http):
    response = http.post("http://a.test/mail/inbound", data=RAW, headers=signed_headers(RAW))
    assert response.status_code == 202
    with app.app_context():
        row = db.session.get(InboundMessage, response.get_json()["id"])
        assert row.received_via == ReceivedVia.WEBHOOK
        assert row.size == len(RAW)
        assert row.sha256 == hashlib.sha256(RAW).hexdigest()
        with get_storage().open(row.storage_key) as kept:
            assert kept.read() == RAW


def test_the_processing_job_is_queued_for_the_stored_row(app, http):
    if not app.config.get("REDIS_URL"):
        pytest.skip("without Redis the job runs in-process at once (see test_intake_processing)")
    response = http.post("http://a.test/mail/inbound", data=RAW, headers=signed_headers(RAW))
    with app.app_context():
        queued = get_queue(app, "mail").get_jobs()
        assert [(j.args[0], j.args[1:]) for j in queued] == [
            ("intake.tasks.process_message", (response.get_json()["id"],))
        ]
        get_redis(app).flushdb()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Mail-Timestamp": str(int(time.time()))},
        {"X-Mail-Signature": "sha256=" + "0" * 64},
        "wrong secret",
        "tampered body",
        "stale",
        "not ascii",
    ],
    ids=["unsigned", "no signature", "no timestamp", "wrong secret", "tampered body", "stale", "not ascii"],
)
def test_an_unsigned_or_badly_signed_message_is_refused_and_nothing_is_kept(app, http, headers):
    if headers == "wrong secret":
        headers = signed_headers(RAW, secret="not-the-secret")
    elif headers == "tampered body":
        headers = signed_headers(RAW.replace(b"parou", b"voltou"))
    elif headers == "stale":
        headers = signed_headers(RAW, at=int(time.time()) - 6 * 60)
    elif headers == "not ascii":
        headers = {**signed_headers(RAW), "X-Mail-Signature": "sha256=é" + "0" * 63}
    response = http.post("http://a.test/mail/inbound", data=RAW, headers=headers)
    assert response.status_code == 401
    assert stored(app) == 0
    assert stored_files(app) == []


def test_a_replayed_signature_with_a_new_timestamp_is_refused(app, http):
    old = int(time.time()) - 6 * 60
    headers = signed_headers(RAW, at=old)
    headers["X-Mail-Timestamp"] = str(int(time.time()))  # the signature covers the timestamp
    assert http.post("http://a.test/mail/inbound", data=RAW, headers=headers).status_code == 401
    assert stored(app) == 0


def big_message() -> bytes:
    head = b"From: ana@cliente.test\r\nTo: suporte@a.test\r\nSubject: grande\r\n\r\n"
    return head + b"x" * (inbox.MAX_MESSAGE_BYTES + 1 - len(head))


def test_a_message_over_30_mb_is_refused_with_413_and_nothing_is_kept(app, http):
    body = big_message()
    response = http.post("http://a.test/mail/inbound", data=body, headers=signed_headers(body))
    assert response.status_code == 413
    assert stored(app) == 0
    assert stored_files(app) == []


def test_a_streamed_body_without_length_is_stopped_at_30_mb(app, http):
    body = big_message()
    response = http.post(
        "http://a.test/mail/inbound",
        input_stream=io.BytesIO(body),
        headers=signed_headers(body),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert stored(app) == 0
    assert stored_files(app) == []


def test_a_message_of_exactly_30_mb_is_accepted(app, http):
    body = big_message()[:-1]
    response = http.post("http://a.test/mail/inbound", data=body, headers=signed_headers(body))
    assert response.status_code == 202
    with app.app_context():
        assert db.session.get(InboundMessage, response.get_json()["id"]).size == inbox.MAX_MESSAGE_BYTES


def test_the_body_is_left_to_the_view_but_a_nul_in_the_query_is_still_refused(app, http):
    response = http.post("http://a.test/mail/inbound?x=%00", data=RAW, headers=signed_headers(RAW))
    assert response.status_code == 400
    assert stored(app) == 0
