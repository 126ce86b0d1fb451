"""Markers the login gate reads: views are private unless marked public."""


def public(view):
    """Mark a view as reachable without a session."""
    view.is_public = True
    return view
