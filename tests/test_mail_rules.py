"""The pure rules of e-mail intake (issue 14) on a corpus of real-shaped messages
(tests/mail/*.eml, written by hand after Gmail, Outlook, Apple Mail, Postfix and a list
server): which mail a machine wrote, bounces, quoted history, HTML, and the markers that
tie a reply to its ticket."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desk import mail_markers as markers
from intake import bounces, headers, html, quoting
from intake.headers import AutomaticReason

MAIL = Path(__file__).parent / "mail"
SECRET = "fixture-secret"
OUR_DOMAINS = ("mail.atende.example",)
PERSON_WRITTEN = (
    "gmail_reply_pt.eml",
    "gmail_reply_en.eml",
    "outlook_reply_pt.eml",
    "outlook_reply_en.eml",
    "apple_reply_pt.eml",
    "apple_reply_en.eml",
    "forward_pt.eml",
    "rewritten_subject.eml",
    "html_only.eml",
    "broken_encoding.eml",
)


def load(name: str) -> EmailMessage:
    return email.message_from_bytes((MAIL / name).read_bytes(), policy=email.policy.default)


def part_text(part) -> str:
    """A text part's content; an unknown charset read as Latin-1 (every byte is a character)."""
    try:
        return part.get_content()
    except LookupError:
        return part.get_payload(decode=True).decode("latin-1")


def plain_text(msg: EmailMessage) -> str:
    return part_text(msg.get_body(preferencelist=("plain",)))


def message(**fields: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = fields.pop("From", "Ana <ana@example.com>")
    for name, value in fields.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Oi")
    return msg


# -- who wrote it ----------------------------------------------------------------------


@pytest.mark.parametrize("name", PERSON_WRITTEN)
def test_mail_a_person_wrote_is_not_automatic(name):
    msg = load(name)
    assert headers.is_automatic(msg, OUR_DOMAINS) is None
    assert not headers.is_out_of_office(msg)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dsn_bounce.eml", AutomaticReason.REPORT),
        ("dsn_delayed.eml", AutomaticReason.REPORT),
        ("out_of_office.eml", AutomaticReason.AUTO_SUBMITTED),
        ("auto_reply.eml", AutomaticReason.AUTO_SUBMITTED),
        ("list_mail.eml", AutomaticReason.LIST),
        ("own_message.eml", AutomaticReason.OWN_MESSAGE),
    ],
)
def test_machine_mail_is_automatic_with_its_reason(name, reason):
    assert headers.is_automatic(load(name), OUR_DOMAINS) == reason


def test_our_own_message_is_only_recognised_with_our_domains():
    msg = load("own_message.eml")
    assert headers.is_automatic(msg) is None
    assert headers.is_own_message(msg, ["ATENDE.example"])  # a parent domain, any case
    assert not headers.is_own_message(msg, ["example.com"])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"Auto_Submitted": "auto-generated"}, AutomaticReason.AUTO_SUBMITTED),
        ({"Auto_Submitted": "Auto-Replied; owner-email=a@b.c"}, AutomaticReason.AUTO_SUBMITTED),
        ({"X_Autoreply": "yes"}, AutomaticReason.AUTOREPLY_HEADER),
        ({"X_Autorespond": "Vacation"}, AutomaticReason.AUTOREPLY_HEADER),
        ({"Precedence": "Bulk"}, AutomaticReason.PRECEDENCE),
        ({"Precedence": "list"}, AutomaticReason.PRECEDENCE),
        ({"Precedence": "junk"}, AutomaticReason.PRECEDENCE),
        ({"List_Unsubscribe": "<mailto:sair@lista.example>"}, AutomaticReason.LIST),
        ({"X_Auto_Response_Suppress": "All"}, AutomaticReason.SUPPRESS_ALL),
        ({"X_Auto_Response_Suppress": "DR, RN, NRN, all"}, AutomaticReason.SUPPRESS_ALL),
        ({"Return_Path": "<>"}, AutomaticReason.NULL_SENDER),
        ({"From": "MAILER-DAEMON@mx.example.com"}, AutomaticReason.ROBOT_SENDER),
        ({"From": "postmaster@example.com"}, AutomaticReason.ROBOT_SENDER),
        ({"From": "Loja <no-reply@loja.example>"}, AutomaticReason.ROBOT_SENDER),
        ({"From": "Loja <NoReply+news@loja.example>"}, AutomaticReason.ROBOT_SENDER),
        ({"From": "Banco <naoresponda@banco.example>"}, AutomaticReason.ROBOT_SENDER),
    ],
)
def test_each_automatic_header_has_its_reason(fields, reason):
    assert headers.is_automatic(message(**fields)) == reason


