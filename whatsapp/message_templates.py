"""The client's approved message templates: synced from the account (Graph
``GET /{waba-id}/message_templates``; approved ones kept, the others removed), and one
filled in: its body's parameters (``{{1}}``, ``{{2}}``...), its header's (a text's
``{{1}}``, or an image, document or video) and its buttons' (a URL's suffix, a quick
reply's payload), each checked, into the components Meta takes ("Send message
templates": ``header``, ``body``, ``button`` with ``sub_type`` and ``index``).

Templates whose parts the form cannot fill are not kept: a location header, named
parameters in the header, buttons such as a coupon code, a flow or a catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from whatsapp import channels, graph
from whatsapp.models import WhatsAppChannel, WhatsAppTemplate
from whatsapp.states import TemplateStatus

PLACEHOLDER = re.compile(r"\{\{\s*(\d{1,2})\s*\}\}")
_NAMED = re.compile(r"\{\{\s*[a-z_][a-z0-9_]*\s*\}\}")
MAX_PARAM = 1000
# Meta's limits: a header's text (filled) 60 characters, a button's URL 2,000; a quick
# reply's payload is ours to choose (kept short: it comes back in the contact's answer).
HEADER_MAX = 60
URL_MAX = 2000
PAYLOAD_MAX = 128
MEDIA_HEADERS = ("IMAGE", "DOCUMENT", "VIDEO")
BUTTON_TYPES = ("URL", "QUICK_REPLY", "PHONE_NUMBER")


class TemplateRefused(ValueError):
    """The template is not sent; the message says why."""


def templates_of(client_id: int) -> list[WhatsAppTemplate]:
    return list(
        db.session.scalars(
            select(WhatsAppTemplate)
            .where(WhatsAppTemplate.client_id == client_id)
            .order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)
        )
    )


def _body(components) -> str | None:
    for part in components if isinstance(components, list) else ():
        if isinstance(part, dict) and part.get("type") == "BODY" and isinstance(part.get("text"), str):
            return part["text"][:4096]
    return None


def _header(components) -> dict | None | bool:
    """The template's header as kept: ``None`` without one, ``False`` for one we cannot
    fill (a location, a text with a named or second parameter)."""
    for part in components if isinstance(components, list) else ():
        if not (isinstance(part, dict) and part.get("type") == "HEADER"):
            continue
        kind = part.get("format")
        if kind in MEDIA_HEADERS:
            return {"format": kind, "text": None, "parameters": 1}
        text = part.get("text")
        if kind != "TEXT" or not isinstance(text, str) or len(text) > HEADER_MAX:
            return False
        numbers = PLACEHOLDER.findall(text)
        if set(numbers) - {"1"} or _NAMED.search(PLACEHOLDER.sub("", text)):
            return False
        return {"format": kind, "text": text, "parameters": 1 if numbers else 0}
    return None


def _buttons(components) -> list[dict] | None | bool:
    """The template's buttons as kept (their position is their index in a send), ``None``
    without any, ``False`` when one needs what the form does not fill (a coupon code, a
    flow, a catalog, a one-time password)."""
    for part in components if isinstance(components, list) else ():
        if not (isinstance(part, dict) and part.get("type") == "BUTTONS"):
            continue
        rows = part.get("buttons") if isinstance(part.get("buttons"), list) else []
        kept = []
        for index, button in enumerate(rows):
            kind = button.get("type") if isinstance(button, dict) else None
            text = button.get("text") if isinstance(button, dict) else None
            if kind not in BUTTON_TYPES or not isinstance(text, str):
                return False
            row = {"index": index, "type": kind, "text": text[:25]}
            if kind == "URL":
                url = button.get("url")
                if not isinstance(url, str) or len(url) > URL_MAX:
                    return False
                row["url"] = url
                row["dynamic"] = bool(PLACEHOLDER.search(url))
            kept.append(row)
        return kept or None
    return None


def sync(channel: WhatsAppChannel) -> int:
    """Replace the client's templates with the account's approved ones; how many.
    :class:`graph.GraphError` changes nothing."""
    rows = graph.message_templates(channel.business_account_id, channels.access_token(channel))
    wanted = {}
    for row in rows:
        name, language, body = row.get("name"), row.get("language"), _body(row.get("components"))
        header, buttons = _header(row.get("components")), _buttons(row.get("components"))
        if row.get("status") != TemplateStatus.APPROVED or body is None or False in (header, buttons):
            continue
        if not (
            isinstance(name, str)
            and 0 < len(name) <= 512
            and isinstance(language, str)
            and len(language) <= 15
        ):
            continue
        category = row.get("category") if isinstance(row.get("category"), str) else ""
        wanted[(name, language)] = (body, category[:30], header, buttons)
    kept = {(t.name, t.language): t for t in templates_of(channel.client_id)}
    for key, template in kept.items():
        if key not in wanted:
            db.session.delete(template)
    now = utcnow()
    for (name, language), (body, category, header, buttons) in wanted.items():
        template = kept.get((name, language))
        if template is None:
            template = WhatsAppTemplate(
                reseller_id=channel.reseller_id, client_id=channel.client_id, name=name, language=language
            )
            db.session.add(template)
        template.body, template.category, template.synced_at = body, category, now
        template.header, template.buttons = header, buttons
        template.parameters = max((int(n) for n in PLACEHOLDER.findall(body)), default=0)
    db.session.flush()
    audit.record("whatsapp.templates_synced", channel, details={"approved": len(wanted)})
    return len(wanted)


def fill(template: WhatsAppTemplate, params: list[str]) -> str:
    """The template's text with ``params`` in its placeholders; :class:`TemplateRefused`
    when one is missing, empty or too long."""
    if len(params) != template.parameters or any(not p or len(p) > MAX_PARAM for p in params):
        raise TemplateRefused(
            _("Fill in every field of the template (up to %(max)d characters each).", max=MAX_PARAM)
        )
    return PLACEHOLDER.sub(
        lambda m: params[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(params) else m.group(0),
        template.body,
    )


@dataclass(frozen=True)
class Filled:
    """A template filled in: what the conversation shows, the header and button
    components Meta takes, and the kind of file the header needs (``image``,
    ``document``, ``video``; its parameter names it once uploaded)."""

    text: str
    components: list[dict]
    media: str | None


def fill_message(
    template: WhatsAppTemplate,
    params: list[str],
    *,
    header_text: str = "",
    buttons: dict[int, str] | None = None,
    has_file: bool = False,
) -> Filled:
    """Every part of the template filled in; :class:`TemplateRefused` names the first
    one that is missing or wrong."""
    body = fill(template, params)
    components: list[dict] = []
    shown, media = "", None
    header = template.header
    if header and header["format"] == "TEXT":
        shown = header["text"]
        if header["parameters"]:
            shown = PLACEHOLDER.sub(lambda _m: header_text, header["text"])
            if not header_text or "\n" in header_text or len(shown) > HEADER_MAX:
                raise TemplateRefused(
                    _("Fill in the header: one line, up to %(max)d characters in all.", max=HEADER_MAX)
                )
            components.append({"type": "header", "parameters": [{"type": "text", "text": header_text}]})
    elif header:
        media = header["format"].lower()
        if not has_file:
            raise TemplateRefused(_("This template starts with a file: choose it."))
        components.append({"type": "header", "parameters": [{"type": media}]})
    components.extend(_filled_buttons(template, buttons or {}))
    return Filled(f"{shown}\n\n{body}" if shown else body, components, media)


def _filled_buttons(template: WhatsAppTemplate, values: dict[int, str]) -> list[dict]:
    out = []
    for button in template.buttons or []:
        value = (values.get(button["index"]) or "").strip()
        index = str(button["index"])
        if button["type"] == "URL" and button.get("dynamic"):
            url = PLACEHOLDER.sub(lambda _m, text=value: text, button["url"])
            if not value or any(ch.isspace() for ch in value) or len(url) > URL_MAX:
                raise TemplateRefused(
                    _(
                        'Fill in the end of the link of the button "%(button)s" (without spaces).',
                        button=button["text"],
                    )
                )
            parameter = {"type": "text", "text": value}
            out.append({"type": "button", "sub_type": "url", "index": index, "parameters": [parameter]})
        elif button["type"] == "QUICK_REPLY" and value:
            if len(value) > PAYLOAD_MAX:
                raise TemplateRefused(
                    _(
                        'The answer code of the button "%(button)s" has up to %(max)d characters.',
                        button=button["text"],
                        max=PAYLOAD_MAX,
                    )
                )
            parameter = {"type": "payload", "payload": value}
            out.append(
                {"type": "button", "sub_type": "quick_reply", "index": index, "parameters": [parameter]}
            )
    return out
