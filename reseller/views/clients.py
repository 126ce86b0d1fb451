"""The client list (``/reseller/clients``): filters, sorting, pages; htmx partial answers."""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for

from auth import permissions as perm
from auth.access import require_permission
from core.tenancy import require_reseller
from reseller import client_list, client_pages
from reseller.views.blueprint import bp
from reseller.views.client_rows import ClientRows
from tenant.models import PAYMENT_STATUSES, PAYMENT_TYPES


@bp.get("/")
def index():
    return redirect(url_for("reseller.clients"))


@bp.get("/clients")
@require_permission(perm.CLIENTS)
def clients():
    reseller = require_reseller()
    rows_only = bool(request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"))
    plans, filters = client_list.read_filters(reseller.id, request.args, plan_menu=not rows_only)
    page = client_pages.list_clients(reseller.id, filters)
    context = dict(
        page=page,
        client_rows=ClientRows(url_for("reseller.clients")),
        filters=filters,
        plans=plans,
        payment_types=PAYMENT_TYPES,
        payment_statuses=PAYMENT_STATUSES,
        sync_limit=current_app.config["EXPORT_SYNC_MAX_ROWS"],
        # Asked only of an empty list: a new reseller gets the first-client prompt.
        first_client=page.total == 0 and not client_pages.has_clients(reseller.id),
    )
    if rows_only:
        response = make_response(render_template("reseller/_client_results.html", **context))
        # The address bar shows the canonical query (no empty or default parameters).
        query = filters.url_query()
        response.headers["HX-Push-Url"] = url_for("reseller.clients") + (f"?{query}" if query else "")
        # htmx swaps only 2xx answers: the message about a bad filter must show.
        return response
    # A bad filter value is a 400 that still shows the list without it, and says why.
    return render_template("reseller/clients.html", **context), (400 if filters.errors else 200)
