"""HTML bodies of inbound mail made safe to show on a ticket (issue 14), with nh3 (the
Rust sanitiser ammonia): an allow-list of the tags a reply needs; no scripts, styles,
forms, frames, event handlers or javascript: URLs; links open without a referrer; images
only inline (``cid:``) or over https. A body over ``MAX_BYTES``, or one whose cleaning
took longer than the time budget (measured around the call: nh3 cannot be interrupted),
is not shown as HTML: it falls back to plain text from the standard library's parser."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from desk.mail_markers import strip_body_markers

MAX_BYTES = 512 * 1024
TIME_BUDGET_SECONDS = 0.5
# The fallback text of a body refused for its size reads only its beginning.
FALLBACK_READ_CHARS = 4 * MAX_BYTES

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl",
        "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
        "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "ol": {"start"},
    "blockquote": {"cite"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
IMAGE_SOURCE = re.compile(r"^(cid:|https://)", re.IGNORECASE)


@dataclass(frozen=True)
class CleanBody:
    """A sanitised body: ``html`` is None when it fell back to ``text`` (``reason`` says why)."""

    html: str | None
    text: str
    reason: str | None = None


def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an image's source must be inline (cid:) or https."""
    if tag == "img" and attribute == "src" and not IMAGE_SOURCE.match(value.strip()):
        return None
    return value


@functools.cache
def cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style", "title", "head", "noscript", "template", "textarea"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=keep_attribute,
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def sanitise(
    html: str,
    *,
    max_bytes: int = MAX_BYTES,
    budget: float = TIME_BUDGET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    with_text: bool = True,
) -> CleanBody:
    """The safe HTML of a body and its text; plain text only when over size or over time.
    ``with_text=False``: the caller has the text already (the HTML's is left empty)."""
    html = html or ""
    if len(html.encode("utf-8", "surrogatepass")) > max_bytes:
        return CleanBody(None, html_to_text(html[:FALLBACK_READ_CHARS]), "too large")
    started = clock()
    cleaned = cleaner().clean(html)
    if clock() - started > budget:
        return CleanBody(None, html_to_text(html), "too slow")
    cleaned = strip_body_markers(cleaned)
    return CleanBody(cleaned, html_to_text(cleaned) if with_text else "")


class TextExtractor(HTMLParser):
    """Collects an HTML document's readable text, one line per block element."""

    BLOCKS = frozenset(
        {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
         "ul", "ol", "dl", "dt", "dd", "hr", "pre", "section", "article", "header", "footer"}
    )  # fmt: skip
    SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.preformatted = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            self.preformatted += 1
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self.BLOCKS and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            # Outside <pre>, a line break in the source is a space on the page.
            self.parts.append(data if self.preformatted else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The readable text of an HTML body (its ``ref:`` markers left out): blocks on their
    own lines, whitespace collapsed."""
    extractor = TextExtractor()
    extractor.feed(strip_body_markers(html))
    extractor.close()
    lines = [line.strip() for line in "".join(extractor.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
