"""The new part of an HTML reply (issue 14): the HTML body cut where the mail program
put the quoted history, so the ticket shows what the client wrote, as they wrote it.

Mail programs mark their history in the markup itself, before any sanitiser removes the
classes and ids that say so: Gmail's ``<div class="gmail_quote">``, Apple Mail's and
Thunderbird's ``<blockquote type="cite">``, Outlook's ``<div id="divRplyFwdMsg">`` /
``<div id="appendonsend">`` and its ``<hr id="stopSpelling">``, Yahoo's
``<div class="yahoo_quoted">``. The body is cut at the first of them (the sanitiser then
closes whatever was left open). No marker: None, and the caller shows the trimmed text
instead, so quoted history never reaches the timeline as HTML.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

QUOTE_CLASSES = frozenset({"gmail_quote", "gmail_quote_container", "yahoo_quoted", "moz-cite-prefix"})
QUOTE_IDS = frozenset(
    {"divrplyfwdmsg", "appendonsend", "stopspelling", "mail-editor-reference-message-container"}
)


class _QuoteFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        classes = set(values.get("class", "").lower().split())
        quoted = (
            bool(classes & QUOTE_CLASSES)
            or values.get("id", "").lower() in QUOTE_IDS
            or (tag == "blockquote" and values.get("type", "").lower() == "cite")
        )
        if quoted:
            self.found = self.getpos()

    handle_startendtag = handle_starttag


def _offset(html: str, line: int, column: int) -> int:
    """The character offset of an HTMLParser position (1-based line, 0-based column).
    HTMLParser counts lines by ``\n`` alone (not ``\r``, form feeds or U+2028, which
    ``splitlines`` would also split on)."""
    lines = html.split("\n")
    return sum(len(text) + 1 for text in lines[: line - 1]) + column


# Text that every marker's tag contains, to find where to look without parsing it all.
HINTS = re.compile("|".join([*QUOTE_CLASSES, *QUOTE_IDS, "cite"]), re.IGNORECASE)


def new_part(html: str) -> str | None:
    """The HTML before the first quoted-history marker; None when there is none. Only the
    HTML up to the first hint of a marker is parsed (the quoted history is usually most
    of the body), further hints only when that one was no marker."""
    html = html or ""
    finder = _QuoteFinder()
    fed = 0
    try:
        for hint in HINTS.finditer(html):
            if hint.start() < fed:
                continue
            end = html.find(">", hint.end())
            end = len(html) if end < 0 else end + 1
            finder.feed(html[fed:end])
            fed = end
            if finder.found is not None:
                break
        finder.close()
    except (AssertionError, ValueError):  # a document the parser gives up on
        return None
    if finder.found is None:
        return None
    return html[: _offset(html, *finder.found)]
