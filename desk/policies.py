"""A reseller's SLA policies (targets per priority, in business minutes) and business
calendars (hours per weekday, national holidays or not, the reseller's own dates).

Desks use one of each; a plan may name a stricter policy (``plans.sla_policy_id``, no
foreign key: :func:`policy_in_use` counts it so that a policy a plan names is not deleted).
The deadline computation itself is ``desk.sla`` on ``core.business_hours``.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from billing.models import Plan
from core import audit, jobs
from core.extensions import db
from core.timeutil import utcnow
from core.validation import parse_int
from desk.errors import DeskRejected
from desk.models import BusinessCalendar, CalendarDate, Desk, SlaPolicy, SlaTarget
from desk.names import name_taken
from desk.states import Priority

MAX_MINUTES = 365 * 24 * 60
TARGET_KINDS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
WEEKDAYS = tuple(str(d) for d in range(7))  # "0" Monday .. "6" Sunday
_INTERVAL = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])\s*-\s*(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)")


def _name(value: str, errors: dict) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > 80:
        errors["name"] = _("The name is required (at most 80 characters).")
    return name


def _unique(model, reseller_id: int, name: str, own_id: int | None, errors: dict) -> None:
    if name and name_taken(model, reseller_id, name, own_id):
        errors["name"] = _("The name %(name)s is already in use.", name=name)


def _audit_saved(kind: str, row, before: dict | None, snapshot) -> None:
    """Audit a created or changed policy or calendar (nothing when nothing changed)."""
    db.session.flush()
    after = snapshot(row)
    if after != before:
        row.updated_at = utcnow()
        audit.record(
            f"{kind}.created" if before is None else f"{kind}.updated",
            row,
            details={"before": before, "after": after},
        )


# --- policies -----------------------------------------------------------------------------


def policies(reseller_id: int) -> list[SlaPolicy]:
    return list(
        db.session.scalars(
            select(SlaPolicy).where(SlaPolicy.reseller_id == reseller_id).order_by(func.lower(SlaPolicy.name))
        )
    )


def policy_snapshot(policy: SlaPolicy) -> dict:
    return {
        "name": policy.name,
        "expiring_percent": policy.expiring_percent,
        "targets": {t.priority: [getattr(t, k) for k in TARGET_KINDS] for t in policy.targets},
    }


def save_policy(
    reseller_id: int, policy: SlaPolicy | None, name: str, expiring_percent, targets: dict
) -> SlaPolicy:
    """Create (``policy`` None) or update a policy. ``targets`` maps
    ``"<priority>.<kind>"`` (kind one of TARGET_KINDS) to minutes as text, empty for none."""
    errors: dict[str, str] = {}
    name = _name(name, errors)
    _unique(SlaPolicy, reseller_id, name, policy.id if policy else None, errors)
    percent = parse_int(expiring_percent, min=1, max=99)
    if percent is None:
        errors["expiring_percent"] = _("Enter a share from 1 to 99 (percent).")
    minutes: dict[tuple[str, str], int | None] = {}
    for priority in Priority:
        for kind in TARGET_KINDS:
            raw = (targets.get(f"{priority}.{kind}") or "").strip()
            value = parse_int(raw, min=1, max=MAX_MINUTES) if raw else None
            if raw and value is None:
                errors[f"{priority}.{kind}"] = _(
                    "Enter minutes from 1 to %(max)d, or leave it empty.", max=MAX_MINUTES
                )
            minutes[priority, kind] = value
    if errors:
        raise DeskRejected(errors)
    before = policy_snapshot(policy) if policy else None
    if policy is None:
        policy = SlaPolicy(reseller_id=reseller_id)
        db.session.add(policy)
    policy.name, policy.expiring_percent = name, percent
    by_priority = {t.priority: t for t in policy.targets}
    for priority in Priority:
        target = by_priority.get(priority)
        if target is None:
            target = SlaTarget(reseller_id=reseller_id, priority=priority)
            policy.targets.append(target)
        for kind in TARGET_KINDS:
            setattr(target, kind, minutes[priority, kind])
    _audit_saved("sla_policy", policy, before, policy_snapshot)
    if before is not None and policy_snapshot(policy) != before:
        # Changing the SLA recomputes its open tickets from their history, after commit.
        jobs.enqueue(
            "desk.tasks.recompute_policy",
            policy.id,
            queue="maintenance",
            unique_key=f"sla-policy-{policy.id}",
        )
    return policy


def policy_in_use(policy: SlaPolicy) -> int:
    desks = select(func.count()).select_from(Desk).where(Desk.sla_policy_id == policy.id)
    plans = select(func.count()).select_from(Plan).where(Plan.sla_policy_id == policy.id)
    return db.session.scalar(desks.where(Desk.reseller_id == policy.reseller_id)) + db.session.scalar(
        plans.where(Plan.reseller_id == policy.reseller_id)
    )


def plan_policy(reseller_id: int, policy_id) -> SlaPolicy | None:
    """The reseller's policy a plan names, if it still exists (the column has no key)."""
    if not policy_id:
        return None
    return db.session.scalar(
        select(SlaPolicy).where(SlaPolicy.id == policy_id, SlaPolicy.reseller_id == reseller_id)
    )


