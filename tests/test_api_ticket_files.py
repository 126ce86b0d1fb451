"""A ticket's files and timeline through the API (issue 16): a reply or a note sent as
``multipart/form-data`` carries its files through the staff's rules (type by content,
size, count; a refused file is a 422 naming ``files`` and writes nothing), each timeline
entry lists its files with their download URL, the download streams the file with the
staff page's headers (another reseller's or another ticket's: 404), and the timeline
pages with the API's cursor, oldest first."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEvent
from core.uploads import serving_headers
from desk.models import DeskStaff
from desk.states import EntryKind
from desk.ticket_models import TicketAttachment, TicketEntry
from tests.api_setup import Caller, api_client, token

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
PROGRAM = b"MZ\x90\x00" + b"\x00" * 200


def caller(app, reseller_id, scopes=None) -> Caller:
    client_id, secret, _ = api_client(app, reseller_id, scopes, name="ERP Integrado")
    return Caller(app, token(app, client_id, secret))


@pytest.fixture
def ticket(app, factory, tenants):
    desk = factory.desk(tenants.a.id, name="Suporte", client_ids=[tenants.a.client.id])
    agent = factory.staff(tenants.a.id, email="agente@a.test")
    with app.app_context():
        db.session.add(DeskStaff(desk_id=desk.id, account_id=agent.id, reseller_id=tenants.a.id))
        db.session.commit()
    return factory.ticket(tenants.a.client.id, desk.id)


def multipart(body: str | None = "Segue o print.", files=(), **extra) -> dict:
    data = {**extra, "files": [(io.BytesIO(content), name) for name, content in files]}
    if body is not None:
        data["body"] = body
    return {"data": data, "content_type": "multipart/form-data"}


def written(app) -> tuple[int, int]:
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(TicketEntry))
        files = db.session.scalar(select(func.count()).select_from(TicketAttachment))
        return entries, files


def test_a_reply_carries_its_files_listed_and_downloaded_with_the_staff_pages_headers(app, tenants, ticket):
    api = caller(app, tenants.a.id)
    files = [("tela.png", PNG), ("log do erro.txt", "Falha às 10h\n".encode())]
    response = api.call("POST", f"/api/v1/tickets/{ticket.id}/replies", **multipart(files=files))
    assert response.status_code == 201, response.get_data(as_text=True)
    entry = response.get_json()
    assert entry["body"] == "Segue o print." and entry["kind"] == "public_reply"
    listed = {a["filename"]: a for a in entry["attachments"]}
    assert set(listed) == {"tela.png", "log do erro.txt"}
    png = listed["tela.png"]
    assert (png["content_type"], png["size"]) == ("image/png", len(PNG))
    assert png["url"] == f"/api/v1/tickets/{ticket.id}/attachments/{png['id']}"
    # The timeline lists them on the same entry.
    timeline = api.get(f"/api/v1/tickets/{ticket.id}/timeline").get_json()["data"]
    assert [a["id"] for a in timeline[-1]["attachments"]] == [a["id"] for a in entry["attachments"]]
    download = api.get(png["url"])
    assert download.status_code == 200
    assert download.get_data() == PNG
    download.close()
    for name, value in serving_headers("image/png", "tela.png").items():
        assert download.headers[name] == value
    text = api.get(listed["log do erro.txt"]["url"])
    assert text.get_data().decode() == "Falha às 10h\n"
    assert text.headers["Content-Disposition"].startswith("attachment;")
    text.close()
    with app.app_context():
        audited = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "ticket.attachment", AuditEvent.object_id == str(ticket.id)
            )
        ).all()
    assert len(audited) == 2 and {e.actor_label for e in audited} == {"ERP Integrado"}


def test_a_note_carries_its_files_too_and_json_still_works(app, tenants, ticket):
    api = caller(app, tenants.a.id)
    note = api.call("POST", f"/api/v1/tickets/{ticket.id}/notes", **multipart("Interno", [("a.png", PNG)]))
    assert note.status_code == 201, note.get_data(as_text=True)
    assert note.get_json()["kind"] == "internal_note" and len(note.get_json()["attachments"]) == 1
    plain = api.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": "Sem arquivo"})
    assert plain.status_code == 201 and plain.get_json()["attachments"] == []


@pytest.mark.parametrize(
    "files",
    [
        [("programa.png", PROGRAM)],  # a program, whatever its name says
        [("vazio.txt", b"")],
        [("pagina.txt", b"<html><script>alert(1)</script></html>")],
        [(f"{n}.png", PNG) for n in range(6)],  # more than five
    ],
    ids=["program", "empty", "markup", "six-files"],
)
def test_a_refused_file_is_a_422_naming_files_and_writes_nothing(app, tenants, ticket, files):
    api = caller(app, tenants.a.id)
    before = written(app)
    response = api.call("POST", f"/api/v1/tickets/{ticket.id}/replies", **multipart(files=files))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["param"] == "files" and response.get_json()["detail"]
    assert written(app) == before


def test_a_file_over_the_size_limit_is_a_422(app, tenants, ticket, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    api = caller(app, tenants.a.id)
    before = written(app)
    big = [("grande.txt", b"a" * 2048)]
    response = api.call("POST", f"/api/v1/tickets/{ticket.id}/replies", **multipart(files=big))
    assert (response.status_code, response.get_json()["param"]) == (422, "files")
    assert written(app) == before


def test_a_body_above_8_mb_is_accepted_only_from_a_live_token(app, tenants, ticket, monkeypatch):
    """The request's limit is raised for attachments before the body is read, but only for
    a caller with a live token: anyone else keeps the small limit."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    api = caller(app, tenants.a.id)
    files = [("notas.txt", b"linha de texto\n" * 500)]  # 7.5 kB, over the small limit
    ok = api.call("POST", f"/api/v1/tickets/{ticket.id}/notes", **multipart("Anexo", files))
    assert ok.status_code == 201, ok.get_data(as_text=True)
    anonymous = app.test_client().post(
        f"http://a.test/api/v1/tickets/{ticket.id}/notes", **multipart("Anexo", files)
    )
    assert anonymous.status_code in (401, 413)