@pytest.mark.parametrize(
    "fields",
    [
        {"Auto_Submitted": "no"},
        {"Precedence": "first-class"},
        {"X_Auto_Response_Suppress": "DR, RN, NRN, OOF"},
        {"From": "Reply Guy <replyguy@example.com>"},
        {"From": "Noemia <noemia@example.com>"},
    ],
)
def test_headers_of_a_person_are_not_automatic(fields):
    assert headers.is_automatic(message(**fields)) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Resposta automática: [#12] Pedido",
        "Resposta Automatica: Pedido",
        "Ausente: Pedido",
        "Out of Office: Order",
        "Automatic reply: [#12] Order",
        "Fora do escritório até 10/12",
        "RE: Auto-Reply: Order",
    ],
)
def test_out_of_office_by_subject(subject):
    assert headers.is_out_of_office(message(Subject=subject))


@pytest.mark.parametrize("subject", ["Funcionário ausente não recebe", "Re: [#12] Automatic replies setup"])
def test_words_inside_a_subject_are_not_out_of_office(subject):
    assert not headers.is_out_of_office(message(Subject=subject))


def test_out_of_office_note_and_bounce_are_told_apart():
    assert headers.is_out_of_office(load("out_of_office.eml"))
    assert not headers.is_out_of_office(load("auto_reply.eml"))  # auto-generated, not a vacation
    assert not headers.is_out_of_office(load("dsn_bounce.eml"))  # auto-replied, but a report
    assert headers.is_out_of_office(message(X_Autoreply="yes"))


HEADER_BYTES = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


@given(st.lists(st.tuples(st.sampled_from(["From", "Return-Path", "Message-ID", "Subject", "Auto-Submitted",
                                           "Precedence", "X-Auto-Response-Suppress", "Content-Type"]),
                          HEADER_BYTES), max_size=8))  # fmt: skip
def test_broken_headers_never_break_the_rules(fields):
    raw = b"".join(name.encode() + b": " + value + b"\n" for name, value in fields) + b"\nCorpo\n"
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert headers.is_automatic(msg, OUR_DOMAINS) in (None, *AutomaticReason)
    assert headers.is_out_of_office(msg) in (True, False)
    assert bounces.parse_report(msg) is None or isinstance(bounces.parse_report(msg), bounces.Bounce)


# -- bounces ---------------------------------------------------------------------------


def test_permanent_bounce_names_the_dead_address_and_the_original_message():
    bounce = bounces.parse_report(load("dsn_bounce.eml"))
    assert bounce is not None
    (recipient,) = bounce.recipients
    assert recipient.address == "joao.inexistente@gmail.com"
    assert recipient.status == "5.1.1"
    assert recipient.action == "failed"
    assert recipient.diagnostic.startswith(
        "550-5.1.1 The email account that you tried to reach does not exist."
    )
    assert recipient.permanent and not recipient.transient
    assert bounce.permanent == (recipient,) and bounce.transient == ()
    assert bounce.original_message_id == "<ticket-1234.1796122920.5b7e@mail.atende.example>"


def test_delayed_delivery_is_transient():
    bounce = bounces.parse_report(load("dsn_delayed.eml"))
    (recipient,) = bounce.recipients
    assert (recipient.address, recipient.status, recipient.action) == (
        "financeiro@empresa-lenta.example.com.br",
        "4.4.1",
        "delayed",
    )
    assert recipient.transient and bounce.permanent == ()
    assert recipient.diagnostic.endswith("Connection timed out")
    assert bounce.original_message_id == "<ticket-1240.1796122240.0c9d@mail.atende.example>"


@pytest.mark.parametrize("name", ["gmail_reply_pt.eml", "out_of_office.eml", "list_mail.eml"])
def test_a_message_that_is_no_report_is_no_bounce(name):
    assert bounces.parse_report(load(name)) is None


def test_status_read_from_the_diagnostic_when_the_field_is_missing():
    raw = (MAIL / "dsn_bounce.eml").read_bytes().replace(b"Status: 5.1.1\n", b"")
    bounce = bounces.parse_report(email.message_from_bytes(raw, policy=email.policy.default))
    assert bounce.recipients[0].status == "5.1.1"


def test_delivered_recipients_are_not_failures():
    raw = (MAIL / "dsn_bounce.eml").read_bytes().replace(b"Action: failed", b"Action: delivered")
    raw = raw.replace(b"Status: 5.1.1", b"Status: 2.0.0")
    assert bounces.parse_report(email.message_from_bytes(raw, policy=email.policy.default)).recipients == ()