def set_plan_policy(plan: Plan, raw_policy_id) -> bool:
    """Give a plan a stricter SLA policy of its reseller (empty: its clients' desks' own);
    False when nothing changed."""
    policy_id = None
    if raw_policy_id not in (None, ""):
        policy = plan_policy(plan.reseller_id, parse_int(raw_policy_id, min=1))
        if policy is None:
            raise DeskRejected({"sla_policy_id": _("Choose one of the list.")})
        policy_id = policy.id
    if plan.sla_policy_id == policy_id:
        return False
    before, plan.sla_policy_id = plan.sla_policy_id, policy_id
    audit.record("plan.sla_policy_changed", plan, details={"before": before, "after": policy_id})
    return True


def delete_policy(policy: SlaPolicy) -> None:
    used = policy_in_use(policy)
    if used:
        raise DeskRejected({"policy": _("%(n)d desk(s) or plan(s) use this policy.", n=used)})
    audit.record("sla_policy.deleted", policy, details={"before": policy_snapshot(policy), "after": None})
    db.session.delete(policy)


# --- calendars ----------------------------------------------------------------------------


def calendars(reseller_id: int) -> list[BusinessCalendar]:
    return list(
        db.session.scalars(
            select(BusinessCalendar)
            .where(BusinessCalendar.reseller_id == reseller_id)
            .order_by(func.lower(BusinessCalendar.name))
        )
    )


def calendar_snapshot(calendar: BusinessCalendar) -> dict:
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "hours": calendar.hours,
        "use_national_holidays": calendar.use_national_holidays,
        "dates": {d.day.isoformat(): d.name for d in calendar.dates},
    }


def parse_hours(text: str) -> list[list[str]]:
    """``"08:00-12:00, 13:00-18:00"`` -> ``[["08:00", "12:00"], ["13:00", "18:00"]]``;
    intervals in order, not overlapping, each ending after it starts (24:00: midnight)."""
    intervals = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        match = _INTERVAL.fullmatch(part)
        if not match:
            raise ValueError(part)
        start, end = f"{match.group(1)}:{match.group(2)}", match.group(3)
        if end <= start or (intervals and start < intervals[-1][1]):
            raise ValueError(part)
        intervals.append([start, end])
    return intervals


def hours_text(intervals) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals or [])


def save_calendar(
    reseller_id: int, calendar: BusinessCalendar | None, name: str, timezone: str, national: bool, hours: dict
) -> BusinessCalendar:
    """Create or update a calendar; ``hours`` maps "0".."6" (Monday first) to text
    like "08:00-12:00, 13:00-18:00" (empty: closed)."""
    errors: dict[str, str] = {}
    name = _name(name, errors)
    _unique(BusinessCalendar, reseller_id, name, calendar.id if calendar else None, errors)
    if timezone not in available_timezones():
        errors["timezone"] = _("Choose a time zone.")
    parsed = {}
    for day in WEEKDAYS:
        try:
            intervals = parse_hours(hours.get(day, ""))
        except ValueError:
            errors[f"hours_{day}"] = _(
                "Write the hours as 08:00-12:00, 13:00-18:00 (in order, each ending after it starts)."
            )
            continue
        if intervals:
            parsed[day] = intervals
    if errors:
        raise DeskRejected(errors)
    before = calendar_snapshot(calendar) if calendar else None
    if calendar is None:
        calendar = BusinessCalendar(reseller_id=reseller_id)
        db.session.add(calendar)
    calendar.name, calendar.timezone, calendar.hours = name, timezone, parsed
    calendar.use_national_holidays = bool(national)
    _audit_saved("calendar", calendar, before, calendar_snapshot)
    return calendar


def add_date(calendar: BusinessCalendar, day: str, name: str) -> CalendarDate:
    errors: dict[str, str] = {}
    try:
        when = date.fromisoformat((day or "").strip())
    except ValueError:
        when = None
        errors["day"] = _("Enter a date (yyyy-mm-dd).")
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        errors["date_name"] = _("The name is required (at most 80 characters).")
    taken = select(CalendarDate.id).where(CalendarDate.calendar_id == calendar.id, CalendarDate.day == when)
    if when and db.session.scalar(taken):
        errors["day"] = _("That day is already in the calendar.")
    if errors:
        raise DeskRejected(errors)
    entry = CalendarDate(reseller_id=calendar.reseller_id, calendar_id=calendar.id, day=when, name=name)
    db.session.add(entry)
    db.session.flush()
    db.session.expire(calendar, ["dates"])
    audit.record("calendar.date_added", calendar, details={"before": None, "after": {when.isoformat(): name}})
    return entry


def remove_date(calendar: BusinessCalendar, date_id: int) -> None:
    entry = next((d for d in calendar.dates if d.id == date_id), None)
    if entry is None:
        raise DeskRejected({"day": _("That day is not in the calendar.")})
    audit.record(
        "calendar.date_removed",
        calendar,
        details={"before": {entry.day.isoformat(): entry.name}, "after": None},
    )
    db.session.execute(delete(CalendarDate).where(CalendarDate.id == entry.id))
    db.session.expire(calendar, ["dates"])


def delete_calendar(calendar: BusinessCalendar) -> None:
    used = db.session.scalar(
        select(func.count())
        .select_from(Desk)
        .where(Desk.reseller_id == calendar.reseller_id, Desk.calendar_id == calendar.id)
    )
    if used:
        raise DeskRejected({"calendar": _("%(n)d desk(s) use this calendar.", n=used)})
    audit.record("calendar.deleted", calendar, details={"before": calendar_snapshot(calendar), "after": None})
    db.session.delete(calendar)
