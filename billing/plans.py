"""A reseller's plans: create, edit, retire. A retired plan stays on the clients that
have it but is no longer offered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from billing.models import PERIODS, Plan
from core import audit
from core.extensions import db
from core.tenancy import scoped_select
from core.timeutil import utcnow
from core.validation import parse_int

MAX_PRICE_CENTS = 10_000_000_00  # R$ 10 million
MAX_SESSIONS = 10_000_000
# "1.299,90", "1299,90", "1299.90": [0-9], not \d, which takes other scripts' digits
# ("٣") that Decimal would then read as a price.
BRL_AMOUNT = r"[0-9]{1,3}(\.[0-9]{3})*(,[0-9]{1,2})?|[0-9]+(,[0-9]{1,2})?|[0-9]+(\.[0-9]{1,2})?"


class PlanRejected(ValueError):
    """Nothing was saved; ``errors`` maps a field to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class PlanData:
    name: str
    price: str  # as typed: "199,90", "1.299,00", "49"
    period: str
    sessions: str
    stripe_price_id: str = ""


def parse_brl(text: str) -> int | None:
    """Cents from a Brazilian-formatted amount ("R$ 1.299,90" → 129990), else None."""
    cleaned = re.sub(r"[R$\s]", "", text or "")
    if not re.fullmatch(BRL_AMOUNT, cleaned):
        return None
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    try:
        cents = int((Decimal(cleaned) * 100).quantize(Decimal(1)))
    except InvalidOperation:
        return None
    return cents


def _validate(reseller_id: int, data: PlanData, plan: Plan | None) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    values: dict = {}
    name = (data.name or "").strip()
    if not name or len(name) > 80:
        errors["name"] = _("Enter a name of at most 80 characters.")
    else:
        clash = db.session.scalar(
            select(Plan.id).where(
                Plan.reseller_id == reseller_id, Plan.name == name, Plan.id != (plan.id if plan else 0)
            )
        )
        if clash:
            errors["name"] = _("Another plan already has this name.")
    cents = parse_brl(data.price)
    if cents is None or cents <= 0 or cents > MAX_PRICE_CENTS:
        errors["price"] = _("Enter a price in reais, e.g. 199,90.")
    if data.period not in PERIODS:
        errors["period"] = _("Choose monthly, quarterly or yearly.")
    sessions = parse_int((data.sessions or "").strip().replace(".", ""), max=MAX_SESSIONS)
    if sessions is None:
        errors["sessions"] = _("Enter a whole number of sessions (0 or more).")
    stripe_price = (data.stripe_price_id or "").strip()
    if stripe_price and not re.fullmatch(r"price_[A-Za-z0-9]{4,96}", stripe_price):
        errors["stripe_price_id"] = _("A Stripe price id looks like price_1AbC...")
    if not errors:
        values = dict(
            name=name,
            price_cents=cents,
            period=data.period,
            sessions_per_period=sessions,
            stripe_price_id=stripe_price or None,
        )
    return errors, values


def create_plan(reseller_id: int, data: PlanData) -> Plan:
    errors, values = _validate(reseller_id, data, None)
    if errors:
        raise PlanRejected(errors)
    plan = Plan(reseller_id=reseller_id, **values)
    db.session.add(plan)
    db.session.flush()
    audit.record("plan.created", plan, details=dict(values))
    return plan


def update_plan(plan: Plan, data: PlanData) -> None:
    """Change a plan. Clients keep their current period; the new price and sessions apply
    from their next period (the summary on each client is refreshed by billing)."""
    errors, values = _validate(plan.reseller_id, data, plan)
    if errors:
        raise PlanRejected(errors)
    changed = {k: [getattr(plan, k), v] for k, v in values.items() if getattr(plan, k) != v}
    for key, value in values.items():
        setattr(plan, key, value)
    audit.record("plan.updated", plan, details={"changed": changed})


def retire_plan(plan: Plan) -> None:
    if plan.retired_at is None:
        plan.retired_at = utcnow()
        audit.record("plan.retired", plan)


def restore_plan(plan: Plan) -> None:
    if plan.retired_at is not None:
        plan.retired_at = None
        audit.record("plan.restored", plan)


def offered_plans(reseller_id: int) -> list[Plan]:
    """The plans the reseller offers (not retired), cheapest first: what a client without
    a plan is shown to choose from."""
    return list(
        db.session.scalars(
            scoped_select(Plan, reseller_id=reseller_id)
            .where(Plan.retired_at.is_(None))
            .order_by(Plan.price_cents, Plan.name)
        )
    )
