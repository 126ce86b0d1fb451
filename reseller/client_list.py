"""The reseller's client list: filters from the query string, sorting, paging.

The same :class:`ClientFilters` drive the page and the XLSX export, so a download
holds exactly the rows the filtered list shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, bindparam, func, select

from billing.models import Plan
from core.extensions import db
from core.kept import kept
from core.timeutil import LOCAL_TZ
from core.validation import parse_choice, parse_int
from reseller.states import STATUS_FILTERS, ClientStatusFilter
from tenant.client_counts import CountFilter, total_select
from tenant.models import (
    NULLABLE_SORTS,
    PAYMENT_STATUSES,
    PAYMENT_TYPES,
    SORT_KEY_COLUMNS,
    SORTABLE_COLUMNS,
    Client,
    fold,
)

SUSPENSION_FILTERS = ("yes", "no")
PER_PAGE_CHOICES = (25, 50, 100)
FILTER_KEYS = (
    "trade_name",
    "legal_name",
    "status",
    "id",
    "plan",
    "suspended",
    "created_from",
    "created_to",
    "payment_type",
    "payment_status",
)
EXPORT_KEYS = (*FILTER_KEYS, "sort", "dir")
MAX_TEXT_FILTER = 120

LIST_COLUMNS = (
    Client.id,
    Client.trade_name,
    Client.legal_name,
    Client.plan_id,
    Client.plan_name,
    Client.status,
    Client.sessions_remaining,
    Client.suspended,
    Client.suspension_reason,
    Client.due_date,
    Client.last_payment_date,
    Client.created_at,
    Client.phone,
    Client.inactivated_at,
    Client.photo_path,
    Client.email,
    Client.email_review_pending,
)


@dataclass
class ClientFilters:
    """Validated filters, sort and page of the client list."""

    trade_name: str = ""
    legal_name: str = ""
    status: str = ""
    id: int | None = None
    plan: str = ""  # a plan id, or "none"
    suspended: str = ""
    created_from: date | None = None
    created_to: date | None = None
    payment_type: str = ""
    payment_status: str = ""
    sort: str = "created_at"
    direction: str = "desc"
    page: int = 1
    per_page: int = 25
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args, *, plan_ids: set[int] | None = None) -> ClientFilters:
        """Parse ``request.args``; an invalid value is dropped and explained in ``errors``.
        The fields' names are lazy: translated only for a message (most requests have none)."""
        f = cls()
        for name in ("trade_name", "legal_name"):
            value = (args.get(name) or "").strip()
            if len(value) > MAX_TEXT_FILTER:
                f.errors.append(_("Search text is limited to %(n)d characters.", n=MAX_TEXT_FILTER))
                value = value[:MAX_TEXT_FILTER]
            setattr(f, name, value)
        f.status = parse_choice(args, "status", STATUS_FILTERS, _l("Status"), f.errors)
        f.suspended = parse_choice(args, "suspended", SUSPENSION_FILTERS, _l("Suspended"), f.errors)
        f.payment_type = parse_choice(args, "payment_type", PAYMENT_TYPES, _l("Payment type"), f.errors)
        f.payment_status = parse_choice(
            args, "payment_status", PAYMENT_STATUSES, _l("Payment status"), f.errors
        )
        raw_id = (args.get("id") or "").strip().lstrip("#")
        if raw_id:
            f.id = parse_int(raw_id)
            if f.id is None:
                f.errors.append(_("ID must be a whole number."))
        raw_plan = (args.get("plan") or "").strip()
        if raw_plan:
            plan_id = parse_int(raw_plan, min=1)
            if raw_plan == "none":
                f.plan = raw_plan
            elif plan_id is not None and (plan_ids is None or plan_id in plan_ids):
                f.plan = str(plan_id)
            else:
                f.errors.append(_("Unknown plan."))
        f.created_from = f._date(args, "created_from", _l("Created from"))
        f.created_to = f._date(args, "created_to", _l("Created to"))
        if f.created_from and f.created_to and f.created_from > f.created_to:
            f.errors.append(_("“Created from” is after “Created to”."))
            f.created_to = None
        sort = args.get("sort") or "created_at"
        if sort not in SORTABLE_COLUMNS:
            f.errors.append(_("Unknown sort column."))
            sort = "created_at"
        f.sort = sort
        f.direction = "asc" if args.get("dir") == "asc" else "desc"
        if args.get("dir") not in (None, "", "asc", "desc"):
            f.errors.append(_("Sort direction must be asc or desc."))
        f.page = _positive_int(args.get("page"), 1)
        per_page = _positive_int(args.get("per_page"), 25)
        f.per_page = per_page if per_page in PER_PAGE_CHOICES else 25
        return f

    def _date(self, args, name, label) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors.append(_("%(field)s is not a valid date (use YYYY-MM-DD).", field=label))
            return None

    # --- the query -------------------------------------------------------------------

    def apply(self, stmt: Select) -> Select:
        """Add the WHERE clauses of these filters to ``stmt`` (already reseller-scoped)."""
        if self.trade_name:
            stmt = stmt.where(Client.trade_name_search.contains(fold(self.trade_name), autoescape=True))
        if self.legal_name:
            stmt = stmt.where(Client.legal_name_search.contains(fold(self.legal_name), autoescape=True))
        if self.status == ClientStatusFilter.INACTIVATED:
            stmt = stmt.where(Client.inactivated_at.is_not(None))
        elif self.status != ClientStatusFilter.ALL:
            stmt = stmt.where(Client.inactivated_at.is_(None))
            if self.status:
                stmt = stmt.where(Client.status == self.status)
        if self.id is not None:
            stmt = stmt.where(Client.id == self.id)
        if self.plan == "none":
            stmt = stmt.where(Client.plan_id.is_(None))
        elif self.plan:
            stmt = stmt.where(Client.plan_id == int(self.plan))
        if self.suspended:
            stmt = stmt.where(Client.suspended == (self.suspended == "yes"))
        if self.created_from:
            stmt = stmt.where(Client.created_at >= _local_midnight_utc(self.created_from))
        if self.created_to:
            stmt = stmt.where(Client.created_at < _local_midnight_utc(self.created_to, next_day=True))
        if self.payment_type:
            stmt = stmt.where(Client.payment_type == self.payment_type)
        if self.payment_status:
            stmt = stmt.where(Client.payment_status == self.payment_status)
        return stmt

    def order(self, stmt: Select, *, reverse: bool = False) -> Select:
        """Order by the sort column and id; ``reverse`` gives exactly the opposite order.

        Empty values come last in both directions. Each order is one index's own order
        on PostgreSQL, read forwards or backwards: ascending (NULLS LAST) and its reverse
        by the sort index, descending (NULLS LAST) and its reverse by the ``_desc`` index
        of a column that may be empty; a column that is never empty keeps its plain DESC
        (NULLS FIRST: the ascending index backwards), which orders it the same.
        """
        column = getattr(Client, SORT_KEY_COLUMNS.get(self.sort, self.sort))
        ascending = (self.direction == "asc") != reverse
        keys = (column.asc(), Client.id.asc()) if ascending else (column.desc(), Client.id.desc())
        nulls_last = self.direction == "asc" or self.sort in NULLABLE_SORTS
        if nulls_last == reverse:
            return stmt.order_by(keys[0].nulls_first(), keys[1])
        return stmt.order_by(keys[0].nulls_last(), keys[1])

    # --- URLs --------------------------------------------------------------------------

    def query_args(self, **changes) -> dict:
        """The query string of this list with ``changes`` applied (for links)."""
        args = {
            "trade_name": self.trade_name,
            "legal_name": self.legal_name,
            "status": self.status,
            "id": self.id or "",
            "plan": self.plan,
            "suspended": self.suspended,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "payment_type": self.payment_type,
            "payment_status": self.payment_status,
            "sort": self.sort,
            "dir": self.direction,
            "page": self.page,
            "per_page": self.per_page,
        }
        args.update(changes)
        defaults = {"sort": "created_at", "dir": "desc", "page": 1, "per_page": 25}
        return {k: v for k, v in args.items() if v not in ("", None) and defaults.get(k) != v}

    def url_query(self, **changes) -> str:
        return urlencode(self.query_args(**changes))

    def sort_query(self, column: str) -> str:
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        if self.sort != column and column in (
            "created_at",
            "due_date",
            "last_payment_date",
            "sessions_remaining",
        ):
            direction = "desc"
        return self.url_query(sort=column, dir=direction, page=1)

    def filter_args(self) -> dict:
        """Only the filters (no sort/page)."""
        return {k: v for k, v in self.query_args().items() if k in FILTER_KEYS}

    def export_args(self) -> dict:
        """The filters and the sort (no page): an export holds the rows the list shows,
        in the order it shows them."""
        return {k: v for k, v in self.query_args().items() if k in EXPORT_KEYS}

    @property
    def active_filter_count(self) -> int:
        return len(self.filter_args())


