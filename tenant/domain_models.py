"""A client's e-mail domains and a reseller's webmail overrides (seed 003).

Written only by ``tenant.domains`` (domains) and ``tenant.webmail`` (overrides).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.timeutil import utcnow
from tenant.models import Client

# RFC 1035: a host name is at most 253 characters written out.
DOMAIN_LENGTH = 253


class ClientDomain(db.Model):
    """A domain whose e-mail addresses belong to one client of the reseller.

    Stored lower-case in its ASCII (punycode) form; a domain belongs to at most one client
    of a reseller (two resellers may each give it to a client of theirs).
    """

    __tablename__ = "client_domains"
    __table_args__ = (
        UniqueConstraint("reseller_id", "domain"),
        Index("ix_client_domains_client", "client_id", "domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    client: Mapped[Client] = relationship()


class WebmailOverride(db.Model):
    """The reseller's own word on one domain: webmail (never a client's domain) or not,
    over the packaged free-mail list."""

    __tablename__ = "webmail_overrides"
    __table_args__ = (UniqueConstraint("reseller_id", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(DOMAIN_LENGTH))
    is_webmail: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
