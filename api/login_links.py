"""A "Log in as" link asked for by an API client (scope ``impersonate``) for one staff
member of the reseller and one client user.

The link is worth nothing to anyone but that staff member: it opens only in a browser
logged in as them (a visitor first logs in, then comes back to it), shows whom they are
about to become and needs their click (a CSRF-protected POST), and then runs the panel's
own *Log in as* (``auth.impersonation.start``: the staff member must hold *log in as*,
the user must be usable, no nested impersonation...). It lives 60 seconds from its
issue and works once: it names the latest impersonation of that user by that staff
member, which its own use replaces (checked under a lock on the user's row). It is
signed with the application's secret and bound to the reseller, the staff member, the
user and the API client; issuing and using it are audited, naming the API client.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from api.models import ApiClient
from api.problems import Problem
from auth import impersonation
from auth.models import CLIENT_USER, STAFF, Account, AuthSession, Login
from core import audit, links
from core.extensions import db
from core.models import Reseller
from core.tenancy import scoped_select
from core.validation import clean_email
from tenant.models import Client

SALT = "api-login-link"
LIFETIME = timedelta(seconds=60)
ENDPOINT = "api_panel.login_link"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def find_staff(reseller_id: int, staff_id: int | None, staff_email: str | None) -> Account:
    """The reseller's staff member named by id or e-mail (exactly one), else a 422."""
    if (staff_id is None) == (not staff_email):
        raise Problem(
            422, "invalid_parameter", _("Name the staff member by staff_id or staff_email."), param="staff_id"
        )
    stmt = scoped_select(Account, reseller_id=reseller_id).where(Account.kind == STAFF)
    if staff_id is not None:
        param, staff = "staff_id", db.session.scalar(stmt.where(Account.id == staff_id))
    else:
        address = clean_email(staff_email or "")
        param = "staff_email"
        staff = address and db.session.scalar(stmt.join(Login).where(Login.email == address))
    if not staff:
        raise Problem(422, "invalid_parameter", _("No staff member of yours is named so."), param=param)
    return staff


def _latest_impersonation(staff_id: int, user_id: int) -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(AuthSession.id), 0)).where(
            AuthSession.account_id == user_id, AuthSession.impersonator_account_id == staff_id
        )
    )


def _claims(reseller_id: int, staff_id: int, user_id: int, api_client_id: int) -> list:
    return [reseller_id, staff_id, user_id, api_client_id, _latest_impersonation(staff_id, user_id)]


def issue(user: Account, staff: Account, api_client_id: int) -> dict:
    """The link, after the panel's checks of *Log in as* (refusals as problems)."""
    try:
        impersonation.check_can_impersonate(staff, user)
    except impersonation.ImpersonationRefused as refused:
        if refused.reason == impersonation.INACTIVE:
            raise Problem(
                409, "user_not_usable", _("This user is deactivated: it cannot be used to log in.")
            ) from None
        if refused.reason == impersonation.NOT_ALLOWED:
            raise Problem(
                422,
                "staff_may_not_log_in_as",
                _("This staff member may not log in as client users (or is not active)."),
                param="staff_id",
            ) from None
        raise Problem(404, "not_found", _("No user of this client has this id.")) from None
    if not staff.is_usable():
        raise Problem(422, "staff_may_not_log_in_as", _("This staff member is not active."), param="staff_id")
    token = _serializer().dumps(_claims(user.reseller_id, staff.id, user.id, api_client_id))
    audit.record(
        "impersonation.link_issued",
        user,
        details={"staff_account_id": staff.id, "api_client_id": api_client_id},
    )
    reseller = db.session.get(Reseller, user.reseller_id)
    return {
        "url": links.reseller_url(reseller, ENDPOINT, token=token),
        "expires_in": int(LIFETIME.total_seconds()),
        "staff_id": staff.id,
        "user_id": user.id,
    }


def _read(token: str) -> list | None:
    try:
        claims = _serializer().loads(token, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:  # SignatureExpired is one
        return None
    return claims if isinstance(claims, list) and len(claims) == 5 else None


def pending(token: str, staff: Account, reseller_id: int, *, lock: bool = False) -> tuple | None:
    """(user, client, API client) of a live, unused link for ``staff`` on this reseller;
    ``None`` for anything else (someone else's link, spent, expired, forged)."""
    claims = _read(token)
    if claims is None or claims[0] != reseller_id or claims[1] != staff.id:
        return None
    stmt = scoped_select(Account, reseller_id=reseller_id).where(
        Account.id == claims[2], Account.kind == CLIENT_USER
    )
    user = db.session.scalar(stmt.with_for_update() if lock else stmt)
    api_client = db.session.scalar(
        scoped_select(ApiClient, reseller_id=reseller_id).where(ApiClient.id == claims[3])
    )
    if user is None or api_client is None or claims != _claims(reseller_id, staff.id, user.id, api_client.id):
        return None
    client = db.session.scalar(
        scoped_select(Client, reseller_id=reseller_id).where(Client.id == user.client_id)
    )
    if client is None:
        return None
    return user, client, api_client


def redeem(token: str, staff: Account, reseller: Reseller):
    """Start the panel's *Log in as* with a link: the user, or ``None`` when the link is
    not (or no longer) this staff member's. Raises ``ImpersonationRefused``."""
    found = pending(token, staff, reseller.id, lock=True)
    if found is None:
        return None
    user, _client, api_client = found
    impersonation.start(staff, user, reseller.impersonation_minutes)
    audit.record(
        "impersonation.link_used",
        user,
        details={"staff_account_id": staff.id, "api_client_id": api_client.id},
    )
    return user
