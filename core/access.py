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
