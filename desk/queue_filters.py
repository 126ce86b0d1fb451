"""The ticket queue's filters, sort and paging from the query string (the contract in
docs/architecture.md): parsed and checked, then written as conditions on ``tickets``.

A filter is an equality on a column of the queue's indexes (reseller, desk, status kind,
[filter column,] sort column, id), so that desk.queue reads a page as a walk down them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask_babel import gettext as _
from sqlalchemy import Select

from core.validation import parse_choice, parse_int
from desk.states import BLOCKING_KINDS, Priority, SlaState, StatusKind
from desk.ticket_models import PRIORITY_RANKS, Ticket
from tenant.models import fold

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
        f.status = parse_choice(args, "status", STATUS_CHOICES, _("Status"), f.errors) or OPEN_WORK
        f.priority = parse_choice(args, "priority", tuple(Priority), _("Priority"), f.errors)
        f.sla = parse_choice(args, "sla", tuple(SlaState), _("SLA"), f.errors)
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

    def apply(self, stmt: Select, *, account_id: int, status: bool = True) -> Select:
        """The filters as conditions on ``stmt``; ``status=False``: all but the status (a
        walk's pairs carry the kind, and a second condition on it would keep PostgreSQL
        from reading the index in order)."""
        if not status:
            pass
        elif self.status == OPEN_WORK:
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
                # Bound, and planned for its own words (desk.queue asks PostgreSQL for
                # custom plans): a rare word from the trigram index, a common one by
                # walking in order.
                stmt = stmt.where(Ticket.subject_search.contains(fold(self.q), autoescape=True))
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


def kinds(filters: TicketFilters) -> tuple:
    """The status kinds the filters show."""
    if filters.status == OPEN_WORK:
        return BLOCKING_KINDS
    if filters.status == ALL:
        return tuple(StatusKind)
    return (StatusKind(filters.status),)
