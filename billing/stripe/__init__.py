"""Stripe: the API client (``gateway``), the webhook intake (``intake``: verify and
store before the 2xx), the inbox of stored events (``inbox``: drain and sweep) and the
handlers per event type (``handlers``: they call the billing rules)."""
