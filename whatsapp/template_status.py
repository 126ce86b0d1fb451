"""A message template's new status from Meta's ``message_template_status_update``
webhook (its ``value``: ``event``, ``message_template_id``, ``message_template_name``,
``message_template_language``, ``reason``), applied to the client's stored template in
the drain job's scope: found by Meta's id, else by name and language (a template synced
before Meta's id was kept), the client's own only. A template no longer approved is no
longer offered nor sent (:func:`offered`).

Idempotent (the same status twice changes nothing more) and order-tolerant: each status
carries its time (the webhook's ``entry[].time``, or the sync's), and an older one never
overwrites a newer one."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from core.extensions import db
from whatsapp.models import WhatsAppTemplate
from whatsapp.states import TemplateStatus

_EVENT = re.compile(r"[A-Z_]{1,30}")


def offered(template: WhatsAppTemplate) -> bool:
    """Whether the template may be sent: Meta's last status of it is approved."""
    return template.status == TemplateStatus.APPROVED


def meta_id(raw) -> str | None:
    """Meta's template id as stored (the webhook writes it as a number, the sync's
    answer as a string)."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    text = str(raw)
    return text if text.isdigit() and len(text) <= 40 else None


def _find(client_id: int, value: dict) -> WhatsAppTemplate | None:
    found_id = meta_id(value.get("message_template_id"))
    if found_id is not None:
        template = db.session.scalar(
            select(WhatsAppTemplate).where(
                WhatsAppTemplate.client_id == client_id, WhatsAppTemplate.meta_id == found_id
            )
        )
        if template is not None:
            return template
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if not (isinstance(name, str) and isinstance(language, str)):
        return None
    template = db.session.scalar(
        select(WhatsAppTemplate).where(
            WhatsAppTemplate.client_id == client_id,
            WhatsAppTemplate.name == name[:512],
            WhatsAppTemplate.language == language[:15],
        )
    )
    # The same name and language under another of Meta's ids is another template (the
    # one stored was deleted at Meta and made again): not this event's.
    if template is None or (template.meta_id not in (None, found_id)):
        return None
    return template


def apply_status(client_id: int, value: dict, at: datetime) -> int:
    """The status a webhook's ``value`` gives the client's template as of ``at``; 1 when
    it changed a stored template's status, 0 when there is none (not synced, or kept out
    by the sync), the status is older than the stored one or the same (its time kept)."""
    event = value.get("event")
    if not (isinstance(event, str) and _EVENT.fullmatch(event)):
        return 0
    template = _find(client_id, value)
    if template is None or (template.status_at is not None and at < template.status_at):
        return 0
    template.meta_id = template.meta_id or meta_id(value.get("message_template_id"))
    changed = template.status != event
    template.status, template.status_at = event, at
    return int(changed)
