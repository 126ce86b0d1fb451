"""The client list's kept totals (client_counts, kept by triggers: migration 0017) agree
with the clients whoever writes them, and the list reads its total from them."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from werkzeug.datastructures import MultiDict

from billing.summary import check_summaries
from core.extensions import db
from core.models import AuditEvent, Reseller
from reseller.client_list import ClientFilters, base_select, count_select
from reseller.client_pages import list_clients
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant import client_counts
from tenant.models import PAYMENT_STATUSES, PAYMENT_TYPES, Client, ClientCount
from tenant.states import ClientStatus

pytestmark = pytest.mark.usefixtures("ctx")

STATUSES = tuple(ClientStatus)
NOW = datetime(2026, 12, 1, 12, 0)

# One change to the clients: what, to which of the reseller's clients (by position), and a value.
changes = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 50), st.sampled_from(STATUSES)),
    st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(STATUSES)),
    st.tuples(st.just("plan"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("suspended"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("payment_type"), st.integers(0, 50), st.sampled_from((None, *PAYMENT_TYPES))),
    st.tuples(st.just("payment_status"), st.integers(0, 50), st.sampled_from((None, *PAYMENT_STATUSES))),
    st.tuples(st.just("inactivated"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("soft_delete"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("hard_delete"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("bulk_status"), st.integers(0, 50), st.sampled_from(STATUSES)),
)

FILTERS = (
    {},
    {"status": "all"},
    {"status": "inactivated"},
    {"status": ClientStatus.ACTIVE.value},
    {"status": ClientStatus.WITHOUT_PLAN.value, "suspended": "yes"},
    {"plan": "none"},
    {"suspended": "no", "payment_type": "pix"},
    {"payment_status": "overdue", "status": "all"},
)


def _apply(change, reseller_id: int, plan_id: int, factory) -> None:
    kind, position, value = change
    if kind == "create":
        factory.client(reseller_id, plan_id=plan_id if value == ClientStatus.ACTIVE else None)
        return
    ids = db.session.scalars(
        select(Client.id).where(Client.reseller_id == reseller_id).order_by(Client.id)
    ).all()
    if not ids:
        return
    client_id = ids[position % len(ids)]
    client = db.session.get(Client, client_id)
    if kind == "status":
        client.status = value
    elif kind == "plan":
        client.plan_id = plan_id if value else None
    elif kind in ("suspended", "payment_type", "payment_status"):
        setattr(client, kind, value)
    elif kind == "inactivated":
        client.inactivated_at = NOW if value else None
    elif kind == "soft_delete":
        client.deleted_at = NOW if value else None
    elif kind == "hard_delete":
        db.session.execute(delete(Client).where(Client.id == client_id))
    elif kind == "bulk_status":  # a Core UPDATE of many rows, as the billing sweeps write
        db.session.execute(update(Client).where(Client.reseller_id == reseller_id).values(status=value))
    db.session.flush()


def _counted(reseller_id: int, args: dict) -> int:
    filters = ClientFilters.from_args(MultiDict(args))
    return db.session.scalar(filters.apply(base_select(reseller_id, func.count())))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(changes, min_size=1, max_size=12))
def test_the_kept_totals_agree_with_the_clients_whoever_writes(factory, tenants, steps):
    a = tenants.a
    for change in steps:
        _apply(change, a.id, a.plan.id, factory)
    assert client_counts.drift(a.id) == {}
    for args in FILTERS:
        filters = ClientFilters.from_args(MultiDict(args))
        assert db.session.scalar(count_select(a.id, filters)) == _counted(a.id, args), args
        # What the list shows: page 1 reads its total in the page's own statement.
        for page in ("1", "2"):
            listed = list_clients(a.id, ClientFilters.from_args(MultiDict({**args, "page": page})))
            assert listed.total == _counted(a.id, args), (args, page)
            assert len(listed.rows) == min(25, listed.total - (listed.page - 1) * 25), (args, page)


def test_the_list_reads_its_total_from_the_kept_totals_when_the_filters_allow(tenants):
    plain = str(count_select(tenants.a.id, ClientFilters.from_args(MultiDict({"status": "active"}))))
    assert "client_counts" in plain and "FROM clients" not in plain
    by_name = str(count_select(tenants.a.id, ClientFilters.from_args(MultiDict({"trade_name": "x"}))))
    assert "client_counts" not in by_name


def test_drifted_totals_are_found_and_rebuilt(factory, tenants):
    a, b = tenants.a, tenants.b
    factory.client(a.id, plan_id=a.plan.id)
    db.session.execute(
        update(ClientCount).where(ClientCount.reseller_id == a.id).values(clients=ClientCount.clients + 3)
    )
    drifted = client_counts.drift(a.id)
    assert drifted and all(kept == counted + 3 for kept, counted in drifted.values())
    assert client_counts.drift(b.id) == {}
    assert client_counts.repair(a.id) == drifted
    assert client_counts.drift(a.id) == {}
    assert db.session.scalar(count_select(a.id, ClientFilters.from_args(MultiDict({})))) == _counted(a.id, {})


def test_the_daily_consistency_check_rebuilds_drifted_totals(factory, tenants):
    a = tenants.a
    factory.client(a.id, plan_id=a.plan.id)
    db.session.execute(update(ClientCount).where(ClientCount.reseller_id == a.id).values(clients=0))
    assert client_counts.drift(a.id)
    check_summaries()
    assert client_counts.drift(a.id) == {}
    repaired = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tenant.client_counts_repaired")
    )
    assert [e.reseller_id for e in repaired] == [a.id]


@pytest.mark.real_commits
def test_clients_moving_in_opposite_directions_at_once_do_not_deadlock(app):
    # Each move locks two rows of client_counts; the trigger takes the lower key first, so
    # two transactions moving clients X -> Y and Y -> X wait for each other instead of
    # deadlocking (taken in the order of the change, one of them was aborted: a 500).
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite writes one transaction at a time")
    with app.test_request_context("/", base_url="http://counts-lock.test"):
        reseller, _login = create_reseller(
            name="Contagens", host="counts-lock.test", owner_email="dono@counts-lock.test"
        )
        pair = [
            Client(
                reseller_id=reseller.id,
                trade_name=f"Par {n}",
                legal_name=f"Par {n} Ltda",
                email=f"par{n}@counts-lock.test",
                document_type="cnpj",
                document=make_cnpj(900 + n),
                suspended=n == 1,
            )
            for n in (0, 1)
        ]
        db.session.add_all(pair)
        db.session.commit()
        reseller_id, moves = reseller.id, [(pair[0].id, True), (pair[1].id, False)]
    errors: list[str] = []
    start = threading.Barrier(2, timeout=10)

    def move(client_id: int, suspended: bool) -> None:
        with app.app_context():
            try:
                start.wait()  # both move at the same moment, in opposite directions
                db.session.execute(update(Client).where(Client.id == client_id).values(suspended=suspended))
                time.sleep(0.05)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    try:
        for round_ in range(10):  # each round moves both back: X -> Y and Y -> X again
            threads = [
                threading.Thread(target=move, args=(client_id, suspended != bool(round_ % 2)))
                for client_id, suspended in moves
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        assert errors == []
        with app.app_context():
            assert client_counts.drift(reseller_id) == {}
    finally:
        with app.app_context():
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == reseller_id))
            db.session.delete(db.session.get(Reseller, reseller_id))
            db.session.commit()
