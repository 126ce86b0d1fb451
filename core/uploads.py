"""An uploaded file checked before it is stored, and the headers it is served with.

One pass over the stream counts its bytes (refusing as soon as it passes
``ATTACHMENT_MAX_BYTES``, whatever Content-Length said), hashes it and notes whether it
could be text. Its type is then decided by its content alone: ``puremagic`` (pure
Python, maintained, a large signature table; python-magic would need the libmagic C
library) names what the first bytes are, ZIP containers are opened to tell an office
document from a plain archive, and text is text when it decodes and holds no control
bytes. The browser's content type and the file's name are never believed: the name is
only shown, cleaned, with the extension of the detected type.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import struct
import tempfile
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

import puremagic
from flask import Response, current_app, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.wsgi import wrap_file

from core.storage import Storage, get_storage

CHUNK = 64 * 1024
HEAD = 8 * 1024
MAX_NAME = 150
MAX_ZIP_ENTRIES = 10_000
# zipfile reads the whole central directory whatever the entry count claims: bound it too
# (a generous 300 bytes an entry).
MAX_ZIP_DIRECTORY = MAX_ZIP_ENTRIES * 300
# In memory up to this size, then a temporary file: memory stays bounded.
SPOOL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extensions: tuple[str, ...]  # the first is the one given to a name without a fitting one


_OOXML = "application/vnd.openxmlformats-officedocument."
KINDS = {
    "png": FileKind("image/png", ("png",)),
    "jpeg": FileKind("image/jpeg", ("jpg", "jpeg", "jpe", "jfif")),
    "gif": FileKind("image/gif", ("gif",)),
    "webp": FileKind("image/webp", ("webp",)),
    "pdf": FileKind("application/pdf", ("pdf",)),
    "text": FileKind("text/plain", ("txt", "log")),
    "csv": FileKind("text/csv", ("csv",)),
    "docx": FileKind(_OOXML + "wordprocessingml.document", ("docx",)),
    "xlsx": FileKind(_OOXML + "spreadsheetml.sheet", ("xlsx",)),
    "pptx": FileKind(_OOXML + "presentationml.presentation", ("pptx",)),
    "odt": FileKind("application/vnd.oasis.opendocument.text", ("odt",)),
    "ods": FileKind("application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
    "zip": FileKind("application/zip", ("zip",)),
}
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
# What the sniffer may name that is accepted as it is (ZIP-based types are opened first).
_SNIFFED = {KINDS[name].content_type: KINDS[name] for name in ("png", "jpeg", "gif", "webp", "pdf")}

_EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows (PE) and DOS programs
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O, both byte orders and widths, and fat binaries
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"\x00asm",  # WebAssembly
    b"#!",  # scripts
)
_EXECUTABLE_WORDS = ("executable", "msdownload", "dosexec", "x-elf", "mach-binary", "sharedlib")
_MARKUP_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml", "text/javascript"}
)
_MARKUP_EXTENSIONS = frozenset({".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml", ".js"})
# Markup at the start of a would-be text file: a page or an image with script in it.
_MARKUP_START = re.compile(
    r"<\s*(!doctype|html|head|body|script|iframe|svg|\?xml|meta|object|embed|frameset)\b", re.IGNORECASE
)
# C0 control bytes other than tab, line feed, form feed and carriage return, and DEL.
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_LOOKS_LIKE_EXTENSION = re.compile(r"[A-Za-z0-9]{1,5}")

ALLOWED_HINT = _l(
    "Accepted: images (PNG, JPEG, GIF, WebP), PDF, text or CSV, Word, Excel, PowerPoint, "
    "OpenDocument text or spreadsheet, and ZIP."
)
PROGRAMS = _l("Programs and scripts cannot be attached.")


class UploadRefused(ValueError):
    """The file is not stored; ``message`` says why in the user's language."""

    def __init__(self, reason: str, *parts) -> None:
        super().__init__(reason)
        self.reason = reason  # too_large, empty, executable, markup, macros, archive, unknown
        self._parts = parts

    @property
    def message(self) -> str:
        return " ".join(str(part) for part in self._parts)


def _refuse_type(reason: str, message) -> UploadRefused:
    return UploadRefused(reason, message, ALLOWED_HINT)


@dataclass(frozen=True)
class CheckedUpload:
    """What the ticket's attachment row records about a stored file."""

    content_type: str  # the detected type (with its charset for text)
    size: int
    sha256: str
    filename: str  # safe to show and to offer as the download's name
    kind: FileKind


