"""Markers the login gate reads: views are private unless marked public."""


def public(view):
    """Mark a view as reachable without a session."""
    view.is_public = True
    return view


def tenantless(view):
    """Mark a platform-level view (e.g. Stripe's webhook) that serves no reseller: the
    host is not resolved to a reseller for it."""
    view.is_tenantless = True
    return view


def streams_body(view):
    """Mark a view that reads its own request body as a stream, with its own size limit
    (e.g. the inbound mail webhook, up to 30 MB): the NUL check
    (``core.validation.refuse_nul_bytes``) leaves the body unread, as the view's body is
    no text of ours (its bytes are stored as they came)."""
    view.streams_body = True
    return view
