"""The statuses the whatsapp package stores or reads from Meta."""

from __future__ import annotations

from enum import StrEnum


class EventOutcome(StrEnum):
    """``whatsapp_events.outcome``: what applying a stored webhook event did."""

    APPLIED = "applied"
    NOTHING = "nothing"  # no message or status of ours in it (an account update...)
    UNREADABLE = "unreadable"


class SendOutcome(StrEnum):
    """What one try of the sending job did (logs and tests)."""

    SENT = "sent"
    ALREADY_SENT = "already sent"
    RETRY_LATER = "retry later"
    FAILED = "failed"
    NOT_FOUND = "not found"


class TemplateStatus(StrEnum):
    """A message template's status in Meta's answer (only approved ones are kept by the
    sync) and in its ``message_template_status_update`` webhook's ``event`` (stored as
    Meta writes it: ``PAUSED``, ``DISABLED``, ``REJECTED``, ``PENDING_DELETION``...).
    Only an approved template is offered and sent."""

    APPROVED = "APPROVED"


# The webhook's ``changes[].field`` of a template's new status.
TEMPLATE_STATUS_FIELD = "message_template_status_update"


class ParameterFormat(StrEnum):
    """``whatsapp_templates.parameter_format``: how a template's text names its
    parameters, as Meta's ``parameter_format`` says."""

    POSITIONAL = "POSITIONAL"  # {{1}}, {{2}}...
    NAMED = "NAMED"  # {{first_name}}...


class MetaStatus(StrEnum):
    """``statuses[].status`` of a webhook, as Meta writes it."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class MetaType(StrEnum):
    """``messages[].type`` of a webhook, as Meta writes it (the ones we store)."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    BUTTON = "button"
    INTERACTIVE = "interactive"