def _positive_int(raw, default: int) -> int:
    value = parse_int(raw, min=1)
    return default if value is None else value


def _local_midnight_utc(day: date, *, next_day: bool = False) -> datetime:
    if next_day:
        day = day + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def base_select(reseller_id: int, *columns) -> Select:
    """Clients of one reseller that still exist (deleted ones are never listed)."""
    stmt = select(*columns) if columns else select(Client)
    return stmt.where(Client.reseller_id == reseller_id, Client.deleted_at.is_(None))


def kept_total(filters: ClientFilters) -> CountFilter | None:
    """The filters as a read of the kept totals, or None when one of them (a name, an id,
    a creation date) is not among the totals' columns."""
    if filters.trade_name or filters.legal_name or filters.id is not None:
        return None
    if filters.created_from or filters.created_to:
        return None
    by_status = {ClientStatusFilter.INACTIVATED: True, ClientStatusFilter.ALL: None}
    inactivated = by_status.get(filters.status, False)
    plan_key = None if not filters.plan else 0 if filters.plan == "none" else int(filters.plan)
    return CountFilter(
        inactivated=inactivated,
        status=filters.status if inactivated is False and filters.status else None,
        plan_key=plan_key,
        suspended=None if not filters.suspended else filters.suspended == "yes",
        payment_type=filters.payment_type or None,
        payment_status=filters.payment_status or None,
    )


