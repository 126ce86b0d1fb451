"""The upload check (core.uploads): size counted while streaming, type from the content
alone (each accepted type from a small real sample, each refused one), safe display
names, and the headers a stored file is served with."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import unicodedata
import zipfile
from urllib.parse import unquote

import openpyxl
import pytest
from flask import request
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from core.storage import LocalStorage
from core.uploads import (
    CHUNK,
    KINDS,
    MAX_NAME,
    MAX_ZIP_ENTRIES,
    UploadRefused,
    allow_upload_body,
    attachment_response,
    check_upload,
    safe_filename,
    serving_headers,
    store_upload,
)

# --- samples, built here ----------------------------------------------------------


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 60)).save(out, fmt)
    return out.getvalue()


def archive(entries, *, mimetype: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        if mimetype:  # OpenDocument: the first entry, stored uncompressed
            zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for name, content in entries:
            zf.writestr(name, content)
    return out.getvalue()


def ooxml(folder: str, part: str) -> bytes:
    return archive(
        [("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<R/>"), (f"{folder}/{part}", "<x/>")]
    )


def xlsx() -> bytes:
    out = io.BytesIO()
    book = openpyxl.Workbook()
    book.active["A1"] = "valor"
    book.save(out)
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"PE\x00\x00"

ACCEPTED = [
    ("foto.png", image("PNG"), "image/png", "foto.png"),
    ("foto.JPG", image("JPEG"), "image/jpeg", "foto.jpg"),
    ("anim.gif", image("GIF"), "image/gif", "anim.gif"),
    ("foto.webp", image("WEBP"), "image/webp", "foto.webp"),
    ("nota.pdf", PDF, "application/pdf", "nota.pdf"),
    ("leia.txt", "Olá, tudo bem?\nSim.\n".encode(), "text/plain; charset=utf-8", "leia.txt"),
    ("antigo.txt", "Relatório de ação".encode("latin-1"), "text/plain; charset=iso-8859-1", "antigo.txt"),
    ("dados.csv", "nome;valor\nJoão;1,50\n".encode(), "text/csv; charset=utf-8", "dados.csv"),
    ("carta.docx", ooxml("word", "document.xml"), KINDS["docx"].content_type, "carta.docx"),
    ("conta.xlsx", xlsx(), KINDS["xlsx"].content_type, "conta.xlsx"),
    ("slides.pptx", ooxml("ppt", "presentation.xml"), KINDS["pptx"].content_type, "slides.pptx"),
    (
        "texto.odt",
        archive([("content.xml", "<x/>")], mimetype="application/vnd.oasis.opendocument.text"),
        KINDS["odt"].content_type,
        "texto.odt",
    ),
    (
        "plan.ods",
        archive([("content.xml", "<x/>")], mimetype="application/vnd.oasis.opendocument.spreadsheet"),
        KINDS["ods"].content_type,
        "plan.ods",
    ),
    ("fotos.zip", archive([("a.txt", "a"), ("b/c.txt", "c")]), "application/zip", "fotos.zip"),
]


@pytest.mark.parametrize(("name", "data", "content_type", "shown"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_each_accepted_type_is_recognised_by_its_content(app, name, data, content_type, shown):
    with app.app_context():
        checked = check_upload(io.BytesIO(data), name)
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.filename == shown


def test_the_name_never_decides_the_type(app):
    with app.app_context():
        jpeg_named_png = check_upload(io.BytesIO(image("JPEG")), "foto.png")
        pdf_named_txt = check_upload(io.BytesIO(PDF), "contrato.txt")
        docx_named_zip = check_upload(io.BytesIO(ooxml("word", "document.xml")), "carta.zip")
    assert (jpeg_named_png.content_type, jpeg_named_png.filename) == ("image/jpeg", "foto.jpg")
    assert (pdf_named_txt.content_type, pdf_named_txt.filename) == ("application/pdf", "contrato.pdf")
    assert docx_named_zip.filename == "carta.docx"


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
REFUSED = [
    ("setup.exe", PE, "executable"),
    ("foto.png", PE, "executable"),  # a program renamed
    ("programa", b"\x7fELF\x02\x01\x01" + b"\x00" * 57, "executable"),
    ("limpa.txt", b"#!/bin/sh\nrm -rf ~\n", "executable"),
    ("boleto.pdf", b"<!DOCTYPE html><html><body><script>steal()</script></body></html>", "markup"),
    ("nota.txt", b"  <script>alert(document.cookie)</script>", "markup"),
    ("pagina.html", b"<html><body>oi</body></html>", "markup"),
    ("logo.svg", SVG, "markup"),
    ("logo.png", b'<?xml version="1.0"?>\n' + SVG, "markup"),
    ("dados.xml", b'<?xml version="1.0"?><dados/>', "markup"),
    (
        "macro.docx",
        archive(
            [("[Content_Types].xml", "<T/>"), ("word/document.xml", "<w/>"), ("word/vbaProject.bin", "x")]
        ),
        "macros",
    ),
    (
        "macro.odt",
        archive([("Basic/Standard/Module1.xml", "x")], mimetype="application/vnd.oasis.opendocument.text"),
        "macros",
    ),
    ("quebrado.zip", b"PK\x03\x04" + b"\x00garbage" * 50, "unknown"),
    ("dados.bin", bytes(range(256)) * 8, "unknown"),
    ("imagem.bmp", image("BMP"), "unknown"),
    ("vazio.txt", b"", "empty"),
]


@pytest.mark.parametrize(("name", "data", "reason"), REFUSED, ids=[f"{r[0]}-{r[2]}" for r in REFUSED])
def test_each_refused_type_gets_a_clear_reason(app, name, data, reason):
    with app.app_context(), pytest.raises(UploadRefused) as refused:
        check_upload(io.BytesIO(data), name)
    assert refused.value.reason == reason
    assert refused.value.message


def test_an_archive_naming_too_many_files_is_refused_before_it_is_listed(app):
    crowded = archive([(f"{i:05}-{'x' * 294}", "") for i in range(MAX_ZIP_ENTRIES + 1)])
    end = crowded.rfind(b"PK\x05\x06")
    # The same archive whose end record claims a single entry: its directory's size still tells.
    lying = crowded[: end + 8] + struct.pack("<HH", 1, 1) + crowded[end + 12 :]
    for data in (crowded, lying):
        with app.app_context(), pytest.raises(UploadRefused) as refused:
            check_upload(io.BytesIO(data), "muitos.zip")
        assert refused.value.reason == "archive"


def test_refusals_are_translated(app):
    with app.test_request_context(headers={"Accept-Language": "pt-BR"}):
        with pytest.raises(UploadRefused) as refused:
            check_upload(io.BytesIO(PE), "setup.exe")
        message = refused.value.message
    assert message.startswith("Programas e scripts não podem ser anexados.")
    assert "Aceitos: imagens" in message


# --- size ---------------------------------------------------------------------------


class Endless(io.RawIOBase):
    """A non-seekable upload of ``size`` bytes made on the fly, counting what was read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0
        self.block = b"a" * CHUNK

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.left, CHUNK)
        buffer[:size] = self.block[:size]
        self.left -= size
        self.read_bytes += size
        return size


