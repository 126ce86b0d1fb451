"""A reseller's business calendars as the SLA computation uses them, kept a short while
in the process: the mail intake opens tickets on the same desk many times a second, and
reading a calendar with its dates and converting its working days to UTC was a tenth
of the work of opening one.

A calendar is kept per (reseller, calendar) and only ever filled by a read in that
reseller's scope, so the tenancy wall still decides who reads which calendar. It is
kept ``KEEP_SECONDS``: an edit reaches tickets opened in that window late, exactly as if
they had been opened just before the edit (editing a calendar recomputes no ticket).
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.business_hours import BusinessCalendar as Calendar
from core.extensions import db
from desk.models import BusinessCalendar
from desk.sla_state import calendar_from

KEEP_SECONDS = 10.0
_KEPT: dict[tuple[int, int], tuple[float, Calendar]] = {}


def recent_calendar(reseller_id: int, calendar_id: int | None) -> Calendar:
    """The reseller's calendar ``calendar_id`` as read at most ``KEEP_SECONDS`` ago
    (None, or no such calendar of the reseller: round the clock, as the SLA reads it)."""
    if calendar_id is None:
        return calendar_from(None)
    now = time.monotonic()
    kept = _KEPT.get((reseller_id, calendar_id))
    if kept is not None and now - kept[0] < KEEP_SECONDS:
        return kept[1]
    row = db.session.scalar(
        select(BusinessCalendar)
        .where(BusinessCalendar.id == calendar_id, BusinessCalendar.reseller_id == reseller_id)
        .options(selectinload(BusinessCalendar.dates))
    )
    calendar = calendar_from(row)
    _KEPT[reseller_id, calendar_id] = (now, calendar)
    return calendar


def forget() -> None:
    """Drop every kept calendar (tests: a rolled-back database reuses their ids)."""
    _KEPT.clear()
