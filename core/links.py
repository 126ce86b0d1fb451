"""Absolute links for e-mails: always on the reseller's canonical URL.

A link built from the request (``url_for(..., _external=True)``) takes its host from
the ``Host`` or ``X-Forwarded-Host`` header, which whoever sends the request
chooses: an attacker asking for a password reset with ``Host: evil.test`` would have
the real user e-mailed a genuine token on the attacker's site. Every e-mailed link is
built here instead, from the scheme and host the reseller configured, and works
outside a request too (jobs, webhooks, the CLI).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def canonical_base(reseller) -> str:
    """``scheme://host[:port]`` of the reseller, without a trailing slash."""
    base = (reseller.canonical_url or "").strip().rstrip("/")
    if base:
        return base
    # A reseller saved before canonical URLs existed: its oldest host, over HTTPS.
    hosts = sorted(reseller.hosts, key=lambda h: h.id or 0)
    if not hosts:
        raise LookupError(f"reseller {reseller.id} has no host to link to")
    return f"https://{hosts[0].host}"


def default_canonical_url(host: str) -> str:
    """The canonical URL a new reseller gets for ``host``: HTTPS in production."""
    scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "https"
    return f"{scheme}://{host}"


def valid_canonical_url(value: str) -> bool:
    """An absolute http(s) URL with a host and nothing after it but an optional port."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in {"http", "https"}
        and bool(parts.hostname)
        and parts.path in {"", "/"}
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def reseller_url(reseller, endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` on the reseller's canonical URL."""
    base = canonical_base(reseller)
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(parts.netloc, url_scheme=parts.scheme)
    return base + adapter.build(endpoint, values, force_external=False)
