"""Issue 18, the server's part: costly actions carry their question in words, every
workspace action tells what it did (a flash, or for htmx a toast in ``HX-Trigger``),
and a browser logged out behind its back is told why on the login page (its session
ended on another device, it expired, or its login attempt expired)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select, update

from auth import login_flow
from auth.models import AuthSession
from core.extensions import db
from core.timeutil import utcnow
from tenant.inbox_models import Contact, Conversation, SessionWindow
from tenant.states import WindowSource
from tests.conftest import PASSWORD
from tests.test_workspace import set_client, set_user

ROOT = Path(__file__).resolve().parent.parent
REVOKED = "Sua sessão foi encerrada em outro dispositivo."
EXPIRED = "Sua sessão expirou; entre de novo."
ATTEMPT_EXPIRED = "Esta tentativa de login expirou; entre de novo."
HTMX = {"HX-Request": "true"}


def login_page(browser) -> str:
    return unescape(browser.get("/login").get_data(as_text=True))


# --- no native confirm() is left ----------------------------------------------------


def test_no_native_confirm_is_left_in_scripts_or_templates():
    """Every question goes through the page's modal (static/app/app.js)."""
    native = re.compile(r"\bconfirm\s*\(")
    files = list((ROOT / "static" / "app").rglob("*.js"))
    files += [p for p in ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts]
    assert len(files) > 50
    offenders = [str(p.relative_to(ROOT)) for p in files if native.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert "window.confirm" not in (ROOT / "static" / "app" / "app.js").read_text(encoding="utf-8")


def test_the_base_page_has_one_modal_and_a_live_toast_region(tenants, browser):
    page = browser.get("/login").get_data(as_text=True)
    assert page.count('id="confirm-modal"') == 1
    assert 'id="confirm-modal-cancel"' in page and 'aria-labelledby="confirm-modal-title"' in page
    assert re.search(r'<div class="toast-container[^"]*" id="toasts" aria-live="polite"', page)


# --- the questions name the object and the consequence -------------------------------


def test_suspending_asks_with_the_clients_name_and_what_follows(factory, browser):
    reseller = factory.reseller(host="a.test", owner_email="owner@a.test")
    client = factory.client(reseller.id, trade_name="Padaria Pão Quente")
    browser.login("owner@a.test")
    page = unescape(browser.get(f"/reseller/clients/{client.id}/billing").get_data(as_text=True))
    assert 'data-confirm="Suspender Padaria Pão Quente? Novas conversas serão recusadas."' in page


def _contact(app, client_id: int, reseller_id: int, name: str, phone: str) -> int:
    with app.app_context():
        contact = Contact(reseller_id=reseller_id, client_id=client_id, name=name, phone=phone)
        db.session.add(contact)
        db.session.commit()
        return contact.id


def test_starting_a_conversation_asks_with_the_real_balance_or_says_no_session_is_used(
    app, factory, tenants, browser
):
    client_id = tenants.a.client.id
    set_client(app, client_id, sessions_quota=50, sessions_consumed=9, extra_balance=0)
    factory.user(client_id, email="gerente@alpha.test")
    _contact(app, client_id, tenants.a.id, "Maria Souza", "+5511955550001")
    open_id = _contact(app, client_id, tenants.a.id, "João Lima", "+5511955550002")
    with app.app_context():
        now = utcnow()
        db.session.add(
            SessionWindow(
                reseller_id=tenants.a.id,
                client_id=client_id,
                contact_id=open_id,
                source=WindowSource.PLAN,
                opened_at=now,
                expires_at=now + timedelta(hours=2),
            )
        )
        db.session.commit()
    browser.login("gerente@alpha.test")
    page = unescape(browser.get("/app/contacts").get_data(as_text=True))
    asks = dict(re.findall(r'data-confirm="Iniciar conversa com ([^?]+)\? ([^"]+)"', page))
    assert asks == {
        "Maria Souza": "Isto usa 1 sessão; restam 41 neste período.",
        "João Lima": "A janela de 24 horas está aberta: nenhuma sessão é usada.",
    }


# --- workspace actions tell what they did ----------------------------------------------


def _queued_conversation(app, client_id: int, reseller_id: int) -> int:
    contact_id = _contact(app, client_id, reseller_id, "Cliente Fiel", "+5511955550009")
    with app.app_context():
        conversation = Conversation(reseller_id=reseller_id, client_id=client_id, contact_id=contact_id)
        db.session.add(conversation)
        db.session.commit()
        return conversation.id


def test_an_htmx_take_answers_with_a_toast_and_the_page_part_to_swap(app, factory, tenants, browser):
    client_id = tenants.a.client.id
    agent = factory.user(client_id, email="agente@alpha.test")
    set_user(app, agent.id, chat_level=2)
    conversation_id = _queued_conversation(app, client_id, tenants.a.id)
    browser.login("agente@alpha.test")
    answer = browser.post(f"/app/conversations/{conversation_id}/take", headers=HTMX)
    assert answer.status_code == 200
    assert json.loads(answer.headers["HX-Trigger"]) == {
        "toast": {"message": "Você assumiu esta conversa.", "level": "success"}
    }
    location = json.loads(answer.headers["HX-Location"])
    assert location["path"] == f"/app/conversations/{conversation_id}"
    assert location["target"] == location["select"] == "#workspace-body"
    # Told once: the flash is not kept for the next page too.
    assert "Você assumiu esta conversa." not in browser.get("/app/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Conversation, conversation_id).assigned_account_id == agent.id


def test_without_htmx_the_same_actions_redirect_and_flash(app, factory, tenants, browser):
    client_id = tenants.a.client.id
    manager = factory.user(client_id, email="gerente@alpha.test", name="Gina Gerente")
    set_user(app, manager.id, chat_level=6)
    conversation_id = _queued_conversation(app, client_id, tenants.a.id)
    browser.login("gerente@alpha.test")
    base = f"/app/conversations/{conversation_id}"
    steps = [
        (f"{base}/take", {}, "Você assumiu esta conversa."),
        (f"{base}/assign", {"account_id": str(manager.id)}, "Conversa transferida para Gina Gerente."),
        (f"{base}/close", {}, "Conversa com Cliente Fiel encerrada."),
        (f"{base}/reopen", {}, "Conversa reaberta."),
    ]
    for path, data, told in steps:
        answer = browser.post(path, data)
        assert answer.status_code == 303, path
        assert "HX-Trigger" not in answer.headers
        page = unescape(browser.get(answer.headers["Location"]).get_data(as_text=True))
        # A plain alert (so it reads without JavaScript), polite, that app.js makes a toast.
        alert = r'<div class="alert alert-success[^"]*" role="status" data-flash="success"'
        assert re.search(alert, page), path
        assert told in page, path


def test_a_refused_htmx_send_is_an_error_toast(app, factory, tenants, browser):
    client_id = tenants.a.client.id
    agent = factory.user(client_id, email="agente@alpha.test")
    set_user(app, agent.id, chat_level=2)
    conversation_id = _queued_conversation(app, client_id, tenants.a.id)
    browser.login("agente@alpha.test")
    # No window is open with this contact: a plain message is refused.
    answer = browser.post(f"/app/conversations/{conversation_id}/messages", {"body": "Oi"}, headers=HTMX)
    assert answer.status_code == 204 and "HX-Location" not in answer.headers  # what was typed stays
    toast = json.loads(answer.headers["HX-Trigger"])["toast"]
    assert toast["level"] == "error" and "janela de 24 horas" in toast["message"]


# --- why a browser was logged out --------------------------------------------------------


def test_ending_the_other_sessions_tells_the_other_browser_on_its_login_page(tenants, make_browser):
    laptop, phone = make_browser(), make_browser()
    laptop.login("owner@a.test")
    phone.login("owner@a.test")
    laptop.post("/account/sessions/revoke-others")
    assert phone.get("/reseller/clients").status_code == 302
    assert REVOKED in login_page(phone)
    assert REVOKED not in login_page(phone)  # told once
    assert REVOKED not in laptop.get("/reseller/clients").get_data(as_text=True)


def test_a_password_change_tells_the_other_browser(tenants, make_browser):
    elsewhere, here = make_browser(), make_browser()
    elsewhere.login("owner@a.test")
    here.login("owner@a.test")
    new = "uma frase nova e comprida 2026"
    here.post("/account/password", {"current": PASSWORD, "password": new, "confirm": new})
    assert elsewhere.get("/reseller/clients").status_code == 302
    assert REVOKED in login_page(elsewhere)


def test_a_deactivated_user_is_told_on_the_login_page(app, factory, tenants, make_browser):
    user = factory.user(tenants.a.client.id, email="agente@alpha.test")
    agent, owner = make_browser(), make_browser()
    agent.login("agente@alpha.test")
    owner.login("owner@a.test")
    done = owner.post(f"/reseller/clients/{tenants.a.client.id}/users/{user.id}/deactivate")
    assert done.status_code in (302, 303)
    assert agent.get("/app/").status_code == 302
    assert REVOKED in login_page(agent)


def _flashes(browser) -> list:
    with browser.http.session_transaction(browser.url("/")) as session:
        return list(session.get("_flashes", []))


def _ended_elsewhere(factory, tenants, make_browser):
    """A client user's browser whose session another browser of theirs just ended."""
    factory.user(tenants.a.client.id, email="agente@alpha.test")
    here, there = make_browser(), make_browser()
    here.login("agente@alpha.test")
    there.login("agente@alpha.test")
    assert there.post("/account/sessions/revoke-others").status_code in (302, 303)
    return here


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/app/", HTMX),
        ("/app/stream", {"Accept": "text/event-stream"}),
        ("/app/", {"Accept": "application/json"}),
    ],
    ids=["htmx", "event-stream", "json"],
)
def test_a_request_rendering_no_page_leaves_the_why_to_the_next_page(
    tenants, factory, make_browser, path, headers
):
    here = _ended_elsewhere(factory, tenants, make_browser)
    answer = here.get(path, headers=headers)
    assert answer.status_code == (401 if headers is HTMX else 302)
    assert _flashes(here) == []
    if answer.status_code == 302:  # an event stream follows the redirect to the login page
        assert REVOKED not in unescape(
            here.get(answer.headers["Location"], headers=headers).get_data(as_text=True)
        )
        assert _flashes(here) == []
    assert here.get("/app/").status_code == 302  # app.js loads the page again after a 401
    assert REVOKED in login_page(here)
    assert REVOKED not in login_page(here)  # told once


