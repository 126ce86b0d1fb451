"""Template messages with a header and buttons: synced from the account with their
parts, filled in the conversation's form (a header's text or file, a URL button's
suffix, a quick reply's payload), each part checked, and sent in the exact shape of
Meta's "Send message templates" (the JSON the fake Meta receives)."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from core.extensions import db
from tenant.inbox_models import Message
from tenant.states import MessageDirection
from tests.test_whatsapp_media_out import MP4, PNG
from tests.whatsapp_setup import open_chat
from whatsapp.models import WhatsAppTemplate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ORDER = {
    "name": "pedido_enviado",
    "language": "pt_BR",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "1",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}", "example": {"header_text": ["8812"]}},
        {
            "type": "BODY",
            "text": "Olá {{1}}, seu pedido saiu para entrega.",
            "example": {"body_text": [["Kerry"]]},
        },
        {"type": "FOOTER", "text": "Loja Alpha"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Rastrear", "url": "https://loja.test/rastreio/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Recebi"},
                {"type": "PHONE_NUMBER", "text": "Ligar", "phone_number": "+551130000000"},
            ],
        },
    ],
}


def media_template(name: str, kind: str) -> dict:
    return {
        "name": name,
        "language": "pt_BR",
        "status": "APPROVED",
        "category": "UTILITY",
        "id": name,
        "components": [
            {"type": "HEADER", "format": kind, "example": {"header_handle": ["4::aW1hZ2U="]}},
            {"type": "BODY", "text": "Segue o arquivo."},
        ],
    }


UNFILLABLE = [
    {**media_template("com_local", "LOCATION"), "id": "9"},
    {
        **ORDER,
        "name": "cupom",
        "components": [
            {"type": "BODY", "text": "Seu cupom"},
            {"type": "BUTTONS", "buttons": [{"type": "COPY_CODE", "example": "SAVE30"}]},
        ],
    },
]


def synced_chat(app, tenants, make_browser, fake_meta, run_jobs, templates: list[dict]):
    """Client A connected with these templates synced, a contact's message received (the
    window is open), a user who may answer: the user, the conversation's id and the
    kept templates' ids by name."""
    user, conversation_id = open_chat(app, tenants, make_browser, run_jobs)
    fake_meta.templates = templates
    assert user.post("/app/settings/whatsapp/templates/sync").status_code == 303
    with app.app_context():
        ids = dict(db.session.execute(select(WhatsAppTemplate.name, WhatsAppTemplate.id)).all())
    return user, conversation_id, ids


@pytest.fixture
def chat(app, tenants, make_browser, fake_meta, run_jobs):
    templates = [
        ORDER,
        media_template("boleto", "DOCUMENT"),
        media_template("foto", "IMAGE"),
        media_template("video", "VIDEO"),
        *UNFILLABLE,
    ]
    return synced_chat(app, tenants, make_browser, fake_meta, run_jobs, templates)


