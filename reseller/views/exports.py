"""Exporting the client list: small ones at once as XLSX, large ones as a background job
whose progress page polls until the file can be downloaded."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale

from auth import permissions as perm
from auth.access import current_account, require_permission
from core import jobs
from core.extensions import db
from core.tenancy import get_or_404, require_reseller
from reseller import client_list
from reseller.exports import export_file_name, export_rows, write_xlsx
from reseller.models import ExportJob
from reseller.states import ExportKind, ExportStatus
from reseller.views.blueprint import bp


@bp.get("/clients/export.xlsx")
@require_permission(perm.CLIENTS)
def clients_export():
    """The filtered list as XLSX; large ones are offered as a background job instead."""
    reseller = require_reseller()
    _plans, filters = client_list.read_filters(reseller.id, request.args)
    if filters.errors:
        flash(" ".join(filters.errors), "error")
        return redirect(url_for("reseller.clients", **filters.query_args()))
    total = client_list.count_clients(reseller.id, filters)
    if total > current_app.config["EXPORT_SYNC_MAX_ROWS"]:
        return render_template("reseller/export_confirm.html", filters=filters, total=total)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to send_file, closed by it
    write_xlsx(spool, export_rows(db.session, reseller.id, filters))
    spool.seek(0)
    return send_file(
        spool,
        as_attachment=True,
        download_name=export_file_name(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.post("/exports")
@require_permission(perm.CLIENTS)
def export_start():
    reseller = require_reseller()
    _plans, filters = client_list.read_filters(reseller.id, request.form)
    if filters.errors:
        flash(" ".join(filters.errors), "error")
        return redirect(url_for("reseller.clients"))
    export = ExportJob(
        reseller_id=reseller.id,
        requested_by_account_id=current_account.id,
        filters=filters.export_args(),
        locale=str(get_locale()),
    )
    db.session.add(export)
    db.session.flush()
    jobs.enqueue(
        "reseller.tasks.run_client_export",
        export.id,
        queue="exports",
        job_id=f"client-export-{export.id}",
        timeout=1800,
        retries=2,
    )
    db.session.commit()
    return redirect(url_for("reseller.export_status", export_id=export.id))


def _own_export(export_id: int) -> ExportJob:
    export = get_or_404(ExportJob, export_id)
    if export.requested_by_account_id != current_account.id or export.kind != ExportKind.CLIENTS:
        abort(404)
    return export


@bp.get("/exports/<int:export_id>")
@require_permission(perm.CLIENTS)
def export_status(export_id: int):
    export = _own_export(export_id)
    template = (
        "reseller/_export_progress.html"
        if request.headers.get("HX-Request")
        else "reseller/export_status.html"
    )
    return render_template(template, export=export)


@bp.get("/exports/<int:export_id>/download")
@require_permission(perm.CLIENTS)
def export_download(export_id: int):
    export = _own_export(export_id)
    if export.status != ExportStatus.DONE or not export.file_path or not Path(export.file_path).is_file():
        abort(404)
    return send_file(
        export.file_path,
        as_attachment=True,
        download_name=export.file_name,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
