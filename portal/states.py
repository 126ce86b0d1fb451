"""The statuses and kinds of what the portal package stores.

Every value is a ``StrEnum``: members compare equal to the strings stored in the
database. Bare status strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum


class Visibility(StrEnum):
    """``kb_articles.visibility``: who may read a published article."""

    PUBLIC = "public"  # anyone, on the reseller's public page too
    CLIENTS = "clients"  # the reseller's client users (and staff)
    INTERNAL = "internal"  # staff only


class ArticleStatus(StrEnum):
    """``kb_articles.status``: a draft is read by staff only, whatever its visibility."""

    DRAFT = "draft"
    PUBLISHED = "published"


# What a client user reads; the public page reads PUBLIC only.
CLIENT_VISIBILITIES = (Visibility.PUBLIC, Visibility.CLIENTS)


class Grouping(StrEnum):
    """How the portal's reports group their days (never stored: the report's parameter)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class ReportName(StrEnum):
    """The portal's reports, by the name their download is asked by."""

    TICKETS = "tickets"
    DESKS = "desks"
    STATUSES = "statuses"
    PRIORITIES = "priorities"
    REQUESTERS = "requesters"
    SLA = "sla"
    RATINGS = "ratings"
    SESSIONS = "sessions"