def count_select(reseller_id: int, filters: ClientFilters) -> Select:
    """The total of the filtered list: read from the kept totals (tenant.client_counts)
    when the filters allow, else a COUNT."""
    kept = kept_total(filters)
    if kept is not None:
        return total_select(reseller_id, kept)
    if filters.status == ClientStatusFilter.ALL and not (filters.trade_name or filters.legal_name):
        # Live plus inactivated clients: two index-only scans of small partial indexes
        # take half the time of one over the (wide) index of every client.
        live, inactivated = (
            replace(filters, status=status).apply(base_select(reseller_id, func.count())).scalar_subquery()
            for status in ("", ClientStatusFilter.INACTIVATED)
        )
        return select(live + inactivated)
    return filters.apply(base_select(reseller_id, func.count()))


def count_clients(reseller_id: int, filters: ClientFilters) -> int:
    return db.session.scalar(count_select(reseller_id, filters)) or 0


_PLAN_CHOICES = (
    select(Plan.id, Plan.name, Plan.retired_at)
    .where(Plan.reseller_id == bindparam("reseller_id"))
    .order_by(Plan.retired_at.is_not(None), Plan.name)
)


def plan_choices(reseller_id: int) -> tuple[Row, ...]:
    """The reseller's plans for the plan filter (id, name, retired_at): live ones first,
    then retired, by name. Rows, not plans: the menu needs three columns of each (one
    statement built once, read through the session's connection like the list), kept
    per the reseller's set-up token (``core.kept``)."""

    def read():
        return tuple(db.session.connection().execute(_PLAN_CHOICES, {"reseller_id": reseller_id}))

    return kept("plan_menu", reseller_id, read)


def read_filters(reseller_id: int, args, *, plan_menu: bool = True) -> tuple[tuple[Row, ...], ClientFilters]:
    """The reseller's plans and the filters read from ``args`` (query string or form).

    Without ``plan_menu`` (an htmx answer of the rows only), the plans are read only
    when a plan filter needs checking: one query less per sort, filter or page."""
    raw_plan = (args.get("plan") or "").strip()
    if not plan_menu and raw_plan in ("", "none"):
        return (), ClientFilters.from_args(args)
    plans = plan_choices(reseller_id)
    return plans, ClientFilters.from_args(args, plan_ids={p.id for p in plans})
