"""A desk's *Clientes* tab (seed 001): the linked clients with search, "+ Cliente" (one or
several), "+ Adicionar todos os clientes" (and every client created later), removal."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.tenancy import get_or_404
from desk import links
from desk.models import Desk
from desk.views.blueprint import attempt, bp, form_list


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
    attempt(lambda: links.link_clients(desk, form_list("client_ids"), current_account.id), _added)
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))


def _added(count: int) -> str:
    return _("%(n)d client(s) added.", n=count)


@bp.post("/<int:desk_id>/clients/all")
def desk_clients_all(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    future = bool(request.form.get("include_future"))
    attempt(lambda: links.link_all_clients(desk, current_account.id, include_future=future), _added)
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))


@bp.post("/<int:desk_id>/clients/<int:client_id>/remove")
def desk_client_remove(desk_id: int, client_id: int):
    desk = get_or_404(Desk, desk_id)
    # seed 001: "Removido com sucesso"
    attempt(lambda: links.unlink_client(desk, client_id), _("Removed successfully"))
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))
