"""The queue's index walk (one ordered walk per desk and status kind, merged) gives the
same rows in the same order as one plain sorted query, for every sort, both directions,
several pages, empty deadlines included (on PostgreSQL; SQLite pages with the plain query);
and the queue stays inside the staff member's desks."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from core.extensions import db
from core.timeutil import utcnow
from desk import queue
from desk.models import Desk
from desk.states import Priority, StatusKind
from desk.statuses import default_status
from desk.ticket_models import PRIORITY_RANKS, Ticket
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def tickets(factory, tenants):
    a = tenants.a
    desks = [factory.desk(a.id, name=f"Mesa {n}", client_ids=[a.client.id]) for n in range(2)]
    client = db.session.get(Client, a.client.id)
    rng = random.Random(13)
    now = utcnow().replace(microsecond=0)
    kinds = [StatusKind.NEW, StatusKind.OPEN, StatusKind.WAITING_ON_CLIENT, StatusKind.CLOSED]
    for n in range(70):
        kind, priority = rng.choice(kinds), rng.choice(list(Priority))
        due = None if rng.random() < 0.3 else now + timedelta(hours=rng.randint(-50, 50))
        db.session.add(
            Ticket(
                reseller_id=a.id,
                number=n + 1,
                desk_id=desks[n % 2].id,
                client_id=client.id,
                subject=f"Chamado {n}",
                priority=priority,
                priority_rank=PRIORITY_RANKS[priority],
                status_id=default_status(a.id, kind).id,
                status_kind=kind,
                resolution_due_at=due,
                first_response_due_at=due and due - timedelta(hours=rng.randint(0, 3)),
                created_at=now - timedelta(minutes=rng.randint(0, 30)),
                updated_at=now - timedelta(minutes=rng.randint(0, 30)),
                last_activity_at=now - timedelta(minutes=rng.randint(0, 30)),
            )
        )
    db.session.commit()
    return a.id, [d.id for d in desks]


def plain(reseller_id, desk_ids, filters, desk_id=None) -> list[int]:
    ids = queue.scoped(select(Ticket.id), reseller_id, desk_ids, desk_id)
    ids = filters.order(filters.apply(ids, account_id=0)).limit(filters.per_page)
    return list(db.session.scalars(ids.offset((filters.page - 1) * filters.per_page)))


@pytest.mark.parametrize("sort", list(queue.SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_the_walk_orders_like_one_sorted_query(tickets, sort, direction):
    reseller_id, desk_ids = tickets
    for status in ("open_work", "all", "closed"):
        for page in (1, 2, 3):
            args = MultiDict({"sort": sort, "dir": direction, "status": status, "page": page, "per_page": 25})
            filters = queue.TicketFilters.from_args(args)
            assert not filters.errors
            walked = list(db.session.scalars(queue.page_ids(reseller_id, 0, None, filters, None)))
            assert walked == plain(reseller_id, None, filters), (status, page)
            one_desk = list(db.session.scalars(queue.page_ids(reseller_id, 0, None, filters, desk_ids[0])))
            assert one_desk == plain(reseller_id, None, filters, desk_ids[0])


def test_the_queue_stays_inside_the_desks_worked(tickets):
    reseller_id, desk_ids = tickets
    filters = queue.TicketFilters.from_args(MultiDict({"status": "all", "per_page": 100}))
    page = queue.list_tickets(reseller_id, 0, [desk_ids[1]], filters)
    assert page.total == 35 and {r.desk_id for r in page.rows} == {desk_ids[1]}
    assert queue.list_tickets(reseller_id, 0, [], filters).total == 0
    assert queue.list_tickets(reseller_id, 0, [desk_ids[1]], filters, desk_id=desk_ids[0]).rows == []
    assert db.session.get(Desk, desk_ids[0]).reseller_id == reseller_id


def test_bad_filters_are_explained_and_dropped():
    filters = queue.TicketFilters.from_args(
        MultiDict(
            {
                "status": "x",
                "priority": "y",
                "assignee": "z",
                "sla": "w",
                "sort": "v",
                "dir": "u",
                "client": "t",
            }
        )
    )
    assert len(filters.errors) == 7
    assert (filters.status, filters.sort, filters.direction) == ("open_work", "resolution_due_at", "asc")
