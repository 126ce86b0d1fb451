"""Each SLA clock as the queue and the ticket page show it at the moment they are read
(desk.views.ticket_blueprint.clock_state): from its stored deadline and "expiring"
instant, so a clock turns expiring or breached on screen between two sweeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from desk.states import SlaState
from desk.views.ticket_blueprint import clock_state, due_cell

NOW = datetime(2026, 12, 1, 15, 0)
DUE, EXPIRING = NOW + timedelta(hours=1), NOW - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("due", "expiring_at", "met", "paused", "expected"),
    [
        (None, None, False, False, None),  # no target, or nothing awaits the clock
        (None, None, True, False, SlaState.MET),
        (DUE, NOW + timedelta(minutes=30), False, False, SlaState.OK),
        (DUE, EXPIRING, False, False, SlaState.EXPIRING),
        (DUE, NOW, False, False, SlaState.EXPIRING),  # at the instant itself
        (NOW, EXPIRING, False, False, SlaState.BREACHED),  # at the deadline itself
        (NOW - timedelta(hours=1), EXPIRING, False, False, SlaState.BREACHED),
        (DUE, EXPIRING, False, True, SlaState.PAUSED),  # a stopped clock does not run out
        (DUE, None, False, False, SlaState.OK),  # refreshed before the instants were kept
    ],
)
def test_a_clock_reads_from_its_deadline_and_expiring_instant(due, expiring_at, met, paused, expected):
    assert clock_state(due, expiring_at, NOW, met=met, paused=paused) == expected


def test_the_queue_cell_marks_expiring_and_breached_clocks(app):
    with app.test_request_context("/", headers={"Accept-Language": "pt-BR"}):
        on_time = str(due_cell(DUE, NOW + timedelta(minutes=30), "resolution", NOW))
        expiring = str(due_cell(DUE, EXPIRING, "resolution", NOW))
        breached = str(due_cell(NOW, EXPIRING, "first_response", NOW))
        paused = str(due_cell(NOW, EXPIRING, "first_response", NOW, True))
        empty = str(due_cell(None, None, "next_response", NOW))
    assert "data-clock-state" not in on_time and "01/12/2026 13:00" in on_time  # 16:00 UTC
    assert 'data-clock-state="expiring"' in expiring and "text-warning-emphasis" in expiring
    assert "(Vencendo)" in expiring
    assert (
        'data-clock-state="breached"' in breached and "text-danger" in breached and "(Estourado)" in breached
    )
    assert "data-clock-state" not in paused
    assert empty == '<td class="small text-nowrap" data-due="next_response">—</td>'
