"""A file of ours for a WhatsApp message (the conversation page's file form): what
WhatsApp sends it as, and refused, saying why, when WhatsApp would not take it.

Cloud API media (Meta's "Supported media types"): images JPEG or PNG up to 5 MB (a
larger one goes as a document); audio AAC, AMR, MP3, M4A (MP4 audio) or OGG with the
Opus codec, up to 16 MB, never with a caption; video MP4 or 3GPP up to 16 MB; any other
file ``core.uploads`` accepts goes as a document. A template's header file: the photo,
video or document its header names, with the same limits. Audio and video are known by their
content's signature (never by the name or the browser's word), which
``core.uploads`` does not take as attachments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from core.storage import get_storage
from core.uploads import HEAD, FileKind, UploadRefused, check_upload, safe_filename, store_upload
from tenant.states import MessageKind

IMAGE_MAX_BYTES = 5 * 1024 * 1024
MEDIA_MAX_BYTES = 16 * 1024 * 1024  # audio and video
WHATSAPP_IMAGES = frozenset({"image/jpeg", "image/png"})
FORMATS = _l("WhatsApp takes audio as MP3, M4A, AAC, AMR or OGG (Opus) and video as MP4 or 3GP, up to 16 MB.")
_UNSUPPORTED = "unsupported"
# Audio or video containers WhatsApp does not take: WAV and AVI (RIFF), FLAC, WebM and
# Matroska (EBML).
_OTHER_MEDIA = (b"RIFF", b"fLaC", b"\x1a\x45\xdf\xa3")


class FileRefused(ValueError):
    """Nothing is stored or sent; the message says why (in the user's language)."""


@dataclass(frozen=True)
class Outgoing:
    kind: MessageKind
    content_type: str
    filename: str


def sniff_media(head: bytes) -> tuple[MessageKind, str, str] | str | None:
    """``(kind, content type, extension)`` of an audio or video WhatsApp takes,
    ``"unsupported"`` for one it does not, ``None`` for any other file."""
    if head.startswith(b"#!AMR"):
        return MessageKind.AUDIO, "audio/amr", "amr"
    if head.startswith(b"OggS"):
        # WhatsApp plays OGG with the Opus codec only (its voice notes); not Vorbis.
        return (MessageKind.AUDIO, "audio/ogg", "ogg") if b"OpusHead" in head[:200] else _UNSUPPORTED
    if head.startswith(b"ID3"):
        return MessageKind.AUDIO, "audio/mpeg", "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        layer = (head[1] >> 1) & 3
        if head[1] & 0xF0 == 0xF0 and layer == 0:
            return MessageKind.AUDIO, "audio/aac", "aac"  # ADTS
        if head[1] & 0xE0 == 0xE0 and layer != 0:
            return MessageKind.AUDIO, "audio/mpeg", "mp3"  # an MPEG audio frame
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return MessageKind.AUDIO, "audio/mp4", "m4a"
        if brand.startswith((b"3gp", b"3g2")):
            return MessageKind.VIDEO, "video/3gpp", "3gp"
        if brand == b"qt  ":
            return _UNSUPPORTED  # QuickTime (.mov)
        return MessageKind.VIDEO, "video/mp4", "mp4"
    if head.startswith(_OTHER_MEDIA):
        return _UNSUPPORTED
    return None


def _measured(stream: BinaryIO) -> tuple[bytes, int]:
    """The file's first bytes and its size; the stream is put back where it was."""
    start = stream.tell()
    head = stream.read(HEAD)
    stream.seek(0, 2)
    size = stream.tell() - start
    stream.seek(start)
    return head, size


def store(key: str, stream: BinaryIO, filename: str | None, caption: str) -> Outgoing:
    """Check the file and keep it under ``key``: how WhatsApp sends it;
    :class:`FileRefused` keeps nothing."""
    head, size = _measured(stream)
    found = sniff_media(head)
    if found == _UNSUPPORTED:
        raise FileRefused(str(FORMATS))
    if found is not None:
        kind, content_type, extension = found
        if size > MEDIA_MAX_BYTES:
            raise FileRefused(str(FORMATS))
        if kind == MessageKind.AUDIO and caption:
            raise FileRefused(str(_l("WhatsApp sends audio without a caption: leave the caption empty.")))
        get_storage().put(key, stream, content_type)
        return Outgoing(kind, content_type, safe_filename(filename, FileKind(content_type, (extension,))))
    try:
        checked = store_upload(key, stream, filename)
    except UploadRefused as refused:
        raise FileRefused(f"{refused.message} {FORMATS}") from None
    photo = checked.content_type in WHATSAPP_IMAGES and checked.size <= IMAGE_MAX_BYTES
    return Outgoing(
        MessageKind.IMAGE if photo else MessageKind.DOCUMENT, checked.content_type, checked.filename
    )


def store_header(key: str, stream: BinaryIO, filename: str | None, media: str) -> Outgoing:
    """A template header's file (``media``: the header's ``image``, ``video`` or
    ``document``), checked as Meta takes it and kept under ``key``; :class:`FileRefused`
    keeps nothing."""
    head, size = _measured(stream)
    if media == "video":
        found = sniff_media(head)
        if not isinstance(found, tuple) or found[0] != MessageKind.VIDEO or size > MEDIA_MAX_BYTES:
            raise FileRefused(str(_l("This template starts with a video: MP4 or 3GP, up to 16 MB.")))
        kind, content_type, extension = found
        get_storage().put(key, stream, content_type)
        return Outgoing(kind, content_type, safe_filename(filename, FileKind(content_type, (extension,))))
    try:
        checked = check_upload(stream, filename)
    except UploadRefused as refused:
        raise FileRefused(refused.message) from None
    if media == "image" and not (checked.content_type in WHATSAPP_IMAGES and checked.size <= IMAGE_MAX_BYTES):
        raise FileRefused(str(_l("This template starts with a photo: JPEG or PNG, up to 5 MB.")))
    checked = store_upload(key, stream, filename)
    kind = MessageKind.IMAGE if media == "image" else MessageKind.DOCUMENT
    return Outgoing(kind, checked.content_type, checked.filename)
