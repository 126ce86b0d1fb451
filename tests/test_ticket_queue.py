"""The queue's index walk (one ordered walk per desk and status kind, merged) and its merge
of ordered branches (deep pages) give the same rows in the same order as one plain sorted
query, for every sort, both directions, several pages, empty deadlines included (on
PostgreSQL; SQLite pages with the plain query);
and the queue stays inside the staff member's desks."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from core.extensions import db
from core.timeutil import utcnow
from desk import queue
from desk.models import Desk
from desk.states import Priority, SlaState, StatusKind
from desk.statuses import default_status
from desk.ticket_models import PRIORITY_RANKS, Ticket
from tenant.models import Client

pytestmark = pytest.mark.usefixtures("ctx")


@pytest.fixture
def tickets(factory, tenants):
    a = tenants.a
    desks = [factory.desk(a.id, name=f"Mesa {n}", client_ids=[a.client.id]) for n in range(2)]
    agents = [factory.staff(a.id).id for _ in range(2)]
    client = db.session.get(Client, a.client.id)
    subjects = ("Cobrança em dobro", "Dúvida sobre a FATURA", "Chamado", "Erro 100% no envio_de")
    rng = random.Random(13)
    now = utcnow().replace(microsecond=0)
    kinds = [StatusKind.NEW, StatusKind.OPEN, StatusKind.WAITING_ON_CLIENT, StatusKind.CLOSED]
    for n in range(70):
        kind, priority = rng.choice(kinds), rng.choice(list(Priority))
        due = None if rng.random() < 0.3 else now + timedelta(hours=rng.randint(-50, 50))
        sla_state = rng.choice([SlaState.OK, SlaState.EXPIRING, SlaState.BREACHED, SlaState.PAUSED])
        db.session.add(
            Ticket(
                reseller_id=a.id,
                number=n + 1,
                desk_id=desks[n % 2].id,
                client_id=client.id,
                subject=f"{rng.choice(subjects)} {n}",
                assignee_account_id=rng.choice([None, *agents]),
                sla_state=sla_state,
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
    return a.id, [d.id for d in desks], agents


@pytest.fixture(params=["walk", "merge"])
def page_path(request, monkeypatch):
    """Page 1 is walked (LATERAL, a few rows per pair), a deep page merged (one ordered
    branch per pair): here each page both ways."""
    if request.param == "merge":
        monkeypatch.setattr(queue, "MERGE_FROM_DEPTH", 0)
    return request.param


def plain(reseller_id, desk_ids, filters, desk_id=None, account=0) -> list[int]:
    ids = queue.scoped(select(Ticket.id), reseller_id, desk_ids, desk_id)
    ids = filters.order(filters.apply(ids, account_id=account)).limit(filters.per_page)
    return list(db.session.scalars(ids.offset((filters.page - 1) * filters.per_page)))


@pytest.mark.parametrize("sort", list(queue.SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_the_walk_orders_like_one_sorted_query(tickets, sort, direction, page_path):
    reseller_id, desk_ids, _agents = tickets
    for status in ("open_work", "all", "closed"):
        for page in (1, 2, 3):
            args = MultiDict({"sort": sort, "dir": direction, "status": status, "page": page, "per_page": 25})
            filters = queue.TicketFilters.from_args(args)
            assert not filters.errors
            walked = list(db.session.scalars(queue.page_ids(reseller_id, 0, None, filters, None)))
            assert walked == plain(reseller_id, None, filters), (status, page)
            one_desk = list(db.session.scalars(queue.page_ids(reseller_id, 0, None, filters, desk_ids[0])))
            assert one_desk == plain(reseller_id, None, filters, desk_ids[0])


FILTERS = [
    {"priority": "urgent"},
    {"priority": "low"},
    {"sla": "breached"},
    {"sla": "paused"},
    {"assignee": "none"},
    {"assignee": "agent"},
    {"assignee": "me"},
    {"q": "cobranca"},
    {"q": "FATURA"},
    {"q": "100%"},
    {"q": "envio_de"},
    {"q": "nada disso"},
    {"priority": "high", "sla": "ok", "assignee": "none"},
]


@pytest.mark.parametrize("wanted", FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()))
@pytest.mark.parametrize("sort", ["resolution_due_at", "number"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_a_filtered_walk_orders_like_one_sorted_query(tickets, wanted, sort, direction, page_path):
    """Each filter walks its own index on the default sort (the assignee's empty entries in
    order too), a text search walks or reads its few matches, and the count stops where
    the plain query's does."""
    reseller_id, desk_ids, agents = tickets
    wanted = {k: (str(agents[0]) if v == "agent" else v) for k, v in wanted.items()}
    for status in ("open_work", "all"):
        for page in (1, 2):
            args = MultiDict({**wanted, "sort": sort, "dir": direction, "status": status, "page": page})
            filters = queue.TicketFilters.from_args(MultiDict({**args, "per_page": 25}))
            assert not filters.errors
            expected = plain(reseller_id, None, filters, account=agents[1])
            for total in (None, 5, 5000):  # a search's few matches, or many: same rows
                walked = queue.page_ids(reseller_id, agents[1], None, filters, None, total=total)
                assert list(db.session.scalars(walked)) == expected, (status, page, total)
            every = queue.TicketFilters.from_args(MultiDict({**args, "page": 1, "per_page": 100}))
            counted = queue.count_tickets(reseller_id, agents[1], None, filters, None)
            assert counted == len(plain(reseller_id, None, every, account=agents[1]))