def test_a_recipient_without_any_status_code_is_not_counted():
    raw = (MAIL / "dsn_bounce.eml").read_bytes().replace(b"Status: 5.1.1\n", b"")
    raw = raw.replace(b"smtp; 550-5.1.1 The", b"smtp; The").replace(b"550 5.1.1 https", b"https")
    assert bounces.parse_report(email.message_from_bytes(raw, policy=email.policy.default)).recipients == ()


# -- the new text of a reply -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "gmail_reply_pt.eml",
            "Bom dia,\n\nA nota chegou agora, obrigada! Só falta o boleto de dezembro.\n\nAna",
        ),
        ("gmail_reply_en.eml", "Hi,\n\nThe reset link worked, I'm in now. Thanks for the quick help."),
        (
            "outlook_reply_pt.eml",
            "Boa tarde,\n\nRecebemos a nota, mas o CNPJ está errado. Podem corrigir e reenviar?\n\n"
            "Att.,\n\nCarlos Lima\nConstrutora Lima Ltda.\n(11) 4002-8922",
        ),
        ("outlook_reply_en.eml", 'Still getting "account locked" after the reset. Screenshot below.\n\nJane'),
        ("apple_reply_pt.eml", "Pode fazer a troca para o plano anual, por favor."),
        ("apple_reply_en.eml", "The yearly plan, please. Can it start on the 1st?\n\nThanks,\nTom"),
        ("broken_encoding.eml", "O pedido 5521 ainda não foi faturado. Favor verificar a situação.\n\nJosé"),
    ],
)
def test_reply_keeps_only_its_new_text(name, expected):
    msg = load(name)
    assert quoting.trim_reply(plain_text(msg), str(msg["Subject"])) == expected


def test_forward_keeps_what_it_forwards():
    msg = load("forward_pt.eml")
    text = plain_text(msg)
    trimmed = quoting.trim_reply(text, str(msg["Subject"]))
    assert trimmed == text.strip()
    assert "A fatura 2026/11 no valor de R$ 189,90 venceu em 25/11/2026." in trimmed
    # The forward line alone (a subject without "Fwd:") keeps it too.
    assert quoting.trim_reply(text, "Boleto") == text.strip()


def test_outlook_forward_is_told_by_its_subject():
    text = "Vejam abaixo.\n\n________________________________\nDe: Banco\nEnviado: ontem\n\nSua fatura."
    assert quoting.trim_reply(text, "ENC: Fatura") == text
    assert quoting.trim_reply(text, "RES: Fatura") == "Vejam abaixo."


def test_inline_answers_keep_their_quotes_and_the_trailing_quote_goes():
    text = "> Qual o CNPJ?\n12.345.678/0001-90\n\n> E o endereço?\nRua A, 10\n\n> Obrigado\n> Equipe\n"
    assert quoting.trim_reply(text) == "> Qual o CNPJ?\n12.345.678/0001-90\n\n> E o endereço?\nRua A, 10"


def test_a_reply_that_is_all_quote_is_kept_whole():
    text = "> Olá\n> tudo certo?\n"
    assert quoting.trim_reply(text) == text.strip()


def test_a_sentence_ending_in_wrote_is_new_text():
    text = "Em resumo, o técnico escreveu:\nreiniciar o roteador.\n\nOn Monday they wrote:\nok"
    assert quoting.trim_reply(text) == text


def test_signature_and_mobile_footer_are_cut():
    assert quoting.trim_reply("Pode sim.\n-- \nAna\nFinanceiro") == "Pode sim."
    assert quoting.trim_reply("Ok!\r\n\r\nSent from my iPhone\r\n") == "Ok!"


# -- HTML bodies -----------------------------------------------------------------------


def test_html_only_message_is_sanitised_to_its_allow_list():
    body = load("html_only.eml").get_body(preferencelist=("html",)).get_content()
    clean = html.sanitise(body)
    assert clean.reason is None
    for forbidden in ("<script", "<style", "onload", "onclick", "onerror", "javascript:", "<iframe", "<form",
                      "<input", "http://tracker", "data:image", "document.cookie", "style="):  # fmt: skip
        assert forbidden not in clean.html.lower(), forbidden
    assert '<img src="cid:logo@mercadinhosol" alt="Logo">' in clean.html
    assert (
        '<a href="https://mercadinhosol.com.br/contrato.pdf" rel="noopener noreferrer nofollow">'
        in clean.html
    )
    assert "<b>anual</b>" in clean.html
    assert clean.text == "Confirmamos a troca para o plano anual.\n\nVer contrato ou baixar."


