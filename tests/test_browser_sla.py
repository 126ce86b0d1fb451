"""Browser test (issue 13): staff create an SLA policy and a desk that uses it, link all
clients, open a ticket, answer it, put it on hold and resolve it, and the SLA badges of
the queue and of the ticket page follow; a second ticket left unanswered turns expiring,
then breached, when the SLA sweep runs, and its staff are e-mailed.

The labels are the pt-BR catalogue's (desk.views.ticket_blueprint.SLA_LABELS): On time
"No prazo", Expiring "Vencendo", Breached "Estourado", Met "Cumprido", Paused "Pausado".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from desk.sla_state import DUE_COLUMNS
from desk.sla_sweep import sweep
from desk.states import StatusKind
from desk.ticket_models import Ticket, TicketEntry
from tests.test_browser import ARTIFACTS, live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = 60, 120, 480  # minutes, every priority; 24x7
NO_DATE = "—"


def shot(page, name: str) -> None:  # noqa: F811
    page.screenshot(path=str(ARTIFACTS / f"sla-badges-{name}.png"), full_page=True)


def ticket_badge(page) -> tuple[str, str]:  # noqa: F811
    """The ticket page's SLA badge: its text and its class."""
    badge = page.locator("#ticket-sla")
    return badge.inner_text().strip(), badge.get_attribute("class")


def ticket_dates(page) -> list[str]:  # noqa: F811
    """The ticket page's first response, next response and resolution deadlines."""
    return [text.strip() for text in page.locator("#ticket-sla-dates dd .clock-due").all_inner_texts()]


def ticket_clocks(page) -> list[str]:  # noqa: F811
    """The state each of those clocks is shown in ("": no deadline and nothing met)."""
    clocks = page.locator("#ticket-sla-dates dd")
    return [clocks.nth(n).get_attribute("data-clock-state") for n in range(clocks.count())]


def queue_row(page, live_server: str, ticket_id: int, query: str = "status=all") -> dict:  # noqa: F811
    """The queue row of ``ticket_id``: its SLA badge (text, class; None when absent) and
    its first response and resolution deadlines."""
    page.goto(f"{live_server}/reseller/tickets?{query}")
    row = page.locator(f"tr[data-ticket-id='{ticket_id}']")
    row.wait_for()
    badge = row.locator("[data-sla]")
    return {
        "badge": (badge.inner_text().strip(), badge.get_attribute("class")) if badge.count() else None,
        "first_response": row.locator("[data-due='first_response']").inner_text().strip(),
        "resolution": row.locator("[data-due='resolution']").inner_text().strip(),
        "first_response_state": row.locator("[data-due='first_response']").get_attribute("data-clock-state"),
    }


def open_ticket(page, live_server: str, client_id: int, subject: str) -> int:  # noqa: F811
    page.goto(f"{live_server}/reseller/clients/{client_id}")
    page.click("#client-tabs a[data-tab='tickets']")
    page.click("#new-ticket")
    page.select_option("#t-desk", label="Suporte")
    page.fill("#t-subject", subject)
    page.click("#ticket-form button[type=submit]")
    page.wait_for_url("**/reseller/tickets/*")
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def set_status(page, live_server: str, ticket_id: int, label: str, kind: StatusKind) -> None:  # noqa: F811
    """Change the ticket's status from its page's status form."""
    page.goto(f"{live_server}/reseller/tickets/{ticket_id}")
    page.select_option("#status-select", label=label)
    page.click("#status-form button[type=submit]")
    page.wait_for_selector(f"#ticket-status[data-status='{kind}']")


def age(app, ticket_id: int, minutes: int) -> None:
    """Set-up, not an action: move the ticket's creation, timeline and deadlines
    ``minutes`` into the past, as if it had been opened that much earlier."""
    delta = timedelta(minutes=minutes)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        ticket.created_at -= delta
        for column in (*DUE_COLUMNS.values(), "sla_next_event_at"):
            if getattr(ticket, column) is not None:
                setattr(ticket, column, getattr(ticket, column) - delta)
        for entry in db.session.scalars(select(TicketEntry).where(TicketEntry.ticket_id == ticket_id)):
            entry.created_at -= delta
        db.session.commit()


