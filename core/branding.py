"""A reseller's brand as pages and e-mails show it.

The primary colour becomes Bootstrap 5.3's CSS variables (buttons, links, badges, form
focus, pagination, the top bar), with a text colour chosen for contrast on it; the logo
and favicon are served by ``core.views.brand_asset`` under versioned URLs; an e-mail
carries the sender name, the reply-to address and the brand its HTML part is drawn in.
Clients never see the platform's name: every default here comes from the reseller's row.
"""

from __future__ import annotations

import functools
import re

from flask import url_for
from markupsafe import Markup

from core import links

DEFAULT_PRIMARY = "#0d6efd"
COLOUR_RE = re.compile(r"^#[0-9a-f]{6}$")
WHITE, BLACK = "#ffffff", "#000000"
ASSET_KINDS = ("logo", "favicon")


def valid_colour(value: str | None) -> bool:
    return bool(value) and COLOUR_RE.match(value) is not None


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# WCAG AA for normal text; Bootstrap's own threshold for white on its colours.
MIN_CONTRAST = 4.5


def text_on(colour: str) -> str:
    """White when it reads well enough on ``colour`` (as Bootstrap puts white on its
    blue), else whichever of white and black reads better."""
    on_white = contrast(colour, WHITE)
    if on_white >= MIN_CONTRAST:
        return WHITE
    return WHITE if on_white >= contrast(colour, BLACK) else BLACK


def mix(colour: str, other: str, weight: float) -> str:
    """``colour`` moved ``weight`` (0-1) of the way to ``other`` (Bootstrap's shade/tint)."""
    a, b = _rgb(colour), _rgb(other)
    return _hex(tuple(x + (y - x) * weight for x, y in zip(a, b, strict=True)))


def primary_of(reseller) -> str:
    colour = (getattr(reseller, "primary_color", None) or "").lower()
    return colour if valid_colour(colour) else DEFAULT_PRIMARY


# The backgrounds text in the brand's colour is drawn on: white (cards, fields) and the
# page's light grey (Bootstrap's body-tertiary, the body's background).
PAGE_BACKGROUNDS = (WHITE, "#f8f9fa")


def readable_on(colour: str, backgrounds: tuple[str, ...]) -> str:
    """``colour`` when it reads at :data:`MIN_CONTRAST` on every one of ``backgrounds``
    (all light), else the lightest of its shades towards black, in 5% steps, that does
    (black, at worst, reads on any light background)."""
    shade, step = colour, 0
    while step < 20 and min(contrast(shade, bg) for bg in backgrounds) < MIN_CONTRAST:
        step += 1
        shade = mix(colour, BLACK, step / 20)
    return shade


def palette(colour: str) -> dict[str, str]:
    """The colours derived from the primary one (hover/active shades as Bootstrap's),
    each text colour chosen for the background it is drawn on."""
    subtle = mix(colour, WHITE, 0.8)
    # Links, outline buttons and .text-primary sit on the page: a light primary's text
    # uses a darker shade of it.
    link = readable_on(colour, (*PAGE_BACKGROUNDS, subtle))
    hover, pressed = mix(colour, BLACK, 0.15), mix(colour, BLACK, 0.2)
    return {
        "primary": colour,
        "text": text_on(colour),
        "hover": hover,
        "hover_text": text_on(hover),
        "pressed": pressed,
        "pressed_text": text_on(pressed),
        "link": link,
        "link_hover": mix(link, BLACK, 0.2),
        "subtle": subtle,
        "border_subtle": mix(colour, WHITE, 0.6),
        "emphasis": readable_on(mix(colour, BLACK, 0.6), (subtle, WHITE)),
        "focus": mix(colour, WHITE, 0.5),
    }


def adjusted_link(colour: str) -> str | None:
    """The shade text in the brand's colour uses on the page, when it is not the colour
    itself (the settings page says so)."""
    link = palette(colour)["link"]
    return link if link != colour else None


def _rgb_list(colour: str) -> str:
    return ", ".join(str(c) for c in _rgb(colour))


def css(reseller) -> Markup:
    """The style block that gives the whole UI the reseller's primary colour."""
    return _css_for(primary_of(reseller))