def test_bad_multipart_fields_are_a_422_naming_them(app, tenants, ticket):
    api = caller(app, tenants.a.id)
    before = written(app)
    path = f"/api/v1/tickets/{ticket.id}/replies"
    missing = api.call("POST", path, **multipart(None, [("a.png", PNG)]))
    assert (missing.status_code, missing.get_json()["param"]) == (422, "body")
    unknown = api.call("POST", path, **multipart(reseller_id=str(tenants.b.id)))
    assert (unknown.status_code, unknown.get_json()["param"]) == (422, "reseller_id")
    assert written(app) == before


def test_a_multipart_reply_replays_with_its_idempotency_key(app, tenants, ticket):
    api = caller(app, tenants.a.id)
    path = f"/api/v1/tickets/{ticket.id}/replies"
    key = {"Idempotency-Key": "resposta-com-arquivo"}
    first = api.call("POST", path, headers=key, **multipart(files=[("a.png", PNG)]))
    before = written(app)
    again = api.call("POST", path, headers=key, **multipart(files=[("a.png", PNG)]))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert written(app) == before


def test_a_download_needs_tickets_read_and_stays_within_its_ticket(app, factory, tenants, ticket):
    api = caller(app, tenants.a.id)
    entry = api.call(
        "POST", f"/api/v1/tickets/{ticket.id}/notes", **multipart("x", [("a.png", PNG)])
    ).get_json()
    attachment_id = entry["attachments"][0]["id"]
    other = factory.ticket(tenants.a.client.id)
    assert api.get(f"/api/v1/tickets/{other.id}/attachments/{attachment_id}").status_code == 404
    assert api.get(f"/api/v1/tickets/{ticket.id}/attachments/{attachment_id + 1000}").status_code == 404
    b_key, b_secret, _ = api_client(app, tenants.b.id)
    b_api = Caller(app, token(app, b_key, b_secret, host="b.test"), host="b.test")
    b_ticket = factory.ticket(tenants.b.client.id)
    for path in (
        f"/api/v1/tickets/{ticket.id}/attachments/{attachment_id}",
        f"/api/v1/tickets/{b_ticket.id}/attachments/{attachment_id}",
    ):
        assert b_api.get(path).status_code == 404, path
    writer = caller(app, tenants.a.id, ["tickets:write"])
    refused = writer.get(f"/api/v1/tickets/{ticket.id}/attachments/{attachment_id}")
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"


def test_the_timeline_pages_oldest_first_with_the_cursor(app, tenants, ticket):
    api = caller(app, tenants.a.id)
    for n in range(5):
        assert api.post(f"/api/v1/tickets/{ticket.id}/notes", json={"body": f"Nota {n}"}).status_code == 201
    whole = api.get(f"/api/v1/tickets/{ticket.id}/timeline?limit=100").get_json()
    assert whole["has_more"] is False
    ids = [e["id"] for e in whole["data"]]
    assert [e["body"] for e in whole["data"] if e["kind"] == EntryKind.INTERNAL_NOTE] == [
        f"Nota {n}" for n in range(5)
    ]
    seen, after = [], None
    while True:
        query = "?limit=2" + (f"&starting_after={after}" if after else "")
        page = api.get(f"/api/v1/tickets/{ticket.id}/timeline{query}").get_json()
        assert len(page["data"]) <= 2
        seen += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert seen == ids
    for bad in ("limit=0", "limit=101", "starting_after=abc"):
        response = api.get(f"/api/v1/tickets/{ticket.id}/timeline?{bad}")
        assert response.status_code == 422, bad
    foreign = api.get(f"/api/v1/tickets/{ticket.id}/timeline?starting_after={ids[-1] + 1000}")
    assert (foreign.status_code, foreign.get_json()["param"]) == (422, "starting_after")