def store_upload(
    key: str,
    stream: BinaryIO,
    filename: str | None,
    *,
    storage: Storage | None = None,
    max_bytes: int | None = None,
) -> CheckedUpload:
    """Check ``stream`` and store it under ``key``; :class:`UploadRefused` stores nothing."""
    with _checked(stream, filename, max_bytes) as (checked, source, start):
        source.seek(start)
        (storage or get_storage()).put(key, source, checked.content_type)
    return checked


def check_upload(stream: BinaryIO, filename: str | None, *, max_bytes: int | None = None) -> CheckedUpload:
    """Only the check; a stream that can seek is put back where it was."""
    with _checked(stream, filename, max_bytes) as (checked, source, start):
        source.seek(start)
    return checked


@contextmanager
def _checked(stream: BinaryIO, filename: str | None, max_bytes: int | None):
    """The check, and where to read the checked bytes again: the stream itself when it
    can seek, otherwise the copy made while checking (memory, then a temporary file)."""
    limit = max_bytes or current_app.config["ATTACHMENT_MAX_BYTES"]
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        if _seekable(stream):
            source, start, sink = stream, stream.tell(), None
        else:
            source, start, sink = spool, 0, spool
        scan = _scan(stream, sink, limit)
        if scan.size == 0:
            raise UploadRefused("empty", _l("The file is empty."))
        kind = _detect(scan, source, start, filename)
        content_type = kind.content_type
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8" if scan.utf8 else "; charset=iso-8859-1"
        checked = CheckedUpload(content_type, scan.size, scan.sha256, safe_filename(filename, kind), kind)
        yield checked, source, start


def _seekable(stream) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError, ValueError):
        return False


@dataclass
class _Scan:
    size: int = 0
    head: bytes = b""
    utf8: bool = True
    control: bool = False
    sha256: str = ""


def _scan(stream: BinaryIO, sink: BinaryIO | None, limit: int) -> _Scan:
    scan, digest = _Scan(), hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = bytearray()
    while chunk := stream.read(CHUNK):
        scan.size += len(chunk)
        if scan.size > limit:
            raise UploadRefused(
                "too_large",
                _l("The file is larger than %(size)s MB.", size=f"{limit / (1024 * 1024):g}"),
            )
        digest.update(chunk)
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        if not scan.control and _CONTROL.search(chunk):
            scan.control = True
        if scan.utf8 and not scan.control:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                scan.utf8 = False
        if sink is not None:
            sink.write(chunk)
    if scan.utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            scan.utf8 = False
    scan.head, scan.sha256 = bytes(head), digest.hexdigest()
    return scan


def _detect(scan: _Scan, source: BinaryIO, start: int, filename: str | None) -> FileKind:
    head = scan.head
    if head.startswith(_EXECUTABLE_SIGNATURES):
        raise _refuse_type("executable", PROGRAMS)
    if head.startswith(_ZIP_SIGNATURES):
        source.seek(start)
        return _zip_kind(source)
    matches = _sniff(head)
    if any(word in m.mime_type.lower() for m in matches for word in _EXECUTABLE_WORDS):
        raise _refuse_type("executable", PROGRAMS)
    if any(_is_markup(m) for m in matches) or _starts_with_markup(scan):
        raise _refuse_type(
            "markup", _l("Web pages, SVG and XML files cannot be attached (they may run scripts).")
        )
    if matches:
        best = max(m.confidence for m in matches)
        for match in matches:
            if match.confidence == best and match.mime_type in _SNIFFED:
                return _SNIFFED[match.mime_type]
    if not scan.control:
        # No signature and no control bytes: text (UTF-8, or else Latin-1, which any
        # byte decodes as). The name only tells a CSV from other text.
        extension = (filename or "").rpartition(".")[2].lower()
        return KINDS["csv"] if extension == "csv" else KINDS["text"]
    raise _refuse_type("unknown", _l("This type of file is not accepted."))


def _is_markup(match) -> bool:
    mime = match.mime_type.lower()
    return mime in _MARKUP_TYPES or mime.endswith("+xml") or match.extension.lower() in _MARKUP_EXTENSIONS


def _sniff(head: bytes) -> list:
    try:
        return list(puremagic.magic_string(head))
    except (puremagic.PureError, ValueError):
        return []


def _starts_with_markup(scan: _Scan) -> bool:
    if scan.control:
        return False
    text = scan.head.decode("utf-8" if scan.utf8 else "latin-1", errors="ignore").lstrip("\ufeff \t\r\n\f")
    return _MARKUP_START.match(text) is not None