def test_an_htmx_call_after_idling_out_leaves_expired_to_the_next_page(app, tenants, factory, browser):
    factory.user(tenants.a.client.id, email="agente@alpha.test")
    browser.login("agente@alpha.test")
    _age_sessions(app, last_seen_at=utcnow() - timedelta(days=60))
    assert browser.get("/app/", headers=HTMX).status_code == 401
    assert _flashes(browser) == []
    page = login_page(browser)
    assert EXPIRED in page and REVOKED not in page


def test_a_page_request_after_the_session_ended_elsewhere_is_told_at_once(tenants, factory, make_browser):
    here = _ended_elsewhere(factory, tenants, make_browser)
    answer = here.get("/app/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert answer.status_code == 302
    assert [message for _level, message in _flashes(here)] == [REVOKED]
    assert REVOKED in login_page(here)


def _age_sessions(app, **values) -> None:
    with app.app_context():
        db.session.execute(update(AuthSession).values(**values))
        db.session.commit()


def test_an_expired_session_says_it_expired(app, tenants, browser):
    browser.login("owner@a.test")
    _age_sessions(app, expires_at=utcnow() - timedelta(minutes=1))
    assert browser.get("/reseller/clients").status_code == 302
    page = login_page(browser)
    assert EXPIRED in page and REVOKED not in page


def test_an_idle_session_says_it_expired(app, tenants, browser):
    browser.login("owner@a.test")
    _age_sessions(app, last_seen_at=utcnow() - timedelta(days=60))
    assert browser.get("/reseller/clients").status_code == 302
    page = login_page(browser)
    assert EXPIRED in page and REVOKED not in page
    with app.app_context():
        assert db.session.scalar(select(AuthSession.revoked_at)) is not None


def test_a_login_attempt_past_its_lifetime_says_so(app, tenants, browser):
    with browser.http.session_transaction() as session:
        session[login_flow.PENDING_KEY] = {"login_id": 1, "at": 0, "challenge": 1}
    answer = browser.get("/login/code")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert ATTEMPT_EXPIRED in login_page(browser)


def test_a_logout_says_nothing_about_other_devices(tenants, browser):
    browser.login("owner@a.test")
    browser.post("/logout")
    page = login_page(browser)
    assert REVOKED not in page and EXPIRED not in page
