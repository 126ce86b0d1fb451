"""The ``clients`` resource: the panel's list filters and sorts (``reseller.client_list``)
read page by page with a cursor, a client as JSON, and the panel's client rules
(``tenant.clients``) behind create and update, their refusals as problems."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, or_
from sqlalchemy.orm import selectinload

from api.conventions import iso
from api.problems import Problem
from core.extensions import db
from core.tenancy import scoped_select
from reseller.client_list import EXPORT_KEYS, ClientFilters, base_select, plan_choices
from tenant import clients as client_rules
from tenant.models import NULLABLE_SORTS, SORT_KEY_COLUMNS, Client

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The query parameters the panel's filters read, as the API names them.
FILTER_PARAMS = tuple(k for k in EXPORT_KEYS)
WRITABLE = (
    "trade_name",
    "legal_name",
    "email",
    "document_type",
    "document",
    "sla_level",
    "phone",
    "postal_code",
    "street",
    "street_number",
    "complement",
    "district",
    "city",
    "state",
)


def read_filters(reseller_id: int, args) -> ClientFilters:
    """The panel's filters from the query string; a value they refuse is a 422 naming it."""
    given = {k: args[k] for k in FILTER_PARAMS if args.get(k) not in (None, "")}
    plan_ids = {p.id for p in plan_choices(reseller_id)} if given.get("plan", "none") != "none" else None
    filters = ClientFilters.from_args(given, plan_ids=plan_ids)
    if filters.errors:
        for name in given:
            alone = ClientFilters.from_args({name: given[name]}, plan_ids=plan_ids)
            if alone.errors:
                raise Problem(422, "invalid_parameter", alone.errors[0], param=name)
        raise Problem(422, "invalid_parameter", filters.errors[0])
    return filters


def _after(stmt, filters: ClientFilters, anchor: Client):
    """Rows after ``anchor`` in the list's order (``ClientFilters.order``: the sort column,
    empty values last both ways, then the id)."""
    name = SORT_KEY_COLUMNS.get(filters.sort, filters.sort)
    column, value = getattr(Client, name), getattr(anchor, name)
    ascending = filters.direction == "asc"
    next_id = Client.id > anchor.id if ascending else Client.id < anchor.id
    nulls_last = ascending or filters.sort in NULLABLE_SORTS
    if value is None:
        # Only a nullable column holds one; its empty values come last.
        return stmt.where(column.is_(None), next_id)
    beyond = column > value if ascending else column < value
    later = or_(beyond, and_(column == value, next_id))
    if nulls_last:
        later = or_(later, column.is_(None))
    return stmt.where(later)


def list_page(reseller_id: int, filters: ClientFilters, limit: int, starting_after: int | None):
    """Up to ``limit`` clients after ``starting_after`` and whether more follow."""
    stmt = filters.apply(base_select(reseller_id))
    if starting_after is not None:
        anchor = db.session.scalar(
            scoped_select(Client, reseller_id=reseller_id).where(Client.id == starting_after)
        )
        if anchor is None:
            raise Problem(
                422, "invalid_parameter", _("No client of yours has this id."), param="starting_after"
            )
        stmt = _after(stmt, filters, anchor)
    # Each row's custom fields in one more query, not one per client.
    stmt = filters.order(stmt).options(selectinload(Client.custom_values)).limit(limit + 1)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], len(rows) > limit


def client_json(client: Client) -> dict:
    return {
        "id": client.id,
        "trade_name": client.trade_name,
        "legal_name": client.legal_name,
        "email": client.email,
        "phone": client.phone,
        "document_type": client.document_type,
        "document": client.document,
        "sla_level": client.sla_level,
        "postal_code": client.postal_code,
        "street": client.street,
        "street_number": client.street_number,
        "complement": client.complement,
        "district": client.district,
        "city": client.city,
        "state": client.state,
        "status": client.status,
        "plan": {"id": client.plan_id, "name": client.plan_name} if client.plan_id else None,
        "sessions_remaining": client.sessions_remaining,
        "suspended": bool(client.suspended),
        "suspension_reason": client.suspension_reason,
        "payment_type": client.payment_type,
        "payment_status": client.payment_status,
        "due_date": iso(client.due_date),
        "last_payment_date": iso(client.last_payment_date),
        "created_at": iso(client.created_at),
        "inactivated_at": iso(client.inactivated_at),
        "responsible_account_id": client.responsible_account_id,
        "custom_fields": {str(v.definition_id): v.value for v in client.custom_values},
    }


def _data(values: dict) -> client_rules.ClientData:
    custom = values.get("custom_fields") or {}
    return client_rules.ClientData(
        **{name: (values.get(name) or "").strip() for name in WRITABLE if name != "sla_level"},
        sla_level=values.get("sla_level") or "standard",
        responsible_email=(values.get("responsible_email") or "").strip(),
        responsible_name=(values.get("responsible_name") or "").strip(),
        custom={int(k): str(v) for k, v in custom.items() if str(k).isdigit()},
    )


def _refused(exc: client_rules.ClientRejected) -> Problem:
    name, message = next(iter(exc.errors.items()))
    if name.startswith("cf_"):
        name = f"custom_fields.{name[3:]}"
    return Problem(422, "invalid_parameter", message, param=name)


def create(reseller_id: int, values: dict) -> Client:
    """A client made by the panel's rules (``tenant.clients.create_client``)."""
    try:
        return client_rules.create_client(reseller_id, _data(values))
    except client_rules.ClientRejected as exc:
        db.session.rollback()
        raise _refused(exc) from None


def update(client: Client, values: dict) -> Client:
    """The fields given changed, the others kept, all checked by the panel's rules."""
    current = {name: getattr(client, name) or "" for name in WRITABLE}
    current["custom_fields"] = {str(v.definition_id): v.value for v in client.custom_values}
    current["custom_fields"].update(values.pop("custom_fields", None) or {})
    current.update({k: v for k, v in values.items() if v is not None})
    try:
        return client_rules.update_client(client, _data(current))
    except client_rules.ClientRejected as exc:
        db.session.rollback()
        raise _refused(exc) from None
