"""The one rule for redirects that take a target from the request (``next=``).

A target is judged the way the browser will read the ``Location`` header (the WHATWG
URL parser), not the way it looks: ASCII tab, CR and LF are removed wherever they
are, leading and trailing spaces are trimmed, and a backslash is a slash in an
http(s) URL. So "/", a tab, "/evil.test" and "/", a backslash, "evil.test" both
read as ``//evil.test``: another site.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

# A longer target is nobody's page (and would not fit in the session cookie).
MAX_TARGET_LENGTH = 2000

_REMOVED_BY_BROWSERS = str.maketrans("", "", "\t\r\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_local_target(target: str | None) -> str | None:
    """``target`` as a path on this site (normalised as the browser would, non-ASCII
    percent-encoded), or ``None`` when it is empty, too long, has a control character,
    or a browser could read it as a scheme or another host."""
    if not target or len(target) > MAX_TARGET_LENGTH:
        return None
    path = target.translate(_REMOVED_BY_BROWSERS)
    if _CONTROL.search(path):
        return None
    path = path.strip(" ").replace("\\", "/")
    if not path.startswith("/") or path.startswith("//"):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return iri_to_uri(path)
