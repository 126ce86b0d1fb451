"""A desk's *Clientes* tab (seed 001): the linked clients with search, "+ Cliente" (one or
several), "+ Adicionar todos os clientes" (and every client created later), removal."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from auth.access import current_account
from core.tenancy import get_or_404
from core.validation import parse_int
from desk import links
from desk.models import Desk
from desk.views.blueprint import attempt, bp, form_list


@bp.get("/<int:desk_id>/clients")
def desk_clients(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    search = request.args.get("q", "")[:80]
    pick = request.args.get("pick", "")[:80]
    page = parse_int(request.args.get("page"), min=1, max=100_000) or 1
    rows, total = links.linked_clients(desk, search, page)
    return render_template(
        "desk/desk_clients.html",
        desk=desk,
        tab="clients",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // links.PAGE_SIZE)),
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


@bp.post("/<int:desk_id>/clients/remove-all")
def desk_clients_remove_all(desk_id: int):
    desk = get_or_404(Desk, desk_id)
    attempt(lambda: links.unlink_all_clients(desk), _removed_all)
    return redirect(url_for("desk.desk_clients", desk_id=desk_id))


def _removed_all(counts: tuple[int, int]) -> str:
    removed, kept = counts
    if kept:
        return _(
            "%(removed)d client(s) removed; %(kept)d kept: they have open or pending-review tickets here.",
            removed=removed,
            kept=kept,
        )
    return _("Removed successfully")
