"""Terms of use (issue 15): the only writer of ``terms_versions`` and
``terms_acceptances``.

A reseller publishes versions (numbered 1, 2, 3... per reseller; a version is never
edited: a change is a new version). The current version is the highest number. Every
client user of the reseller must accept the current version before anything else in
the workspace; staff never. An acceptance records the user, the version, the time, the
IP and the browser, once (accepting again changes nothing). Staff logged in as a user
cannot accept on the user's behalf: the rule refuses and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Integer, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from auth.models import CLIENT_USER, Account, AuthSession, Login
from core import audit
from core.extensions import db
from core.formatting import number
from core.models import Reseller
from core.paging import Page
from portal.models import MAX_BODY_CHARS, USER_AGENT_CHARS, TermsAcceptance, TermsVersion
from tenant.models import Client

ACCEPTANCES_PER_PAGE = 50


class TermsRejected(ValueError):
    """Nothing was published; the message says why (safe to show)."""


class AcceptanceRefused(PermissionError):
    """An acceptance that may not be recorded (staff logged in as the user)."""


def current_version(reseller_id: int) -> TermsVersion | None:
    """The reseller's version in force (the highest number), or ``None``: no terms."""
    return db.session.scalar(
        select(TermsVersion)
        .where(TermsVersion.reseller_id == reseller_id)
        .order_by(TermsVersion.number.desc())
        .limit(1)
    )


def get_version(reseller_id: int, version_id: int) -> TermsVersion | None:
    """One of the reseller's versions (another reseller's is ``None``)."""
    return db.session.scalar(
        select(TermsVersion).where(TermsVersion.reseller_id == reseller_id, TermsVersion.id == version_id)
    )


def versions(reseller_id: int) -> list[tuple[TermsVersion, int]]:
    """The reseller's versions, newest first, each with how many users accepted it."""
    accepted = (
        select(func.count(TermsAcceptance.id))
        .where(TermsAcceptance.version_id == TermsVersion.id)
        .correlate(TermsVersion)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(TermsVersion, accepted)
        .where(TermsVersion.reseller_id == reseller_id)
        .order_by(TermsVersion.number.desc())
    ).all()
    return [(version, count) for version, count in rows]


def pending_version(account: Account | None) -> TermsVersion | None:
    """The version ``account`` must accept before anything else, or ``None``.

    Only client users accept terms; one query (the current version and the account's
    acceptance of it), as the workspace asks on every request.
    """
    if account is None or account.kind != CLIENT_USER:
        return None
    row = db.session.execute(
        select(TermsVersion, TermsAcceptance.id)
        .outerjoin(
            TermsAcceptance,
            and_(TermsAcceptance.version_id == TermsVersion.id, TermsAcceptance.account_id == account.id),
        )
        .where(TermsVersion.reseller_id == account.reseller_id)
        .order_by(TermsVersion.number.desc())
        .limit(1)
    ).first()
    if row is None or row[1] is not None:
        return None
    return row[0]


def _newest_and_acceptance():
    versions, acceptances = TermsVersion.__table__, TermsAcceptance.__table__
    accepted = and_(
        acceptances.c.version_id == versions.c.id,
        acceptances.c.account_id == bindparam("account_id", type_=Integer),
    )
    return (
        select(versions.c.id, acceptances.c.id)
        .select_from(versions.outerjoin(acceptances, accepted))
        .where(versions.c.reseller_id == bindparam("reseller_id", type_=Integer))
        .order_by(versions.c.number.desc())
        .limit(1)
    )


# The question of pending_version as two ids, built once: the workspace asks it on every
# request (``portal.views.terms.terms_gate``), and the answer needs no ORM object.
_NEWEST_AND_ACCEPTANCE = _newest_and_acceptance()


def must_accept(account: Account | None) -> bool:
    """Whether ``account`` must accept the current terms before using the workspace
    (what :func:`pending_version` answers, without loading the version)."""
    if account is None or account.kind != CLIENT_USER:
        return False
    row = db.session.execute(
        _NEWEST_AND_ACCEPTANCE, {"account_id": account.id, "reseller_id": account.reseller_id}
    ).first()
    return row is not None and row[1] is None


