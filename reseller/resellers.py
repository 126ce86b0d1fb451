"""Creating a reseller with its hosts, its built-in roles and its first owner (platform
operator: ``flask --app wsgi resellers create``, and the seed data)."""

from __future__ import annotations

from sqlalchemy import select

from auth import identity, passwords
from auth import permissions as perm
from auth.models import STAFF, Account, Login, Role
from core import audit, links
from core.extensions import db
from core.models import Reseller, ResellerHost
from desk.statuses import ensure_default_statuses
from reseller.hosts import HOST_RE


class ResellerRejected(ValueError):
    pass


def create_reseller(
    *,
    name: str,
    host: str,
    owner_email: str,
    owner_password: str | None = None,
    require_staff_2fa: bool = True,
    canonical_url: str | None = None,
) -> tuple[Reseller, Login]:
    """Create a reseller, its host, an Owner role and the owner's staff account.

    ``canonical_url`` (``https://host[:port]``) is where e-mailed links point; by
    default ``host`` over the configured scheme (HTTPS in production).
    """
    name = name.strip()
    host = host.strip().lower()
    if not name or len(name) > 120:
        raise ResellerRejected("The name is required (at most 120 characters).")
    if not HOST_RE.match(host):
        raise ResellerRejected(f"{host!r} is not a valid host name.")
    if db.session.scalar(select(ResellerHost).where(ResellerHost.host == host)):
        raise ResellerRejected(f"The host {host} already serves a reseller.")
    email = identity.normalise_email(owner_email)
    if "@" not in email or len(email) > 254:
        raise ResellerRejected(f"{owner_email!r} is not a valid e-mail address.")
    if owner_password is not None:
        try:
            passwords.check_password_policy(owner_password, email=email)
        except passwords.PasswordRejected as exc:
            raise ResellerRejected(str(exc)) from exc

    canonical_url = (canonical_url or links.default_canonical_url(host)).strip().rstrip("/")
    if not links.valid_canonical_url(canonical_url):
        raise ResellerRejected(f"{canonical_url!r} is not a valid URL (https://host[:port]).")
    reseller = Reseller(
        name=name, support_email=email, require_staff_2fa=require_staff_2fa, canonical_url=canonical_url
    )
    reseller.hosts.append(ResellerHost(host=host))
    db.session.add(reseller)
    db.session.flush()
    owner_role = Role(
        reseller_id=reseller.id, name="Owner", is_owner=True, permissions=sorted(perm.STAFF_PERMISSIONS)
    )
    db.session.add(owner_role)
    login = Login(
        reseller_id=reseller.id,
        email=email,
        password_hash=passwords.hash_password(owner_password) if owner_password else None,
    )
    db.session.add(login)
    db.session.flush()
    db.session.add(
        Account(
            reseller_id=reseller.id,
            login_id=login.id,
            kind=STAFF,
            name=email.split("@")[0],
            role_id=owner_role.id,
        )
    )
    # Every reseller starts with one ticket status of each kind.
    ensure_default_statuses(reseller.id)
    audit.record(
        "reseller.created",
        reseller,
        reseller_id=reseller.id,
        actor_label="operator-cli",
        details={"host": host, "owner": email},
    )
    return reseller, login


# --- a client's users, managed by staff ------------------------------------------------
