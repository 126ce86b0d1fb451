"""The audit log page (``/reseller/audit``): every event of the reseller, filters,
newest first, "older"/"newer" pages by keyset; htmx partial answers."""

from __future__ import annotations

from flask import make_response, render_template, request, url_for

from auth import permissions as perm
from auth.access import require_permission
from core.audit_labels import ACTION_LABELS, ACTOR_KIND_LABELS, action_label
from core.tenancy import require_reseller
from reseller import audit_log
from reseller.views.blueprint import bp


@bp.get("/audit")
@require_permission(perm.AUDIT_LOG)
def audit():
    reseller = require_reseller()
    filters = audit_log.AuditFilters.from_args(request.args)
    cursors = {key: request.args[key] for key in ("before", "after") if request.args.get(key)}
    page = audit_log.page(reseller.id, filters, **cursors)
    context = dict(
        page=page,
        filters=filters,
        people=audit_log.people(reseller.id, page.events),
        clients=audit_log.client_names(reseller.id, page.events),
        action_label=action_label,
        action_choices=sorted(ACTION_LABELS.items(), key=lambda item: str(item[1]).casefold()),
        kind_labels=ACTOR_KIND_LABELS,
        changes=audit_log.changes,
        other_details=audit_log.other_details,
    )
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        response = make_response(render_template("reseller/_audit_results.html", **context))
        query = filters.url_query(**cursors)
        response.headers["HX-Push-Url"] = url_for("reseller.audit") + (f"?{query}" if query else "")
        return response
    return render_template("reseller/audit.html", **context), (400 if filters.errors else 200)
