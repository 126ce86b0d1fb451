"""The brand's colours read at 4.5:1 (WCAG AA) wherever the UI draws text with them (issue
18), whatever primary colour a reseller chooses; the settings page says when text in the
brand's colour uses a darker shade of it, and shows a sample of the colour being typed.

Why "refuse or adjust" reduces to "adjust": no #rrggbb colour needs refusing. Text on the
colour is black or white, whichever reads better. With L the colour's relative luminance,
white gives 1.05 / (L + 0.05) and black (L + 0.05) / 0.05; the smaller of the two is
largest where they are equal, and the larger is smallest there too: at L + 0.05 =
sqrt(1.05 * 0.05), i.e. L ~ 0.179, both are sqrt(21) ~ 4.58. So one of them always reads
at 4.58:1 or more, above 4.5. And text in the brand's colour on the page (links, outline
buttons, ``.text-primary``) can always be shaded towards black until it reads, black
itself reading at over 18:1 on the light backgrounds. So a colour is never refused for
contrast: its shades are adjusted, and the settings page says which one is used.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import branding
from core.branding import BLACK, MIN_CONTRAST, PAGE_BACKGROUNDS, WHITE, contrast, palette, text_on

colours = st.integers(0, 0xFFFFFF).map(lambda n: f"#{n:06x}")


@given(colours)
def test_black_or_white_always_reads_on_any_colour(colour):
    assert max(contrast(colour, WHITE), contrast(colour, BLACK)) >= 4.58
    assert contrast(text_on(colour), colour) >= MIN_CONTRAST


@given(colours)
def test_every_derived_text_and_background_pair_reads_at_4_5(colour):
    p = palette(colour)
    pairs = {
        "text on the primary (buttons, top bar, active pills, badges)": (p["text"], p["primary"]),
        "text on the hovered button": (p["hover_text"], p["hover"]),
        "text on the pressed button": (p["pressed_text"], p["pressed"]),
        "emphasis on the subtle background (alerts)": (p["emphasis"], p["subtle"]),
        "emphasis on white": (p["emphasis"], WHITE),
    }
    for background in (*PAGE_BACKGROUNDS, p["subtle"]):
        pairs[f"link / outline button / .text-primary on {background}"] = (p["link"], background)
        pairs[f"hovered link on {background}"] = (p["link_hover"], background)
    low = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < MIN_CONTRAST}
    assert low == {}, (colour, low)


@given(colours)
def test_the_link_shade_is_the_colour_itself_whenever_it_reads(colour):
    """Only a colour too light for the page is shaded, and then as little as 5% steps allow."""
    link = palette(colour)["link"]
    readable = min(contrast(colour, bg) for bg in (*PAGE_BACKGROUNDS, palette(colour)["subtle"]))
    if readable >= MIN_CONTRAST:
        assert link == colour
    else:
        assert link != colour
        assert branding.adjusted_link(colour) == link


def test_the_css_carries_the_adjusted_shades_of_a_light_brand():
    css = str(branding._css_for("#ffcc00"))
    link = palette("#ffcc00")["link"]
    assert link == "#806600"
    assert f"--bs-link-color: {link};" in css
    assert f".text-primary, .link-primary {{ color: {link} !important; }}" in css
    assert "--bs-btn-color: #000000;" in css  # black on the yellow buttons


def test_the_settings_page_says_which_shade_a_light_brand_uses_and_previews_it(app, tenants, make_browser):
    owner = make_browser()
    owner.login("owner@a.test")
    saved = owner.post(
        "/reseller/settings",
        {"name": "Amarela", "primary_color": "#ffcc00", "mail_section": "1"},
    )
    assert saved.status_code == 302
    page = owner.get("/reseller/settings").get_data(as_text=True)
    assert 'id="brand-preview"' in page
    assert "Links e botões contornados usam #806600 para ficarem legíveis" in page
    assert "Texto sobre a cor: preto" in page
    # The colour being typed: its sample and note, before saving.
    dark = owner.get("/reseller/settings/brand-preview?primary_color=%230b3d2e").get_data(as_text=True)
    assert "background: #0b3d2e; color: #ffffff" in dark
    assert "Texto sobre a cor: branco" in dark
    assert 'id="brand-adjusted"' not in dark
    light = owner.get("/reseller/settings/brand-preview?primary_color=%23ffee88").get_data(as_text=True)
    assert f"usam {palette('#ffee88')['link']}" in light
    # Not a colour yet: the saved one's sample.
    typing = owner.get("/reseller/settings/brand-preview?primary_color=%23ff").get_data(as_text=True)
    assert "background: #ffcc00" in typing


def test_the_preview_is_for_staff_who_change_the_settings(app, factory, tenants, make_browser):
    factory.staff(tenants.a.id, permissions=[], email="sem@a.test")
    staff = make_browser()
    staff.login("sem@a.test")
    assert staff.get("/reseller/settings/brand-preview?primary_color=%23ffcc00").status_code == 403
