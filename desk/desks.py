"""A reseller's service desks: creating, editing, archiving, and who works them.

The only writer of ``desks`` and ``desk_staff``; every change is audited with what the
desk was before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from auth.models import STAFF, Account
from core import audit
from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from core.validation import clean_email, parse_int
from desk.errors import DeskRejected
from desk.models import BusinessCalendar, Desk, DeskClient, DeskStaff, SlaPolicy
from desk.names import name_taken
from desk.states import ApprovalRule, Priority
from tenant.webmail import is_webmail

MAX_REOPEN_DAYS = 365
MAX_REVIEW_DAYS = 90
MAX_APPROVALS = 20


@dataclass
class DeskData:
    """What the desk form sends, as text (the rules parse and check it)."""

    name: str = ""
    intake_email: str = ""
    default_priority: str = Priority.NORMAL
    sla_policy_id: str = ""
    calendar_id: str = ""
    reopen_window_days: str = "7"
    review_timeout_days: str = ""
    approval_rule: str = ApprovalRule.NONE
    approvals_needed: str = ""
    staff_ids: list = field(default_factory=list)
    # "1": the desk takes the mail sent to an unknown address of the reseller's domains.
    mail_default: str = ""


def snapshot(desk: Desk) -> dict:
    """What the audit log keeps of a desk."""
    return {
        "name": desk.name,
        "intake_email": desk.intake_email,
        "default_priority": desk.default_priority,
        "sla_policy_id": desk.sla_policy_id,
        "calendar_id": desk.calendar_id,
        "reopen_window_days": desk.reopen_window_days,
        "review_timeout_days": desk.review_timeout_days,
        "approval_rule": desk.approval_rule,
        "approvals_needed": desk.approvals_needed,
        "link_new_clients": desk.link_new_clients,
        "mail_default": desk.mail_default,
        "archived": desk.archived_at is not None,
        "staff": staff_ids(desk),
    }


def desk_rows(reseller_id: int, search: str = "", archived: bool = False) -> list[tuple[Desk, int, int]]:
    """The reseller's desks by name (archived ones apart), with their linked clients and staff counts."""
    clients = (
        select(func.count()).select_from(DeskClient).where(DeskClient.desk_id == Desk.id).scalar_subquery()
    )
    staff = select(func.count()).select_from(DeskStaff).where(DeskStaff.desk_id == Desk.id).scalar_subquery()
    query = select(Desk, clients, staff).where(
        Desk.reseller_id == reseller_id,
        Desk.archived_at.is_not(None) if archived else Desk.archived_at.is_(None),
    )
    if search.strip():
        query = query.where(func.lower(Desk.name).contains(search.strip().lower(), autoescape=True))
    return [tuple(row) for row in db.session.execute(query.order_by(func.lower(Desk.name), Desk.id))]


def staff_ids(desk: Desk) -> list[int]:
    return sorted(db.session.scalars(select(DeskStaff.account_id).where(DeskStaff.desk_id == desk.id)))


def staff_choices(reseller_id: int) -> list[Account]:
    """The reseller's active staff, who may work a desk."""
    return list(
        db.session.scalars(
            select(Account)
            .where(Account.reseller_id == reseller_id, Account.kind == STAFF, Account.active)
            .order_by(func.lower(Account.name), Account.id)
        )
    )


def _owned(model, reseller_id: int, raw) -> tuple[int | None, bool]:
    """(id, ok): an empty value is ``(None, True)``; an id of another reseller is not ok."""
    if raw in (None, ""):
        return None, True
    object_id = parse_int(raw, min=1)
    found = object_id is not None and db.session.scalar(
        select(model.id).where(model.id == object_id, model.reseller_id == reseller_id)
    )
    return (object_id, True) if found else (None, False)


def _address_refusal(reseller_id: int, email: str) -> str | None:
    """Why a reseller's desk may not receive at ``email``: a domain of the platform's own
    mail (replies and our Message-IDs live there), public webmail, or a domain another
    reseller's desks already receive at (the first to use a domain keeps it: mail to an
    unknown address there goes to that reseller's default desk)."""
    domain = email.rsplit("@", 1)[1]
    own = {
        current_app.config["MAIL_FROM"].rsplit("@", 1)[-1].lower(),
        current_app.config.get("MAIL_REPLY_DOMAIN"),
    }
    if domain in own:
        return _(
            "%(domain)s is the platform's own mail domain: use an address of your domain.", domain=domain
        )
    if is_webmail(reseller_id, domain):
        return _(
            "A desk cannot receive at a public webmail domain (%(domain)s): use your own domain.",
            domain=domain,
        )
    with bypass("desk-addresses"):
        taken = db.session.scalar(
            select(Desk.id)
            .where(
                Desk.reseller_id != reseller_id,
                Desk.intake_email.is_not(None),
                or_(Desk.intake_email == email, Desk.intake_email.endswith(f"@{domain}", autoescape=True)),
            )
            .limit(1)
        )
    if taken:
        return _("Another account already receives e-mail at %(domain)s.", domain=domain)
    return None