def test_the_text_search_ignores_case_and_accents_and_reads_wildcards_literally(tickets):
    reseller_id, _desks, _agents = tickets

    def subjects(q):
        filters = queue.TicketFilters.from_args(MultiDict({"q": q, "status": "all", "per_page": 100}))
        return {r.subject.rsplit(" ", 1)[0] for r in queue.list_tickets(reseller_id, 0, None, filters).rows}

    assert subjects("COBRANCA") == subjects("cobrança") == {"Cobrança em dobro"}
    assert subjects("duvida sobre a fatura") == {"Dúvida sobre a FATURA"}
    assert subjects("100%") == subjects("envio_de") == {"Erro 100% no envio_de"}
    # "_" and "%" are letters here, not LIKE's wildcards: "c_b" is not "cob".
    assert subjects("o_d") == {"Erro 100% no envio_de"} and subjects("c_b") == subjects("a%a") == set()


def test_past_a_capped_count_the_next_page_is_offered(tickets, monkeypatch):
    reseller_id, _desks, _agents = tickets
    monkeypatch.setattr(queue, "MAX_COUNT", 30)
    filters = queue.TicketFilters.from_args(MultiDict({"status": "all", "per_page": 25, "page": 3}))
    page = queue.list_tickets(reseller_id, 0, None, filters)
    assert page.total == 31 and page.capped and page.cap == 30
    # Counted "more than 30": page 3 (tickets 51-70) is still served, and page 4 offered.
    assert page.page == 3 and len(page.rows) == 20 and page.pages == 4
    filters = queue.TicketFilters.from_args(MultiDict({"status": "all", "per_page": 25, "page": 9}))
    page = queue.list_tickets(reseller_id, 0, None, filters)
    assert page.page == 9 and page.rows == [] and page.pages == 10


def test_the_queue_stays_inside_the_desks_worked(tickets):
    reseller_id, desk_ids, _agents = tickets
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


def test_postgresql_connections_run_without_jit():
    """JIT compiled a 5 ms walk for 150 ms when its estimate looked large (core.extensions)."""
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    assert db.session.scalar(text("SHOW jit")) == "off"


def test_a_search_for_quotes_and_backslashes_is_a_search(tickets):
    """The pattern is bound, never written into the statement; each search is planned for
    its own pattern: never prepared however often it runs (an unnamed statement gets a
    custom plan), while the rest of the connection's statements still are."""
    reseller_id, _desks, _agents = tickets
    for q in ("x' OR 1=1 --", "\\", "'; DROP TABLE tickets; --", "100%' OR '1'='1"):
        filters = queue.TicketFilters.from_args(MultiDict({"q": q, "status": "all"}))
        page = queue.list_tickets(reseller_id, 0, None, filters)
        assert (page.total, page.rows) == (0, []), q
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 70
    if db.session.get_bind().dialect.name == "postgresql":
        driver = db.session.connection().connection.dbapi_connection
        threshold = driver.prepare_threshold
        assert threshold is not None
        for _ in range(threshold + 2):  # past psycopg's threshold for preparing
            queue.list_tickets(reseller_id, 0, None, filters)
            db.session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.reseller_id == reseller_id)
            )
        prepared = db.session.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
        assert not [s for s in prepared if "LIKE" in s]
        assert [s for s in prepared if "count(*)" in s and "LIKE" not in s]
        assert driver.prepare_threshold == threshold


def test_a_subject_that_folds_longer_still_fits_its_search_column(tickets):
    """Folding may lengthen a subject ("…" is "..."): the search column keeps its 200."""
    reseller_id, desk_ids, _agents = tickets
    ticket = db.session.scalars(select(Ticket).where(Ticket.reseller_id == reseller_id)).first()
    ticket.subject = "a" * 199 + "…"
    db.session.commit()  # PostgreSQL would refuse 202 characters in a varchar(200)
    assert db.session.get(Ticket, ticket.id).subject_search == "a" * 199 + "."
    filters = queue.TicketFilters.from_args(MultiDict({"q": "AAAA", "status": "all"}))
    assert [r.id for r in queue.list_tickets(reseller_id, 0, None, filters).rows] == [ticket.id]
