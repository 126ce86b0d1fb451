"""Templates with named parameters (Meta's ``parameter_format: NAMED``, ``{{first_name}}``):
synced with their names in order and Meta's examples, filled in one labelled field per
name, each checked, sent with each parameter's ``parameter_name`` (the JSON the fake
Meta receives), and shown in the conversation with the values in place; positional
templates synced beside them stay as they were."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.test_whatsapp_templates import ORDER, ours, send, synced_chat
from whatsapp.models import WhatsAppSend, WhatsAppTemplate

# Shaped like Meta's documented named template (GET /{waba-id}/message_templates).
CONFIRMATION = {
    "name": "order_confirmation",
    "parameter_format": "NAMED",
    "components": [
        {
            "type": "BODY",
            "text": "Obrigado, {{first_name}}! Seu pedido {{order_number}} foi confirmado, {{first_name}}.",
            "example": {
                "body_text_named_params": [
                    {"param_name": "first_name", "example": "Pablo"},
                    {"param_name": "order_number", "example": "860198-230332"},
                ]
            },
        }
    ],
    "language": "pt_BR",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "2001",
}
SALE = {
    "name": "seasonal_promotion",
    "parameter_format": "NAMED",
    "components": [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "{{sale_name}} chegou!",
            "example": {"header_text_named_params": [{"param_name": "sale_name", "example": "Black Friday"}]},
        },
        {
            "type": "BODY",
            "text": "Use o código {{discount_code}} até {{end_date}}.",
            "example": {
                "body_text_named_params": [
                    {"param_name": "discount_code", "example": "BF2026"},
                    {"param_name": "end_date", "example": "30 de novembro"},
                ]
            },
        },
        {"type": "FOOTER", "text": "Sujeito a disponibilidade"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Quero"}]},
    ],
    "language": "pt_BR",
    "status": "APPROVED",
    "category": "MARKETING",
    "id": "2002",
}
# No parameter_format in the answer: the names in its text say it is named.
UNDECLARED = {
    **CONFIRMATION,
    "name": "sem_formato",
    "id": "2003",
    "parameter_format": None,
    "components": [{"type": "BODY", "text": "Oi {{nome}}"}],
}
NOT_FILLABLE = [
    {  # named, but a numbered parameter too
        **CONFIRMATION,
        "name": "misturado",
        "id": "2004",
        "components": [{"type": "BODY", "text": "Oi {{first_name}}, pedido {{1}}"}],
    },
    {  # positional, but a name in its text
        **ORDER,
        "name": "posicional_com_nome",
        "id": "2005",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Oi {{first_name}}"}],
    },
    {  # a named header with two parameters
        **SALE,
        "name": "dois_no_cabecalho",
        "id": "2006",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "{{a}} e {{b}}"},
            {"type": "BODY", "text": "Oi"},
        ],
    },
    {**CONFIRMATION, "name": "formato_novo", "id": "2007", "parameter_format": "SOMETHING_ELSE"},
]


@pytest.fixture
def chat(app, tenants, make_browser, fake_meta, run_jobs):
    templates = [CONFIRMATION, SALE, UNDECLARED, ORDER, *NOT_FILLABLE]
    return synced_chat(app, tenants, make_browser, fake_meta, run_jobs, templates)


def template(app, template_id: int) -> WhatsAppTemplate:
    with app.app_context():
        row = db.session.get(WhatsAppTemplate, template_id)
        db.session.expunge(row)
        return row


def test_the_sync_keeps_the_format_and_the_names_in_order_with_metas_examples(app, chat):
    _user, _conversation_id, ids = chat
    assert set(ids) == {"order_confirmation", "seasonal_promotion", "sem_formato", "pedido_enviado"}
    confirmation = template(app, ids["order_confirmation"])
    assert confirmation.parameter_format == "NAMED" and confirmation.parameters == 2
    assert confirmation.named_params == [
        {"name": "first_name", "example": "Pablo"},
        {"name": "order_number", "example": "860198-230332"},
    ]
    sale = template(app, ids["seasonal_promotion"])
    assert sale.header == {
        "format": "TEXT",
        "text": "{{sale_name}} chegou!",
        "parameters": 1,
        "name": "sale_name",
        "example": "Black Friday",
    }
    assert sale.buttons == [{"index": 0, "type": "QUICK_REPLY", "text": "Quero"}]
    undeclared = template(app, ids["sem_formato"])
    assert undeclared.parameter_format == "NAMED"
    assert undeclared.named_params == [{"name": "nome", "example": ""}]
    positional = template(app, ids["pedido_enviado"])
    assert positional.parameter_format == "POSITIONAL" and positional.named_params is None
    assert positional.parameters == 1
    assert positional.header == {"format": "TEXT", "text": "Pedido {{1}}", "parameters": 1}


def _form_of(page: str, name: str) -> str:
    match = re.search(rf'<form[^>]*data-template="{name}".*?</form>', page, re.S)
    assert match, name
    return match.group(0)


def test_the_form_has_one_labelled_field_per_name_with_metas_example(app, chat):
    user, conversation_id, ids = chat
    page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    confirmation = _form_of(page, "order_confirmation")
    fields = re.findall(r'<input[^>]*name="(param_[^"]+)"[^>]*placeholder="([^"]*)"', confirmation)
    assert fields == [("param_first_name", "Pablo"), ("param_order_number", "860198-230332")]
    for name in ("first_name", "order_number"):
        field_id = f"t{ids['order_confirmation']}-param-{name}"
        assert f'<label class="form-label small mb-0" for="{field_id}">{name}</label>' in confirmation
        assert f'id="{field_id}"' in confirmation
    sale = _form_of(page, "seasonal_promotion")
    assert re.search(r'<label[^>]*for="t\d+-header-param">sale_name</label>', sale)
    assert re.search(r'name="header_param"[^>]*placeholder="Black Friday"', sale)
    assert 'name="param_discount_code"' in sale and 'name="param_end_date"' in sale
    # The positional one as before: numbered fields, {{1}} as placeholder.
    order = _form_of(page, "pedido_enviado")
    assert 'name="param_1"' in order and 'placeholder="{{1}}"' in html.unescape(order)
    assert 'name="header_param"' in order and "param_first_name" not in order


def test_a_named_body_is_sent_with_each_parameter_name(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    form = {"param_first_name": " Maria ", "param_order_number": "A-77"}
    form["template_id"] = ids["order_confirmation"]
    page = send(user, conversation_id, form).get_data(as_text=True)
    run_jobs()
    [request] = fake_meta.sends
    assert request["json"]["type"] == "template"
    assert request["json"]["template"] == {
        "name": "order_confirmation",
        "language": {"code": "pt_BR"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": "first_name", "text": "Maria"},
                    {"type": "text", "parameter_name": "order_number", "text": "A-77"},
                ],
            }
        ],
    }
    [message] = ours(app)
    shown = "Obrigado, Maria! Seu pedido A-77 foi confirmado, Maria."
    assert message.body == shown and message.is_template and message.external_id == "wamid.FAKE0001"
    assert shown in html.unescape(page)


def test_a_named_header_and_body_are_sent_with_their_names(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    form = {
        "template_id": ids["seasonal_promotion"],
        "header_param": "Semana do Cliente",
        "param_discount_code": "CLIENTE10",
        "param_end_date": "sexta",
        "button_0": "QUERO_CLIENTE10",
    }
    send(user, conversation_id, form)
    run_jobs()
    [request] = fake_meta.sends
    assert request["json"]["template"] == {
        "name": "seasonal_promotion",
        "language": {"code": "pt_BR"},
        "components": [
            {
                "type": "header",
                "parameters": [{"type": "text", "parameter_name": "sale_name", "text": "Semana do Cliente"}],
            },
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": "discount_code", "text": "CLIENTE10"},
                    {"type": "text", "parameter_name": "end_date", "text": "sexta"},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "QUERO_CLIENTE10"}],
            },
        ],
    }
    [message] = ours(app)
    assert message.body == "Semana do Cliente chegou!\n\nUse o código CLIENTE10 até sexta."
    with app.app_context():
        row = db.session.scalar(select(WhatsAppSend))
        assert row.params == ["CLIENTE10", "sexta"] and row.param_names == ["discount_code", "end_date"]


def test_a_positional_template_beside_named_ones_is_sent_as_before(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    form = {"header_param": "8812", "param_1": "Kerry", "button_0": "8812"}
    form["template_id"] = ids["pedido_enviado"]
    send(user, conversation_id, form)
    run_jobs()
    [request] = fake_meta.sends
    assert request["json"]["template"]["components"][:2] == [
        {"type": "header", "parameters": [{"type": "text", "text": "8812"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Kerry"}]},
    ]
    with app.app_context():
        assert db.session.scalar(select(WhatsAppSend.param_names)) is None


SALE_FORM = {"header_param": "Semana", "param_discount_code": "C10", "param_end_date": "sexta"}


@pytest.mark.parametrize(
    ("name", "changes", "said"),
    [
        ("order_confirmation", {"param_order_number": "A-77"}, 'Preencha o campo "first_name" (até 1000'),
        ("order_confirmation", {"param_first_name": "   ", "param_order_number": "A"}, 'campo "first_name"'),
        ("order_confirmation", {"param_first_name": "M", "param_order_number": "9" * 1001}, '"order_number"'),
        ("seasonal_promotion", {**SALE_FORM, "param_end_date": ""}, 'Preencha o campo "end_date"'),
        ("seasonal_promotion", {**SALE_FORM, "header_param": ""}, "Preencha o cabeçalho"),
        ("seasonal_promotion", {**SALE_FORM, "param_end_date": "sexta\t10h"}, 'O campo "end_date" não pode'),
        (
            "seasonal_promotion",
            {**SALE_FORM, "param_end_date": "sexta     10h"},
            'O campo "end_date" não pode',
        ),
        ("seasonal_promotion", {**SALE_FORM, "header_param": "x" * 53}, "até 60 caracteres"),
        # The positional names do not fill a named template.
        ("order_confirmation", {"param_1": "Maria", "param_2": "A-77"}, 'campo "first_name"'),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_sent(app, chat, fake_meta, run_jobs, name, changes, said):
    user, conversation_id, ids = chat
    page = send(user, conversation_id, {**changes, "template_id": ids[name]}).get_data(as_text=True)
    assert said in html.unescape(page)
    run_jobs()
    assert fake_meta.sends == [] and ours(app) == []
    with app.app_context():
        assert db.session.scalar(select(WhatsAppSend.id)) is None