@functools.lru_cache(maxsize=256)
def _css_for(colour: str) -> Markup:
    # Every page renders it: computed once per colour, not per request.
    p = palette(colour)
    root = {
        "--brand": p["primary"],
        "--brand-text": p["text"],
        "--bs-primary": p["primary"],
        "--bs-primary-rgb": _rgb_list(p["primary"]),
        "--bs-primary-text-emphasis": p["emphasis"],
        "--bs-primary-bg-subtle": p["subtle"],
        "--bs-primary-border-subtle": p["border_subtle"],
        "--bs-link-color": p["link"],
        "--bs-link-color-rgb": _rgb_list(p["link"]),
        "--bs-link-hover-color": p["link_hover"],
        "--bs-link-hover-color-rgb": _rgb_list(p["link_hover"]),
        "--bs-focus-ring-color": f"rgba({_rgb_list(p['primary'])}, .25)",
    }
    button = {
        "--bs-btn-color": p["text"],
        "--bs-btn-bg": p["primary"],
        "--bs-btn-border-color": p["primary"],
        "--bs-btn-hover-color": p["hover_text"],
        "--bs-btn-hover-bg": p["hover"],
        "--bs-btn-hover-border-color": p["hover"],
        "--bs-btn-focus-shadow-rgb": _rgb_list(p["primary"]),
        "--bs-btn-active-color": p["pressed_text"],
        "--bs-btn-active-bg": p["pressed"],
        "--bs-btn-active-border-color": p["pressed"],
        "--bs-btn-disabled-color": p["text"],
        "--bs-btn-disabled-bg": p["primary"],
        "--bs-btn-disabled-border-color": p["primary"],
    }
    outline = {
        "--bs-btn-color": p["link"],
        "--bs-btn-border-color": p["primary"],
        "--bs-btn-hover-color": p["text"],
        "--bs-btn-hover-bg": p["primary"],
        "--bs-btn-hover-border-color": p["primary"],
        "--bs-btn-focus-shadow-rgb": _rgb_list(p["primary"]),
        "--bs-btn-active-color": p["text"],
        "--bs-btn-active-bg": p["primary"],
        "--bs-btn-active-border-color": p["primary"],
    }
    rules = [
        (":root, [data-bs-theme=light]", root),
        (".btn-primary", button),
        (".btn-outline-primary", outline),
        (".text-bg-primary", {"color": f"{p['text']} !important"}),
        (".text-primary, .link-primary", {"color": f"{p['link']} !important"}),
        (".badge.bg-primary, .bg-primary.text-white", {"color": f"{p['text']} !important"}),
        (
            ".nav-pills",
            {"--bs-nav-pills-link-active-bg": p["primary"], "--bs-nav-pills-link-active-color": p["text"]},
        ),
        (
            ".pagination",
            {
                "--bs-pagination-active-bg": p["primary"],
                "--bs-pagination-active-border-color": p["primary"],
                "--bs-pagination-active-color": p["text"],
            },
        ),
        (
            ".dropdown-menu",
            {"--bs-dropdown-link-active-bg": p["primary"], "--bs-dropdown-link-active-color": p["text"]},
        ),
        (
            ".list-group",
            {
                "--bs-list-group-active-bg": p["primary"],
                "--bs-list-group-active-border-color": p["primary"],
                "--bs-list-group-active-color": p["text"],
            },
        ),
        (".form-check-input:checked", {"background-color": p["primary"], "border-color": p["primary"]}),
        (".form-control:focus, .form-select:focus, .form-check-input:focus", {"border-color": p["focus"]}),
        (".progress, .progress-stacked", {"--bs-progress-bar-bg": p["primary"]}),
        (
            ".brand-navbar .btn-outline-light",
            {"--bs-btn-color": p["text"], "--bs-btn-border-color": p["text"]},
        ),
        (".brand-navbar .navbar-toggler-icon", {"filter": "invert(1)" if p["text"] == WHITE else "none"}),
    ]
    body = " ".join(
        selector + " { " + " ".join(f"{k}: {v};" for k, v in values.items()) + " }"
        for selector, values in rules
    )
    return Markup(body)  # noqa: S704 - built from validated hex colours only


def asset_url(reseller, kind: str) -> str | None:
    """The versioned URL of the reseller's logo or favicon (``None``: none uploaded)."""
    version = getattr(reseller, f"{kind}_version", None) if reseller is not None else None
    if not version:
        return None
    return url_for("core.brand_asset", kind=kind, version=version)


def brand_of(reseller) -> dict:
    """What an e-mail's HTML part is drawn with: all absolute, on the canonical URL."""
    colour = primary_of(reseller)
    logo = None
    # Gmail and Outlook show no SVG image: an SVG logo leaves the name alone in the header.
    if reseller.logo_version and reseller.logo_type != "image/svg+xml":
        try:
            logo = links.reseller_url(
                reseller, "core.brand_asset", kind="logo", version=reseller.logo_version
            )
        except LookupError:  # a reseller without any host: no logo rather than a broken link
            logo = None
    return {"name": reseller.name, "colour": colour, "text": text_on(colour), "logo": logo}


def mail_identity(reseller) -> dict:
    """The keyword arguments of ``core.mail.send_mail`` that carry the reseller's brand."""
    return {
        "sender_name": reseller.mail_sender_name or reseller.name,
        "reply_to": reseller.support_email,
        "brand": brand_of(reseller),
        "reseller_id": reseller.id,
    }
