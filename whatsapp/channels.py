"""A client's WhatsApp channel: its settings saved (secrets sealed, never shown back,
audited without them), found by client or by phone number id, its connection tested."""

from __future__ import annotations

import functools
import hmac
import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, select

from core import audit, scope
from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from whatsapp import graph
from whatsapp.models import WhatsAppChannel
from whatsapp.sealing import seal, unseal

BYPASS = "whatsapp-inbox"
_DIGITS = re.compile(r"[0-9]{1,40}")
_VISIBLE = re.compile(r"[\x21-\x7e]+")


class ChannelRefused(ValueError):
    """The settings are not saved; the message says why (in the user's language)."""


@dataclass(frozen=True)
class ChannelInput:
    phone_number_id: str
    business_account_id: str
    verify_token: str
    access_token: str  # "" keeps the stored one
    app_secret: str  # "" keeps the stored one


def channel_of_client(client_id: int) -> WhatsAppChannel | None:
    return db.session.scalar(select(WhatsAppChannel).where(WhatsAppChannel.client_id == client_id))


# What the webhook reads of a channel, as a plain Core select (no ORM objects), built
# once with the numbers as one expanding parameter, so it is compiled once per process.
_CHANNELS = WhatsAppChannel.__table__
_FOR_INTAKE = select(
    _CHANNELS.c.id,
    _CHANNELS.c.reseller_id,
    _CHANNELS.c.client_id,
    _CHANNELS.c.phone_number_id,
    _CHANNELS.c.app_secret_sealed,
).where(_CHANNELS.c.phone_number_id.in_(bindparam("numbers", expanding=True)))


class IntakeChannel(NamedTuple):
    id: int
    reseller_id: int
    client_id: int
    phone_number_id: str
    app_secret_sealed: str


@cache
def _for_intake_sql(dialect) -> bytes:
    # The same select as SQL, for core.scope.begin_with: the numbers go in as literals.
    return str(_FOR_INTAKE.compile(dialect=dialect)).encode().replace(b"__[POSTCOMPILE_numbers]", b"%s")


def channels_by_phone_number_id(phone_number_ids: set[str]) -> dict[str, Row | IntakeChannel]:
    """The channels the webhook's payload names, any reseller's: the webhook knows no
    reseller until it has found the channel whose secret signed it. Rows of ``id``,
    ``reseller_id``, ``client_id``, ``phone_number_id`` and ``app_secret_sealed``, read
    on the session's connection (its transaction, its scope). On PostgreSQL, when the
    transaction is still to open, in the message that opens it (``begin_with``)."""
    numbers = sorted(phone_number_ids)
    with bypass(BYPASS):
        connection = db.session.connection()
        sql = _for_intake_sql(connection.dialect)
        result = scope.begin_with(connection, lambda literal: sql % b", ".join(map(literal, numbers)))
        if result is None:
            rows = connection.execute(_FOR_INTAKE, {"numbers": numbers}).all()
        else:
            rows = [
                IntakeChannel(
                    int(result.get_value(n, 0)),
                    int(result.get_value(n, 1)),
                    int(result.get_value(n, 2)),
                    result.get_value(n, 3).decode(),
                    result.get_value(n, 4).decode(),
                )
                for n in range(result.ntuples)
            ]
    return {row.phone_number_id: row for row in rows}


def channels_by_business_account_id(account_ids: set[str]) -> dict[str, list[Row]]:
    """The channels of the business accounts a payload names (a template's status comes
    for the account, without a phone number id), any reseller's, as rows of the same
    columns as :func:`channels_by_phone_number_id`: by account id, each account's
    channels (one per connected number of it)."""
    query = select(*_FOR_INTAKE.selected_columns).where(
        _CHANNELS.c.business_account_id.in_(sorted(account_ids))
    )
    with bypass(BYPASS):
        rows = db.session.connection().execute(query.add_columns(_CHANNELS.c.business_account_id)).all()
    found: dict[str, list[Row]] = {}
    for row in rows:
        found.setdefault(row.business_account_id, []).append(row)
    return found


def every_channel() -> list[tuple[int, int]]:
    """``(reseller_id, client_id)`` of every connected channel, any reseller's (under a
    bypass), the transaction ended: each is then dealt with in its own client's scope."""
    rows = db.session.execute(
        select(WhatsAppChannel.reseller_id, WhatsAppChannel.client_id).order_by(WhatsAppChannel.id)
    ).all()
    db.session.rollback()
    return [(row.reseller_id, row.client_id) for row in rows]


