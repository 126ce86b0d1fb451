"""A desk's *Clientes* tab (seed 001): the linked clients with search, "+ Cliente" (one or
several), "+ Adicionar todos os clientes" (and every client created later), removal."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.extensions import db
from core.tenancy import get_or_404
from desk import links
from desk.errors import DeskRejected
from desk.models import Desk
from desk.views.blueprint import bp, flash_refusal, form_list


@bp.get("/<int:desk_id>/clients")
def desk_clients(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    search = request.args.get("q", "")[:80]
    pick = request.args.get("pick", "")[:80]
    return render_template(
        "desk/desk_clients.html",
        desk=desk,
        tab="clients",
        rows=links.linked_clients(desk, search),
        search=search,
        pick=pick,
        candidates=links.linkable_clients(desk, pick),
    )


@bp.post("/<int:desk_id>/clients")
def desk_clients_add(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    try:
        added = links.link_clients(desk, form_list("client_ids"), current_account.id)
    except DeskRejected as exc:
        db.session.rollback()
        flash_refusal(exc)
    else:
        db.session.commit()
        flash(_("%(n)d client(s) added.", n=added), "success")
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))


@bp.post("/<int:desk_id>/clients/all")
def desk_clients_all(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    added = links.link_all_clients(
        desk, current_account.id, include_future=bool(request.form.get("include_future"))
    )
    db.session.commit()
    flash(_("%(n)d client(s) added.", n=added), "success")
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))


@bp.post("/<int:desk_id>/clients/<int:client_id>/remove")
def desk_client_remove(desk_id: int, client_id: int):
    desk = get_or_404(Desk, desk_id)
    try:
        links.unlink_client(desk, client_id)
    except DeskRejected as exc:
        db.session.rollback()
        flash_refusal(exc)
    else:
        db.session.commit()
        flash(_("Removed successfully"), "success")  # seed 001: "Removido com sucesso"
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))
