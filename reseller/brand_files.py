"""Uploaded logos and favicons made safe to serve: PNG or JPEG re-encoded by Pillow at a
bounded size (metadata dropped, decompression bombs refused), SVG parsed by lxml with
entities, DTDs and the network off and rebuilt from an allow-list of elements and
attributes (no scripts, no event handlers, no external references).

Why lxml and not an HTML sanitiser (nh3, bleach): an SVG is XML, and HTML parsers
rename its camel-case attributes (``viewBox``) and know nothing of its namespaces; lxml
is already a dependency (openpyxl), is well kept, and with ``resolve_entities=False``,
``no_network=True`` and ``load_dtd=False`` it cannot be made to read a file, reach the
network or expand an entity bomb. A document with a DOCTYPE is refused outright.
"""

from __future__ import annotations

import hashlib
import re
from io import BytesIO

from flask_babel import lazy_gettext as _l
from lxml import etree
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 1024 * 1024
# Bounding boxes (pixels) raster images are shrunk into; never enlarged.
SIZES = {"logo": (600, 200), "favicon": (64, 64)}
# A decoded image larger than this is refused before Pillow allocates it.
MAX_PIXELS = 25_000_000
SVG_TYPE = "image/svg+xml"

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

_ELEMENTS = """svg g defs title desc symbol use path rect circle ellipse line polyline polygon text tspan
    textPath linearGradient radialGradient stop clipPath mask pattern marker filter feBlend
    feColorMatrix feComponentTransfer feComposite feFlood feGaussianBlur feMerge feMergeNode
    feOffset feFuncA feFuncR feFuncG feFuncB image style"""
SVG_ELEMENTS = frozenset(_ELEMENTS.split())
_ATTRIBUTES = """id class style viewBox width height x y x1 y1 x2 y2 cx cy r rx ry d points fill
    fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin
    stroke-miterlimit stroke-dasharray stroke-dashoffset opacity transform
    preserveAspectRatio version gradientUnits gradientTransform spreadMethod offset
    stop-color stop-opacity fx fy fr clip-path clip-rule clipPathUnits mask maskUnits
    maskContentUnits patternUnits patternContentUnits patternTransform font-family
    font-size font-weight font-style text-anchor dominant-baseline letter-spacing
    word-spacing dx dy rotate textLength lengthAdjust display visibility color
    enable-background filter filterUnits primitiveUnits in in2 result stdDeviation mode
    operator k1 k2 k3 k4 values type tableValues slope intercept amplitude exponent
    flood-color flood-opacity color-interpolation-filters markerWidth markerHeight refX
    refY orient markerUnits overflow vector-effect shape-rendering image-rendering
    text-rendering xml:space href xlink:href"""
SVG_ATTRIBUTES = frozenset(_ATTRIBUTES.split())
# Inside an href: a fragment of this document, or an embedded raster image.
SAFE_HREF = re.compile(r"^(#[\w.:-]+|data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]+)$")
# CSS that could fetch or run something: an external url(), @import, image-set(), old IE
# expressions, and any escape (a backslash), which could spell one of those in disguise.
UNSAFE_CSS = re.compile(
    r"@import|expression\s*\(|javascript:|image-set|\\|url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE
)


class FileRefused(ValueError):
    """The upload cannot be used; the message says why."""


def version_of(data: bytes) -> str:
    """The version a stored file's URL carries: its content, hashed."""
    return hashlib.sha256(data).hexdigest()[:16]


def prepare(kind: str, data: bytes) -> tuple[bytes, str]:
    """The bytes to store for an uploaded ``kind`` (logo or favicon) and their type."""
    if not data:
        raise FileRefused(_l("Choose a file."))
    if len(data) > MAX_BYTES:
        raise FileRefused(_l("The file is larger than 1 MB."))
    if data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff"):
        return _raster(kind, data)
    if _looks_like_svg(data):
        return sanitise_svg(data), SVG_TYPE
    raise FileRefused(_l("Use a PNG, JPEG or SVG image."))


def _raster(kind: str, data: bytes) -> tuple[bytes, str]:
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in {"PNG", "JPEG"}:
                raise FileRefused(_l("Use a PNG, JPEG or SVG image."))
            if probe.width * probe.height > MAX_PIXELS:
                raise FileRefused(_l("The image is too large (at most 25 megapixels)."))
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            image.load()
            fmt = image.format
            image.thumbnail(SIZES[kind])
            out = BytesIO()
            if fmt == "JPEG" and kind == "logo":
                image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
                return out.getvalue(), "image/jpeg"
            if image.mode not in {"RGB", "RGBA", "L", "LA", "P"}:
                image = image.convert("RGBA")
            image.save(out, "PNG", optimize=True)
            return out.getvalue(), "image/png"
    except FileRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise FileRefused(_l("The image could not be read.")) from exc


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in data[:65536].lower()


def sanitise_svg(data: bytes) -> bytes:
    """The SVG rebuilt from the allow-list: what is not on it is dropped."""
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise FileRefused(_l("SVG files with a DOCTYPE or entities are not accepted."))
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FileRefused(_l("The SVG file could not be read.")) from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise FileRefused(_l("The SVG file could not be read."))
    _clean(root)
    return etree.tostring(root, encoding="utf-8")


def _local(tag: str, namespace: str = SVG_NS) -> str | None:
    prefix = f"{{{namespace}}}"
    return tag[len(prefix) :] if isinstance(tag, str) and tag.startswith(prefix) else None


def _attribute_name(name: str) -> str:
    if name.startswith(f"{{{XLINK_NS}}}"):
        return "xlink:" + name.split("}", 1)[1]
    if name.startswith(f"{{{XML_NS}}}"):
        return "xml:" + name.split("}", 1)[1]
    return name if not name.startswith("{") else "?"


def _clean(element) -> None:
    for child in list(element):
        name = _local(child.tag)
        if name is None or name not in SVG_ELEMENTS:
            element.remove(child)  # scripts, foreignObject, other namespaces: gone, with their content
            continue
        if name == "style" and (len(child) or UNSAFE_CSS.search("".join(child.itertext()))):
            element.remove(child)  # a style sheet holds text only: every part of it is read
            continue
        _clean(child)
    for attribute, value in list(element.attrib.items()):
        name = _attribute_name(attribute)
        keep = name in SVG_ATTRIBUTES and not name.lower().startswith("on")
        if keep and name in {"href", "xlink:href"}:
            keep = bool(SAFE_HREF.match(value.strip()))
        if keep and UNSAFE_CSS.search(value):  # style="...", fill="url(https://...)"
            keep = False
        if keep and "javascript:" in value.lower().replace(" ", ""):
            keep = False
        if not keep:
            del element.attrib[attribute]