def clean_body(body: str | None) -> str:
    """The text to publish, or :class:`TermsRejected` with the reason."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise TermsRejected(_("Write the terms before publishing them."))
    if len(text) > MAX_BODY_CHARS:
        raise TermsRejected(
            _(
                "The terms are too long: %(length)s characters, at most %(max)s.",
                length=number(len(text)),
                max=number(MAX_BODY_CHARS),
            )
        )
    return text


def publish(reseller_id: int, body: str | None, actor: Account | None) -> TermsVersion:
    """Publish a new version of the reseller's terms: every client user is asked again.

    Refused (:class:`TermsRejected`, nothing written) when the text is empty, longer
    than ``MAX_BODY_CHARS``, or the same as the version in force.
    """
    text = clean_body(body)
    # The reseller's row locked: two staff publishing at once get numbers one after the other.
    db.session.execute(select(Reseller.id).where(Reseller.id == reseller_id).with_for_update())
    previous = current_version(reseller_id)
    if previous is not None and previous.body == text:
        raise TermsRejected(_("This text is the version in force already: change it to publish a new one."))
    version = TermsVersion(
        reseller_id=reseller_id,
        number=(previous.number if previous else 0) + 1,
        body=text,
        published_by_account_id=actor.id if actor is not None else None,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(
        "terms.published",
        version,
        details={
            "before": previous.number if previous else None,
            "after": version.number,
            "chars": len(text),
        },
    )
    return version


def accept(
    session: AuthSession, version: TermsVersion, *, ip: str | None, user_agent: str | None
) -> TermsAcceptance:
    """Record that the session's user accepts ``version``; accepting again returns the
    first acceptance unchanged. Refused (:class:`AcceptanceRefused`, nothing written)
    for staff logged in as the user, and for anyone who is not a client user of the
    version's reseller."""
    if session.impersonator_account_id is not None:
        raise AcceptanceRefused("staff logged in as a user cannot accept terms on the user's behalf")
    account = session.account
    if account is None or account.kind != CLIENT_USER or account.reseller_id != version.reseller_id:
        raise AcceptanceRefused("only a client user of the reseller accepts its terms")
    existing = _acceptance(account.id, version.id)
    if existing is not None:
        return existing
    acceptance = TermsAcceptance(
        reseller_id=version.reseller_id,
        client_id=account.client_id,
        account_id=account.id,
        login_id=account.login_id,
        version_id=version.id,
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or "")[:USER_AGENT_CHARS] or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(acceptance)
    except IntegrityError:
        # The same form sent twice at once: the other request recorded it.
        return _acceptance(account.id, version.id)
    audit.record("terms.accepted", acceptance, details={"version": version.number})
    return acceptance


def _acceptance(account_id: int, version_id: int) -> TermsAcceptance | None:
    return db.session.scalar(
        select(TermsAcceptance).where(
            TermsAcceptance.account_id == account_id, TermsAcceptance.version_id == version_id
        )
    )


@dataclass(frozen=True)
class AcceptanceRow:
    """One line of a version's acceptance list."""

    client: str
    user: str
    email: str
    accepted_at: object
    ip: str | None


def acceptances(version: TermsVersion, page: int = 1, per_page: int = ACCEPTANCES_PER_PAGE) -> Page:
    """Who accepted ``version``, newest first, one page at a time."""
    where = (TermsAcceptance.version_id == version.id, TermsAcceptance.reseller_id == version.reseller_id)
    total = db.session.scalar(select(func.count(TermsAcceptance.id)).where(*where)) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = db.session.execute(
        select(Client.trade_name, Account.name, Login.email, TermsAcceptance.accepted_at, TermsAcceptance.ip)
        .join(Account, Account.id == TermsAcceptance.account_id)
        .join(Login, Login.id == TermsAcceptance.login_id)
        .join(Client, Client.id == TermsAcceptance.client_id)
        .where(*where)
        .order_by(TermsAcceptance.accepted_at.desc(), TermsAcceptance.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(rows=[AcceptanceRow(*row) for row in rows], total=total, page=page, per_page=per_page)
