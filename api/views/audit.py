"""``/api/v1/audit-events``: the reseller's audit log with the panel's filters (scope
``audit:read``), newest first, a page at a time."""

from __future__ import annotations

from flask import jsonify
from flask.views import MethodView

from api import audit_events
from api.audit_schemas import AuditListArgs, AuditListSchema
from api.protection import require_scope
from api.states import ApiScope
from api.views.blueprints import problems, security, v1
from core.tenancy import require_reseller


@v1.route("/audit-events", tags=["Audit log"])
class AuditEvents(MethodView):
    @security(ApiScope.AUDIT_READ)
    @problems(401, 403, 422, 429)
    @require_scope(ApiScope.AUDIT_READ)
    @v1.arguments(AuditListArgs, location="query", as_kwargs=True)
    @v1.response(200, AuditListSchema)
    def get(self, limit=audit_events.DEFAULT_LIMIT, starting_after=None, **filter_args):
        """The reseller's audit events, filtered like the audit page, newest first."""
        reseller = require_reseller()
        filters = audit_events.read_filters(filter_args)
        rows, has_more = audit_events.list_page(reseller.id, filters, limit, starting_after)
        return jsonify({"data": [audit_events.event_json(e) for e in rows], "has_more": has_more})
