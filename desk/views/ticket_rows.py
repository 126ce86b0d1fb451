"""The ticket queue's rows, written in Python, as the client list's are
(``reseller.views.client_rows``): thirteen cells a row, three of them deadlines, up to
100 rows. What rows share (the labels of each priority, SLA state and status kind in this
request's language, the ticket link, the date writer) is prepared once per page; every
value a row puts in is escaped."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from core.formatting import datetime_writer, label
from desk.states import Priority, SlaState, StatusKind
from desk.statuses import KIND_LABELS
from desk.views.ticket_blueprint import PRIORITY_BADGES, PRIORITY_LABELS, SLA_BADGES, SLA_LABELS, due_cell

_ID = "987654321"  # where a row's id goes in the ticket link


class TicketRows:
    """Renders ``page.rows`` (``desk.queue``'s row columns) as table rows; built per page."""

    def __init__(self, now) -> None:
        self.now = now
        self.write = datetime_writer()
        self.link = str(escape(url_for("desk_tickets.ticket_page", ticket_id=int(_ID))))
        self.priorities = {
            p: f'<span class="badge {PRIORITY_BADGES[p]}">{escape(label(PRIORITY_LABELS[p]))}</span>'
            for p in Priority
        }
        self.sla = {
            s: f'<span class="badge {SLA_BADGES[s]}" data-sla="{s}">{escape(label(SLA_LABELS[s]))}</span>'
            for s in SlaState
        }
        self.kinds = {k: str(escape(label(KIND_LABELS.get(k, k)))) for k in StatusKind}

    def row(self, t) -> str:
        id_ = str(t.id)
        now, write, paused = self.now, self.write, t.sla_state == SlaState.PAUSED
        kind = escape(t.status_kind)
        status = escape(t.status_name) if t.status_name else self.kinds.get(t.status_kind, kind)
        priority = self.priorities.get(t.priority) or f'<span class="badge">{escape(t.priority)}</span>'
        sla = self.sla.get(t.sla_state) or f'<span class="badge" data-sla="{escape(t.sla_state)}"></span>'
        deadlines = "".join(
            due_cell(due, expiring, clock, now, paused, write)
            for due, expiring, clock in (
                (t.first_response_due_at, t.first_response_expiring_at, "first_response"),
                (t.next_response_due_at, t.next_response_expiring_at, "next_response"),
                (t.resolution_due_at, t.resolution_expiring_at, "resolution"),
            )
        )
        return (
            f'<tr data-ticket-id="{id_}"><td><input class="form-check-input" type="checkbox" '
            f'name="ticket_ids" value="{id_}" aria-label="#{t.number}"></td>'
            f'<td class="text-body-secondary">#{t.number}</td>'
            f'<td><a class="fw-semibold" href="{self.link.replace(_ID, id_)}" data-ticket-link>'
            f"{escape(t.subject)}</a></td>"
            f'<td class="small">{escape(t.client_name)}</td><td class="small">{escape(t.desk_name)}</td>'
            f'<td><span class="badge text-bg-light border" data-status="{kind}">{status}</span></td>'
            f"<td>{priority}</td><td>{sla}</td>"
            f'<td class="small">{escape(t.assignee_name) if t.assignee_name else "—"}</td>{deadlines}'
            f'<td class="small text-nowrap">{write(t.updated_at)}</td></tr>'
        )

    def __call__(self, rows) -> Markup:
        return Markup("".join(map(self.row, rows)))  # noqa: S704 - every value escaped above
