"""The statuses and kinds of what the desk package stores.

Every value is a ``StrEnum``: members compare equal to the strings stored in the
database. Bare status strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class StatusKind(StrEnum):
    """``ticket_statuses.kind`` (and its copy ``tickets.status_kind``): the fixed meaning
    behind a reseller's configurable status names."""

    NEW = "new"
    OPEN = "open"
    WAITING_ON_CLIENT = "waiting_on_client"
    WAITING_ON_THIRD_PARTY = "waiting_on_third_party"
    PENDING_REVIEW = "pending_review"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


# Work still to do: a client with a ticket in one of these cannot be inactivated,
# deleted, or unlinked from that ticket's desk (seeds 000 and 001: "open or pending review").
BLOCKING_KINDS = (
    StatusKind.NEW,
    StatusKind.OPEN,
    StatusKind.WAITING_ON_CLIENT,
    StatusKind.WAITING_ON_THIRD_PARTY,
    StatusKind.PENDING_REVIEW,
)
# A ticket in one of these is finished (reopened within the desk's window, if at all).
FINISHED_KINDS = (StatusKind.RESOLVED, StatusKind.CLOSED, StatusKind.MERGED)
# Kinds whose default status pauses the SLA clock (the reseller may change it per status).
PAUSING_KINDS = (StatusKind.WAITING_ON_CLIENT, StatusKind.WAITING_ON_THIRD_PARTY, StatusKind.PENDING_REVIEW)


class Priority(StrEnum):
    """``tickets.priority`` and ``desks.default_priority``, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SlaState(StrEnum):
    """``tickets.sla_state``: where the ticket stands against its nearest deadline."""

    OK = "ok"
    EXPIRING = "expiring"
    BREACHED = "breached"
    MET = "met"
    PAUSED = "paused"


class ApprovalRule(StrEnum):
    """``desks.approval_rule``: who must approve a ticket of the desk (client portal)."""

    NONE = "none"
    ANY = "any"
    ALL = "all"
    N_OF_M = "n_of_m"


class FieldType(StrEnum):
    """``desk_fields.field_type``."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    CHECKBOX = "checkbox"


# Field types whose values come from the field's options.
CHOICE_TYPES = (FieldType.SELECT, FieldType.MULTI_SELECT)


class ClientVisibility(StrEnum):
    """``desk_fields.client_visibility``: what the client's portal does with a field."""

    INTERNAL = "internal"
    VISIBLE = "visible"
    EDITABLE = "editable"


class EntryKind(StrEnum):
    """``ticket_entries.kind``: the ticket's timeline."""

    PUBLIC_REPLY = "public_reply"
    INTERNAL_NOTE = "internal_note"
    EVENT = "event"


class EventType(StrEnum):
    """``ticket_entries.event["type"]``: what an event entry records (with before/after)."""

    CREATED = "created"
    STATUS = "status"
    ASSIGNEE = "assignee"
    PRIORITY = "priority"
    FIELD = "field"
    DESK = "desk"
    SLA = "sla"
    MERGED = "merged"
    REOPENED = "reopened"
    FOLLOWER = "follower"
    # E-mail (issue 14): an automatic reply (out of office) received on the ticket, kept
    # without reopening it; a bounce of one of the ticket's mails (the address is dead).
    MAIL_AUTO_REPLY = "mail_auto_reply"
    MAIL_BOUNCE = "mail_bounce"
    # Files of an e-mail the ticket rules refused (type, size, too many): the message was
    # taken in without them, and the timeline says which and why.
    MAIL_FILES_REFUSED = "mail_files_refused"
    # The client portal (issue 15): a resolution sent to the client's review, its
    # acceptance (by a user, or automatic after the desk's timeout), a reopening with
    # the client's reason, an approval asked and decided, a rating given.
    REVIEW = "review"
    ACCEPTED = "accepted"
    APPROVAL = "approval"
    RATED = "rated"


class ClockState(StrEnum):
    """Where one SLA clock (first response, next response, resolution) stands (desk.sla)."""

    NOT_APPLICABLE = "not_applicable"  # no target, or the clock has not started
    PENDING = "pending"
    EXPIRING = "expiring"  # the configured share of the target is used up
    BREACHED = "breached"
    MET = "met"


class SlaClock(StrEnum):
    """The three SLA clocks of a ticket (``ticket_sla_notices.clock``; desk.sla computes them)."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class ApprovalState(StrEnum):
    """``ticket_approvals.state``: an approval asked of named client users."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class VoteDecision(StrEnum):
    """``ticket_approval_votes.decision`` (empty while the approver has not decided)."""

    APPROVED = "approved"
    REFUSED = "refused"


class RatingSource(StrEnum):
    """``ticket_ratings.source``: where the requester rated the ticket."""

    PORTAL = "portal"
    EMAIL = "email"
