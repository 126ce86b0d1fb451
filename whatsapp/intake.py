"""The WhatsApp webhook's intake: find the channel the payload names, check Meta's
signature (``X-Hub-Signature-256``: HMAC-SHA256 of the raw body under that channel's app
secret) before anything else is done with it, store the raw event in the
``whatsapp_events`` inbox and queue its drain, all before the endpoint answers 200.
Applying it is :mod:`whatsapp.inbox`'s job; if that job is lost the sweep finds the row."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from sqlalchemy import insert

from core import jobs, scope
from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from whatsapp import channels
from whatsapp.models import WhatsAppEvent
from whatsapp.states import TEMPLATE_STATUS_FIELD

MAX_BODY = 3 * 1024 * 1024
_DIGITS = re.compile(r"[0-9]{1,40}")
DRAIN_KEY = "whatsapp-inbox"
DRAIN_JOB = dict(func="whatsapp.tasks.drain_events", queue="whatsapp", unique_key=DRAIN_KEY, retries=3)


class Refused(ValueError):
    """Not a delivery of ours: nothing is stored. ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def phone_number_ids(payload) -> set[str]:
    """Every ``entry[].changes[].value.metadata.phone_number_id`` of a payload."""
    found: set[str] = set()
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if isinstance(number, str) and 0 < len(number) <= 40:
                found.add(number)
    return found


def business_account_ids(payload) -> set[str]:
    """Every ``entry[].id`` (the WhatsApp Business account's) of an entry with a
    template's status change: Meta sends those for the account, without a phone number id."""
    found: set[str] = set()
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        changes = entry.get("changes") if isinstance(entry, dict) else None
        fields = {c.get("field") for c in changes if isinstance(c, dict)} if isinstance(changes, list) else ()
        account = entry.get("id")
        if TEMPLATE_STATUS_FIELD in fields and isinstance(account, str) and _DIGITS.fullmatch(account):
            found.add(account)
    return found


def verify(raw: bytes, header: str | None) -> list:
    """The channels a delivery is for (rows of :func:`channels.channels_by_phone_number_id`,
    and of :func:`channels.channels_by_business_account_id` for a template's status),
    once its signature is checked with each one's app secret (constant-time);
    :class:`Refused` otherwise."""
    if not header:
        raise Refused(401, "missing signature")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise Refused(400, "not JSON") from None
    numbers, accounts = phone_number_ids(payload), business_account_ids(payload)
    if not (numbers or accounts):
        raise Refused(400, "no phone number id")
    found = channels.channels_by_phone_number_id(numbers) if numbers else {}
    if set(found) != numbers:
        # No channel here for a number it names (never connected, or disconnected: its
        # app secret was erased with it), so no signature can be checked: 404, as for a
        # resource that is not here. Not 403 (which says "known, and refused to you") nor
        # 401 (which says the right signature would be accepted: none would). Meta's
        # retries of deliveries made before the disconnection end here too.
        raise Refused(404, "no channel for this phone number")
    by_account = channels.channels_by_business_account_id(accounts) if accounts else {}
    if set(by_account) != accounts:
        raise Refused(404, "no channel for this business account")  # as for a number
    for rows in by_account.values():
        found.update({row.phone_number_id: row for row in rows})
    for channel in found.values():
        if not hmac.compare_digest(signature(channels.app_secret(channel), raw), header.strip()):
            raise Refused(401, "invalid signature")
    return list(found.values())


_EVENTS = WhatsAppEvent.__table__
# The same insert as SQL, for core.scope.commit_with: each row's values as literals.
_INSERT_SQL = (
    b"INSERT INTO whatsapp_events (reseller_id, client_id, phone_number_id, payload, received_at, attempts) "
    b"VALUES "
)


def store(found: list, raw: bytes) -> None:
    """One inbox row per channel, committed; the drain job queued once they are durable.
    On PostgreSQL the insert and COMMIT go in one message after the channel's read
    (``core.scope.commit_with``); elsewhere one Core ``INSERT`` and the session's commit."""
    text = raw.decode("utf-8")
    now = utcnow()
    rows = [
        {
            "reseller_id": channel.reseller_id,
            "client_id": channel.client_id,
            "phone_number_id": channel.phone_number_id,
            "payload": text,
            "received_at": now,
            "attempts": 0,
        }
        for channel in found
    ]

    def statement(literal) -> bytes:
        stamp = literal(now.isoformat(sep=" "))
        return _INSERT_SQL + b", ".join(
            b"(%d, %d, %s, %s, %s, 0)"
            % (row["reseller_id"], row["client_id"], literal(row["phone_number_id"]), literal(text), stamp)
            for row in rows
        )

    with bypass(channels.BYPASS):
        jobs.enqueue(**DRAIN_JOB)  # dispatched at the commit, before the 200
        if not scope.commit_with(db.session(), statement):
            db.session.connection().execute(insert(_EVENTS), rows)
            db.session.commit()
