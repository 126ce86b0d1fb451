"""The client's own page (``/reseller/clients/<id>``): its header with the actions and
the *Resumo* tab, the client report of seed 003. The other tabs are the existing
client pages (data, users, billing, history), which share the header and tabs."""

from __future__ import annotations

from flask import render_template

from auth import permissions as perm
from auth.access import require_permission
from core.tenancy import get_or_404
from core.timeutil import today_local
from desk.links import client_desks
from reseller.client_report import client_report
from reseller.views.blueprint import bp
from tenant.models import Client


@bp.get("/clients/<int:client_id>")
@require_permission(perm.CLIENTS)
def client_page(client_id: int):
    client = get_or_404(Client, client_id)
    report = client_report(client, today_local())
    return render_template(
        "reseller/client_page.html",
        client=client,
        report=report,
        tab="summary",
        desks=client_desks(client),
        open_tickets=report.open_tickets,
    )
