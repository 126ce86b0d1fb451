"""Deleting a client from the panel: warning, one-time code, confirmation; the list of
clients being deleted, where a deletion can be cancelled until its purge starts.
Thin views over ``reseller.deletion``."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth import codes
from auth import permissions as perm
from auth.access import current_account, require_permission
from core import audit
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from reseller import deletion as service
from reseller.forms import DeletionCodeForm
from reseller.models import ClientDeletion, ClientDeletionCode
from reseller.views.blueprint import bp
from tenant.models import Client


def code_message(refused: codes.CodeRefused) -> str:
    return {
        codes.WRONG: _("The code is incorrect. Try again."),
        codes.EXPIRED: _("This code has expired. Ask for a new one."),
        codes.USED: _("This code was already used. Ask for a new one."),
        codes.TOO_MANY_TRIES: _("Too many wrong tries. Ask for a new code."),
        codes.TOO_SOON: _("Wait %(n)d seconds before asking for another code.", n=refused.wait_seconds),
        codes.TOO_MANY_SENDS: _("Too many codes were asked for. Wait a while and start again."),
    }[refused.reason]


@bp.get("/clients/<int:client_id>/delete")
@require_permission(perm.DELETE_CLIENTS)
def client_delete(client_id: int):
    """Step 1: what will be removed, counted for this client."""
    client = get_or_404(Client, client_id)
    return render_template(
        "reseller/client_delete.html",
        client=client,
        counts=service.deletion_counts(client),
        labels=service.COUNT_LABELS,
        kept_audit=service.kept_audit_entries(client),
        uses_authenticator=service.uses_authenticator(current_account),
        delay_hours=service.purge_delay(require_reseller()).total_seconds() // 3600,
    )


@bp.post("/clients/<int:client_id>/delete/code")
@require_permission(perm.DELETE_CLIENTS)
def client_delete_code(client_id: int):
    """Step 2: send the code (or, with an authenticator app, ask for its code)."""
    client = get_or_404(Client, client_id)
    try:
        service.request_code(current_account, client)
    except codes.CodeRefused as refused:
        db.session.rollback()
        flash(code_message(refused), "error")
        if service.live_code(current_account, client) is None:
            return redirect(url_for("reseller.client_delete", client_id=client.id))
    else:
        db.session.commit()
    return redirect(url_for("reseller.client_delete_confirm", client_id=client.id), 303)


def _code_page(client: Client, form: DeletionCodeForm, row: ClientDeletionCode, status: int = 200):
    return render_template(
        "reseller/client_delete_code.html",
        client=client,
        form=form,
        method=row.method,
        email=current_account.email,
        minutes=int(codes.CODE_TTL.total_seconds() // 60),
    ), status


@bp.route("/clients/<int:client_id>/delete/confirm", methods=["GET", "POST"])
@require_permission(perm.DELETE_CLIENTS)
def client_delete_confirm(client_id: int):
    """Step 3: the code, then the deletion."""
    client = get_or_404(Client, client_id)
    form = DeletionCodeForm()
    row = service.live_code(current_account, client)
    if request.method == "GET":
        if row is None:
            return redirect(url_for("reseller.client_delete", client_id=client.id))
        return _code_page(client, form, row)
    if not form.validate_on_submit():
        if row is None:
            return redirect(url_for("reseller.client_delete", client_id=client.id))
        form.code.errors = [_("Enter the 6-digit code.")]
        return _code_page(client, form, row, 422)
    name = client.trade_name
    try:
        deletion = service.confirm_deletion(current_account, client, form.code.data)
    except codes.CodeRefused as refused:
        db.session.commit()  # the spent try counts
        row = service.live_code(current_account, client) or service.latest_code(current_account, client)
        if row is None:
            return redirect(url_for("reseller.client_delete", client_id=client.id))
        form.code.errors = [code_message(refused)]
        return _code_page(client, form, row, 422)
    except service.DeletionRefused as refused:
        db.session.rollback()
        client = get_or_404(Client, client_id)
        audit.record("client.deletion_refused", client, details={"reason": str(refused)})
        db.session.commit()
        flash(str(refused), "error")
        return redirect(url_for("reseller.client_delete", client_id=client.id))
    db.session.commit()
    flash(
        _(
            "%(name)s was deleted: nobody can use it any more and its data will be purged. "
            "Until the purge starts you can still cancel the deletion here.",
            name=name,
        ),
        "success",
    )
    return redirect(url_for("reseller.client_deletions", _anchor=f"deletion-{deletion.id}"))


@bp.get("/clients/deletions")
@require_permission(perm.DELETE_CLIENTS)
def client_deletions():
    """Clients being deleted (cancellable until the purge starts) and past deletions."""
    reseller = require_reseller()
    rows = service.deletion_rows(reseller.id)
    return render_template("reseller/client_deletions.html", rows=rows, labels=service.COUNT_LABELS)


@bp.post("/clients/deletions/<int:deletion_id>/cancel")
@require_permission(perm.DELETE_CLIENTS)
def client_deletion_cancel(deletion_id: int):
    deletion = get_or_404(ClientDeletion, deletion_id)
    try:
        client = service.cancel_deletion(deletion, current_account)
    except service.DeletionRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("reseller.client_deletions"))
    db.session.commit()
    flash(
        _(
            "The deletion of %(name)s was cancelled: the client is back. Its users' sessions stay "
            "ended and its subscription stays cancelled.",
            name=client.trade_name,
        ),
        "success",
    )
    return redirect(url_for("reseller.client_deletions"))
