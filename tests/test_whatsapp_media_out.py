"""Our audio and video through WhatsApp (the conversation page's file form): known by
their content, uploaded to Meta's media endpoint and sent as ``audio`` / ``video``
messages; what Meta does not take (a format, a size, a caption on audio) refused with
the reason, nothing stored or sent; a photo over Meta's 5 MB goes as a document."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from core.extensions import db
from core.storage import get_storage
from tenant.inbox_models import Message
from tenant.states import MessageDirection
from tests.whatsapp_setup import open_chat
from whatsapp import outbound_files

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isomiso2" + b"\x00" * 400
OGG_OPUS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01" + b"\x00" * 300
OGG_VORBIS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis\x00\x00" + b"\x00" * 300
AMR = b"#!AMR\n" + b"\x3c" * 300
AAC = b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 300
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 400
GP3 = b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00" + b"\x00" * 400
MOV = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00" + b"\x00" * 400
WAV = b"RIFF\x24\x08\x00\x00WAVEfmt " + b"\x00" * 400
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def chat(app, tenants, make_browser, fake_meta, run_jobs):
    return open_chat(app, tenants, make_browser, run_jobs)


def send_file(user, conversation_id: int, content: bytes, name: str, caption: str = ""):
    return user.post(
        f"/app/conversations/{conversation_id}/whatsapp-file",
        {"file": (io.BytesIO(content), name), "caption": caption},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def ours(app) -> Message | None:
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.direction == MessageDirection.OUTBOUND))
        db.session.expunge_all()
        return message


@pytest.mark.parametrize(
    ("content", "name", "kind", "content_type"),
    [
        (MP3, "recado.mp3", "audio", "audio/mpeg"),
        (M4A, "recado.m4a", "audio", "audio/mp4"),
        (OGG_OPUS, "nota de voz.ogg", "audio", "audio/ogg"),
        (AMR, "gravacao.amr", "audio", "audio/amr"),
        (AAC, "gravacao.aac", "audio", "audio/aac"),
        (MP4, "demonstracao.mp4", "video", "video/mp4"),
        (GP3, "celular.3gp", "video", "video/3gpp"),
    ],
)
def test_audio_and_video_are_uploaded_to_meta_then_sent_as_their_kind(
    app, chat, fake_meta, run_jobs, content, name, kind, content_type
):
    user, conversation_id = chat
    caption = "Veja o vídeo" if kind == "video" else ""
    assert send_file(user, conversation_id, content, name, caption).status_code == 200
    run_jobs()
    [upload] = fake_meta.uploads
    assert content in upload and f'name="type"\r\n\r\n{content_type}'.encode() in upload
    [request] = fake_meta.sends
    expected = {"id": "upload-1", "caption": caption} if caption else {"id": "upload-1"}
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": request["json"]["to"],
        "type": kind,
        kind: expected,
    }
    message = ours(app)
    assert (message.kind, message.media_type, message.external_id) == (kind, content_type, "wamid.FAKE0001")
    assert message.media_name.rsplit(".", 1)[1] == name.rsplit(".", 1)[1]


@pytest.mark.parametrize(
    ("content", "name", "caption", "said"),
    [
        (OGG_VORBIS, "musica.ogg", "", "OGG (Opus)"),
        (MOV, "video.mov", "", "MP4 ou 3GP"),
        (WAV, "audio.wav", "", "MP3, M4A"),
        (MP4 + b"\0" * outbound_files.MEDIA_MAX_BYTES, "longo.mp4", "", "até 16 MB"),
        (MP3, "recado.mp3", "Ouça", "O WhatsApp envia áudio sem legenda"),
        (b"MZ\x90\x00" + b"\0" * 64, "setup.exe", "", "Programas e scripts"),
    ],
)
def test_what_meta_does_not_take_is_refused_with_the_reason_and_nothing_kept(
    app, chat, fake_meta, run_jobs, content, name, caption, said
):
    user, conversation_id = chat
    page = send_file(user, conversation_id, content, name, caption).get_data(as_text=True)
    assert said in page
    run_jobs()
    assert fake_meta.uploads == [] and fake_meta.sends == [] and ours(app) is None
    with app.app_context():
        root = get_storage().root  # the suite's local folder
    assert [p for p in root.rglob("*") if "whatsapp" in p.parts and p.is_file()] == []


def test_a_photo_over_metas_5_mb_goes_as_a_document(app, chat, fake_meta, run_jobs):
    user, conversation_id = chat
    big = PNG + b"\0" * outbound_files.IMAGE_MAX_BYTES
    send_file(user, conversation_id, big, "planta.png", "A planta")
    send_file(user, conversation_id, PNG, "foto.png")
    run_jobs()
    large, small = fake_meta.sends
    assert large["json"]["type"] == "document"
    assert large["json"]["document"] == {"id": "upload-1", "caption": "A planta", "filename": "planta.png"}
    assert small["json"]["type"] == "image" and small["json"]["image"] == {"id": "upload-2"}
