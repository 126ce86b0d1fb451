"""A client's conversation balance: extra packs credited and taken back, and the
period's consumed sessions reset. The only writers of ``clients.extra_balance`` and
``clients.sessions_consumed`` in billing."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from billing.errors import BillingRejected
from billing.models import ExtraPack
from billing.states import PackSource
from core import audit
from core.extensions import db
from tenant.models import Client

MAX_PACK = 100_000


def credit_pack(
    client: Client,
    conversations: int,
    *,
    source: str,
    checkout_id: str | None = None,
    actor_account_id=None,
) -> ExtraPack:
    """Record an extra pack and add its conversations to the balance (they carry over
    from period to period). A Stripe checkout's unique id stops a second credit."""
    pack = ExtraPack(
        reseller_id=client.reseller_id,
        client_id=client.id,
        conversations=conversations,
        source=source,
        stripe_checkout_id=checkout_id,
        actor_account_id=actor_account_id,
    )
    db.session.add(pack)
    db.session.flush()  # the unique checkout id stops a concurrent second credit here
    db.session.execute(
        update(Client)
        .where(Client.id == client.id)
        .values(extra_balance=Client.extra_balance + conversations)
        .execution_options(synchronize_session=False)
    )
    return pack


def add_extra_pack(client: Client, conversations: int, *, actor_account_id=None) -> ExtraPack:
    """Staff credit extra conversations by hand."""
    if not 1 <= conversations <= MAX_PACK:
        raise BillingRejected(_("A pack has from 1 to 100,000 conversations."))
    pack = credit_pack(client, conversations, source=PackSource.MANUAL, actor_account_id=actor_account_id)
    db.session.refresh(client)
    audit.record("billing.extra_pack_added", client, details={"conversations": conversations})
    return pack


def take_back_pack(client: Client, pack: ExtraPack) -> int:
    """A refunded pack: take back the conversations still unused; returns how many."""
    db.session.refresh(client)
    taken_back = min(pack.conversations, client.extra_balance)
    client.extra_balance -= taken_back
    return taken_back


def reset_period(client: Client) -> None:
    """A new period: the plan's sessions again (extras stay)."""
    client.sessions_consumed = 0
