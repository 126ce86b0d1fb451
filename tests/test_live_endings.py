"""The workspace stream of a session closes the moment that session ends, not at the
next heartbeat: a "log in as" ended by staff, by their logout or by its time running
out, and the user deactivated while staff act as it. The suite's heartbeat is an hour
here, and each stream lasts at most 30 s; an event every reader receives is published
right after the ending: a stream not woken by the ending would send it before its
``end`` frame."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth import roles
from auth.models import Account, Login
from core.extensions import db
from core.timeutil import utcnow
from tenant import live
from tenant.live_filter import Reader
from tenant.states import LiveKind
from tenant.users import deactivate_client_user
from tenant.views.live import next_check_at
from tests.test_live import frames
from tests.test_workspace import make_user, set_client


@pytest.fixture
def acting(app, tenants, factory, make_browser):
    """Staff logged in as a client user, the live stream's heartbeat an hour away."""
    set_client(app, tenants.a.client.id, sessions_quota=10, sessions_consumed=0, extra_balance=0)
    user = make_user(app, tenants, level=6, email="usuaria@alpha.test")
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.LOG_IN_AS], email="sup@a.test")
    staff = make_browser()
    staff.login("sup@a.test")
    started = staff.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.account_id}/login-as")
    assert started.headers["Location"] == "/app/"
    saved = app.config["LIVE_STREAM_SECONDS"], app.config["LIVE_HEARTBEAT_SECONDS"]
    app.config["LIVE_STREAM_SECONDS"], app.config["LIVE_HEARTBEAT_SECONDS"] = 30, 3600
    yield staff, user
    app.config["LIVE_STREAM_SECONDS"], app.config["LIVE_HEARTBEAT_SECONDS"] = saved


def open_stream(browser):
    response = browser.get("/app/stream", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = next(chunks)
    assert b'"kind":"hello"' in (first if isinstance(first, bytes) else first.encode())
    return response, chunks


def rest_of(response, chunks) -> list[str]:
    """The kinds of the data frames the stream sends until it closes."""
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    response.close()
    return [data["kind"] for _id, data in frames(body.decode())]


def an_event_after(app, client_id: int) -> None:
    """An event every reader of the client receives: a stream still open for an ended
    session would send it (it reads its session again only when woken or at a
    heartbeat), one woken by the ending has closed before it."""
    with app.app_context():
        live.sessions_changed(client_id)
        db.session.commit()


def test_ending_a_log_in_as_closes_its_stream_at_once(app, tenants, acting):
    staff, _user = acting
    response, chunks = open_stream(staff)
    assert staff.post("/impersonation/end").status_code == 302
    an_event_after(app, tenants.a.client.id)
    assert rest_of(response, chunks) == [LiveKind.END]


def test_logging_out_while_acting_closes_the_stream_at_once(app, tenants, acting):
    staff, _user = acting
    response, chunks = open_stream(staff)
    assert staff.post("/logout").status_code in (302, 303)
    an_event_after(app, tenants.a.client.id)
    assert rest_of(response, chunks) == [LiveKind.END]


def test_deactivating_the_user_closes_the_stream_of_staff_acting_as_it(app, tenants, acting):
    staff, user = acting
    response, chunks = open_stream(staff)
    with app.app_context():
        account = db.session.get(Account, user.account_id)
        owner = db.session.scalar(
            select(Account).where(Account.reseller_id == tenants.a.id, Account.client_id.is_(None))
        )
        assert deactivate_client_user(account, actor=owner) >= 2  # the user's and the staff's
        db.session.commit()
    an_event_after(app, tenants.a.client.id)
    assert rest_of(response, chunks) == [LiveKind.END]


def test_a_stream_reads_its_session_again_when_it_would_expire_not_at_the_heartbeat(app):
    """The time a "log in as" (or any session) runs out is a moment the stream reads it
    again: it closes then (the stream's loop, read in the tests above, does the rest)."""
    soon = Reader(id=1, client_id=1, chat_level=6, team_ids=frozenset(), view_phones=True)
    with app.app_context():
        assert next_check_at(soon, 3600) - time.monotonic() > 3500  # no end known: the heartbeat
        expiring = replace(soon, valid_until=utcnow() + timedelta(seconds=2))
        assert 0 < next_check_at(expiring, 3600) - time.monotonic() <= 2.1
        assert 0 <= next_check_at(replace(soon, valid_until=utcnow()), 3600) - time.monotonic() <= 0.1


def test_taking_log_in_as_from_the_staffs_role_closes_the_stream_at_once(app, tenants, acting):
    staff, _user = acting
    response, chunks = open_stream(staff)
    with app.app_context():
        staff_account = db.session.scalar(select(Account).join(Login).where(Login.email == "sup@a.test"))
        owner = db.session.scalar(
            select(Account).where(
                Account.reseller_id == tenants.a.id,
                Account.client_id.is_(None),
                Account.id != staff_account.id,
            )
        )
        assert roles.update_role(staff_account.role, owner, staff_account.role.name, [perm.CLIENTS])
        db.session.commit()
    an_event_after(app, tenants.a.client.id)
    assert rest_of(response, chunks) == [LiveKind.END]
