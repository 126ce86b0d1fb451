"""The unknown senders queue (``/reseller/mail/unknown``): the reseller's waiting
messages (sender, subject, desk, when), each given a client or discarded, and its
original downloadable. Staff with *service desks*; giving a client also needs *client
users* (it makes the sender a user of that client)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, has_permission, require_permission
from core.extensions import db
from core.resubmit import keep_typed
from core.tenancy import require_reseller, scoped_select
from core.validation import parse_int
from desk.staffing import staff_desk_ids
from desk.tickets import TicketRefused
from intake import waiting
from intake.views.messages import raw_message
from tenant.models import Client
from tenant.users import ClientUserForbidden, ClientUserRejected

bp = Blueprint("mail_unknown", __name__, url_prefix="/reseller/mail/unknown", template_folder="../templates")


@bp.before_request
def _staff_with_desks_only():
    if current_account and not current_account.is_staff:
        abort(403)
    if not has_permission(perm.DESKS):
        abort(403)


def _message_or_404(message_id: int):
    row = waiting.waiting_message(require_reseller().id, staff_desk_ids(current_account), message_id)
    if row is None:
        abort(404)
    return row


# The clients the "give a client" field suggests by name (beyond, staff type the ID).
CLIENT_CHOICES = 1000


@bp.get("")
def queue():
    number = parse_int(request.args.get("page"), min=1) or 1
    page = waiting.waiting(require_reseller().id, staff_desk_ids(current_account), number)
    choices = []
    if page.rows and has_permission(perm.CLIENT_USERS):  # they may give a client: name them
        choices = db.session.execute(
            scoped_select(Client, Client.id, Client.trade_name)
            .order_by(Client.trade_name_sort)
            .limit(CLIENT_CHOICES)
        ).all()
    return render_template("intake/unknown_senders.html", page=page, client_choices=choices)


@bp.get("/<int:message_id>/original")
def original(message_id: int):
    return raw_message(_message_or_404(message_id))


@bp.post("/<int:message_id>/assign")
@require_permission(perm.CLIENT_USERS)
def assign(message_id: int):
    row = _message_or_404(message_id)
    raw = (request.form.get("client") or "").strip().split(" ", 1)[0]
    client_id = parse_int(raw, min=1)
    client = client_id and db.session.scalar(scoped_select(Client).where(Client.id == client_id))
    if not client:
        flash(_("Choose a client (its ID)."), "danger")
        keep_typed()
        return redirect(url_for("mail_unknown.queue"))
    try:
        waiting.assign(row, client, actor=current_account)
    except TicketRefused as refused:
        return _refused(refused.message)
    except (ClientUserRejected, ClientUserForbidden) as refused:
        return _refused(str(refused))
    db.session.commit()
    flash(
        _(
            "%(email)s is now a user of %(client)s; their e-mail opens its ticket.",
            email=row.sender,
            client=client.trade_name,
        ),
        "success",
    )
    return redirect(url_for("mail_unknown.queue"))


def _refused(message: str):
    db.session.rollback()
    flash(message, "danger")
    keep_typed()
    return redirect(url_for("mail_unknown.queue"))


@bp.post("/<int:message_id>/discard")
def discard(message_id: int):
    waiting.discard(_message_or_404(message_id))
    db.session.commit()
    flash(_("E-mail discarded."), "success")
    return redirect(url_for("mail_unknown.queue"))
