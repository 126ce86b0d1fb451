"""A desk's calendar as a new ticket's SLA reads it (``desk.sla_calendars``): kept a short
while per process and reseller, never handed to another reseller, and read again once
its time is up."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.extensions import db
from core.scope import scoped
from desk import sla_calendars
from desk.models import BusinessCalendar

# A Saturday noon (UTC): inside round-the-clock time, outside Monday-to-Friday hours.
SATURDAY = datetime(2026, 12, 5, 12, 0)
WEEKDAYS = {str(day): [["08:00", "18:00"]] for day in range(5)}


@pytest.fixture
def calendar(tenants):
    row = BusinessCalendar(
        reseller_id=tenants.a.id, name="Comercial", hours=WEEKDAYS, use_national_holidays=False
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.mark.usefixtures("ctx")
def test_a_calendar_is_read_once_then_kept_for_a_while(tenants, calendar, monkeypatch):
    with scoped(tenants.a.id):
        first = sla_calendars.recent_calendar(tenants.a.id, calendar.id)
        calendar.hours = {str(day): [["00:00", "24:00"]] for day in range(7)}
        db.session.commit()
        assert sla_calendars.recent_calendar(tenants.a.id, calendar.id) is first
        assert not first.is_business_time(SATURDAY)
        monkeypatch.setattr(sla_calendars, "KEEP_SECONDS", 0)
        assert sla_calendars.recent_calendar(tenants.a.id, calendar.id).is_business_time(SATURDAY)


@pytest.mark.usefixtures("ctx")
def test_another_resellers_calendar_is_never_handed_out_even_when_kept(tenants, calendar):
    with scoped(tenants.a.id):
        kept = sla_calendars.recent_calendar(tenants.a.id, calendar.id)
    with scoped(tenants.b.id):
        theirs = sla_calendars.recent_calendar(tenants.b.id, calendar.id)
    assert theirs is not kept
    assert theirs.is_business_time(SATURDAY)  # no such calendar of theirs: round the clock
