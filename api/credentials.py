"""The reseller's API clients: created with their first secret (shown once), a second
secret for a rotation without downtime (two active at most), a secret revoked, a client
deleted with its tokens. The only writer of ``api_clients`` and ``api_client_secrets``;
every change audited."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from api import secrets
from api.models import ApiClient, ApiClientSecret, ApiToken
from api.states import ApiScope
from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow

MAX_ACTIVE_SECRETS = 2
MAX_NAME = 80


class ApiClientRejected(ValueError):
    """Bad input or a refused change: ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def list_clients(reseller_id: int) -> list[ApiClient]:
    return list(
        db.session.scalars(scoped_select(ApiClient, reseller_id=reseller_id).order_by(ApiClient.id.desc()))
    )


def _clean(name: str, scopes: list[str]) -> tuple[str, list[str]]:
    errors = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("Use at most %(n)d characters.", n=MAX_NAME)
    known = {s.value for s in ApiScope}
    if not scopes:
        errors["scopes"] = _("Choose at least one scope.")
    elif not set(scopes) <= known:
        errors["scopes"] = _("Unknown scope.")
    if errors:
        raise ApiClientRejected(errors)
    return name, [s.value for s in ApiScope if s.value in scopes]


def _add_secret(api_client: ApiClient) -> str:
    secret = secrets.new_secret()
    api_client.secrets.append(
        ApiClientSecret(
            reseller_id=api_client.reseller_id, secret_hash=secrets.digest(secret), hint=secret[:6]
        )
    )
    return secret


def create_client(reseller_id: int, name: str, scopes: list[str], *, account=None) -> tuple[ApiClient, str]:
    """A new API client and its first secret, returned in clear this once."""
    name, scopes = _clean(name, scopes)
    api_client = ApiClient(
        reseller_id=reseller_id,
        client_key=secrets.new_client_key(),
        name=name,
        scopes=scopes,
        created_by_account_id=account.id if account is not None else None,
        created_by_label=(account.name or "") if account is not None else "",
    )
    db.session.add(api_client)
    secret = _add_secret(api_client)
    db.session.flush()
    audit.record("api_client.created", api_client, details={"name": name, "scopes": scopes})
    return api_client, secret


def add_secret(api_client: ApiClient) -> str:
    """A second secret, so the program can move to it before the first is revoked."""
    if len(api_client.active_secrets()) >= MAX_ACTIVE_SECRETS:
        raise ApiClientRejected(
            {"secret": _("This client already has two active secrets: revoke one first.")}
        )
    secret = _add_secret(api_client)
    db.session.flush()
    audit.record("api_client.secret_added", api_client, details={"hint": secret[:6]})
    return secret


def revoke_secret(api_client: ApiClient, secret_id: int) -> ApiClientSecret | None:
    """Revoke one active secret of the client (its tokens live on until they expire:
    the secret only authenticates the client at the token endpoint)."""
    row = next((s for s in api_client.active_secrets() if s.id == secret_id), None)
    if row is None:
        return None
    row.revoked_at = utcnow()
    audit.record("api_client.secret_revoked", api_client, details={"hint": row.hint})
    return row


def delete_client(api_client: ApiClient) -> None:
    """Delete the client: its secrets and every token issued to it go with it."""
    audit.record("api_client.deleted", api_client, details={"name": api_client.name})
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.reseller_id == api_client.reseller_id,
            ApiToken.api_client_id == api_client.id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    db.session.delete(api_client)


def mark_used(api_client_id: int, reseller_id: int) -> bool:
    """Note when the client was last used (at most once a minute per client); says
    whether it wrote."""
    now = utcnow()
    row = db.session.execute(
        select(ApiClient.last_used_at).where(
            ApiClient.id == api_client_id, ApiClient.reseller_id == reseller_id
        )
    ).first()
    if row is not None and (row.last_used_at is None or (now - row.last_used_at).total_seconds() >= 60):
        db.session.execute(
            update(ApiClient)
            .where(ApiClient.id == api_client_id, ApiClient.reseller_id == reseller_id)
            .values(last_used_at=now)
        )
        return True
    return False
