"""Markdown written by a reseller (terms of use; later the knowledge base) turned into
HTML that is safe to show on our pages.

Two walls. markdown-it-py's CommonMark parser with raw HTML disabled: a ``<script>``
typed in the text is shown as text, and its link check refuses ``javascript:``,
``vbscript:``, ``file:`` and ``data:`` targets. Then the intake's sanitiser policy (nh3,
the same tags and attributes as a received e-mail's HTML: ``intake.html``), with links
given ``rel="noopener noreferrer nofollow"`` and images kept only from this site (a
path such as ``/static/...``): another host's image would tell it who read the page.
"""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from core.redirects import safe_local_target
from intake.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an image's source must be a path on this site."""
    if tag == "img" and attribute == "src":
        return value if safe_local_target(value) == value else None
    return value


@functools.cache
def parser() -> MarkdownIt:
    # The "commonmark" preset allows raw HTML by default: turned off here.
    return MarkdownIt("commonmark", {"html": False})


@functools.cache
def cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS) - {"font"},
        clean_content_tags={"script", "style", "title", "head", "noscript", "template", "textarea"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=keep_attribute,
        url_schemes=set(LINK_SCHEMES),
        # Relative links stay (a path on this site); images are held by keep_attribute.
        url_relative="pass_through",
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def render(text: str) -> Markup:
    """The safe HTML of ``text`` (Markdown), ready for a template."""
    html = parser().render(text or "")
    return Markup(cleaner().clean(html))  # noqa: S704 - sanitised by nh3 just above
