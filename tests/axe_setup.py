"""What the accessibility sweep (tests/test_browser_axe.py) visits pages with: one of
everything of reseller B (the route sweep's ``b_objects``), a client user holding every
workspace right, the tokens of the e-mailed links, and the logins that stop at each step
of the login flow."""

from __future__ import annotations

import secrets
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from sqlalchemy import select, update

from api import login_links
from auth import passwords, sessions
from auth import permissions as perm
from auth.models import STAFF, Account, Login, StaffInvitation
from auth.states import LinkPurpose
from core.extensions import db
from core.models import Reseller
from core.timeutil import utcnow
from desk import ratings
from desk.states import StatusKind
from desk.ticket_models import Ticket
from reseller.models import ExportJob
from reseller.states import ExportKind, ExportStatus

# The steps of the login flow, each a login that stops there after its password.
CODE_LOGIN = "primeiro@beta.test"  # never verified: the e-mailed code
TWO_ACCOUNTS = "duas@beta.test"  # users of two clients: the choice of account
TOTP_STAFF = "totp@b.test"  # staff with an authenticator: the second factor
ENROL_STAFF = "novo@b.test"  # staff without one, when the reseller requires it: the set-up
USER = "gente@beta.test"  # the client user of b_objects, given every right here


def sweep_objects(app, factory, tenants, b_objects) -> SimpleNamespace:
    """The route arguments of reseller B's objects (``values``), those of the routes that
    take others (``overrides``: endpoint -> values, the e-mailed links' tokens among them),
    and the user the test logs in as."""
    b = tenants.b
    with app.app_context():
        user = db.session.get(Account, b_objects["account_id"])
        user.permissions = sorted(perm.CLIENT_USER_PERMISSIONS)
        user.chat_level = 6
        db.session.commit()
    # The login flow's logins.
    code_user = factory.user(b.client.id, email=CODE_LOGIN, name="Primeiro Acesso")
    other_client = factory.client(b.id, trade_name="Beta Filial")
    factory.user(b.client.id, email=TWO_ACCOUNTS, name="Duas na Beta")
    factory.user(other_client.id, email=TWO_ACCOUNTS, name="Duas na Filial")
    totp_staff = factory.staff(b.id, permissions=[perm.CLIENTS], email=TOTP_STAFF)
    factory.staff(b.id, permissions=[perm.CLIENTS], email=ENROL_STAFF)
    invited = factory.staff(b.id, permissions=[perm.CLIENTS], email="convidado@b.test")
    other_plan = factory.plan(b.id, name="Plano Maior", sessions=500, price_cents=19990)
    resolved = factory.ticket(b.client.id, kind=StatusKind.RESOLVED, subject="Impressora")
    with app.app_context():
        db.session.get(Login, db.session.get(Account, code_user.id).login_id).verified_at = None
        totp_login = db.session.get(Login, db.session.get(Account, totp_staff.id).login_id)
        totp_login.totp_secret, totp_login.totp_enabled_at = "JBSWY3DPEHPK3PXP", utcnow()
        staff_token = _staff_invitation(db.session.get(Account, invited.id))
        owner = db.session.scalar(
            select(Account).join(Login).where(Login.email == "owner@b.test", Account.kind == STAFF)
        )
        reset_login = db.session.get(Login, db.session.get(Account, b_objects["account_id"]).login_id)
        # Values of one route that differ from the others' (endpoint -> values).
        overrides = {
            "auth.set_password": {"token": passwords.password_link_token(reset_login, LinkPurpose.RESET)},
            "auth.staff_invitation": {"token": staff_token},
            "portal_rating.rate_page": {"token": ratings.link_token(db.session.get(Ticket, resolved.id))},
            "invitations.answer": {"token": b_objects["token"]},
            "reseller.audit_export_status": {"export_id": _audit_export(owner)},
            # The owner's role is not edited (its page sends back to the list).
            "reseller.role_edit": {"role_id": totp_staff.role_id},
        }
        db.session.commit()
    return SimpleNamespace(
        values=dict(b_objects),
        overrides=overrides,
        user_id=b_objects["account_id"],
        other_plan_id=other_plan.id,
    )


def login_link(app, objects) -> None:
    """A new "log in as" link of the API for the owner (a link is spent by any log in as
    since it was issued), put in ``objects.overrides``."""
    with app.app_context():
        owner = db.session.scalar(
            select(Account).join(Login).where(Login.email == "owner@b.test", Account.kind == STAFF)
        )
        user = db.session.get(Account, objects.user_id)
        link = login_links.issue(user, owner, objects.values["api_client_id"])
        db.session.commit()
    objects.overrides["api_panel.login_link"] = {"token": urlsplit(link["url"]).path.rsplit("/", 1)[1]}


def _audit_export(owner: Account) -> int:
    """A finished audit log export the owner asked for; its id."""
    row = ExportJob(
        reseller_id=owner.reseller_id,
        requested_by_account_id=owner.id,
        kind=ExportKind.AUDIT_CSV,
        status=ExportStatus.DONE,
        filters={},
        locale="pt_BR",
        total_rows=3,
        done_rows=3,
        finished_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def _staff_invitation(account: Account) -> str:
    """A staff invitation in force for ``account`` (waiting for acceptance); its token."""
    account.awaiting_acceptance = True
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        StaffInvitation(
            reseller_id=account.reseller_id,
            account_id=account.id,
            token_hash=sessions.hash_token(token),
            created_at=now,
            expires_at=now + timedelta(days=7),
        )
    )
    return token


def set_brand(app, reseller_id: int, *, name: str, colour: str, require_staff_2fa: bool = False) -> None:
    """The reseller's name, primary colour and whether staff need a second factor."""
    with app.app_context():
        db.session.execute(
            update(Reseller)
            .where(Reseller.id == reseller_id)
            .values(name=name, primary_color=colour, require_staff_2fa=require_staff_2fa)
        )
        db.session.commit()


def forget_totp(app, email: str) -> None:
    """The staff member of ``email`` without an authenticator again (enrols anew)."""
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == email))
        login.totp_secret, login.totp_enabled_at = None, None
        db.session.commit()