def test_one_byte_over_25_mb_is_refused_early_without_holding_it_in_memory(app):
    limit = app.config["ATTACHMENT_MAX_BYTES"]
    assert limit == 25 * 1024 * 1024
    upload = Endless(limit + 1)
    tracemalloc.start()
    try:
        with app.app_context(), pytest.raises(UploadRefused) as refused:
            check_upload(upload, "grande.txt")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.reason == "too_large"
    assert "25 MB" in refused.value.message
    assert peak < 4 * 1024 * 1024  # spooled to disk past 1 MB, never the whole file
    assert upload.read_bytes <= limit + CHUNK


def test_a_stream_far_longer_than_announced_stops_at_the_limit(app):
    upload = Endless(10**12)  # whatever Content-Length claimed: only what arrives counts
    with app.app_context(), pytest.raises(UploadRefused):
        check_upload(upload, "sem-fim.txt", max_bytes=1000)
    assert upload.read_bytes <= 1000 + CHUNK


def test_exactly_the_limit_is_accepted(app):
    with app.app_context():
        assert check_upload(io.BytesIO(b"a" * 1000), "a.txt", max_bytes=1000).size == 1000
        with pytest.raises(UploadRefused):
            check_upload(io.BytesIO(b"a" * 1001), "a.txt", max_bytes=1000)


# --- storing ------------------------------------------------------------------------

KEY = "reseller/1/client/2/tickets/3/0f0f"


def test_a_checked_upload_is_stored_whole_from_a_stream_that_cannot_seek(app, tmp_path):
    storage = LocalStorage(tmp_path)
    data = image("PNG") + b"\x00" * (3 * 1024 * 1024)  # past the in-memory spool
    stream = io.BufferedReader(io.BytesIO(data))
    stream.seekable = lambda: False
    with app.app_context():
        checked = store_upload(KEY, stream, "foto.png", storage=storage)
    assert checked.content_type == "image/png"
    with storage.open(KEY) as stored:
        assert stored.read() == data


