"""The workspace's subscription page (``/app/subscription``): the client's plan, its
period and the sessions used in it (per day), invoices, paying an invoice through
Stripe Checkout (card, boleto or PIX) and buying extra conversations. A client without
a plan sees the reseller's offered plans and contacts; without Stripe configured, or
without the right to pay, the page says how to pay and who may.

Paying is always confirmed by Stripe's webhook, never by the return address: coming
back from Checkout only shows a message. Who may pay: the client's responsible user
and users with the *billing* permission (while staff act as a user, that user's
permission counts, and the audit names both).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission
from billing import states
from billing.models import Payment
from billing.plans import offered_plans
from billing.states import OPEN_PAYMENT_STATUSES, CheckoutReturn, ClientStatus, PaymentKind, PaymentStatus
from billing.stripe import gateway as stripe_gateway
from billing.summary import current_subscription
from billing.usage import period_use
from core import audit
from core.extensions import db, limiter
from core.formatting import money
from core.links import reseller_url
from core.models import Reseller
from core.resubmit import keep_typed
from core.tenancy import get_or_404, require_reseller, scoped_select
from core.timeutil import today_local
from core.validation import parse_int
from tenant.workspace import workspace_guard

bp = Blueprint(
    "subscription",
    __name__,
    url_prefix="/app/subscription",
    template_folder=str(Path(__file__).resolve().parent.parent / "templates"),
)
bp.before_request(workspace_guard)

MAX_PACKS = 10
ONLINE_TYPES = ("stripe", "card", "boleto", "pix")


def _per_account() -> str:
    """Rate limits count per user (behind a proxy many clients share one address)."""
    return f"account:{current_account.id}" if current_account else "anonymous"


def _attempt() -> str | None:
    """The form's one-time token: the same form sent twice (double click) reuses its
    Checkout; a new visit to the page makes a new one (an expired PIX code, say)."""
    token = request.form.get("attempt", "")
    return token if len(token) == 32 and all(c in "0123456789abcdef" for c in token) else None


def may_pay() -> bool:
    client = g.client
    return current_account.id == client.responsible_account_id or has_permission(perm.BILLING)


@bp.get("")
def page():
    client = g.client
    reseller = db.session.get(Reseller, client.reseller_id)
    subscription = current_subscription(client)
    active = client.status == ClientStatus.ACTIVE
    invoices = db.session.scalars(
        scoped_select(Payment, client_id=client.id)
        .where(Payment.status != PaymentStatus.CANCELLED)
        .order_by(Payment.due_date.desc(), Payment.id.desc())
        .limit(24)
    ).all()
    if request.args.get("checkout") == CheckoutReturn.DONE:
        flash(_("Thank you. The payment shows here as soon as Stripe confirms it."), "info")
    elif request.args.get("checkout") == CheckoutReturn.CANCELLED:
        flash(_("Payment not finished. You can try again."), "warning")
    return render_template(
        "billing/subscription.html",
        client=client,
        subscription=subscription,
        use=period_use(client.id, subscription, today_local()) if active else None,
        offered=[] if active else offered_plans(client.reseller_id),
        invoices=invoices,
        may_pay=may_pay(),
        responsible=client.responsible,
        online=stripe_gateway.is_configured(),
        reseller=reseller,
        pack_price=reseller.extra_pack_price_cents,
        pack_size=reseller.extra_pack_conversations,
        max_packs=MAX_PACKS,
        attempt=secrets.token_hex(16),
        states=states,
    )


def _urls() -> dict[str, str]:
    return {
        # Where Stripe sends the browser back: the canonical URL, never the request's Host.
        "success_url": reseller_url(
            require_reseller(), "subscription.page", checkout=CheckoutReturn.DONE.value
        ),
        "cancel_url": reseller_url(
            require_reseller(), "subscription.page", checkout=CheckoutReturn.CANCELLED.value
        ),
    }


@bp.post("/invoices/<int:payment_id>/pay")
@limiter.limit("20 per hour", key_func=_per_account)
def pay(payment_id: int):
    if not may_pay():
        abort(403)
    client = g.client
    payment = get_or_404(Payment, payment_id, client_id=client.id)
    method, attempt = request.form.get("method", ""), _attempt()
    if payment.status not in OPEN_PAYMENT_STATUSES:
        flash(_("This invoice is not open."), "error")
        return redirect(url_for("subscription.page")), 303
    if payment.payment_type not in ONLINE_TYPES:
        flash(_("This invoice is paid by transfer: tell your provider when it is done."), "error")
        return redirect(url_for("subscription.page")), 303
    if method not in stripe_gateway.CHECKOUT_METHODS or attempt is None:
        flash(_("Choose card, boleto or PIX."), "error")
        keep_typed()
        return redirect(url_for("subscription.page")), 303
    key = f"invoice-{payment.id}-{method}-{attempt}"
    try:
        session = stripe_gateway.create_checkout(
            client,
            method=method,
            amount_cents=payment.amount_cents,
            description=payment.description or _("Invoice"),
            metadata={"kind": "invoice", "payment_id": payment.id, "client_id": client.id, "method": method},
            idempotency_key=key,
            **_urls(),
        )
    except stripe_gateway.StripeUnavailable as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("subscription.page")), 303
    payment.stripe_checkout_id = session.id
    audit.record("billing.checkout_started", client, details={"payment_id": payment.id, "method": method})
    db.session.commit()
    return redirect(session.url), 303


@bp.post("/extras")
@limiter.limit("20 per hour", key_func=_per_account)
def buy_extras():
    if not may_pay():
        abort(403)
    client = g.client
    reseller = db.session.get(Reseller, client.reseller_id)
    if reseller.extra_pack_price_cents <= 0:
        abort(404)
    if client.status != ClientStatus.ACTIVE:
        flash(_("Extra conversations are sold to clients with an active plan."), "error")
        return redirect(url_for("subscription.page")), 303
    packs = parse_int(request.form.get("packs")) or 0
    method, attempt = request.form.get("method", ""), _attempt()
    if not 1 <= packs <= MAX_PACKS or method not in stripe_gateway.CHECKOUT_METHODS or attempt is None:
        flash(_("Choose from 1 to %(n)d packs and card, boleto or PIX.", n=MAX_PACKS), "error")
        keep_typed()
        return redirect(url_for("subscription.page")), 303
    conversations = packs * reseller.extra_pack_conversations
    amount = packs * reseller.extra_pack_price_cents
    key = f"extras-{client.id}-{packs}-{method}-{attempt}"
    try:
        session = stripe_gateway.create_checkout(
            client,
            method=method,
            amount_cents=amount,
            description=_("%(n)d extra conversations", n=conversations),
            metadata={
                "kind": PaymentKind.EXTRA_PACK.value,
                "client_id": client.id,
                "conversations": conversations,
                "method": method,
            },
            idempotency_key=key,
            **_urls(),
        )
    except stripe_gateway.StripeUnavailable as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("subscription.page")), 303
    audit.record(
        "billing.extras_checkout_started",
        client,
        details={"conversations": conversations, "amount": money(amount), "method": method},
    )
    db.session.commit()
    return redirect(session.url), 303
