"""The statuses of what the reseller package stores, and of the client list's status filter.

Every status is a ``StrEnum``: members compare equal to the strings stored in the
database (and sent in query strings), so the column values do not change. Bare status
strings belong here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

from tenant.states import ClientStatus


class ExportStatus(StrEnum):
    """``export_jobs.status``: a background export of the client list."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportKind(StrEnum):
    """``export_jobs.kind``: what a background export writes."""

    CLIENTS = "clients"  # the client list, XLSX
    AUDIT_CSV = "audit_csv"  # the audit log, CSV
    AUDIT_JSONL = "audit_jsonl"  # the audit log, JSON Lines


AUDIT_EXPORT_KINDS = (ExportKind.AUDIT_CSV, ExportKind.AUDIT_JSONL)


class PurgeStatus(StrEnum):
    """``client_deletions.status``: where a deleted client's purge stands."""

    PENDING = "pending"
    PURGING = "purging"
    PURGED = "purged"
    CANCELLED = "cancelled"


class ClientStatusFilter(StrEnum):
    """The client list's status filter: a billing status, or the inactivated ones, or all."""

    ACTIVE = ClientStatus.ACTIVE.value
    WITHOUT_PLAN = ClientStatus.WITHOUT_PLAN.value
    INACTIVATED = "inactivated"
    ALL = "all"


# The filter's values, in the order the list's select shows them.
STATUS_FILTERS = tuple(s.value for s in ClientStatusFilter)
