"""Finance e-mails: an invoice overdue, a payment received, a new plan.

Each notice goes to the reseller's staff whose role has *finance e-mails* and to the
client's responsible user, one message per person. They are queued in the current
transaction and sent after it commits (core.mail), so a rolled-back change sends
nothing. Texts are in the platform's language (pt-BR by default).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account, Login
from billing.states import NoticeKind
from core import branding
from core.extensions import db
from core.formatting import date_br, money
from core.links import reseller_url
from core.mail import send_mail
from core.models import Reseller

KINDS = tuple(NoticeKind)


def finance_staff_emails(reseller_id: int) -> list[str]:
    rows = db.session.execute(
        select(Account, Login.email)
        .join(Login, Login.id == Account.login_id)
        .where(*Account.staff_of(reseller_id), Account.active.is_(True))
    ).all()
    return sorted(
        {email for account, email in rows if account.role and account.role.grants(perm.FINANCE_EMAILS)}
    )


def responsible_email(client) -> str | None:
    if not client.responsible_account_id:
        return None
    return db.session.scalar(
        select(Login.email)
        .join(Account, Account.login_id == Login.id)
        .where(
            Account.id == client.responsible_account_id,
            Account.client_id == client.id,
            Account.active.is_(True),
        )
    )


def queue(client, kind: str, *, payment=None, plan=None, staff_only: bool = False) -> int:
    """Queue the ``kind`` notice about ``client``; returns how many e-mails."""
    reseller = db.session.get(Reseller, client.reseller_id)
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "pt_BR")):
        staff_subject, staff_text = _staff_text(kind, client, reseller, payment, plan)
        if not staff_only:
            client_subject, client_text = _client_text(kind, client, reseller, payment, plan)
    sent = 0
    identity = branding.mail_identity(reseller)
    for email in finance_staff_emails(client.reseller_id):
        send_mail(email, staff_subject, staff_text, **identity)
        sent += 1
    email = None if staff_only else responsible_email(client)
    if email:
        send_mail(email, client_subject, client_text, **identity)
        sent += 1
    return sent


def _invoice_lines(payment) -> str:
    if payment is None:
        return ""
    rows = (
        (_("Invoice"), payment.description or "—"),
        (_("Amount"), money(payment.amount_cents)),
        (_("Due date"), date_br(payment.due_date)),
    )
    return "\n".join(f"- {label}: {value}" for label, value in rows)


def _staff_text(kind, client, reseller, payment, plan) -> tuple[str, str]:
    name = client.trade_name
    if kind == NoticeKind.OVERDUE:
        subject = _("Overdue invoice: %(client)s", client=name)
        intro = _(
            "An invoice of %(client)s is overdue. After %(days)d days overdue the client is suspended "
            "automatically.",
            client=name,
            days=reseller.grace_days,
        )
    elif kind == NoticeKind.PAID:
        subject = _("Payment received: %(client)s", client=name)
        intro = _("%(client)s paid an invoice.", client=name)
    elif kind == NoticeKind.PAID_WITHOUT_EFFECT:
        subject = _("Payment for a voided invoice: %(client)s", client=name)
        intro = _(
            "%(client)s paid an invoice that had been voided (or an upgrade whose period is over). "
            "The plan did not change: refund the payment or apply it by hand.",
            client=name,
        )
    elif kind == NoticeKind.PAID_TWICE:
        subject = _("Invoice paid twice: %(client)s", client=name)
        intro = _("%(client)s paid an invoice that was already paid. Refund the second payment.", client=name)
    else:
        subject = _("New plan: %(client)s", client=name)
        intro = _("%(client)s has a new plan: %(plan)s.", client=name, plan=plan.name if plan else "—")
    footer = _("See the client's Plan page in the panel of %(reseller)s:", reseller=reseller.name)
    footer += "\n" + reseller_url(reseller, "reseller.client_billing", client_id=client.id)
    return subject, "\n\n".join(part for part in (intro, _invoice_lines(payment), footer) if part)


def _client_text(kind, client, reseller, payment, plan) -> tuple[str, str]:
    if kind == NoticeKind.OVERDUE:
        subject = _("Your invoice is overdue")
        intro = _(
            "The invoice below of %(client)s is overdue. Pay it on the Subscription page to keep opening "
            "new conversations: after %(days)d days overdue the account is suspended.",
            client=client.trade_name,
            days=reseller.grace_days,
        )
    elif kind == NoticeKind.PAID:
        subject = _("Payment received")
        intro = _("Thank you: we received the payment of %(client)s.", client=client.trade_name)
    else:
        subject = _("Your new plan: %(plan)s", plan=plan.name if plan else "—")
        intro = _(
            "%(client)s now has the plan %(plan)s.", client=client.trade_name, plan=plan.name if plan else "—"
        )
    footer = _("Your subscription: %(url)s", url=reseller_url(reseller, "subscription.page"))
    footer += "\n" + _("Questions? Write to %(email)s.", email=reseller.support_email or reseller.name)
    return subject, "\n\n".join(part for part in (intro, _invoice_lines(payment), footer) if part)