def run_sweep(app) -> int:
    with app.app_context():
        return sweep()


def test_sla_badges_follow_a_ticket_and_a_late_one_breaches(
    app,
    factory,
    mailbox,
    run_jobs,
    live_server,  # noqa: F811
    page,  # noqa: F811
):
    reseller = factory.reseller(host="a.test", name="Revenda Azul", owner_email="owner@a.test")
    bakery = factory.client(reseller.id, trade_name="Padaria Central")
    garage = factory.client(reseller.id, trade_name="Oficina do Zé")

    log_in(page, live_server, "owner@a.test", factory.password)

    # 1. An SLA policy, then a desk worked by the owner that uses it (no calendar: 24x7).
    page.goto(f"{live_server}/reseller/desks/sla")
    page.click("#new-policy")
    page.fill("#name", "Padrão")
    for priority in ("low", "normal", "high", "urgent"):
        page.fill(f"input[name='{priority}.first_response_minutes']", str(FIRST_RESPONSE))
        page.fill(f"input[name='{priority}.next_response_minutes']", str(NEXT_RESPONSE))
        page.fill(f"input[name='{priority}.resolution_minutes']", str(RESOLUTION))
    page.click("#policy-form button[type=submit]")
    page.wait_for_url("**/reseller/desks/sla")
    assert "Política de SLA Padrão salva." in page.content()

    page.click("nav a[href='/reseller/desks']")
    page.wait_for_url("**/reseller/desks")
    page.click("#new-desk")
    page.fill("#name", "Suporte")
    owner_option = page.locator("#staff_ids option", has_text="owner@a.test")
    page.select_option("#staff_ids", owner_option.get_attribute("value"))
    page.select_option("#sla_policy_id", label="Padrão")
    page.fill("#review_timeout_days", "")  # no client review: resolving finishes the ticket
    page.click("#save-desk")
    page.wait_for_url("**/reseller/desks/*/clients")
    assert "Mesa Suporte criada." in page.content()

    # 2. "+ Adicionar todos os clientes".
    page.click("#add-all-button")
    page.click("#add-all-form button[type=submit]")
    page.wait_for_selector(f"#linked-clients tr[data-client-id='{garage.id}']")
    assert "2 cliente(s) adicionado(s)." in page.content()
    assert page.locator(f"#linked-clients tr[data-client-id='{bakery.id}']").count() == 1

    # 3. A new ticket: on time, with its first response and resolution deadlines.
    ticket_id = open_ticket(page, live_server, bakery.id, "A impressora não imprime")
    text, classes = ticket_badge(page)
    assert text == "SLA: No prazo" and "text-bg-light" in classes
    first_due, next_due, resolution_due = ticket_dates(page)
    assert first_due != NO_DATE and next_due == NO_DATE and resolution_due != NO_DATE
    assert ticket_clocks(page) == ["ok", "", "ok"]
    shot(page, "1-new-ticket")
    row = queue_row(page, live_server, ticket_id)
    assert row["badge"][0] == "No prazo" and "text-bg-light" in row["badge"][1]
    assert row["first_response"] == first_due and row["resolution"] == resolution_due
    shot(page, "1-new-queue")

    # 4. A public reply meets the first response: its deadline is gone, the resolution's stays.
    page.click(f"tr[data-ticket-id='{ticket_id}'] a[data-ticket-link]")
    page.wait_for_url(f"**/reseller/tickets/{ticket_id}")
    page.fill("#reply-body", "Pode reiniciar a impressora e nos dizer se voltou?")
    page.click("#reply-send")
    page.wait_for_selector("[data-entry-kind='public_reply']")
    assert page.locator("#ticket-status").inner_text() == "Em atendimento"
    text, classes = ticket_badge(page)
    assert text == "SLA: No prazo" and "text-bg-light" in classes
    assert ticket_dates(page) == [NO_DATE, NO_DATE, resolution_due]
    assert ticket_clocks(page) == ["met", "", "ok"]
    shot(page, "2-answered-ticket")
    row = queue_row(page, live_server, ticket_id)
    assert row["first_response"] == NO_DATE and row["resolution"] == resolution_due
    assert row["badge"][0] == "No prazo"
    shot(page, "2-answered-queue")

    # 5. Waiting on the client pauses the clock.
    set_status(page, live_server, ticket_id, "Aguardando cliente", StatusKind.WAITING_ON_CLIENT)
    text, classes = ticket_badge(page)
    assert text == "SLA: Pausado" and "text-bg-info" in classes
    assert ticket_clocks(page) == ["met", "", "paused"]
    shot(page, "3-paused-ticket")
    row = queue_row(page, live_server, ticket_id)
    assert row["badge"][0] == "Pausado" and "text-bg-info" in row["badge"][1]
    shot(page, "3-paused-queue")

    # 6. Resolved: every clock met, no deadline left.
    set_status(page, live_server, ticket_id, "Resolvido", StatusKind.RESOLVED)
    text, classes = ticket_badge(page)
    assert text == "SLA: Cumprido" and "text-bg-success" in classes
    assert ticket_dates(page) == [NO_DATE, NO_DATE, NO_DATE]
    assert ticket_clocks(page) == ["met", "", "met"]
    shot(page, "4-resolved-ticket")
    row = queue_row(page, live_server, ticket_id)
    assert row["badge"][0] == "Cumprido" and "text-bg-success" in row["badge"][1]
    assert row["first_response"] == NO_DATE and row["resolution"] == NO_DATE
    shot(page, "4-resolved-queue")

    # 7. A ticket nobody answers: opened 50 minutes ago it is expiring (80 % of 60),
    # 65 minutes ago breached; the sweep notices each once and e-mails the desk's staff.
    late_id = open_ticket(page, live_server, garage.id, "Sem sinal na oficina")
    assert ticket_badge(page)[0] == "SLA: No prazo"
    mailbox.clear()
    age(app, late_id, 50)
    assert run_sweep(app) == 1
    page.reload()
    text, classes = ticket_badge(page)
    assert text == "SLA: Vencendo" and "text-bg-warning" in classes
    assert ticket_clocks(page) == ["expiring", "", "ok"]  # the first response's clock
    shot(page, "5-expiring-ticket")
    row = queue_row(page, live_server, late_id, "sla=expiring")
    assert row["badge"][0] == "Vencendo" and "text-bg-warning" in row["badge"][1]
    assert row["first_response_state"] == "expiring"
    shot(page, "5-expiring-queue")

    age(app, late_id, 15)
    assert run_sweep(app) == 1
    assert run_sweep(app) == 0  # never twice for the same event
    page.goto(f"{live_server}/reseller/tickets/{late_id}")
    text, classes = ticket_badge(page)
    assert text == "SLA: Estourado" and "text-bg-danger" in classes
    assert ticket_clocks(page) == ["breached", "", "ok"]
    sla_events = page.locator("[data-entry-kind='event']", has_text="SLA →").all_inner_texts()
    assert [event.split(" · ")[0].strip() for event in sla_events] == [
        "Sistema SLA → Vencendo",
        "Sistema SLA → Estourado",
    ]
    shot(page, "6-breached-ticket")
    row = queue_row(page, live_server, late_id, "sla=breached")
    assert row["badge"][0] == "Estourado" and "text-bg-danger" in row["badge"][1]
    assert row["first_response_state"] == "breached"
    assert page.locator("tr[data-ticket-id]").count() == 1  # the resolved ticket is not breached
    shot(page, "6-breached-queue")

    run_jobs()
    with app.app_context():
        number = db.session.get(Ticket, late_id).number
    subjects = [m["subject"] for m in mailbox.to("owner@a.test")]
    assert [s for s in subjects if "SLA" in s] == [
        f"Chamado #{number}: SLA de primeira resposta vencendo",
        f"Chamado #{number}: SLA de primeira resposta estourado",
    ]
