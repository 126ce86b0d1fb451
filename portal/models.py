"""The reseller's terms of use and who accepted which version (issue 15).

Written only by ``portal.terms``. A version is published once and never edited: a
change is a new version, with the next number of its reseller.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Account
from core.extensions import db
from core.timeutil import utcnow

# The longest terms a reseller may publish, in characters of Markdown.
MAX_BODY_CHARS = 100_000
# What is kept of the browser's User-Agent header with an acceptance.
USER_AGENT_CHARS = 300


class TermsVersion(db.Model):
    """One published version of a reseller's terms of use (Markdown)."""

    __tablename__ = "terms_versions"
    __table_args__ = (UniqueConstraint("reseller_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    published_by: Mapped[Account | None] = relationship()


class TermsAcceptance(db.Model):
    """A client user's acceptance of one version: who, when, from where."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (
        UniqueConstraint("account_id", "version_id"),
        Index("ix_terms_acceptances_version", "version_id", "accepted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    login_id: Mapped[int] = mapped_column(ForeignKey("logins.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id", ondelete="CASCADE"))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(USER_AGENT_CHARS))

    account: Mapped[Account] = relationship()
    version: Mapped[TermsVersion] = relationship()
