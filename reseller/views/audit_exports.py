"""Exporting the filtered audit log (CSV or JSON Lines) as a background job: its
progress page polls until the file is ready; only the staff member who asked downloads
it, for ten minutes."""

from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from auth import permissions as perm
from auth.access import current_account, require_permission
from core import audit, jobs
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from reseller import audit_export
from reseller.audit_log import AuditFilters
from reseller.models import ExportJob
from reseller.states import AUDIT_EXPORT_KINDS, ExportKind
from reseller.views.blueprint import bp

FORMATS = {"csv": ExportKind.AUDIT_CSV, "jsonl": ExportKind.AUDIT_JSONL}


@bp.post("/audit/exports")
@require_permission(perm.AUDIT_LOG)
def audit_export_start():
    reseller = require_reseller()
    filters = AuditFilters.from_args(request.form)
    kind = FORMATS.get(request.form.get("format", ""))
    if kind is None:
        filters.errors.append(_("Choose CSV or JSON Lines."))
    if filters.errors:
        flash(" ".join(filters.errors), "error")
        return redirect(url_for("reseller.audit", **filters.query_args()))
    export = ExportJob(
        reseller_id=reseller.id,
        requested_by_account_id=current_account.id,
        kind=kind,
        filters=filters.query_args(),
        locale=str(get_locale()),
    )
    db.session.add(export)
    db.session.flush()
    audit.record("audit.exported", export, details={"format": kind, "filters": filters.query_args()})
    jobs.enqueue(
        "reseller.tasks.run_audit_export",
        export.id,
        queue="exports",
        job_id=f"audit-export-{export.id}",
        timeout=1800,
        retries=2,
    )
    db.session.commit()
    return redirect(url_for("reseller.audit_export_status", export_id=export.id))


def _own_audit_export(export_id: int) -> ExportJob:
    export = get_or_404(ExportJob, export_id)
    if export.requested_by_account_id != current_account.id or export.kind not in AUDIT_EXPORT_KINDS:
        abort(404)
    return export


@bp.get("/audit/exports/<int:export_id>")
@require_permission(perm.AUDIT_LOG)
def audit_export_status(export_id: int):
    export = _own_audit_export(export_id)
    template = (
        "reseller/_audit_export_progress.html"
        if request.headers.get("HX-Request")
        else "reseller/audit_export.html"
    )
    return render_template(template, export=export, downloadable=audit_export.downloadable(export))


@bp.get("/audit/exports/<int:export_id>/download")
@require_permission(perm.AUDIT_LOG)
def audit_export_download(export_id: int):
    export = _own_audit_export(export_id)
    if not audit_export.downloadable(export) or not export.file_path or not Path(export.file_path).is_file():
        abort(404)
    return send_file(
        export.file_path,
        as_attachment=True,
        download_name=export.file_name,
        mimetype=audit_export.MEDIA_TYPES[ExportKind(export.kind)],
    )
