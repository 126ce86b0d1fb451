"""The client's approved message templates: synced from the account (Graph
``GET /{waba-id}/message_templates``; approved ones kept, the others removed), and one
filled in: its body's parameters (``{{1}}``, ``{{2}}``...), its header's (a text's
``{{1}}``, or an image, document or video) and its buttons' (a URL's suffix, a quick
reply's payload), each checked, into the components Meta takes ("Send message
templates": ``header``, ``body``, ``button`` with ``sub_type`` and ``index``).

A template's parameters are positional (``{{1}}``) or named (``{{first_name}}``, Meta's
``parameter_format: NAMED``): a named one's body and header parameters are kept by name
with Meta's examples (``body_text_named_params``, ``header_text_named_params``), filled
in one field each and sent with their ``parameter_name``.

Templates whose parts the form cannot fill are not kept: a location header, a header
with two parameters, numbered and named parameters mixed, buttons such as a coupon
code, a flow or a catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from whatsapp import channels, graph, template_status
from whatsapp.models import WhatsAppChannel, WhatsAppTemplate
from whatsapp.states import ParameterFormat, TemplateStatus

PLACEHOLDER = re.compile(r"\{\{\s*(\d{1,2})\s*\}\}")
NAMED_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
MAX_PARAM = 1000
EXAMPLE_MAX = 200  # Meta's example of a named parameter, shown in its empty field
# Meta's limits: a header's text (filled) 60 characters, a button's URL 2,000; a quick
# reply's payload is ours to choose (kept short: it comes back in the contact's answer).
HEADER_MAX = 60
URL_MAX = 2000
PAYLOAD_MAX = 128
# Meta refuses a parameter's text with a new line, a tab or more than 4 spaces in a row
# (its error 132018): refused in the form, naming the field, rather than by Meta later.
UNSENDABLE = re.compile(r"[\r\n\t]| {5,}")
MEDIA_HEADERS = ("IMAGE", "DOCUMENT", "VIDEO")
BUTTON_TYPES = ("URL", "QUICK_REPLY", "PHONE_NUMBER")


class TemplateRefused(ValueError):
    """The template is not sent; the message says why."""


def templates_of(client_id: int, *, approved_only: bool = False) -> list[WhatsAppTemplate]:
    """The client's stored templates; ``approved_only``: the ones offered and sent (Meta
    may have paused, disabled or rejected one since the sync: its status webhook)."""
    query = select(WhatsAppTemplate).where(WhatsAppTemplate.client_id == client_id)
    if approved_only:
        query = query.where(WhatsAppTemplate.status == TemplateStatus.APPROVED)
    return list(db.session.scalars(query.order_by(WhatsAppTemplate.name, WhatsAppTemplate.language)))


def approved_of(client_id: int) -> list[WhatsAppTemplate]:
    return templates_of(client_id, approved_only=True)


def _part(components, kind: str) -> dict | None:
    for part in components if isinstance(components, list) else ():
        if isinstance(part, dict) and part.get("type") == kind:
            return part
    return None


def _parameter_format(row: dict) -> str | None:
    """Meta's ``parameter_format``; for an answer without it, named when the header or
    the body names a parameter; ``None`` for a format we do not know."""
    declared = row.get("parameter_format")
    if declared is None:
        texts = [(_part(row.get("components"), kind) or {}).get("text") for kind in ("HEADER", "BODY")]
        named = any(isinstance(text, str) and NAMED_PLACEHOLDER.search(text) for text in texts)
        return ParameterFormat.NAMED if named else ParameterFormat.POSITIONAL
    return declared if declared in (ParameterFormat.POSITIONAL, ParameterFormat.NAMED) else None


def _named_params(part: dict, text: str, examples_key: str) -> list[dict] | bool:
    """A named text's parameters, each once in the order of the text, with Meta's example
    (``example.<examples_key>``: ``[{"param_name": ..., "example": ...}]``); ``False``
    when the text also has a numbered one."""
    if PLACEHOLDER.search(text):
        return False
    example = part.get("example") if isinstance(part.get("example"), dict) else {}
    rows = example.get(examples_key) if isinstance(example.get(examples_key), list) else []
    given = {row.get("param_name"): row.get("example") for row in rows if isinstance(row, dict)}
    return [
        {"name": name, "example": given[name][:EXAMPLE_MAX] if isinstance(given.get(name), str) else ""}
        for name in dict.fromkeys(NAMED_PLACEHOLDER.findall(text))
    ]


def _body(components, named: bool) -> tuple[str, list[dict] | None] | None:
    """The body's text and, named, its parameters; ``None`` without a body or with
    parameters of the other format."""
    part = _part(components, "BODY")
    if part is None or not isinstance(part.get("text"), str):
        return None
    text = part["text"][:4096]
    if not named:
        return None if NAMED_PLACEHOLDER.search(text) else (text, None)
    params = _named_params(part, text, "body_text_named_params")
    return None if params is False else (text, params)


def _header(components, named: bool) -> dict | None | bool:
    """The template's header as kept: ``None`` without one, ``False`` for one we cannot
    fill (a location, a text with a second parameter or one of the other format)."""
    part = _part(components, "HEADER")
    if part is None:
        return None
    kind = part.get("format")
    if kind in MEDIA_HEADERS:
        return {"format": kind, "text": None, "parameters": 1}
    text = part.get("text")
    if kind != "TEXT" or not isinstance(text, str) or len(text) > HEADER_MAX:
        return False
    if named:
        params = _named_params(part, text, "header_text_named_params")
        if params is False or len(params) > 1:
            return False
        return {"format": kind, "text": text, "parameters": len(params), **(params[0] if params else {})}
    numbers = PLACEHOLDER.findall(text)
    if set(numbers) - {"1"} or NAMED_PLACEHOLDER.search(text):
        return False
    return {"format": kind, "text": text, "parameters": 1 if numbers else 0}


def _buttons(components) -> list[dict] | None | bool:
    """The template's buttons as kept (their position is their index in a send), ``None``
    without any, ``False`` when one needs what the form does not fill (a coupon code, a
    flow, a catalog, a one-time password, a named parameter in a link)."""
    part = _part(components, "BUTTONS")
    if part is None:
        return None
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
            if not isinstance(url, str) or len(url) > URL_MAX or NAMED_PLACEHOLDER.search(url):
                return False
            row["url"] = url
            row["dynamic"] = bool(PLACEHOLDER.search(url))
        kept.append(row)
    return kept or None


def _kept(row: dict) -> dict | None:
    """An approved template of Meta's answer as kept (the template's columns), or
    ``None`` when it is not approved or the form cannot fill it."""
    name, language, components = row.get("name"), row.get("language"), row.get("components")
    parameter_format = _parameter_format(row)
    if row.get("status") != TemplateStatus.APPROVED or parameter_format is None:
        return None
    if not (isinstance(name, str) and 0 < len(name) <= 512):
        return None
    if not (isinstance(language, str) and len(language) <= 15):
        return None
    named = parameter_format == ParameterFormat.NAMED
    body, header, buttons = _body(components, named), _header(components, named), _buttons(components)
    if body is None or False in (header, buttons):
        return None
    text, named_params = body
    category = row.get("category") if isinstance(row.get("category"), str) else ""
    return {
        "meta_id": template_status.meta_id(row.get("id")),
        "status": TemplateStatus.APPROVED,
        "body": text,
        "category": category[:30],
        "header": header,
        "buttons": buttons,
        "parameter_format": parameter_format,
        "named_params": named_params,
        "parameters": (
            len(named_params) if named else max((int(n) for n in PLACEHOLDER.findall(text)), default=0)
        ),
    }


def sync(channel: WhatsAppChannel, *, audit_unchanged: bool = True) -> int:
    """Replace the client's templates with the account's approved ones; how many.
    :class:`graph.GraphError` changes nothing. Audited; with ``audit_unchanged`` false
    (the periodic sync) only when the approved ones changed (some added or removed, or
    one approved again)."""
    rows = graph.message_templates(channel.business_account_id, channels.access_token(channel))
    wanted = {}
    for row in rows:
        columns = _kept(row)
        if columns is not None:
            wanted[(row["name"], row["language"])] = columns
    kept = {(t.name, t.language): t for t in templates_of(channel.client_id)}
    changed = set(kept) != set(wanted) or any(t.status != TemplateStatus.APPROVED for t in kept.values())
    for key, template in kept.items():
        if key not in wanted:
            db.session.delete(template)
    # To the second, as the status webhook's time: a status Meta sends in the sync's
    # second is taken as newer than the sync's.
    now = utcnow().replace(microsecond=0)
    for (name, language), columns in wanted.items():
        template = kept.get((name, language))
        if template is None:
            template = WhatsAppTemplate(
                reseller_id=channel.reseller_id, client_id=channel.client_id, name=name, language=language
            )
            db.session.add(template)
        for column, value in columns.items():
            setattr(template, column, value)
        template.synced_at = template.status_at = now
    db.session.flush()
    if audit_unchanged or changed:
        audit.record("whatsapp.templates_synced", channel, details={"approved": len(wanted)})
    return len(wanted)


def param_names(template: WhatsAppTemplate) -> list[str] | None:
    """A named template's body parameter names, in the order of its text; ``None`` for a
    positional one."""
    if template.parameter_format != ParameterFormat.NAMED:
        return None
    return [param["name"] for param in template.named_params or []]


def param_keys(template: WhatsAppTemplate) -> list[str]:
    """What names the body's fields in the form: ``1``, ``2``... or the parameters' names."""
    names = param_names(template)
    return names if names is not None else [str(n) for n in range(1, template.parameters + 1)]


def fill(template: WhatsAppTemplate, params: list[str]) -> str:
    """The template's text with ``params`` (in the order of :func:`param_keys`) in its
    placeholders; :class:`TemplateRefused` when one is missing, empty or too long."""
    names = param_names(template)
    if names is not None:
        return _fill_named(template.body, names, params)
    if len(params) != template.parameters or any(not p or len(p) > MAX_PARAM for p in params):
        raise TemplateRefused(
            _("Fill in every field of the template (up to %(max)d characters each).", max=MAX_PARAM)
        )
    for number, value in enumerate(params, 1):
        _sendable(value, _("Field %(n)d", n=number))
    return PLACEHOLDER.sub(
        lambda m: params[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(params) else m.group(0),
        template.body,
    )


def _fill_named(body: str, names: list[str], params: list[str]) -> str:
    values = dict(zip(names, params, strict=False))
    for name in names:
        if not values.get(name) or len(values[name]) > MAX_PARAM:
            raise TemplateRefused(
                _('Fill in the field "%(name)s" (up to %(max)d characters).', name=name, max=MAX_PARAM)
            )
        _sendable(values[name], name)
    return NAMED_PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def _sendable(value: str, field: str) -> None:
    if UNSENDABLE.search(value):
        raise TemplateRefused(
            _(
                'The field "%(field)s" cannot have a line break, a tab or more than 4 spaces in a row.',
                field=field,
            )
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
    one that is missing or wrong (first of all, a template Meta no longer approves)."""
    if not template_status.offered(template):
        raise TemplateRefused(
            _('Meta no longer approves the template "%(name)s": choose another one.', name=template.name)
        )
    body = fill(template, params)
    components: list[dict] = []
    shown, media = "", None
    header = template.header
    if header and header["format"] == "TEXT":
        shown = header["text"]
        if header["parameters"]:
            name = header.get("name")  # a named template's
            pattern = NAMED_PLACEHOLDER if name else PLACEHOLDER
            shown = pattern.sub(lambda _m: header_text, header["text"])
            if not header_text or "\n" in header_text or len(shown) > HEADER_MAX:
                raise TemplateRefused(
                    _("Fill in the header: one line, up to %(max)d characters in all.", max=HEADER_MAX)
                )
            _sendable(header_text, _("Header field"))
            parameter = {"type": "text", "text": header_text}
            if name:
                parameter["parameter_name"] = name
            components.append({"type": "header", "parameters": [parameter]})
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