def test_a_seekable_upload_is_stored_without_a_copy_and_from_its_start(app, tmp_path):
    storage = LocalStorage(tmp_path)
    with app.app_context():
        store_upload(KEY, io.BytesIO(PDF), "a.pdf", storage=storage)
    with storage.open(KEY) as stored:
        assert stored.read() == PDF


def test_a_refused_upload_stores_nothing(app, tmp_path):
    storage = LocalStorage(tmp_path)
    with app.app_context(), pytest.raises(UploadRefused):
        store_upload(KEY, io.BytesIO(SVG), "logo.svg", storage=storage)
    assert not storage.exists(KEY)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_name", "kind", "shown"),
    [
        ("../../etc/passwd", "text", "passwd.txt"),
        ("C:\\Users\\ana\\Relatório Final.PDF", "pdf", "Relatório Final.pdf"),
        ("foto\u202egnp.exe", "jpeg", "fotognp.jpg"),  # right-to-left override removed
        ("  .bashrc  ", "text", "bashrc.txt"),
        ("", "pdf", "attachment.pdf"),
        (None, "zip", "attachment.zip"),
        ("v1.final report", "pdf", "v1.final report.pdf"),
        ("tab\there\r\nnewline.csv", "csv", "tab here newline.csv"),
        ("zero\u200bwidth\u00a0space.txt", "text", "zerowidth space.txt"),
        ("a" * 300 + ".docx", "docx", "a" * (MAX_NAME - 5) + ".docx"),
    ],
)
def test_display_names_are_made_safe(given_name, kind, shown):
    assert safe_filename(given_name, KINDS[kind]) == shown


@settings(max_examples=300, deadline=None)
@given(name=st.one_of(st.none(), st.text(max_size=400)), kind=st.sampled_from(sorted(KINDS)))
def test_any_name_becomes_a_short_visible_name_with_the_types_extension(name, kind):
    shown = safe_filename(name, KINDS[kind])
    stem, _, extension = shown.rpartition(".")
    assert extension in KINDS[kind].extensions
    assert stem and stem == stem.strip(" .")
    assert len(shown) <= MAX_NAME
    assert "/" not in shown and "\\" not in shown
    assert all(unicodedata.category(ch)[0] != "C" for ch in shown)
    assert "  " not in shown
    assert safe_filename(shown, KINDS[kind]) == shown


# --- serving ------------------------------------------------------------------------


def test_images_and_pdf_are_shown_sandboxed_everything_else_downloaded():
    for content_type in ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"):
        headers = serving_headers(content_type, "x.png")
        assert headers["Content-Disposition"].startswith("inline;")
        assert headers["Content-Security-Policy"] == "sandbox"
    for content_type in ("text/plain; charset=utf-8", "text/csv; charset=utf-8", KINDS["docx"].content_type):
        assert serving_headers(content_type, "x").get("Content-Disposition").startswith("attachment;")
    headers = serving_headers("text/plain; charset=utf-8", "x.txt")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in headers["Cache-Control"]


def test_the_download_name_is_encoded_per_rfc_5987_with_an_ascii_fallback():
    disposition = serving_headers("application/pdf", 'Relatório "ação" 1/2.pdf')["Content-Disposition"]
    plain, encoded = disposition.split("; filename*=UTF-8''")
    assert plain == 'inline; filename="Relatorio _acao_ 1_2.pdf"'
    assert unquote(encoded) == 'Relatório "ação" 1/2.pdf'
    assert all(ch.isalnum() or ch in "%-._~" for ch in encoded)


def test_attachment_response_streams_the_stored_object(app, tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put(KEY, io.BytesIO(b"a;b\n1;2\n"), "text/csv")
    with app.test_request_context():
        response = attachment_response(storage.open(KEY), "text/csv; charset=utf-8", "dados.csv", size=8)
        body = b"".join(response.response)
        response.close()
    assert body == b"a;b\n1;2\n"
    assert response.headers["Content-Length"] == "8"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="dados.csv"')


def test_an_upload_route_may_raise_its_body_limit_to_fit_attachments(app):
    with app.test_request_context(method="POST"):
        allow_upload_body(files=2)
        assert request.max_content_length == 2 * app.config["ATTACHMENT_MAX_BYTES"] + 1024 * 1024
