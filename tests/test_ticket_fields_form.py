"""Custom fields on the staff's ticket forms (issue 13): each type is the input of its
type with its current value, on the ticket page and on the new-ticket form; values sent
through the routes are stored typed; bad values and missing required ones are refused
beside the field, and nothing changes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from core.extensions import db
from desk import fields
from desk.models import Desk
from desk.states import ClientVisibility
from desk.ticket_models import Ticket, TicketEntry
from tests.test_ticket_pages import desk_a, open_one  # noqa: F401 - shared fixture

# label, type, options, required, client visibility
FORM = [
    ("Pedido", "text", "", False, ClientVisibility.EDITABLE),
    ("Detalhes", "long_text", "", False, ClientVisibility.VISIBLE),
    ("Quantidade", "number", "", False, ClientVisibility.INTERNAL),
    ("Entrega", "date", "", False, ClientVisibility.INTERNAL),
    ("Canal", "select", "Loja\nSite", False, ClientVisibility.INTERNAL),
    ("Itens", "multi_select", "Papel\nToner\nCabo", False, ClientVisibility.INTERNAL),
    ("Urgente", "checkbox", "", False, ClientVisibility.INTERNAL),
]
FILLED = {
    "field_pedido": "PED-1",
    "field_detalhes": "Linha 1\nLinha 2",
    "field_quantidade": "3",
    "field_entrega": "2026-12-24",
    "field_canal": "Site",
    "field_itens": ["", "Papel", "Cabo"],
    "field_urgente": ["0", "1"],
}
STORED = {
    "pedido": "PED-1",
    "detalhes": "Linha 1\nLinha 2",
    "quantidade": 3,
    "entrega": "2026-12-24",
    "canal": "Site",
    "itens": ["Papel", "Cabo"],
    "urgente": True,
}


class Controls(HTMLParser):
    """The form controls of a page: ``by_name[name]`` lists each input, select and
    textarea of that name (its attributes; a select's ``options``, a textarea's ``text``)."""

    def __init__(self, html: str):
        super().__init__()
        self.by_name: dict[str, list[dict]] = {}
        self._open: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {k: ("" if v is None else v) for k, v in attrs}
        if tag in ("input", "select", "textarea") and "name" in attrs:
            control = {"tag": tag, **attrs, "options": [], "text": ""}
            self.by_name.setdefault(attrs["name"], []).append(control)
            self._open = control if tag in ("select", "textarea") else None
        elif tag == "option" and self._open is not None:
            self._open["options"].append(attrs)

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self._open = None

    def handle_data(self, data):
        if self._open is not None and self._open["tag"] == "textarea":
            self._open["text"] += data


def add_form(app, desk_id: int, required: tuple[str, ...] = ()) -> None:
    with app.app_context():
        desk = db.session.get(Desk, desk_id)
        for label, kind, options, _required, visibility in FORM:
            fields.add_field(desk, label, kind, options, label in required, visibility)
        db.session.commit()


def stored(app, ticket_id: int) -> dict:
    with app.app_context():
        return dict(db.session.get(Ticket, ticket_id).field_values or {})


def entry_count(ticket_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(TicketEntry).where(TicketEntry.ticket_id == ticket_id)
    )


def new_ticket_form(agent, client_id: int) -> tuple[str, str]:
    """(requester id, page) of the new-ticket form."""
    page = agent.get(f"/reseller/clients/{client_id}/tickets/new").get_data(as_text=True)
    requester = Controls(page).by_name["requester_id"][0]["options"][0]["value"]
    return requester, page


@pytest.fixture
def agent(app, tenants, desk_a, make_browser):  # noqa: F811
    add_form(app, desk_a.id)
    browser = make_browser()
    browser.login("agente@a.test")
    return browser


def test_each_type_renders_its_input_with_the_current_value(app, tenants, desk_a, agent):  # noqa: F811
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    assert agent.post(f"/reseller/tickets/{ticket_id}/fields", FILLED).status_code == 302
    page = agent.get(f"/reseller/tickets/{ticket_id}").get_data(as_text=True)
    controls = Controls(page).by_name
    (text,) = controls["field_pedido"]
    assert (text["type"], text["value"], text["maxlength"]) == ("text", "PED-1", str(fields.MAX_TEXT))
    (long_text,) = controls["field_detalhes"]
    assert long_text["tag"] == "textarea" and long_text["text"] == "Linha 1\nLinha 2"
    (number,) = controls["field_quantidade"]
    assert (number["type"], number["step"], number["value"]) == ("number", "any", "3")
    (day,) = controls["field_entrega"]
    assert (day["type"], day["value"]) == ("date", "2026-12-24")
    (select_,) = controls["field_canal"]
    assert select_["tag"] == "select"
    assert [o["value"] for o in select_["options"]] == ["", "Loja", "Site"]
    assert [o["value"] for o in select_["options"] if "selected" in o] == ["Site"]
    hidden, *options = controls["field_itens"]
    assert (hidden["type"], hidden["value"]) == ("hidden", "")
    assert [(o["value"], "checked" in o) for o in options] == [
        ("Papel", True),
        ("Toner", False),
        ("Cabo", True),
    ]
    zero, box = controls["field_urgente"]
    assert (zero["type"], zero["value"]) == ("hidden", "0")
    assert (box["type"], box["value"], "checked" in box) == ("checkbox", "1", True)
    # Internal-only fields are marked so for staff; the client-visible ones are not.
    assert page.count("internal-mark") == 5
    assert "internal-mark" not in page.split('data-field="pedido"')[1].split('data-field="detalhes"')[0]
    # The timeline names each changed field by its label, with its value.
    assert "Quantidade → 3" in page and "Itens → Papel, Cabo" in page and "Urgente → Sim" in page
    assert "Entrega → 24/12/2026" in page  # a date as the user reads dates, not ISO


def test_each_type_is_stored_typed_and_unticking_is_sent(app, tenants, desk_a, agent):  # noqa: F811
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    agent.post(f"/reseller/tickets/{ticket_id}/fields", FILLED)
    assert stored(app, ticket_id) == STORED
    assert isinstance(stored(app, ticket_id)["quantidade"], int)
    agent.post(
        f"/reseller/tickets/{ticket_id}/fields",
        {**FILLED, "field_quantidade": "2,5", "field_itens": [""], "field_urgente": "0", "field_canal": ""},
    )
    values = stored(app, ticket_id)
    assert values["quantidade"] == 2.5
    assert values["urgente"] is False
    assert "itens" not in values and "canal" not in values


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("field_quantidade", "três", "Informe um número."),
        ("field_canal", "Telefone", "Escolha uma das opções."),
        ("field_entrega", "2026-02-30", "Informe uma data (aaaa-mm-dd)."),
        ("field_itens", ["Papel", "Disquete"], "Escolha entre as opções."),
    ],
)
def test_a_bad_value_is_refused_beside_its_field_and_nothing_changes(
    app,
    tenants,
    desk_a,  # noqa: F811
    agent,
    name,
    bad,
    message,
):
    ticket_id = open_one(agent, tenants.a.client.id, desk_a.id)
    agent.post(f"/reseller/tickets/{ticket_id}/fields", FILLED)
    with app.app_context():
        entries = db.session.scalar(
            select(func.count()).select_from(TicketEntry).where(TicketEntry.ticket_id == ticket_id)
        )
    response = agent.post(
        f"/reseller/tickets/{ticket_id}/fields", {**FILLED, "field_pedido": "PED-2", name: bad}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    key = name.removeprefix("field_")
    beside = page.split(f'data-field="{key}"')[1].split("data-field=")[0]
    error_id = f"field-{key}-error"
    assert f'<div class="invalid-feedback d-block field-error" id="{error_id}">{message}</div>' in beside
    assert f'aria-invalid="true" aria-describedby="{error_id}"' in beside  # the error tied to its field
    assert page.count("field-error") == 1
    assert Controls(page).by_name["field_pedido"][0]["value"] == "PED-2"  # what was sent, shown again
    assert stored(app, ticket_id) == STORED  # not even the valid change was saved
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(TicketEntry).where(TicketEntry.ticket_id == ticket_id)
            )
            == entries
        )


def test_the_new_ticket_form_asks_the_desks_fields_and_stores_them(app, tenants, desk_a, agent):  # noqa: F811
    client_id = tenants.a.client.id
    requester, page = new_ticket_form(agent, client_id)
    controls = Controls(page).by_name
    assert {f"field_{f[0].lower()}" for f in FORM} <= controls.keys()
    response = agent.post(
        f"/reseller/clients/{client_id}/tickets/new",
        {"desk_id": desk_a.id, "requester_id": requester, "subject": "Pedido", **FILLED},
    )
    assert response.status_code == 302
    ticket_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert stored(app, ticket_id) == STORED


def test_a_required_field_missing_at_creation_is_refused_and_nothing_is_created(
    app,
    factory,
    tenants,
    desk_a,  # noqa: F811
    make_browser,
):
    add_form(app, desk_a.id, required=("Quantidade", "Urgente"))
    agent = make_browser()
    agent.login("agente@a.test")
    client_id = tenants.a.client.id
    requester, page = new_ticket_form(agent, client_id)
    with app.app_context():
        tickets_before = db.session.scalar(select(func.count()).select_from(Ticket))
        entries_before = db.session.scalar(select(func.count()).select_from(TicketEntry))
    controls = Controls(page).by_name
    assert "required" in controls["field_quantidade"][0] and "required" not in controls["field_pedido"][0]
    assert "required" in controls["field_urgente"][1]
    assert page.count("required-mark") == 2
    response = agent.post(
        f"/reseller/clients/{client_id}/tickets/new",
        {
            "desk_id": desk_a.id,
            "requester_id": requester,
            "subject": "Sem quantidade",
            "field_pedido": "PED-9",
            "field_quantidade": "",
            "field_urgente": "0",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Quantidade é obrigatório." in page.split('data-field="quantidade"')[1].split("data-field=")[0]
    assert "Urgente é obrigatório." in page.split('data-field="urgente"')[1]
    controls = Controls(page).by_name
    assert controls["field_pedido"][0]["value"] == "PED-9"
    assert controls["subject"][0]["value"] == "Sem quantidade"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
        assert db.session.scalar(select(func.count()).select_from(TicketEntry)) == entries_before


def test_the_new_ticket_form_shows_the_chosen_desks_fields(
    app,
    factory,
    tenants,
    desk_a,  # noqa: F811
    agent,
    make_browser,
):
    other = factory.desk(tenants.a.id, name="Financeiro", client_ids=[tenants.a.client.id])
    with app.app_context():
        fields.add_field(db.session.get(Desk, other.id), "Nota fiscal", "text")
        db.session.commit()
    owner = make_browser()
    owner.login("owner@a.test")
    page = owner.get(f"/reseller/clients/{tenants.a.client.id}/tickets/new?desk_id={other.id}")
    controls = Controls(page.get_data(as_text=True)).by_name
    assert "field_nota_fiscal" in controls and "field_pedido" not in controls