def _clean(reseller_id: int, data: DeskData, desk: Desk | None) -> dict:
    errors: dict[str, str] = {}
    out: dict = {}
    name = " ".join((data.name or "").split())
    if not name or len(name) > 80:
        errors["name"] = _("The name is required (at most 80 characters).")
    else:
        if name_taken(Desk, reseller_id, name, desk.id if desk else None):
            errors["name"] = _("Another desk is already called %(name)s.", name=name)
    out["name"] = name
    out["intake_email"] = None
    if (data.intake_email or "").strip():
        email = clean_email(data.intake_email)
        if email is None:
            errors["intake_email"] = _("Enter a valid e-mail address.")
        else:
            clash = select(Desk.id).where(Desk.reseller_id == reseller_id, Desk.intake_email == email)
            if desk is not None:
                clash = clash.where(Desk.id != desk.id)
            if db.session.scalar(clash):
                errors["intake_email"] = _("Another desk already receives %(email)s.", email=email)
            elif refusal := _address_refusal(reseller_id, email):
                errors["intake_email"] = refusal
        out["intake_email"] = email
    out["mail_default"] = data.mail_default == "1"
    if data.default_priority not in tuple(Priority):
        errors["default_priority"] = _("Choose a priority.")
    out["default_priority"] = data.default_priority
    for key, model in (("sla_policy_id", SlaPolicy), ("calendar_id", BusinessCalendar)):
        out[key], ok = _owned(model, reseller_id, getattr(data, key))
        if not ok:
            errors[key] = _("Choose one of the list.")
    out["reopen_window_days"] = parse_int(data.reopen_window_days, min=0, max=MAX_REOPEN_DAYS)
    if out["reopen_window_days"] is None:
        errors["reopen_window_days"] = _("Enter a number of days from 0 to %(max)d.", max=MAX_REOPEN_DAYS)
    out["review_timeout_days"] = None
    if (data.review_timeout_days or "").strip():
        out["review_timeout_days"] = parse_int(data.review_timeout_days, min=1, max=MAX_REVIEW_DAYS)
        if out["review_timeout_days"] is None:
            errors["review_timeout_days"] = _(
                "Enter a number of days from 1 to %(max)d, or leave it empty for no review.",
                max=MAX_REVIEW_DAYS,
            )
    out["approval_rule"] = data.approval_rule
    out["approvals_needed"] = None
    if data.approval_rule not in tuple(ApprovalRule):
        errors["approval_rule"] = _("Choose an approval rule.")
    elif data.approval_rule == ApprovalRule.N_OF_M:
        out["approvals_needed"] = parse_int(data.approvals_needed, min=1, max=MAX_APPROVALS)
        if out["approvals_needed"] is None:
            errors["approvals_needed"] = _(
                "Enter how many approvals are needed (1 to %(max)d).", max=MAX_APPROVALS
            )
    wanted = {parse_int(v, min=1) for v in data.staff_ids or []}
    allowed = {a.id for a in staff_choices(reseller_id)}
    if None in wanted or not wanted <= allowed:
        errors["staff_ids"] = _("Choose staff members of the list.")
    out["staff_ids"] = wanted - {None}
    if errors:
        raise DeskRejected(errors)
    return out


def _set_staff(desk: Desk, wanted: set[int]) -> None:
    current = set(staff_ids(desk))
    if current - wanted:
        db.session.execute(
            delete(DeskStaff).where(DeskStaff.desk_id == desk.id, DeskStaff.account_id.in_(current - wanted))
        )
    db.session.add_all(
        DeskStaff(reseller_id=desk.reseller_id, desk_id=desk.id, account_id=account_id)
        for account_id in sorted(wanted - current)
    )
    db.session.flush()


def _apply(desk: Desk, cleaned: dict) -> None:
    if cleaned["mail_default"] and not desk.mail_default:
        # One default desk per reseller: the one chosen now takes over.
        db.session.execute(
            update(Desk)
            .where(Desk.reseller_id == desk.reseller_id, Desk.mail_default.is_(True))
            .values(mail_default=False)
        )
    for key, value in cleaned.items():
        if key != "staff_ids":
            setattr(desk, key, value)


def create_desk(reseller_id: int, data: DeskData) -> Desk:
    cleaned = _clean(reseller_id, data, None)
    desk = Desk(reseller_id=reseller_id)
    _apply(desk, cleaned)
    db.session.add(desk)
    db.session.flush()
    _set_staff(desk, cleaned["staff_ids"])
    audit.record("desk.created", desk, details={"before": None, "after": snapshot(desk)})
    return desk


def update_desk(desk: Desk, data: DeskData) -> bool:
    """Save the form; False when nothing changed."""
    before = snapshot(desk)
    cleaned = _clean(desk.reseller_id, data, desk)
    _apply(desk, cleaned)
    _set_staff(desk, cleaned["staff_ids"])
    after = snapshot(desk)
    if after == before:
        return False
    desk.updated_at = utcnow()
    audit.record("desk.updated", desk, details={"before": before, "after": after})
    return True


def archive_desk(desk: Desk) -> None:
    """Archive the desk: it leaves the lists and takes no new ticket; its tickets stay."""
    if desk.archived_at is not None:
        return
    before = snapshot(desk)
    desk.archived_at = utcnow()
    audit.record("desk.archived", desk, details={"before": before, "after": snapshot(desk)})


def restore_desk(desk: Desk) -> None:
    if desk.archived_at is None:
        return
    before = snapshot(desk)
    desk.archived_at = None
    audit.record("desk.restored", desk, details={"before": before, "after": snapshot(desk)})