def test_gmail_html_reply_keeps_its_shape_and_loses_the_hidden_marker():
    body = load("gmail_reply_pt.eml").get_body(preferencelist=("html",)).get_content()
    assert "ref:1234-pvwrrmf6adgviwgu" in body
    clean = html.sanitise(body)
    assert "<blockquote>" in clean.html and "style=" not in clean.html and "class=" not in clean.html
    assert "ref:" not in clean.html and "ref:" not in clean.text
    assert clean.text.startswith("Bom dia,\n\nA nota chegou agora, obrigada! Só falta o boleto de dezembro.")
    # An HTML-only reply is trimmed through its text: the same new text as the plain part's.
    assert quoting.trim_reply(clean.text) == quoting.trim_reply(plain_text(load("gmail_reply_pt.eml")))


def test_our_own_marker_line_is_not_new_text():
    msg = load("own_message.eml")
    assert quoting.trim_reply(plain_text(msg)) == "Olá Ana,\n\nReenviamos a nota fiscal para o seu e-mail."


def test_over_size_body_falls_back_to_plain_text():
    clean = html.sanitise("<p>Olá <script>x()</script><b>mundo</b></p>", max_bytes=10)
    assert clean == html.CleanBody(None, "Olá mundo", "too large")


def test_over_time_body_falls_back_to_plain_text():
    ticks = iter([0.0, 5.0])  # a clock that says the call took five seconds
    clean = html.sanitise("<div>Prazo <i>vencido</i></div>", budget=1.0, clock=lambda: next(ticks))
    assert clean == html.CleanBody(None, "Prazo vencido", "too slow")


def test_html_to_text_keeps_blocks_apart_and_drops_scripts():
    source = "<html><head><title>T</title></head><body><p>Um\n  dois</p><ul><li>a</li><li>b</li></ul>"
    source += "<script>alert(1)</script>fim &amp; tal<br>linha</body></html>"
    assert html.html_to_text(source) == "Um dois\n\n- a\n- b\nfim & tal\nlinha"


