"""The reseller's ticket statuses (``/reseller/desks/statuses``): names, what the client
sees, whether each pauses the SLA clock, the default of each kind."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.tenancy import get_or_404, require_reseller
from desk import statuses as status_rules
from desk.models import TicketStatus
from desk.states import StatusKind
from desk.views.blueprint import attempt, bp


@bp.get("/statuses")
def statuses():
    reseller = require_reseller()
    return render_template(
        "desk/statuses.html",
        rows=status_rules.reseller_statuses(reseller.id),
        kinds=list(StatusKind),
        kind_labels=status_rules.KIND_LABELS,
        status_name=status_rules.status_name,
        client_status_name=status_rules.client_status_name,
    )


def _after(change, message):
    attempt(change, message)
    return redirect(url_for("desk.statuses"))


@bp.post("/statuses")
def status_add():
    reseller = require_reseller()
    form = request.form
    return _after(
        lambda: status_rules.add_status(
            reseller.id,
            form.get("kind", ""),
            form.get("name", ""),
            form.get("client_name", ""),
            bool(form.get("pauses_sla")),
        ),
        _("Status added."),
    )


@bp.post("/statuses/<int:status_id>")
def status_edit(status_id: int):
    status = get_or_404(TicketStatus, status_id)
    form = request.form
    return _after(
        lambda: status_rules.update_status(
            status, form.get("name", ""), form.get("client_name", ""), bool(form.get("pauses_sla"))
        ),
        _("Status saved."),
    )


@bp.post("/statuses/<int:status_id>/default")
def status_default(status_id: int):
    status = get_or_404(TicketStatus, status_id)
    return _after(lambda: status_rules.make_default(status), _("Status saved."))


@bp.post("/statuses/<int:status_id>/delete")
def status_delete(status_id: int):
    status = get_or_404(TicketStatus, status_id)
    return _after(lambda: status_rules.delete_status(status), _("Status deleted."))
