"""The audit log page (``/reseller/audit``): the reseller's events only, the *audit log*
permission, each filter, keyset pages, before/after of a change, pt-BR labels."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from flask import g

from auth import permissions as perm
from core import audit
from core.extensions import db
from core.models import AuditEvent
from core.states import ActorKind
from reseller import audit_log


def add_event(app, reseller_id: int, action: str = "client.updated", **fields) -> int:
    """One event written as audit.record writes it, with the given columns."""
    with app.test_request_context("/", base_url="http://a.test"):
        g.actor_account_id = fields.pop("actor_account_id", None)
        g.subject_account_id = fields.pop("subject_account_id", None)
        g.actor_kind = fields.pop("actor_kind", ActorKind.STAFF if g.actor_account_id else None)
        event = audit.record(
            action,
            details=fields.pop("details", {}),
            reseller_id=reseller_id,
            client_id=fields.pop("client_id", None),
        )
        for name, value in fields.items():
            setattr(event, name, value)
        db.session.commit()
        return event.id


@pytest.fixture
def auditor(factory, tenants, make_browser):
    staff = factory.staff(tenants.a.id, permissions=[perm.AUDIT_LOG])
    browser = make_browser()
    browser.login(staff.email)
    return browser


def shown_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-event="(\d+)"', response.get_data(as_text=True))]


def test_the_page_lists_the_resellers_events_newest_first_in_portuguese(app, tenants, auditor):
    older = add_event(app, tenants.a.id, "client.suspended", client_id=tenants.a.client.id)
    newer = add_event(app, tenants.a.id, "auth.login_failed", details={"reason": "wrong_password"})
    foreign = add_event(app, tenants.b.id, "client.suspended", client_id=tenants.b.client.id)
    page = auditor.get("/reseller/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Registro de auditoria" in html and "Falha no login" in html and "Suspenso" in html
    ids = shown_ids(page)
    assert ids.index(newer) < ids.index(older) and foreign not in ids
    assert "Alpha A" in html and "Beta B" not in html


def test_staff_without_the_permission_get_403_and_no_link(factory, tenants, make_browser):
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS])
    browser = make_browser()
    browser.login(staff.email)
    assert browser.get("/reseller/audit").status_code == 403
    assert "/reseller/audit" not in browser.get("/reseller/clients").get_data(as_text=True)


def test_the_panel_links_to_the_page_for_who_may_read_it(auditor, tenants):
    assert 'href="/reseller/audit"' in auditor.get("/reseller/audit").get_data(as_text=True)


def test_another_resellers_events_never_show_whatever_the_filter(app, tenants, auditor):
    foreign = add_event(app, tenants.b.id, "client.updated", client_id=tenants.b.client.id, ip="203.0.113.50")
    for query in (
        "",
        f"?client={tenants.b.client.id}",
        "?ip=203.0.113.50",
        "?action=client.updated",
        f"?object_type=clients&object_id={tenants.b.client.id}",
    ):
        assert foreign not in shown_ids(auditor.get(f"/reseller/audit{query}")), query


@pytest.mark.parametrize(
    "query, wanted",
    [
        ("kind=client_user", "user"),
        ("acting_as=1", "impersonation"),
        ("action=role.updated", "role"),
        ("client={client}", "client"),
        ("object_type=roles&object_id=77", "role"),
        ("ip=198.51.100.7", "ip"),
        ("date_from=2026-03-10&date_to=2026-03-10", "dated"),
    ],
)
def test_each_filter_narrows_to_its_events(app, tenants, auditor, query, wanted):
    a = tenants.a.id
    made = {
        "user": add_event(
            app, a, "inbox.message_sent", actor_account_id=900, actor_kind=ActorKind.CLIENT_USER
        ),
        "impersonation": add_event(app, a, "ticket.reply", actor_account_id=901, subject_account_id=902),
        "role": add_event(app, a, "role.updated", object_type="roles", object_id="77"),
        "client": add_event(app, a, "client.suspended", client_id=tenants.a.client.id),
        "ip": add_event(app, a, "auth.login", ip="198.51.100.7"),
        # 10 March 2026, 01:30 in São Paulo is 04:30 UTC; 02:30 UTC is still the 9th there.
        "dated": add_event(app, a, "plan.created", created_at=datetime(2026, 3, 10, 4, 30)),
        "day_before": add_event(app, a, "plan.created", created_at=datetime(2026, 3, 10, 2, 30)),
    }
    response = auditor.get("/reseller/audit?" + query.format(client=tenants.a.client.id))
    assert response.status_code == 200
    ids = set(shown_ids(response))
    assert made[wanted] in ids
    assert not ids & (set(made.values()) - {made[wanted]})


def test_a_bad_filter_is_explained_and_dropped(tenants, auditor):
    response = auditor.get("/reseller/audit?ip=not-an-ip&kind=robot&date_from=ontem&client=abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "IP deve ser um endereço IPv4 ou IPv6." in html
    assert "De não é uma data válida" in html and "Valor inválido para Autor." in html
    assert "Cliente deve ser o ID de um cliente" in html


def test_older_and_newer_pages_walk_the_log_by_keyset(app, ctx, tenants, auditor):
    ids = [
        add_event(app, tenants.a.id, "plan.updated", details={"n": n}) for n in range(audit_log.PER_PAGE + 5)
    ]
    first = auditor.get("/reseller/audit?action=plan.updated")
    page1 = shown_ids(first)
    assert page1 == list(reversed(ids))[: audit_log.PER_PAGE]
    html = first.get_data(as_text=True)
    assert "Mais antigos" in html and "Mais recentes" not in html
    older_link = html.split('rel="next" href="?')[1].split('"')[0].replace("&amp;", "&")
    second = auditor.get("/reseller/audit?" + older_link)
    assert shown_ids(second) == list(reversed(ids))[audit_log.PER_PAGE :]
    back = second.get_data(as_text=True).split('rel="prev" href="?')[1].split('"')[0].replace("&amp;", "&")
    assert shown_ids(auditor.get("/reseller/audit?" + back)) == page1


def test_a_broken_page_link_shows_the_newest_events_and_says_so(tenants, auditor):
    response = auditor.get("/reseller/audit?before=yesterday_x")
    assert "Esse link de página não é válido" in response.get_data(as_text=True)


def test_a_role_change_shows_its_before_and_after(app, factory, tenants, auditor, make_browser):
    owner = make_browser()
    owner.login("owner@a.test")
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENTS])
    response = owner.post(
        f"/reseller/roles/{staff.role_id}/edit",
        {"name": "Financeiro", "permissions": [perm.CLIENTS, perm.PLANS]},
    )
    assert response.status_code == 302
    html = auditor.get("/reseller/audit?action=role.updated").get_data(as_text=True)
    assert "Função alterada" in html
    assert "<del>" in html and "Financeiro" in html


def test_the_filter_form_answers_htmx_with_the_results_only(tenants, auditor):
    response = auditor.get("/reseller/audit?kind=system", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("{%") is False and 'id="audit-results"' in html and "<html" not in html
    assert response.headers["HX-Push-Url"] == "/reseller/audit?kind=system"


def test_the_client_history_takes_its_labels_from_the_one_catalogue(app, tenants, make_browser):
    add_event(app, tenants.a.id, "client.suspended", client_id=tenants.a.client.id)
    owner = make_browser()
    owner.login("owner@a.test")
    html = owner.get(f"/reseller/clients/{tenants.a.client.id}/history").get_data(as_text=True)
    assert "Suspenso" in html


def test_the_event_rows_the_page_reads_are_the_resellers(app, ctx, tenants):
    add_event(app, tenants.b.id)
    page = audit_log.page(tenants.a.id, audit_log.AuditFilters())
    assert all(isinstance(e, AuditEvent) and e.reseller_id == tenants.a.id for e in page.events)
