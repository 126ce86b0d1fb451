"""The reseller's plans (``/reseller/plans``): list, create, edit, retire, restore."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func

from auth import permissions as perm
from auth.access import require_permission
from billing import plans as plan_rules
from billing.models import PERIODS, Plan
from core import audit
from core.extensions import db
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.validation import parse_int
from desk import policies as sla_policies
from desk.errors import DeskRejected
from reseller.views.blueprint import bp
from tenant.models import Client


def _form_data() -> plan_rules.PlanData:
    return plan_rules.PlanData(
        name=request.form.get("name", ""),
        price=request.form.get("price", ""),
        period=request.form.get("period", ""),
        sessions=request.form.get("sessions", ""),
        stripe_price_id=request.form.get("stripe_price_id", ""),
    )


@bp.get("/plans")
@require_permission(perm.PLANS)
def plans():
    reseller = require_reseller()
    rows = db.session.execute(
        scoped_select(Plan, Plan, func.count(Client.id))
        .outerjoin(Client, (Client.plan_id == Plan.id) & Client.deleted_at.is_(None))
        .group_by(Plan.id)
        .order_by(Plan.retired_at.is_not(None), Plan.name)
    ).all()
    return render_template("reseller/plans.html", rows=rows, reseller=reseller)


@bp.route("/plans/new", methods=["GET", "POST"])
@require_permission(perm.PLANS)
def plan_new():
    reseller = require_reseller()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            plan = plan_rules.create_plan(reseller.id, _form_data())
            sla_policies.set_plan_policy(plan, request.form.get("sla_policy_id"))
        except (plan_rules.PlanRejected, DeskRejected) as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Plan %(name)s created.", name=plan.name), "success")
            return redirect(url_for("reseller.plans"))
    return render_template(
        "reseller/plan_form.html",
        plan=None,
        errors=errors,
        form=request.form,
        periods=PERIODS,
        sla_policies=sla_policies.policies(reseller.id),
    ), (422 if errors else 200)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@require_permission(perm.PLANS)
def plan_edit(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        try:
            plan_rules.update_plan(plan, _form_data())
            sla_policies.set_plan_policy(plan, request.form.get("sla_policy_id"))
        except (plan_rules.PlanRejected, DeskRejected) as exc:
            db.session.rollback()
            errors = exc.errors
            plan = get_or_404(Plan, plan_id)
        else:
            db.session.commit()
            flash(_("Plan %(name)s saved.", name=plan.name), "success")
            return redirect(url_for("reseller.plans"))
    else:
        form = {
            "name": plan.name,
            "price": f"{plan.price_cents / 100:.2f}".replace(".", ","),
            "period": plan.period,
            "sessions": str(plan.sessions_per_period),
            "stripe_price_id": plan.stripe_price_id or "",
            "sla_policy_id": str(plan.sla_policy_id or ""),
        }
    return render_template(
        "reseller/plan_form.html",
        plan=plan,
        errors=errors,
        form=form,
        periods=PERIODS,
        sla_policies=sla_policies.policies(plan.reseller_id),
    ), (422 if errors else 200)


@bp.post("/plans/<int:plan_id>/retire")
@require_permission(perm.PLANS)
def plan_retire(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    plan_rules.retire_plan(plan)
    db.session.commit()
    flash(_("Plan %(name)s retired: clients that have it keep it.", name=plan.name), "success")
    return redirect(url_for("reseller.plans"))


@bp.post("/plans/<int:plan_id>/restore")
@require_permission(perm.PLANS)
def plan_restore(plan_id: int):
    plan = get_or_404(Plan, plan_id)
    plan_rules.restore_plan(plan)
    db.session.commit()
    flash(_("Plan %(name)s is offered again.", name=plan.name), "success")
    return redirect(url_for("reseller.plans"))


@bp.post("/plans/extra-pack")
@require_permission(perm.PLANS)
def extra_pack_offer():
    """The extra-conversation pack clients may buy through Stripe (price 0: not sold)."""
    reseller = require_reseller()
    conversations = parse_int(request.form.get("conversations"), min=1, max=100_000)
    price = plan_rules.parse_brl(request.form.get("price", ""))
    if conversations is None:
        flash(_("A pack has from 1 to 100,000 conversations."), "error")
    elif price is None or price > 10_000_000:
        flash(_("Enter the price as 49,90."), "error")
    else:
        reseller.extra_pack_conversations, reseller.extra_pack_price_cents = conversations, price
        audit.record(
            "billing.extra_pack_offer_changed",
            reseller,
            details={"conversations": conversations, "price_cents": price},
        )
        db.session.commit()
        flash(_("Extra conversation pack saved."), "success")
    return redirect(url_for("reseller.plans"))
