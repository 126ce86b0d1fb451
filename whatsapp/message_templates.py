"""The client's approved message templates: synced from the account (Graph
``GET /{waba-id}/message_templates``; approved ones kept, the others removed), and one
filled in with its parameters (``{{1}}``, ``{{2}}``... in its body)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.timeutil import utcnow
from whatsapp import channels, graph
from whatsapp.models import WhatsAppChannel, WhatsAppTemplate
from whatsapp.states import TemplateStatus

PLACEHOLDER = re.compile(r"\{\{\s*(\d{1,2})\s*\}\}")
MAX_PARAM = 1000


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


def sync(channel: WhatsAppChannel) -> int:
    """Replace the client's templates with the account's approved ones; how many.
    :class:`graph.GraphError` changes nothing."""
    rows = graph.message_templates(channel.business_account_id, channels.access_token(channel))
    wanted = {}
    for row in rows:
        name, language, body = row.get("name"), row.get("language"), _body(row.get("components"))
        if row.get("status") != TemplateStatus.APPROVED or body is None:
            continue
        if not (
            isinstance(name, str)
            and 0 < len(name) <= 512
            and isinstance(language, str)
            and len(language) <= 15
        ):
            continue
        category = row.get("category") if isinstance(row.get("category"), str) else ""
        wanted[(name, language)] = (body, category[:30])
    kept = {(t.name, t.language): t for t in templates_of(channel.client_id)}
    for key, template in kept.items():
        if key not in wanted:
            db.session.delete(template)
    now = utcnow()
    for (name, language), (body, category) in wanted.items():
        template = kept.get((name, language))
        if template is None:
            template = WhatsAppTemplate(
                reseller_id=channel.reseller_id, client_id=channel.client_id, name=name, language=language
            )
            db.session.add(template)
        template.body, template.category, template.synced_at = body, category, now
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