def _zip_kind(source: BinaryIO) -> FileKind:
    damaged = _refuse_type("unknown", _l("This archive is damaged or not accepted."))
    directory = _zip_directory(source)
    if directory is None:
        raise damaged
    entries, directory_size = directory
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_ZIP_DIRECTORY:
        raise _refuse_type("archive", _l("This archive holds too many files."))
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
            odf = archive.open("mimetype").read(100) if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError, EOFError):
        raise damaged from None
    macros = _refuse_type("macros", _l("Documents with macros cannot be attached."))
    if "[Content_Types].xml" in names:
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise macros
        for folder, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(name.startswith(folder) for name in names):
                return KINDS[kind]
    for kind in ("odt", "ods"):
        if odf == KINDS[kind].content_type.encode():
            if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                raise macros
            return KINDS[kind]
    return KINDS["zip"]


def _zip_directory(source: BinaryIO) -> tuple[int, int] | None:
    """The entries and central-directory size the archive declares, read from its end
    record before zipfile lists them all (a 25 MB archive could name half a million)."""
    end = source.seek(0, 2)
    source.seek(max(0, end - (22 + 65535)))
    tail = source.read()
    found = tail.rfind(b"PK\x05\x06")
    if found < 0 or len(tail) < found + 16:
        return None
    entries, size = struct.unpack("<HI", tail[found + 10 : found + 16])
    return entries, size  # ZIP64's 0xFFFF / 0xFFFFFFFF count as too many


def safe_filename(name: str | None, kind: FileKind) -> str:
    """The name to show and to download as: no folders, no control or invisible
    characters, at most ``MAX_NAME`` characters, ending in an extension of ``kind``."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[/\\]", text)[-1]
    text = " ".join("".join(_visible(ch) for ch in text).split())
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if extension.lower() in kind.extensions:
        extension = extension.lower()
    else:
        if not _LOOKS_LIKE_EXTENSION.fullmatch(extension):
            stem = text  # "v1.final report": the dot was part of the name
        extension = kind.extensions[0]
    stem = stem.strip(" .") or "attachment"
    stem = stem[: MAX_NAME - len(extension) - 1].rstrip(" .")
    return f"{stem}.{extension}"


def _visible(ch: str) -> str:
    # Spaces of any width, tabs and line breaks become a space; control, format (bidi
    # overrides, zero-width), private-use and unassigned characters go.
    if ch.isspace():
        return " "
    return "" if unicodedata.category(ch)[0] == "C" else ch


def serving_headers(content_type: str, filename: str) -> dict[str, str]:
    """Headers for a stored file: its detected type, never sniffed; images and PDF shown
    in a sandbox (no script, no same-origin rights), everything else downloaded."""
    inline = content_type.split(";")[0].strip() in INLINE_TYPES
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = re.sub(r"[^A-Za-z0-9._ ()-]", "_", fallback).strip(" .") or "attachment"
    return {
        "Content-Type": content_type,
        "Content-Disposition": (
            f'{"inline" if inline else "attachment"}; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, no-store",
    }


def attachment_response(
    stream: BinaryIO, content_type: str, filename: str, size: int | None = None
) -> Response:
    """Stream an object opened from the storage (``get_storage().open(key)``) to the
    browser; the view has already checked that the user may see it."""
    response = Response(
        wrap_file(request.environ, stream),
        headers=serving_headers(content_type, filename),
        direct_passthrough=True,
    )
    if size is not None:
        response.content_length = size
    return response


def accepts_uploads(files: int):
    """View decorator: the request may carry ``files`` attachments. The body limit is
    raised by :func:`raise_body_limit` before anything reads the form (the CSRF check reads
    it before any view runs), so it is declared on the view rather than done in it."""

    def mark(view):
        view.upload_files = files
        return view

    return mark


def raise_body_limit() -> None:
    """``before_request``, ahead of the CSRF check: a view marked with
    :func:`accepts_uploads` gets a body limit that fits its attachments."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    files = getattr(view, "upload_files", 0)
    # Only for a browser with a login session token (the auth package names its key) or a
    # caller a package vouches for (``upload_callers``: the API's live Bearer token).
    token_key = current_app.extensions.get("session_token_key")
    known = files and token_key and session.get(token_key)
    if known or (files and any(vouch() for vouch in current_app.extensions.get("upload_callers", ()))):
        allow_upload_body(files)


def allow_upload_body(files: int = 1) -> None:
    """Raise this request's body limit (``MAX_CONTENT_LENGTH``, 8 MB) to fit ``files``
    attachments of the largest accepted size; call it before reading the form."""
    request.max_content_length = files * current_app.config["ATTACHMENT_MAX_BYTES"] + 1024 * 1024
