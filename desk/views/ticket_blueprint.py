"""The blueprint of the staff's ticket pages (``/reseller/tickets...``), defined here once:
staff with the "service desks" permission only; plus the helpers their templates use."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import unquote

from flask import Blueprint, abort, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from auth import permissions as perm
from auth.access import current_account, has_permission
from core.formatting import date_br, datetime_br, label
from desk import fields
from desk.states import EventType, Priority, SlaState, StatusKind
from desk.statuses import KIND_LABELS, PRIORITY_LABELS

tickets_bp = Blueprint("desk_tickets", __name__, url_prefix="/reseller", template_folder="../templates")

PRIORITY_BADGES = {
    Priority.LOW: "text-bg-light border",
    Priority.NORMAL: "text-bg-secondary",
    Priority.HIGH: "text-bg-warning",
    Priority.URGENT: "text-bg-danger",
}
SLA_LABELS = {
    SlaState.OK: _l("On time"),
    SlaState.EXPIRING: _l("Expiring"),
    SlaState.BREACHED: _l("Breached"),
    SlaState.MET: _l("Met"),
    SlaState.PAUSED: _l("Paused"),
}
SLA_BADGES = {
    SlaState.OK: "text-bg-light border",
    SlaState.EXPIRING: "text-bg-warning",
    SlaState.BREACHED: "text-bg-danger",
    SlaState.MET: "text-bg-success",
    SlaState.PAUSED: "text-bg-info",
}

EVENT_LABELS = {
    EventType.CREATED: _l("opened the ticket"),
    EventType.STATUS: _l("changed the status"),
    EventType.ASSIGNEE: _l("changed the assignee"),
    EventType.PRIORITY: _l("changed the priority"),
    EventType.FIELD: _l("changed a field"),
    EventType.DESK: _l("moved the ticket to another desk"),
    EventType.SLA: _l("SLA"),
    EventType.MERGED: _l("merged tickets"),
    EventType.REOPENED: _l("reopened the ticket"),
    EventType.FOLLOWER: _l("changed the followers"),
    EventType.MAIL_AUTO_REPLY: _l("sent an automatic reply (out of office), kept without reopening"),
    EventType.MAIL_BOUNCE: _l("reports an e-mail not delivered:"),
    EventType.MAIL_FILES_REFUSED: _l("sent files that were not accepted:"),
    EventType.REVIEW: _l("resolved the ticket: it awaits the client's review"),
    EventType.ACCEPTED: _l("accepted the resolution"),
    EventType.RATED: _l("rated the service"),
    EventType.APPROVAL: _l("changed the approval"),
}


@tickets_bp.before_request
def _staff_with_desks_only():
    """Staff only (a client user, or staff logged in as one, is refused), and only with
    the "service desks" permission."""
    if current_account and not current_account.is_staff:
        abort(403)
    if not has_permission(perm.DESKS):
        abort(403)


def clock_state(due, expiring_at, now, *, met: bool = False, paused: bool = False) -> SlaState | None:
    """One SLA clock as shown at ``now``: met (no deadline left, and it was met), paused
    (the ticket's clock is stopped), breached (its deadline passed), expiring (its share
    of the target used), on time; ``None`` when it has no deadline (no target, or nothing
    awaits it)."""
    if due is None:
        return SlaState.MET if met else None
    if paused:
        return SlaState.PAUSED
    if due <= now:
        return SlaState.BREACHED
    if expiring_at is not None and expiring_at <= now:
        return SlaState.EXPIRING
    return SlaState.OK


# A queue cell's look per clock state (none: the plain date).
CELL_CLASSES = {
    SlaState.BREACHED: " text-danger fw-semibold",
    SlaState.EXPIRING: " text-warning-emphasis fw-semibold",
}


def due_cell(value, expiring_at, clock: str, now, paused: bool = False, write=datetime_br) -> Markup:
    """A queue row's deadline cell: the date and time (``write``: ``datetime_br`` or a
    page's ``datetime_writer()``), or a dash; breached (red) or expiring (amber) marked,
    and said so to screen readers. ``clock`` is one of the ticket's clock names (ours,
    never input); the label is escaped."""
    if value is None:
        return Markup(f'<td class="small text-nowrap" data-due="{clock}">—</td>')  # noqa: S704 - see above
    state = clock_state(value, expiring_at, now, paused=paused)
    if state not in CELL_CLASSES:
        return Markup(f'<td class="small text-nowrap" data-due="{clock}">{write(value)}</td>')  # noqa: S704
    return Markup(  # noqa: S704 - the date is ours, the label escaped
        f'<td class="small text-nowrap{CELL_CLASSES[state]}" data-due="{clock}" data-clock-state="{state}">'
        f'{write(value)}<span class="visually-hidden"> ({escape(label(SLA_LABELS[state]))})</span></td>'
    )


def field_date(value) -> str:
    """A date field's stored ISO value as the user's short date (as typed, if not one)."""
    try:
        return date_br(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


# nh3 writes every tag itself and escapes < and > in text and attribute values, so an
# image tag in its output is a real one: only an <img>'s own src is rewritten.
INLINE_IMAGE = re.compile(r'(<img\b[^<>]*?\ssrc=")cid:([^"<>]{1,255})"')


def mail_html(html: str, files, endpoint: str = "desk_tickets.ticket_attachment") -> Markup:
    """An e-mail's HTML, stored sanitised by the intake (nh3: no script, style, event
    handler or foreign URL scheme; the page's CSP loads images from us only), with each
    inline image (``cid:...``) pointed at the ticket's own attachment of that Content-ID
    (one not among ``files`` loses its source), served by ``endpoint`` (the staff's page,
    or the client portal's)."""
    by_cid = {f.content_id: f for f in files if f.content_id}

    def source(match: re.Match) -> str:
        found = by_cid.get(unquote(match.group(2)))
        if found is None:
            return f'{match.group(1)}"'
        url = url_for(endpoint, ticket_id=found.ticket_id, attachment_id=found.id)
        return f'{match.group(1)}{escape(url)}"'

    return Markup(INLINE_IMAGE.sub(source, html))  # noqa: S704 - sanitised by intake.html


@tickets_bp.app_context_processor
def _ticket_helpers():
    return {
        "priority_label": lambda value: label(PRIORITY_LABELS.get(value, value)),
        "priority_badge": lambda value: PRIORITY_BADGES.get(value, ""),
        "sla_label": lambda value: label(SLA_LABELS.get(value, value)),
        "sla_badge": lambda value: SLA_BADGES.get(value, ""),
        "kind_label": lambda kind, name=None: name or label(KIND_LABELS.get(StatusKind(kind), kind)),
        "event_label": lambda value: label(EVENT_LABELS.get(value, value)),
        "ticket_priorities": tuple(Priority),
        "ticket_sla_states": tuple(SlaState),
        "ticket_kinds": tuple(StatusKind),
        "field_limits": {"text": fields.MAX_TEXT, "long_text": fields.MAX_LONG_TEXT},
        "due_cell": due_cell,
        "field_date": field_date,
        "clock_state": clock_state,
        "mail_html": mail_html,
    }
