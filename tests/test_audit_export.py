"""Exporting the filtered audit log: a background job with progress, CSV (formula-safe)
or JSON Lines holding exactly the filtered rows, downloadable for ten minutes by the
staff member who asked only."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from auth import permissions as perm
from core.extensions import db
from core.models import AuditEvent
from reseller.models import ExportJob
from tests.conftest import Browser
from tests.test_audit_page import add_event


@pytest.fixture
def auditor(factory, tenants, make_browser):
    staff = factory.staff(tenants.a.id, permissions=[perm.AUDIT_LOG], email="auditora@a.test")
    browser = make_browser()
    browser.login(staff.email)
    return browser


def _export(app, browser, run_jobs, **form) -> tuple[int, str]:
    started = browser.post("/reseller/audit/exports", form)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    run_jobs()
    with app.app_context():
        export = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
        assert export.status == "done"
        export_id = export.id
    return export_id, started.headers["Location"]


def test_the_csv_export_holds_exactly_the_filtered_rows_formula_safe(app, tenants, auditor, run_jobs):
    wanted = [
        add_event(app, tenants.a.id, "plan.created", actor_label='=HYPERLINK("http://x")', ip="198.51.100.1"),
        add_event(app, tenants.a.id, "plan.created", details={"name": "+55 Plano"}),
    ]
    add_event(app, tenants.a.id, "plan.retired")
    add_event(app, tenants.b.id, "plan.created")
    export_id, status_url = _export(app, auditor, run_jobs, action="plan.created", format="csv")
    page = auditor.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"/reseller/audit/exports/{export_id}/download" in page and "somente por você" in page
    response = auditor.get(f"/reseller/audit/exports/{export_id}/download")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        "attachment" in response.headers["Content-Disposition"]
        and ".csv" in response.headers["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)), delimiter=";"))  # pt-BR: ";"
    response.close()
    assert rows[0][:3] == ["ID", "Data e hora (Brasília)", "Autor"]
    assert [int(r[0]) for r in rows[1:]] == list(reversed(wanted))
    assert {r[7] for r in rows[1:]} == {"Plano criado"}
    formula = next(r for r in rows[1:] if int(r[0]) == wanted[0])
    assert formula[6] == '\'=HYPERLINK("http://x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows[1:] for cell in r)


def test_the_json_lines_export_holds_the_same_rows(app, tenants, auditor, run_jobs):
    client_event = add_event(app, tenants.a.id, "client.suspended", client_id=tenants.a.client.id)
    add_event(app, tenants.a.id, "client.suspended")
    export_id, _url = _export(app, auditor, run_jobs, client=str(tenants.a.client.id), format="jsonl")
    response = auditor.get(f"/reseller/audit/exports/{export_id}/download")
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    response.close()
    with app.app_context():
        expected = db.session.scalars(
            select(AuditEvent.id)
            .where(AuditEvent.reseller_id == tenants.a.id, AuditEvent.client_id == tenants.a.client.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        ).all()
    assert [line["id"] for line in lines] == expected and client_event in expected
    assert all(line["client_id"] == tenants.a.client.id for line in lines)


def test_only_the_staff_member_who_asked_downloads_and_only_for_ten_minutes(
    app, factory, tenants, auditor, run_jobs
):
    add_event(app, tenants.a.id, "plan.created")
    export_id, _url = _export(app, auditor, run_jobs, format="csv")
    colleague_account = factory.staff(tenants.a.id, permissions=[perm.AUDIT_LOG], email="colega@a.test")
    colleague = Browser(app)
    colleague.login(colleague_account.email)
    assert colleague.get(f"/reseller/audit/exports/{export_id}").status_code == 404
    assert colleague.get(f"/reseller/audit/exports/{export_id}/download").status_code == 404
    owner_b = Browser(app, "b.test")
    owner_b.login("owner@b.test")
    assert owner_b.get(f"/reseller/audit/exports/{export_id}/download").status_code == 404
    # The client list's export pages do not serve it either.
    assert auditor.get(f"/reseller/exports/{export_id}/download").status_code in (403, 404)
    with app.app_context():
        export = db.session.get(ExportJob, export_id)
        export.finished_at -= timedelta(minutes=10, seconds=1)
        db.session.commit()
    assert auditor.get(f"/reseller/audit/exports/{export_id}/download").status_code == 404
    assert "não está mais disponível" in auditor.get(f"/reseller/audit/exports/{export_id}").get_data(
        as_text=True
    )


def test_a_bad_format_or_filter_exports_nothing_and_says_why(app, tenants, auditor):
    for form in ({"format": "xlsx"}, {"format": "csv", "ip": "nope"}):
        response = auditor.post("/reseller/audit/exports", form)
        assert response.status_code == 302 and response.headers["Location"].startswith("/reseller/audit")
    page = auditor.get("/reseller/audit").get_data(as_text=True)
    assert "Escolha CSV ou JSON Lines." in page or "IP deve ser" in page
    with app.app_context():
        assert db.session.scalar(select(ExportJob)) is None


def test_the_export_is_itself_audited_and_needs_the_permission(
    app, factory, tenants, auditor, make_browser, run_jobs
):
    _export(app, auditor, run_jobs, format="jsonl", action="plan.created")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.exported"))
        assert event.details == {"format": "audit_jsonl", "filters": {"action": "plan.created"}}
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS])
    other = make_browser()
    other.login(staff.email)
    assert other.post("/reseller/audit/exports", {"format": "csv"}).status_code == 403