class TagCollector(HTMLParser):
    """Every (tag, attributes) of a document, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


HOSTILE_PIECES = st.sampled_from(
    [
        "<script>", "</script>", "<scr", "ipt>", "<SCRIPT SRC=//evil.example/x.js>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">', '<a href=" jAvAsCrIpT:alert(1)">', "<a href='java&#x09;script:x'>",
        '<img src="http://t.example/p.gif">', '<div style="background:url(javascript:x)">', "<svg onload=x>",
        "<iframe src=https://e.example>", "<style>", "</style>", "<!--", "-->", "<p>", "</p>",
        '"', "'", "<", ">",
        "texto ", "ação ", "<b>", "<br/>", "<img src=cid:logo>", '<a href="https://ok.example">',
    ]
)  # fmt: skip


@given(st.lists(HOSTILE_PIECES | st.text(max_size=8), max_size=40).map("".join))
def test_sanitiser_never_outputs_a_script_a_handler_or_a_javascript_url(source):
    out = html.sanitise(source)
    collector = TagCollector()
    collector.feed(out.html)
    collector.close()
    assert "<script" not in out.html.lower()
    for tag, attributes in collector.tags:
        assert tag in html.ALLOWED_TAGS, tag
        assert not any(name.startswith("on") or name == "style" for name in attributes), attributes
        for name in ("href", "src"):
            value = "".join(attributes.get(name, "").split()).lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), value
        if tag == "img" and "src" in attributes:
            assert attributes["src"].startswith(("cid:", "https://")), attributes


# -- markers ---------------------------------------------------------------------------


def test_reply_address_names_its_ticket_and_a_tampered_one_names_none():
    address = markers.reply_address(1234, SECRET, "Mail.Atende.Example")
    assert address == "reply+1234-pvwrrmf6adgviwgu@mail.atende.example"
    assert markers.ticket_from_address(address, SECRET) == 1234
    assert markers.ticket_from_address(address.upper(), SECRET) == 1234  # a server lower/upper-cased it
    assert markers.ticket_from_address(f"<{address}>", SECRET, OUR_DOMAINS) == 1234
    assert markers.ticket_from_address(address, SECRET, ("other.example",)) is None
    assert markers.ticket_from_address(address.replace("1234-", "1235-"), SECRET) is None
    assert markers.ticket_from_address(address.replace("pvwr", "pvwq"), SECRET) is None
    assert markers.ticket_from_address(address, "another-secret") is None
    assert markers.ticket_from_address("suporte@acme.example", SECRET) is None
    with pytest.raises(ValueError):
        markers.reply_address(1234, "", "mail.atende.example")


@pytest.mark.parametrize(
    ("name", "ticket"),
    [
        ("gmail_reply_pt.eml", 1234),
        ("gmail_reply_en.eml", 1240),
        ("outlook_reply_pt.eml", 1234),
        ("outlook_reply_en.eml", 1240),
        ("apple_reply_pt.eml", 1251),
        ("apple_reply_en.eml", 1251),
        ("html_only.eml", 1251),
        ("broken_encoding.eml", 1240),
    ],
)
def test_each_reply_names_its_ticket_three_ways(name, ticket):
    msg = load(name)
    assert markers.ticket_from_subject(str(msg["Subject"])) == ticket
    assert [markers.ticket_from_address(a.addr_spec, SECRET) for a in msg["To"].addresses] == [ticket]
    body = msg.get_body(preferencelist=("plain", "html"))
    assert markers.ticket_from_body(part_text(body), SECRET) == ticket


def test_rewritten_subject_and_recipient_still_find_the_ticket_in_the_html_body():
    msg = load("rewritten_subject.eml")
    assert markers.ticket_from_subject(str(msg["Subject"])) is None
    assert markers.ticket_from_address(msg["To"].addresses[0].addr_spec, SECRET) is None
    assert markers.ticket_from_body(plain_text(msg), SECRET) is None
    assert markers.ticket_from_body(msg.get_body(preferencelist=("html",)).get_content(), SECRET) == 1234


def test_body_marker_with_a_wrong_signature_is_ignored():
    forged = "ref:1234-aaaaaaaaaaaaaaaa\n> ref:1234-pvwrrmf6adgviwgu"
    assert markers.ticket_from_body(forged, SECRET) == 1234
    assert markers.ticket_from_body("ref:1234-aaaaaaaaaaaaaaaa", SECRET) is None
    assert markers.ticket_from_body("ref:1234-pvwrrmf6adgviwguX", SECRET) is None


@pytest.mark.parametrize(
    "subject",
    [
        "[#1234] Nota fiscal",
        "Re: [#1234] Nota fiscal",
        "RES: RES: [#1234] Nota fiscal",
        "Fwd: [#1234] Nota fiscal",
        "ENC: RE: [ # 1234 ] Nota fiscal",
        "[EXTERNO] RES: Nota fiscal [#1234]",
        "Re[2]: Nota fiscal ([#1234])",
    ],
)
def test_subject_marker_survives_prefixes_and_rewrites(subject):
    assert markers.ticket_from_subject(subject) == 1234


def test_subject_marker_is_written_once():
    assert markers.subject_with_marker("Nota fiscal", 1234) == "[#1234] Nota fiscal"
    assert markers.subject_with_marker("[#1234] Nota fiscal", 1234) == "[#1234] Nota fiscal"
    assert markers.strip_reply_prefixes("RES: ENC: Re[3]: Fwd:Nota") == "Nota"
    assert markers.ticket_from_subject("Pedido #1234 (sem colchetes)") is None


def test_html_body_marker_survives_either_a_dropped_comment_or_a_dropped_span():
    marker = markers.body_marker_html(1251, SECRET)
    assert "<!-- ref:1251-gwcy737u47vg5wcn -->" in marker and "display:none" in marker
    without_comment = marker.split("-->", 1)[1]
    without_span = marker.split("<span", 1)[0]
    assert markers.ticket_from_body(without_comment, SECRET) == 1251
    assert markers.ticket_from_body(without_span, SECRET) == 1251


@given(
    ticket_id=st.integers(min_value=0, max_value=10**18 - 1),
    secret=st.text(min_size=1, max_size=40),
    domain=st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,12}){1,3}", fullmatch=True),
)
def test_markers_round_trip(ticket_id, secret, domain):
    address = markers.reply_address(ticket_id, secret, domain)
    assert markers.ticket_from_address(address, secret, (domain,)) == ticket_id
    assert markers.ticket_from_body(f"> {markers.body_marker_text(ticket_id, secret)}\n", secret) == ticket_id
    assert markers.ticket_from_body(markers.body_marker_html(ticket_id, secret), secret) == ticket_id
    assert (
        markers.ticket_from_subject(f"RES: {markers.subject_with_marker('Pedido', ticket_id)}") == ticket_id
    )
    # Another ticket's signature never passes for this one.
    other = markers.ticket_token(ticket_id + 1, secret).split("-", 1)[1]
    assert markers.read_token(f"{ticket_id}-{other}", secret) is None
