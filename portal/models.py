"""The reseller's terms of use and who accepted which version, and its knowledge base
(issue 15).

Terms are written only by ``portal.terms``: a version is published once and never
edited; a change is a new version, with the next number of its reseller. Articles are
written only by ``portal.knowledge``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import Account
from core.extensions import db
from core.timeutil import utcnow
from portal.states import ArticleStatus, Visibility

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


# An article's limits, in characters.
TITLE_CHARS = 200
CATEGORY_CHARS = 80
TAGS_CHARS = 300
# PostgreSQL's full-text document of an article: a function created by migration
# 0028_knowledge_base (title and tags weigh A, the body B; Portuguese stemming over the
# unaccented text), indexed with GIN. SQLite searches folded copies instead.
SEARCH_DOCUMENT = "kb_search_document(title, tags, body)"


class KbArticle(db.Model):
    """One article of a reseller's knowledge base (Markdown)."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        Index("ix_kb_articles_list", "reseller_id", "status", "visibility", "category"),
        Index("ix_kb_articles_search", text(SEARCH_DOCUMENT), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(TITLE_CHARS))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(CATEGORY_CHARS), default="")
    # Comma-separated words, searched with the title.
    tags: Mapped[str] = mapped_column(String(TAGS_CHARS), default="")
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.CLIENTS)
    status: Mapped[str] = mapped_column(String(16), default=ArticleStatus.DRAFT)
    published_at: Mapped[datetime | None]
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Folded copies (tenant.models.fold) for SQLite's search; kept on PostgreSQL too.
    title_search: Mapped[str] = mapped_column(String(TITLE_CHARS), default="")
    body_search: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    author: Mapped[Account | None] = relationship()
    desks: Mapped[list[KbArticleDesk]] = relationship(cascade="all, delete-orphan")


class KbArticleDesk(db.Model):
    """A desk an article is about (its clients' ticket subjects rank it first)."""

    __tablename__ = "kb_article_desks"

    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    desk_id: Mapped[int] = mapped_column(
        ForeignKey("desks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
