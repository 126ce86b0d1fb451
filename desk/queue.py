"""The staff's ticket queue (``/reseller/tickets``, one desk's, a client's tab): filters,
sort and paging from the query string (the contract in docs/architecture.md).

Every query is scoped to the reseller and to the desks the staff member works (the owner:
all of them), and reads ``tickets`` alone for the page's ids: a filter is an equality on
a column of the queue indexes (reseller, desk, status kind, sort column, id), so page 1
is a walk down one index; names (client, desk, status, assignee) are read for the page's
rows only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask_babel import gettext as _
from sqlalchemy import Integer, Select, String, func, select, true, union_all, values
from sqlalchemy import column as sa_column

from auth.models import Account
from core.extensions import db
from core.paging import Page
from core.validation import parse_int
from desk.models import Desk, TicketStatus
from desk.states import BLOCKING_KINDS, Priority, SlaState, StatusKind
from desk.ticket_models import PRIORITY_RANKS, Ticket
from tenant.models import Client

OPEN_WORK = "open_work"
ALL = "all"
STATUS_CHOICES = (OPEN_WORK, ALL, *StatusKind)
ASSIGNEE_ME, ASSIGNEE_NONE = "me", "none"
PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_SORT = "resolution_due_at"
SORTS = {
    "number": Ticket.number,
    "created_at": Ticket.created_at,
    "updated_at": Ticket.updated_at,
    "priority": Ticket.priority_rank,
    "first_response_due_at": Ticket.first_response_due_at,
    "resolution_due_at": Ticket.resolution_due_at,
    "last_activity_at": Ticket.last_activity_at,
}
# Columns that may be empty: empty last both ways.
NULLABLE_SORTS = ("first_response_due_at", "resolution_due_at")
FILTER_KEYS = ("status", "priority", "assignee", "client", "sla", "q")
MAX_QUERY = 120
NUMBER = re.compile(r"#?\s*([0-9]{1,9})")


@dataclass
class TicketFilters:
    status: str = OPEN_WORK
    priority: str = ""
    assignee: str = ""  # an account id, "me" or "none"
    client: int | None = None
    sla: str = ""
    q: str = ""
    sort: str = DEFAULT_SORT
    direction: str = "asc"
    page: int = 1
    per_page: int = 25
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args) -> TicketFilters:
        """Parse ``request.args``; an invalid value is dropped and explained in ``errors``."""
        f = cls()
        f.status = f._choice(args, "status", STATUS_CHOICES, _("Status")) or OPEN_WORK
        f.priority = f._choice(args, "priority", tuple(Priority), _("Priority"))
        f.sla = f._choice(args, "sla", tuple(SlaState), _("SLA"))
        assignee = (args.get("assignee") or "").strip()
        if assignee in ("", ASSIGNEE_ME, ASSIGNEE_NONE) or parse_int(assignee, min=1) is not None:
            f.assignee = assignee
        else:
            f.errors.append(_("Unknown value for %(field)s.", field=_("Assignee")))
        raw_client = (args.get("client") or "").strip()
        if raw_client:
            f.client = parse_int(raw_client, min=1)
            if f.client is None:
                f.errors.append(_("Unknown value for %(field)s.", field=_("Client")))
        q = (args.get("q") or "").strip()
        if len(q) > MAX_QUERY:
            f.errors.append(_("Search text is limited to %(n)d characters.", n=MAX_QUERY))
            q = q[:MAX_QUERY]
        f.q = q
        sort = args.get("sort") or DEFAULT_SORT
        if sort not in SORTS:
            f.errors.append(_("Unknown sort column."))
            sort = DEFAULT_SORT
        f.sort = sort
        if args.get("dir") not in (None, "", "asc", "desc"):
            f.errors.append(_("Sort direction must be asc or desc."))
        f.direction = "desc" if args.get("dir") == "desc" else "asc"
        f.page = parse_int(args.get("page"), min=1) or 1
        per_page = parse_int(args.get("per_page"), min=1)
        f.per_page = per_page if per_page in PER_PAGE_CHOICES else 25
        return f

    def _choice(self, args, name, allowed, label) -> str:
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            self.errors.append(_("Unknown value for %(field)s.", field=label))
            return ""
        return value

    def apply(self, stmt: Select, *, account_id: int) -> Select:
        if self.status == OPEN_WORK:
            stmt = stmt.where(Ticket.status_kind.in_(BLOCKING_KINDS))
        elif self.status != ALL:
            stmt = stmt.where(Ticket.status_kind == self.status)
        if self.priority:
            # The rank, not the name: a column of the queue's priority index.
            stmt = stmt.where(Ticket.priority_rank == PRIORITY_RANKS[Priority(self.priority)])
        if self.assignee == ASSIGNEE_ME:
            stmt = stmt.where(Ticket.assignee_account_id == account_id)
        elif self.assignee == ASSIGNEE_NONE:
            stmt = stmt.where(Ticket.assignee_account_id.is_(None))
        elif self.assignee:
            stmt = stmt.where(Ticket.assignee_account_id == int(self.assignee))
        if self.client is not None:
            stmt = stmt.where(Ticket.client_id == self.client)
        if self.sla:
            stmt = stmt.where(Ticket.sla_state == self.sla)
        if self.q:
            number = NUMBER.fullmatch(self.q)
            if number:
                stmt = stmt.where(Ticket.number == int(number.group(1)))
            else:
                stmt = stmt.where(Ticket.subject.icontains(self.q, autoescape=True))
        return stmt

    def order(self, stmt: Select) -> Select:
        column = SORTS[self.sort]
        if self.direction == "asc":
            return stmt.order_by(column.asc().nulls_last(), Ticket.id.asc())
        key = column.desc().nulls_last() if self.sort in NULLABLE_SORTS else column.desc()
        return stmt.order_by(key, Ticket.id.desc())

    def query_args(self, **changes) -> dict:
        args = {
            "status": self.status,
            "priority": self.priority,
            "assignee": self.assignee,
            "client": self.client or "",
            "sla": self.sla,
            "q": self.q,
            "sort": self.sort,
            "dir": self.direction,
            "page": self.page,
            "per_page": self.per_page,
        }
        args.update(changes)
        defaults = {"status": OPEN_WORK, "sort": DEFAULT_SORT, "dir": "asc", "page": 1, "per_page": 25}
        return {k: v for k, v in args.items() if v not in ("", None) and defaults.get(k) != v}

    def url_query(self, **changes) -> str:
        return urlencode(self.query_args(**changes))

    def sort_query(self, column: str) -> str:
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        return self.url_query(sort=column, dir=direction, page=1)


class TicketPage(Page):
    """A page of a ticket queue, whose total is counted up to ``MAX_COUNT``."""

    @property
    def capped(self) -> bool:
        """The total was counted up to ``MAX_COUNT`` and there are more."""
        return self.total > MAX_COUNT


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
# The total is counted up to this many (then the page says "more than").
MAX_COUNT = 10_000


def _kinds(filters: TicketFilters) -> tuple:
    if filters.status == OPEN_WORK:
        return BLOCKING_KINDS
    if filters.status == ALL:
        return tuple(StatusKind)
    return (StatusKind(filters.status),)


def _walked_desks(reseller_id: int, desk_ids: list[int] | None, desk_id: int | None) -> list[int]:
    if desk_id is not None:
        return [desk_id] if desk_ids is None or desk_id in desk_ids else []
    if desk_ids is not None:
        return list(desk_ids)
    return list(db.session.scalars(select(Desk.id).where(Desk.reseller_id == reseller_id)))


def _selective(filters: TicketFilters) -> bool:
    """A filter with an index of its own (client, assignee, #number): a plain query reads
    only its few rows."""
    by_number = bool(filters.q and NUMBER.fullmatch(filters.q))
    return filters.client is not None or filters.assignee not in ("", ASSIGNEE_NONE) or by_number


def _walk(reseller_id: int, account_id: int, desks: list[int], filters: TicketFilters, depth: int) -> Select:
    """The page's ids as a merge of one index walk per (desk, kind) (PostgreSQL): a
    ``LATERAL`` subquery, planned once, reads at most ``depth`` rows of the index
    ``(reseller_id, desk_id, status_kind, <sort column>, id)`` in order for each pair, and
    the outer query orders those few rows. A nullable column is walked twice, its values
    then its empty ones, so that empty values come last both ways."""
    column = SORTS[filters.sort]
    ascending = filters.direction == "asc"
    pairs = values(sa_column("desk_id", Integer), sa_column("kind", String), name="pairs").data(
        [(desk, str(kind)) for desk in desks for kind in _kinds(filters)]
    )
    by_ticket = Ticket.id.asc() if ascending else Ticket.id.desc()
    by_value = column.asc() if ascending else column.desc()
    one = select(Ticket.id, column.label("sort_value")).where(
        Ticket.reseller_id == reseller_id,
        Ticket.desk_id == pairs.c.desk_id,
        Ticket.status_kind == pairs.c.kind,
    )
    one = filters.apply(one, account_id=account_id)
    if filters.sort in NULLABLE_SORTS:
        walks = [
            one.where(column.is_not(None)).order_by(by_value, by_ticket),
            # Ordered by the column too (all empty): the walk reads the same index, from
            # its empty entries, instead of filtering the whole (desk, kind) for them.
            one.where(column.is_(None)).order_by(by_value, by_ticket),
        ]
    else:
        walks = [one.order_by(by_value, by_ticket)]
    merged = []
    for n, walk in enumerate(walks):
        lateral = walk.limit(depth).lateral(f"walk{n}")
        merged.append(select(lateral.c.id, lateral.c.sort_value).select_from(pairs).join(lateral, true()))
    walked = (merged[0] if len(merged) == 1 else union_all(*merged)).subquery("walked")
    value = walked.c.sort_value.asc() if ascending else walked.c.sort_value.desc()
    return select(walked.c.id).order_by(
        value.nulls_last(), walked.c.id.asc() if ascending else walked.c.id.desc()
    )


def page_ids(
    reseller_id: int, account_id: int, desk_ids: list[int] | None, filters: TicketFilters, desk_id: int | None
) -> Select:
    """The ids of the page's tickets, in order."""
    offset = (filters.page - 1) * filters.per_page
    depth = offset + filters.per_page
    if db.session.get_bind().dialect.name == "postgresql" and not _selective(filters):
        desks = _walked_desks(reseller_id, desk_ids, desk_id)
        walks = len(desks) * len(_kinds(filters)) * (2 if filters.sort in NULLABLE_SORTS else 1)
        if desks and walks * depth <= MAX_WALK_ROWS:
            return (
                _walk(reseller_id, account_id, desks, filters, depth).limit(filters.per_page).offset(offset)
            )
    ids = scoped(select(Ticket.id), reseller_id, desk_ids, desk_id)
    return filters.order(filters.apply(ids, account_id=account_id)).limit(filters.per_page).offset(offset)


def count_tickets(
    reseller_id: int, account_id: int, desk_ids: list[int] | None, filters: TicketFilters, desk_id: int | None
) -> int:
    """How many tickets the filters match, counted up to ``MAX_COUNT`` + 1 (an index-only
    read of that many entries at most: a million open tickets are "more than 10,000")."""
    ids = filters.apply(scoped(select(Ticket.id), reseller_id, desk_ids, desk_id), account_id=account_id)
    return db.session.scalar(select(func.count()).select_from(ids.limit(MAX_COUNT + 1).subquery())) or 0


def list_tickets(
    reseller_id: int,
    account_id: int,
    desk_ids: list[int] | None,
    filters: TicketFilters,
    *,
    desk_id: int | None = None,
) -> TicketPage:
    """One page of the filtered, sorted queue and the total it pages over."""
    total = count_tickets(reseller_id, account_id, desk_ids, filters, desk_id)
    pages = max(1, math.ceil(total / filters.per_page))
    filters.page = min(filters.page, pages)
    ids = page_ids(reseller_id, account_id, desk_ids, filters, desk_id).subquery()
    rows = db.session.execute(
        filters.order(
            select(*ROW_COLUMNS)
            .join(ids, Ticket.id == ids.c.id)
            .join(Client, Client.id == Ticket.client_id)
            .join(Desk, Desk.id == Ticket.desk_id)
            .join(TicketStatus, TicketStatus.id == Ticket.status_id)
            .outerjoin(Account, Account.id == Ticket.assignee_account_id)
        )
    ).all()
    return TicketPage(rows=rows, total=total, page=filters.page, per_page=filters.per_page)


def visible_tickets(reseller_id: int, desk_ids: list[int] | None, ticket_ids: list[int]) -> list[Ticket]:
    """The tickets among ``ticket_ids`` the staff member may see (the bulk actions')."""
    stmt = scoped(select(Ticket), reseller_id, desk_ids, None).where(Ticket.id.in_(ticket_ids))
    return list(db.session.scalars(stmt.order_by(Ticket.id)))
