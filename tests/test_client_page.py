"""The client's own page (``/reseller/clients/<id>``, issue 12): the header with the
actions of seed 002, each only with its permission; the tabs shared by every page of
one client; the report of seed 003 (tab *Resumo*) computed right on known data; staff
only, and another reseller's client is a 404."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from auth import permissions as perm
from auth.models import Account
from billing.models import Payment
from billing.suspension import lift_suspension, suspend
from core.extensions import db
from core.timeutil import today_local, utcnow
from reseller.client_report import client_report
from tenant.inbox_models import Contact, Conversation, SessionWindow
from tenant.models import Client
from tenant.states import ConversationStatus, WindowSource
from tenant.windows import sessions_per_day

TABS = ("summary", "data", "users", "billing", "tickets", "domains", "history")
# The tabs of staff with the clients permission alone.
BASIC_TABS = ["summary", "data", "billing", "domains", "history"]


def page_url(client_id: int, tail: str = "") -> str:
    return f"/reseller/clients/{client_id}{tail}"


@pytest.fixture
def owner(browser, tenants):
    browser.login("owner@a.test")
    return browser


def actions(html: str) -> set[str]:
    header = html.split('id="client-actions"', 1)[1].split('id="client-tabs"', 1)[0]
    return set(re.findall(r'data-action="([a-z-]+)"', header))


def tabs(html: str) -> tuple[list[str], list[str]]:
    """The tabs shown and the active one(s)."""
    nav = html.split('id="client-tabs"', 1)[1].split("</ul>", 1)[0]
    shown = re.findall(r'data-tab="([a-z]+)"', nav)
    active = re.findall(r'nav-link active" aria-current="page" data-tab="([a-z]+)"', nav)
    return shown, active


# --- the header and the tabs ----------------------------------------------------------


def test_the_client_page_shows_name_status_plan_actions_and_the_summary_tab(owner, tenants):
    response = owner.get(page_url(tenants.a.client.id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 class="h3 mb-1" id="client-name">Alpha A</h1>' in html
    assert 'data-state="active"' in html and "Plano A" in html.split('id="client-plan"')[1][:200]
    assert actions(html) == {"edit", "users", "plan", "login-as", "delete"}
    assert tabs(html) == (list(TABS), ["summary"])
    assert 'id="client-report"' in html and 'id="sessions-chart"' in html


@pytest.mark.parametrize(
    ("tail", "active"),
    [
        ("/edit", "data"),
        ("/users", "users"),
        ("/users/new", "users"),
        ("/billing", "billing"),
        ("/history", "history"),
        ("/delete", None),
    ],
)
def test_every_page_of_a_client_carries_the_same_header_and_tabs(owner, tenants, tail, active):
    html = owner.get(page_url(tenants.a.client.id, tail)).get_data(as_text=True)
    shown, current = tabs(html)
    assert shown == list(TABS)
    assert current == ([active] if active else [])
    # The way back is the client's page, no longer the edit form.
    assert f'href="/reseller/clients/{tenants.a.client.id}"' in html
    assert 'id="client-name"' in html


def test_the_user_form_links_back_to_the_users_tab(owner, factory, tenants):
    user = factory.user(tenants.a.client.id, name="Rita")
    html = owner.get(page_url(tenants.a.client.id, f"/users/{user.id}/edit")).get_data(as_text=True)
    assert tabs(html) == (list(TABS), ["users"])
    assert f'href="/reseller/clients/{tenants.a.client.id}/users"' in html


@pytest.mark.parametrize(
    ("permissions", "expected_actions", "expected_tabs"),
    [
        ([perm.CLIENTS], {"edit"}, BASIC_TABS),
        (
            [perm.CLIENTS, perm.CLIENT_USERS],
            {"edit", "users"},
            ["summary", "data", "users", "billing", "domains", "history"],
        ),
        ([perm.CLIENTS, perm.DESKS], {"edit"}, [*BASIC_TABS[:3], "tickets", *BASIC_TABS[3:]]),
        ([perm.CLIENTS, perm.CLIENT_INVOICES], {"edit", "plan"}, BASIC_TABS),
        ([perm.CLIENTS, perm.LOG_IN_AS], {"edit", "login-as"}, BASIC_TABS),
        ([perm.CLIENTS, perm.DELETE_CLIENTS], {"edit", "delete"}, BASIC_TABS),
    ],
)
def test_each_action_and_tab_shows_only_with_its_permission(
    factory, tenants, make_browser, permissions, expected_actions, expected_tabs
):
    staff = factory.staff(tenants.a.id, permissions=permissions)
    browser = make_browser()
    browser.login(staff.email)
    html = browser.get(page_url(tenants.a.client.id)).get_data(as_text=True)
    assert actions(html) == expected_actions
    assert tabs(html)[0] == expected_tabs


def test_staff_with_only_the_users_permission_see_the_users_tab_but_not_the_page(
    factory, tenants, make_browser
):
    staff = factory.staff(tenants.a.id, permissions=[perm.CLIENT_USERS])
    browser = make_browser()
    browser.login(staff.email)
    assert browser.get(page_url(tenants.a.client.id)).status_code == 403
    html = browser.get(page_url(tenants.a.client.id, "/users")).get_data(as_text=True)
    assert tabs(html) == (["users"], ["users"])
    assert actions(html) == {"users"}


def test_log_in_as_in_the_header_opens_the_responsible_users_workspace(app, owner, tenants):
    html = owner.get(page_url(tenants.a.client.id)).get_data(as_text=True)
    action = re.search(r'action="(/reseller/clients/\d+/users/(\d+)/login-as)"', html)
    assert action and int(action.group(2)) == tenants.a.client.responsible_account_id
    started = owner.post(action.group(1))
    assert started.status_code == 302 and started.headers["Location"] == "/app/"


def test_no_log_in_as_when_the_responsible_user_is_deactivated(app, owner, tenants):
    with app.app_context():
        db.session.get(Account, tenants.a.client.responsible_account_id).active = False
        db.session.commit()
    html = owner.get(page_url(tenants.a.client.id)).get_data(as_text=True)
    assert "login-as" not in actions(html)


def test_the_list_links_the_trade_name_to_the_client_page(owner, tenants):
    html = owner.get("/reseller/clients").get_data(as_text=True)
    link = (
        f'<a class="fw-semibold" href="/reseller/clients/{tenants.a.client.id}" data-client-link>Alpha A</a>'
    )
    assert link in html


def test_saving_the_data_tab_returns_to_the_client_page(owner, tenants):
    form = owner.get(page_url(tenants.a.client.id, "/edit")).get_data(as_text=True)
    assert 'id="save-client"' in form
    client = tenants.a.client
    saved = owner.post(
        page_url(client.id, "/edit"),
        {
            "trade_name": "Alpha Renomeada",
            "legal_name": client.legal_name,
            "email": client.email,
            "document_type": client.document_type,
            "document": client.document,
            "sla_level": client.sla_level,
            "responsible_account_id": str(client.responsible_account_id),
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    assert saved.headers["Location"] == page_url(client.id)


# --- tenancy and audience --------------------------------------------------------------


def test_another_resellers_client_is_a_404(owner, tenants):
    assert owner.get(page_url(tenants.b.client.id)).status_code == 404
    assert owner.get(page_url(999999)).status_code == 404


def test_a_deleted_client_is_a_404(owner, factory, tenants):
    gone = factory.client(tenants.a.id, trade_name="Apagada", deleted_at=utcnow())
    assert owner.get(page_url(gone.id)).status_code == 404


def test_the_page_is_for_staff_only_never_for_a_client_user_or_an_impersonator(
    factory, tenants, make_browser
):
    user = make_browser()
    user.login(tenants.a.client.email)
    assert user.get(page_url(tenants.a.client.id)).status_code == 403
    staff = make_browser()
    staff.login("owner@a.test")
    started = staff.post(
        page_url(tenants.a.client.id, f"/users/{tenants.a.client.responsible_account_id}/login-as")
    )
    assert started.headers["Location"] == "/app/"
    # While logged in as the user, the staff member has exactly the user's rights.
    assert staff.get(page_url(tenants.a.client.id)).status_code == 403


# --- the report's figures on known data -------------------------------------------------


@pytest.fixture
def known(app, factory, tenants):
    """Client A (period 01/11/2026 - 01/12/2026) with users, windows, conversations,
    payments and suspensions at known times."""
    client_id = tenants.a.client.id
    factory.user(client_id, name="Bia")
    off = factory.user(client_id, name="Caio")
    with app.app_context():
        db.session.get(Account, off.id).active = False
        contact = Contact(
            reseller_id=tenants.a.id, client_id=client_id, name="Contato", phone="+5511987650000"
        )
        db.session.add(contact)
        db.session.flush()

        def window(opened: datetime, source=WindowSource.PLAN):
            db.session.add(
                SessionWindow(
                    reseller_id=tenants.a.id,
                    client_id=client_id,
                    contact_id=contact.id,
                    source=source,
                    opened_at=opened,
                    expires_at=opened,
                )
            )

        window(datetime(2026, 10, 31, 12))  # before the period
        window(datetime(2026, 11, 1, 2, 59))  # 31/10 23:59 in Brazil: still before the period
        window(datetime(2026, 11, 1, 3, 0))  # 01/11 00:00 in Brazil
        window(datetime(2026, 11, 5, 2, 30))  # 04/11 23:30 in Brazil
        window(datetime(2026, 11, 5, 12))
        window(datetime(2026, 11, 5, 20), WindowSource.EXTRA)
        window(datetime(2026, 11, 20, 10))
        for status, last in (
            (ConversationStatus.OPEN, datetime(2026, 11, 10)),
            (ConversationStatus.OPEN, datetime(2026, 10, 10)),
            (ConversationStatus.CLOSED, datetime(2026, 9, 10)),
        ):
            db.session.add(
                Conversation(
                    reseller_id=tenants.a.id,
                    client_id=client_id,
                    contact_id=contact.id,
                    status=status,
                    last_message_at=last,
                )
            )
        for month in range(1, 7):
            db.session.add(
                Payment(
                    reseller_id=tenants.a.id,
                    client_id=client_id,
                    description=f"Fatura {month}",
                    amount_cents=1000 * month,
                    payment_type="pix",
                    status="paid",
                    due_date=date(2026, month, 10),
                    paid_at=datetime(2026, month, 10),
                    created_at=datetime(2026, month, 1),
                )
            )
        client = db.session.get(Client, client_id)
        suspend(client, "Contrato em revisão")
        lift_suspension(client, "Revisão concluída")
        suspend(client, "overdue", overdue=True)
        db.session.commit()
    return client_id


def test_the_report_counts_users_sessions_conversations_payments_and_suspensions(app, known):
    with app.app_context():
        client = db.session.get(Client, known)
        report = client_report(client, date(2026, 11, 20))
        payments = [p.description for p in report.payments]
        suspensions = [(e.action, e.reason) for e in report.suspensions]
    assert (report.users, report.active_users) == (3, 2)  # the responsible user, Bia and Caio (off)
    assert report.period_start == date(2026, 11, 1) and report.period_end == date(2026, 12, 1)
    assert report.sessions_used == 5  # from 01/11 00:00 in Brazil on, plan and extra alike
    assert report.days[0].day == date(2026, 11, 1) and report.days[-1].day == date(2026, 11, 20)
    per_day = {bar.day: bar.count for bar in report.days}
    assert per_day[date(2026, 11, 1)] == 1
    assert per_day[date(2026, 11, 4)] == 1  # 02:30 UTC is the day before in Brazil
    assert per_day[date(2026, 11, 5)] == 2
    assert per_day[date(2026, 11, 20)] == 1
    assert sum(per_day.values()) == 5 and report.busiest_day == 2
    assert (report.conversations, report.open_conversations, report.conversations_in_period) == (3, 2, 1)
    # The five latest payments, newest first (the factory's first invoice of 01/11 leads).
    assert len(payments) == 5 and payments[1:] == ["Fatura 6", "Fatura 5", "Fatura 4", "Fatura 3"]
    assert suspensions == [
        ("suspended", "overdue"),
        ("reactivated", "Revisão concluída"),
        ("suspended", "Contrato em revisão"),
    ]


def test_sessions_per_day_fills_the_empty_days_with_zero(app, known):
    with app.app_context():
        days = sessions_per_day(known, date(2026, 11, 2), date(2026, 11, 6))
    assert days == [
        (date(2026, 11, 2), 0),
        (date(2026, 11, 3), 0),
        (date(2026, 11, 4), 1),
        (date(2026, 11, 5), 2),
        (date(2026, 11, 6), 0),
    ]


def test_the_chart_shows_the_last_31_days_of_a_long_period_or_without_a_plan(app, factory, tenants, known):
    with app.app_context():
        client = db.session.get(Client, known)
        long = client_report(client, date(2027, 3, 15))
        assert len(long.days) == 31 and long.days[-1].day == date(2027, 3, 15)
        assert long.period_start == date(2026, 11, 1) and long.sessions_used == 5
        bare = db.session.get(Client, factory.client(tenants.a.id).id)
        without_plan = client_report(bare, date(2026, 11, 20))
    assert without_plan.subscription is None and without_plan.period_end is None
    assert len(without_plan.days) == 31 and without_plan.sessions_used == 0
    assert without_plan.payments == [] and without_plan.suspensions == []


def test_the_summary_tab_renders_the_report(app, owner, known):
    html = owner.get(page_url(known)).get_data(as_text=True)

    def figure(element_id: str) -> str:
        return re.search(rf'id="{element_id}">([^<]*)<', html).group(1).strip()

    assert figure("report-users") == "3"
    assert figure("report-conversations") == "3"
    assert figure("report-conversations-open") == "2 abertas"
    assert html.count("data-payment-id=") == 5 and "Fatura 6" in html and "Fatura 1" not in html
    assert html.count("data-suspension=") == 3 and "Revisão concluída" in html
    assert 'data-state="suspended"' in html  # the header shows the overdue suspension
    with app.app_context():
        report = client_report(db.session.get(Client, known), today_local())
    assert figure("report-sessions-used") == str(report.sessions_used)
    for bar in report.days:  # one bar per day, with its count
        assert f'data-day="{bar.day.isoformat()}" data-count="{bar.count}"' in html
    assert html.count('class="day"') == len(report.days)


def test_the_report_reads_only_the_clients_own_rows(app, factory, tenants, known):
    """Another client's windows, payments and users never count."""
    other = factory.client(tenants.a.id, plan_id=tenants.a.plan.id, payment_status="paid")
    with app.app_context():
        # The report's statements are built once: each client's values bind them anew.
        first = client_report(db.session.get(Client, known), date(2026, 11, 20))
        report = client_report(db.session.get(Client, other.id), date(2026, 11, 20))
        windows = db.session.scalar(
            select(SessionWindow.id).where(SessionWindow.client_id == other.id).limit(1)
        )
    assert windows is None
    assert (report.users, report.sessions_used, report.conversations) == (1, 0, 0)
    assert len(report.payments) == 1 and report.suspensions == []
    assert (first.users, first.sessions_used, first.conversations, len(first.suspensions)) == (3, 5, 3, 3)


def test_the_report_counts_the_clients_unfinished_tickets_and_the_page_shows_them(
    app, factory, tenants, owner, known
):
    """Read in the report's one counting statement: open ones count, a resolved one and
    another client's do not."""
    busy = factory.client(tenants.a.id, plan_id=tenants.a.plan.id, open_tickets=2)
    factory.ticket(busy.id, kind="resolved")
    factory.client(tenants.a.id, open_tickets=1)
    with app.app_context():
        assert client_report(db.session.get(Client, busy.id), date(2026, 11, 20)).open_tickets == 2
        assert client_report(db.session.get(Client, known), date(2026, 11, 20)).open_tickets == 0
    html = owner.get(page_url(busy.id)).get_data(as_text=True)
    assert re.search(r'id="report-open-tickets">2 ', html)