def verify_token_matches(token: str) -> bool:
    """Whether ``token`` is some channel's verify token (Meta's subscription check)."""
    if not token or len(token) > 100:
        return False
    with bypass(BYPASS):
        found = db.session.scalar(
            select(WhatsAppChannel.verify_token).where(WhatsAppChannel.verify_token == token)
        )
    return found is not None and hmac.compare_digest(found.encode(), token.encode())


def access_token(channel: WhatsAppChannel) -> str:
    return unseal(channel.access_token_sealed)


# Unsealed app secrets by (encryption key, sealed value): the same ciphertext under the
# same key is always the same secret, so this is never stale. Keyed by what is stored,
# never by the phone number id: a new secret or a disconnection (its row gone) takes
# effect at once, in every process, because the row is read on every delivery. The
# least recently used goes first past 1,024 (a value that cannot be opened raises,
# and nothing is kept).
@functools.lru_cache(maxsize=1024)
def _unsealed(key: str, sealed: str) -> str:
    return unseal(sealed)  # under ``key``: the config's, read by the caller just now


def app_secret(channel) -> str:
    return _unsealed(current_app.config.get("WHATSAPP_ENCRYPTION_KEY") or "", channel.app_secret_sealed)


def _check(data: ChannelInput, existing: WhatsAppChannel | None) -> None:
    if not _DIGITS.fullmatch(data.phone_number_id):
        raise ChannelRefused(_("The phone number ID is the number Meta shows, digits only."))
    if not _DIGITS.fullmatch(data.business_account_id):
        raise ChannelRefused(_("The WhatsApp Business account ID is the number Meta shows, digits only."))
    if not (8 <= len(data.verify_token) <= 100 and _VISIBLE.fullmatch(data.verify_token)):
        raise ChannelRefused(_("The verify token has 8 to 100 characters, without spaces."))
    for value, limit in ((data.access_token, 1000), (data.app_secret, 200)):
        if value and not (len(value) <= limit and _VISIBLE.fullmatch(value)):
            raise ChannelRefused(_("The access token or the app secret is not valid."))
    if existing is None and not (data.access_token and data.app_secret):
        raise ChannelRefused(_("Enter the access token and the app secret."))
    with bypass(BYPASS):
        taken = db.session.scalar(
            select(WhatsAppChannel.client_id).where(
                WhatsAppChannel.phone_number_id == data.phone_number_id,
                WhatsAppChannel.id != (existing.id if existing else -1),
            )
        )
    if taken is not None:
        raise ChannelRefused(_("This phone number is already connected to another account."))


def save(client, data: ChannelInput) -> WhatsAppChannel:
    """Create or change the client's channel; :class:`ChannelRefused` changes nothing."""
    if not current_app.config.get("WHATSAPP_ENCRYPTION_KEY"):
        raise ChannelRefused(
            _("WhatsApp is not available on this platform yet: its operator must set it up first.")
        )
    channel = channel_of_client(client.id)
    _check(data, channel)
    created = channel is None
    if created:
        channel = WhatsAppChannel(reseller_id=client.reseller_id, client_id=client.id)
        db.session.add(channel)
    before = None if created else shown(channel)
    channel.phone_number_id = data.phone_number_id
    channel.business_account_id = data.business_account_id
    channel.verify_token = data.verify_token
    changed_secrets = []
    if data.access_token:
        channel.access_token_sealed = seal(data.access_token)
        changed_secrets.append("access_token")
    if data.app_secret:
        channel.app_secret_sealed = seal(data.app_secret)
        changed_secrets.append("app_secret")
    channel.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "whatsapp.channel_created" if created else "whatsapp.channel_changed",
        channel,
        details={"before": before, "after": shown(channel), "secrets_changed": changed_secrets},
    )
    return channel


def shown(channel: WhatsAppChannel) -> dict:
    # What the audit log may keep: never the token, the secret or the verify token.
    return {"phone_number_id": channel.phone_number_id, "business_account_id": channel.business_account_id}


def check_connection(channel: WhatsAppChannel) -> str:
    """The number's name as Meta shows it; :class:`graph.GraphError` says what failed."""
    data = graph.phone_number(channel.phone_number_id, access_token(channel))
    name = data.get("verified_name") or data.get("display_phone_number") or channel.phone_number_id
    return str(name)[:200]
