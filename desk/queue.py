"""The staff's ticket queue (``/reseller/tickets``, one desk's, a client's tab): a page of
tickets and its total, for the filters of desk.queue_filters.

Every query is scoped to the reseller and to the desks the staff member works (the owner:
all of them), and reads ``tickets`` alone for the page's ids: a filter is an equality on
a column of the queue indexes (reseller, desk, status kind, sort column, id), so page 1
is a walk down one index; names (client, desk, status, assignee) are read for the page's
rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, Select, String, bindparam, func, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from auth.models import Account
from core.extensions import db
from core.kept import kept
from core.paging import Page
from core.transactions import planned_for_their_values
from desk.models import Desk, TicketStatus
from desk.queue_filters import (  # noqa: F401 (the queue's names, for its callers)
    ALL,
    ASSIGNEE_ME,
    ASSIGNEE_NONE,
    DEFAULT_SORT,
    NULLABLE_SORTS,
    NUMBER,
    OPEN_WORK,
    SORTS,
    TicketFilters,
    kinds,
)
from desk.ticket_models import Ticket
from tenant.models import Client


@dataclass
class TicketPage(Page):
    """A page of a ticket queue, whose total is counted up to a cap (``cap``): past it the
    page says "more than" and offers the next page instead of the last."""

    cap: int = 10_000

    @property
    def capped(self) -> bool:
        """The total was counted up to ``cap`` and there are more."""
        return self.total > self.cap

    @property
    def pages(self) -> int:
        counted = super().pages
        return max(counted, self.page + 1) if self.capped else counted


def scoped(stmt: Select, reseller_id: int, desk_ids: list[int] | None, desk_id: int | None) -> Select:
    """Tickets of the reseller on the desks the staff member works (``desk_ids``; ``None``:
    every desk), or on ``desk_id`` alone."""
    stmt = stmt.where(Ticket.reseller_id == reseller_id)
    if desk_id is not None:
        if desk_ids is not None and desk_id not in desk_ids:
            return stmt.where(False)
        return stmt.where(Ticket.desk_id == desk_id)
    if desk_ids is not None:
        stmt = stmt.where(Ticket.desk_id.in_(desk_ids) if desk_ids else False)
    return stmt


ROW_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.subject,
    Ticket.client_id,
    Ticket.desk_id,
    Ticket.priority,
    Ticket.status_kind,
    Ticket.assignee_account_id,
    Ticket.first_response_due_at,
    Ticket.next_response_due_at,
    Ticket.resolution_due_at,
    Ticket.first_response_expiring_at,
    Ticket.next_response_expiring_at,
    Ticket.resolution_expiring_at,
    Ticket.sla_state,
    Ticket.updated_at,
    Ticket.last_activity_at,
    Client.trade_name.label("client_name"),
    Desk.name.label("desk_name"),
    TicketStatus.name.label("status_name"),
    Account.name.label("assignee_name"),
)


# The walk reads at most the page's depth from each (desk, kind) pair; past this many rows
# in all (deep pages, many desks), one plain sorted query costs less.
MAX_WALK_ROWS = 60_000
# Past this depth a page is merged (one branch per pair, read in order) rather than walked;
# up to this many pairs (a statement of that many branches is still planned quickly).
MERGE_FROM_DEPTH = 100
MAX_MERGED_PAIRS = 64
# The total is counted up to this many (then the page says "more than"): index entries
# for most filters; a text search rechecks each match in the table, so it counts fewer.
MAX_COUNT = 10_000
MAX_TEXT_COUNT = 200
# A text search matching at most this many tickets reads them all from the trigram index
# and sorts them; one matching more finds a page's worth soon enough walking in order.
FEW_MATCHES = MAX_TEXT_COUNT


def _n(value: int):
    """A LIMIT or OFFSET written into the statement, not bound: bound, PostgreSQL costs a
    generic plan for unknown limits (a tenth of the table) and so plans the walk again on
    every request (1.2 ms of its 1.7); written in, each page depth is one prepared
    statement with one generic plan (a text search asks for custom plans all the same)."""
    return literal(value, literal_execute=True)


def _walked_desks(reseller_id: int, desk_ids: list[int] | None, desk_id: int | None) -> list[int]:
    if desk_id is not None:
        return [desk_id] if desk_ids is None or desk_id in desk_ids else []
    if desk_ids is not None:
        return list(desk_ids)
    return list(
        kept("desk_ids", reseller_id, lambda: tuple(db.session.scalars(_DESK_IDS, {"r": reseller_id})))
    )


_DESK_IDS = select(Desk.id).where(Desk.reseller_id == bindparam("r"))


def _selective(filters: TicketFilters) -> bool:
    """A filter with an index of its own that matches few tickets (a client's, #number):
    a plain query reads only its few rows. (An assignee's tickets are many: walked, from
    the assignee index.)"""
    return filters.client is not None or bool(filters.q and NUMBER.fullmatch(filters.q))


def _searches_text(filters: TicketFilters) -> bool:
    return bool(filters.q) and not NUMBER.fullmatch(filters.q)


def _pairs(desks: list[int], filters: TicketFilters):
    """The (desk, kind) pairs walked, as two bound arrays rather than literal VALUES: the
    statement's shape does not depend on them, so SQLAlchemy compiles it once and
    PostgreSQL prepares it once."""
    shown = [str(kind) for kind in kinds(filters)]
    return (
        func.unnest(
            bindparam("walk_desks", [d for d in desks for _k in shown], type_=ARRAY(Integer)),
            bindparam("walk_kinds", [k for _d in desks for k in shown], type_=ARRAY(String)),
        )
        .table_valued("desk_id", "kind")
        .render_derived(name="pairs")
    )


def _one_pair(stmt: Select, pairs, reseller_id: int, account_id: int, filters: TicketFilters) -> Select:
    """``stmt`` over one pair's tickets, with every filter but the status (the pair's kind
    is the status; a second condition on it would keep PostgreSQL from reading the index
    in order)."""
    stmt = stmt.where(
        Ticket.reseller_id == reseller_id,
        Ticket.desk_id == pairs.c.desk_id,
        Ticket.status_kind == pairs.c.kind,
    )
    return filters.apply(stmt, account_id=account_id, status=False)


def _walk(reseller_id: int, account_id: int, desks: list[int], filters: TicketFilters, depth: int) -> Select:
    """The page's ids as a merge of one index walk per (desk, kind) (PostgreSQL): a
    ``LATERAL`` subquery, planned once, reads at most ``depth`` rows of the index
    ``(reseller_id, desk_id, status_kind, <sort column>, id)`` in order for each pair (or,
    on the default sort, of a filter's own index: ``..., <filter column>, resolution_due_at,
    id``), and the outer query orders those few rows. A nullable column is walked twice,
    its values then its empty ones, so that empty values come last both ways."""
    column = SORTS[filters.sort]
    ascending = filters.direction == "asc"
    pairs = _pairs(desks, filters)
    by_ticket = Ticket.id.asc() if ascending else Ticket.id.desc()
    by_value = [column.asc() if ascending else column.desc()]
    if filters.assignee and filters.sort == DEFAULT_SORT:
        # Ordered by the (one) assignee too: "IS NULL" is no equality to PostgreSQL, and
        # so the walk reads the assignee index in order instead of sorting its entries.
        lead = Ticket.assignee_account_id
        by_value.insert(0, lead.asc() if ascending else lead.desc())
    one = _one_pair(select(Ticket.id, column.label("sort_value")), pairs, reseller_id, account_id, filters)
    if filters.sort in NULLABLE_SORTS:
        walks = [
            one.where(column.is_not(None)).order_by(*by_value, by_ticket),
            # Ordered by the column too (all empty): the walk reads the same index, from
            # its empty entries, instead of filtering the whole (desk, kind) for them.
            one.where(column.is_(None)).order_by(*by_value, by_ticket),
        ]
    else:
        walks = [one.order_by(*by_value, by_ticket)]
    merged = []
    for n, walk in enumerate(walks):
        lateral = walk.limit(_n(depth)).lateral(f"walk{n}")
        merged.append(select(lateral.c.id, lateral.c.sort_value).select_from(pairs).join(lateral, true()))
    walked = (merged[0] if len(merged) == 1 else union_all(*merged)).subquery("walked")
    value = walked.c.sort_value.asc() if ascending else walked.c.sort_value.desc()
    return select(walked.c.id).order_by(
        value.nulls_last(), walked.c.id.asc() if ascending else walked.c.id.desc()
    )


def _merge(reseller_id: int, account_id: int, desks: list[int], filters: TicketFilters, depth: int) -> Select:
    """The page's ids for a deep page (PostgreSQL): one ordered branch per (desk, kind)
    under UNION ALL, which PostgreSQL reads as a Merge Append, so the page costs the rows
    before it, not those rows for every pair (page 400 over a million tickets: 5 ms, not
    the 185 ms of one sort). A nullable column sorted descending merges its values, then
    its empty ones, and orders the two (at most ``depth`` each)."""
    column = SORTS[filters.sort]
    ascending = filters.direction == "asc"
    lead = [Ticket.assignee_account_id] if filters.assignee and filters.sort == DEFAULT_SORT else []

    def ordered(*columns):
        return [c.asc() if ascending else c.desc() for c in columns]

    def merged(*where, columns=("id",)) -> Select:
        branches = [
            filters.apply(
                select(
                    Ticket.id, column.label("sort_value"), *(c.label(f"lead{n}") for n, c in enumerate(lead))
                )
                .where(
                    Ticket.reseller_id == reseller_id,
                    Ticket.desk_id == desk,
                    Ticket.status_kind == kind,
                    *where,
                )
                .order_by(*ordered(*lead, column, Ticket.id))
                .limit(depth),
                account_id=account_id,
                status=False,
            )
            for desk in desks
            for kind in kinds(filters)
        ]
        both = union_all(*branches).subquery()
        leads = [both.c[f"lead{n}"] for n in range(len(lead))]
        return select(*(both.c[c] for c in columns)).order_by(*ordered(*leads, both.c.sort_value, both.c.id))

    if ascending or filters.sort not in NULLABLE_SORTS:
        return merged()  # ascending, a btree index keeps empty values last already
    segments = [
        merged(w, columns=("id", "sort_value")).limit(depth) for w in (column.is_not(None), column.is_(None))
    ]
    both = union_all(*segments).subquery("segments")
    return select(both.c.id).order_by(both.c.sort_value.desc().nulls_last(), both.c.id.desc())


def _walk_count(
    reseller_id: int, account_id: int, desks: list[int], filters: TicketFilters, cap: int
) -> Select:
    """How many tickets match, up to ``cap`` + 1, read pair by pair from the same indexes
    as the walk (index-only: the filters are their columns)."""
    pairs = _pairs(desks, filters)
    one = (
        _one_pair(select(Ticket.id), pairs, reseller_id, account_id, filters)
        .limit(_n(cap + 1))
        .lateral("counted")
    )
    matched = select(one.c.id).select_from(pairs).join(one, true()).limit(_n(cap + 1)).subquery()
    return select(func.count()).select_from(matched)


def _plain_ids(reseller_id, account_id, desk_ids, desk_id, filters: TicketFilters) -> Select:
    return filters.apply(scoped(select(Ticket.id), reseller_id, desk_ids, desk_id), account_id=account_id)


def _walkable_desks(reseller_id, desk_ids, desk_id, filters: TicketFilters) -> list[int]:
    """The desks to walk (PostgreSQL, filters without an index of their own), else none."""
    if db.session.get_bind().dialect.name != "postgresql" or _selective(filters):
        return []
    return _walked_desks(reseller_id, desk_ids, desk_id)


def page_ids(
    reseller_id: int,
    account_id: int,
    desk_ids: list[int] | None,
    filters: TicketFilters,
    desk_id: int | None,
    *,
    total: int | None = None,
    walkable: list[int] | None = None,
) -> Select:
    """The ids of the page's tickets, in order. ``total``: what the filters were counted
    to match (a text search matching few tickets reads them from the trigram index);
    ``walkable``: the desks to walk, when the caller has them already."""
    offset = (filters.page - 1) * filters.per_page
    depth = offset + filters.per_page
    few = _searches_text(filters) and total is not None and total <= FEW_MATCHES
    if walkable is None:
        walkable = _walkable_desks(reseller_id, desk_ids, desk_id, filters)
    desks = [] if few else walkable
    pairs = len(desks) * len(kinds(filters))
    walks = pairs * (2 if filters.sort in NULLABLE_SORTS else 1)
    if desks and depth > MERGE_FROM_DEPTH and pairs <= MAX_MERGED_PAIRS:
        return _merge(reseller_id, account_id, desks, filters, depth).limit(filters.per_page).offset(offset)
    if desks and walks * depth <= MAX_WALK_ROWS:
        walk = _walk(reseller_id, account_id, desks, filters, depth)
        return walk.limit(_n(filters.per_page)).offset(_n(offset))
    ids = _plain_ids(reseller_id, account_id, desk_ids, desk_id, filters)
    return filters.order(ids).limit(filters.per_page).offset(offset)


def count_cap(filters: TicketFilters) -> int:
    return MAX_TEXT_COUNT if _searches_text(filters) else MAX_COUNT


def count_tickets(
    reseller_id: int,
    account_id: int,
    desk_ids: list[int] | None,
    filters: TicketFilters,
    desk_id: int | None,
    *,
    walkable: list[int] | None = None,
) -> int:
    """How many tickets the filters match, counted up to ``count_cap`` + 1: a million open
    tickets are "more than 10,000", read as that many index entries at most."""
    cap = count_cap(filters)
    if walkable is None:
        walkable = _walkable_desks(reseller_id, desk_ids, desk_id, filters)
    desks = [] if _searches_text(filters) else walkable
    if desks:
        return db.session.scalar(_walk_count(reseller_id, account_id, desks, filters, cap)) or 0
    ids = _plain_ids(reseller_id, account_id, desk_ids, desk_id, filters)
    return db.session.scalar(select(func.count()).select_from(ids.limit(cap + 1).subquery())) or 0


def list_tickets(
    reseller_id: int,
    account_id: int,
    desk_ids: list[int] | None,
    filters: TicketFilters,
    *,
    desk_id: int | None = None,
) -> TicketPage:
    """One page of the filtered, sorted queue and the total it pages over."""
    if _searches_text(filters):
        # A generic plan, made once for every search, would read a common word's
        # thousands of matches from the trigram index: each search is planned for its
        # own pattern.
        with planned_for_their_values(db.session):
            return _page(reseller_id, account_id, desk_ids, filters, desk_id)
    return _page(reseller_id, account_id, desk_ids, filters, desk_id)


def _page(
    reseller_id: int, account_id: int, desk_ids: list[int] | None, filters: TicketFilters, desk_id: int | None
) -> TicketPage:
    walkable = _walkable_desks(reseller_id, desk_ids, desk_id, filters)  # read once, used twice
    total = count_tickets(reseller_id, account_id, desk_ids, filters, desk_id, walkable=walkable)
    page = TicketPage(
        rows=[], total=total, page=filters.page, per_page=filters.per_page, cap=count_cap(filters)
    )
    # Past a counted total the page may go on (the next page is offered), not past a known one.
    filters.page = page.page = min(filters.page, page.pages)
    ids = page_ids(reseller_id, account_id, desk_ids, filters, desk_id, total=total, walkable=walkable)
    ids = ids.subquery()
    page.rows = db.session.execute(
        filters.order(
            select(*ROW_COLUMNS)
            .join(ids, Ticket.id == ids.c.id)
            .join(Client, Client.id == Ticket.client_id)
            .join(Desk, Desk.id == Ticket.desk_id)
            .join(TicketStatus, TicketStatus.id == Ticket.status_id)
            .outerjoin(Account, Account.id == Ticket.assignee_account_id)
        )
    ).all()
    return page


def visible_tickets(reseller_id: int, desk_ids: list[int] | None, ticket_ids: list[int]) -> list[Ticket]:
    """The tickets among ``ticket_ids`` the staff member may see (the bulk actions')."""
    stmt = scoped(select(Ticket), reseller_id, desk_ids, None).where(Ticket.id.in_(ticket_ids))
    return list(db.session.scalars(stmt.order_by(Ticket.id)))
