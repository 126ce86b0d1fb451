"""API clients of a reseller, their secrets, the access tokens issued to them and the
responses kept for an ``Idempotency-Key``. Secrets and tokens are stored as SHA-256
digests only (migration 0031_api_clients; every table under row-level security)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.states import ApiScope
from core.extensions import db
from core.timeutil import utcnow


class ApiClient(db.Model):
    """A program of the reseller's that calls the API (OAuth2 client credentials)."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"), index=True)
    # The public identifier sent as OAuth2 ``client_id`` (unique across the platform).
    client_key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(254), server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    secrets: Mapped[list[ApiClientSecret]] = relationship(
        back_populates="api_client", cascade="all, delete-orphan", order_by="ApiClientSecret.id"
    )

    def scope_list(self) -> list[str]:
        """The granted scopes, in the declared order."""
        return [s.value for s in ApiScope if s.value in (self.scopes or [])]

    def active_secrets(self) -> list[ApiClientSecret]:
        return [s for s in self.secrets if s.revoked_at is None]


class ApiClientSecret(db.Model):
    """One secret of an API client: two may be active at once, so one can be replaced
    without downtime. Only its digest is kept (and its first characters, to tell them apart)."""

    __tablename__ = "api_client_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    api_client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    api_client: Mapped[ApiClient] = relationship(back_populates="secrets")


class ApiToken(db.Model):
    """An access token issued by ``/oauth/token`` (its digest), with its scope and life."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    api_client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(Text, server_default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_in: Mapped[int]
    revoked_at: Mapped[datetime | None]

    api_client: Mapped[ApiClient] = relationship()

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    # --- Authlib's TokenMixin --------------------------------------------------------

    def check_client(self, client) -> bool:
        return client is not None and client.id == self.api_client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class ApiIdempotentResponse(db.Model):
    """The response to a POST sent with an ``Idempotency-Key``, kept 24 hours per API
    client (``kept_seconds``: less for an answer that is useless sooner, such as a login
    link's): the same key and body replay it; the same key with another body is refused."""

    __tablename__ = "api_idempotent_responses"
    __table_args__ = (
        UniqueConstraint("api_client_id", "key"),
        Index("ix_api_idempotent_responses_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(ForeignKey("resellers.id", ondelete="CASCADE"))
    api_client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kept_seconds: Mapped[int] = mapped_column(server_default="86400")