def send(user, conversation_id: int, data: dict, **file):
    if file:
        [(name, content)] = file.items()
        data = {**data, "header_file": (io.BytesIO(content), name)}
    return user.post(
        f"/app/conversations/{conversation_id}/whatsapp-template",
        data,
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def ours(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(
            select(Message).where(Message.direction == MessageDirection.OUTBOUND).order_by(Message.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_the_sync_keeps_header_and_buttons_and_leaves_templates_the_form_cannot_fill(app, chat):
    _user, _conversation_id, ids = chat
    assert set(ids) == {"pedido_enviado", "boleto", "foto", "video"}
    with app.app_context():
        order = db.session.get(WhatsAppTemplate, ids["pedido_enviado"])
        assert order.header == {"format": "TEXT", "text": "Pedido {{1}}", "parameters": 1}
        assert order.buttons == [
            {
                "index": 0,
                "type": "URL",
                "text": "Rastrear",
                "url": "https://loja.test/rastreio/{{1}}",
                "dynamic": True,
            },
            {"index": 1, "type": "QUICK_REPLY", "text": "Recebi"},
            {"index": 2, "type": "PHONE_NUMBER", "text": "Ligar"},
        ]


def test_header_text_url_suffix_and_payload_are_sent_in_metas_shape(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    page = user.get(f"/app/conversations/{conversation_id}").get_data(as_text=True)
    assert 'name="header_param"' in page and 'name="button_0"' in page and 'name="button_1"' in page
    assert "https://loja.test/rastreio/" in page and 'name="button_2"' not in page
    form = {
        "template_id": ids["pedido_enviado"],
        "header_param": "8812",
        "param_1": "Kerry",
        "button_0": "8812?c=1",
        "button_1": "RECEBI_8812",
    }
    assert send(user, conversation_id, form).status_code == 200
    run_jobs()
    [request] = fake_meta.sends
    assert request["json"]["type"] == "template"
    assert request["json"]["template"] == {
        "name": "pedido_enviado",
        "language": {"code": "pt_BR"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "8812"}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Kerry"}]},
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "8812?c=1"}],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "1",
                "parameters": [{"type": "payload", "payload": "RECEBI_8812"}],
            },
        ],
    }
    [message] = ours(app)
    assert message.body == "Pedido 8812\n\nOlá Kerry, seu pedido saiu para entrega." and message.is_template


def test_a_quick_reply_without_payload_is_left_out(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    form = {"template_id": ids["pedido_enviado"], "header_param": "1", "param_1": "Ana", "button_0": "1"}
    send(user, conversation_id, form)
    run_jobs()
    [request] = fake_meta.sends
    assert [(c["type"], c.get("sub_type")) for c in request["json"]["template"]["components"]] == [
        ("header", None),
        ("body", None),
        ("button", "url"),
    ]


@pytest.mark.parametrize(
    ("template", "name", "content", "header"),
    [
        (
            "boleto",
            "boleto março.pdf",
            PDF,
            {"type": "document", "document": {"id": "upload-1", "filename": "boleto março.pdf"}},
        ),
        ("foto", "vitrine.png", PNG, {"type": "image", "image": {"id": "upload-1"}}),
        ("video", "tour.mp4", MP4, {"type": "video", "video": {"id": "upload-1"}}),
    ],
)
def test_a_media_header_is_uploaded_then_named_in_the_header(
    app, chat, fake_meta, run_jobs, template, name, content, header
):
    user, conversation_id, ids = chat
    send(user, conversation_id, {"template_id": ids[template]}, **{name: content})
    run_jobs()
    [upload] = fake_meta.uploads
    assert content in upload
    [request] = fake_meta.sends
    assert request["json"]["template"] == {
        "name": template,
        "language": {"code": "pt_BR"},
        "components": [{"type": "header", "parameters": [header]}],
    }
    [message] = ours(app)
    assert message.media_name == name and message.external_id == "wamid.FAKE0001"


ORDER_FORM = {"header_param": "8812", "param_1": "Kerry", "button_0": "8812", "button_1": ""}


@pytest.mark.parametrize(
    ("template", "changes", "file", "said"),
    [
        ("pedido_enviado", {"header_param": ""}, None, "Preencha o cabeçalho"),
        ("pedido_enviado", {"header_param": "x" * 54}, None, "até 60 caracteres"),
        ("pedido_enviado", {"button_0": ""}, None, 'Preencha o final do link do botão "Rastrear"'),
        ("pedido_enviado", {"button_0": "88 12"}, None, "sem espaços"),
        ("pedido_enviado", {"button_1": "x" * 129}, None, 'código de resposta do botão "Recebi"'),
        ("pedido_enviado", {"param_1": ""}, None, "Preencha todos os campos do modelo"),
        # Meta refuses a parameter with a tab, a new line or more than 4 spaces in a row.
        ("pedido_enviado", {"param_1": "Kerry\tSmith"}, None, 'O campo "Campo 1" não pode ter quebra'),
        ("pedido_enviado", {"param_1": "Kerry\r\nSmith"}, None, 'O campo "Campo 1" não pode ter quebra'),
        ("pedido_enviado", {"param_1": "Kerry     Smith"}, None, "mais de 4 espaços seguidos"),
        ("pedido_enviado", {"header_param": "88\t12"}, None, 'O campo "Campo do cabeçalho" não pode'),
        ("pedido_enviado", {"header_param": "88     12"}, None, 'O campo "Campo do cabeçalho" não pode'),
        ("foto", {}, None, "Este modelo começa com um arquivo"),
        ("foto", {}, ("doc.pdf", PDF), "Este modelo começa com uma foto"),
        ("video", {}, ("foto.png", PNG), "Este modelo começa com um vídeo"),
        ("boleto", {}, ("setup.exe", b"MZ\x90\x00" + b"\0" * 64), "Programas e scripts"),
    ],
)
def test_each_part_is_checked_and_nothing_is_sent_when_one_is_wrong(
    app, chat, fake_meta, run_jobs, template, changes, file, said
):
    user, conversation_id, ids = chat
    data = {**(ORDER_FORM if template == "pedido_enviado" else {}), **changes, "template_id": ids[template]}
    page = send(user, conversation_id, data, **dict([file] if file else [])).get_data(as_text=True)
    assert said in html.unescape(page)
    run_jobs()
    assert fake_meta.uploads == [] and fake_meta.sends == [] and ours(app) == []


def test_four_spaces_in_a_row_are_sent(app, chat, fake_meta, run_jobs):
    user, conversation_id, ids = chat
    send(
        user,
        conversation_id,
        {**ORDER_FORM, "param_1": "Kerry    Smith", "template_id": ids["pedido_enviado"]},
    )
    run_jobs()
    [request] = fake_meta.sends
    assert request["json"]["template"]["components"][1]["parameters"] == [
        {"type": "text", "text": "Kerry    Smith"}
    ]
