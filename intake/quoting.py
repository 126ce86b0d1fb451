"""The new text of a reply (issue 14): the quoted history and the signature trimmed away.

Written here rather than taken from a library: quotequail (the best kept one) knows
Gmail's "Em ... escreveu:" and Outlook's "-----Original Message-----", but not Outlook's
Portuguese header block ("De: ... Enviada em:"), nor signatures, and it keeps the
attribution line with the new text; mail-parser-reply has no Portuguese; talon and
email-reply-parser are unmaintained (2017, 2020). The rules are a few patterns.

What is cut: everything from the first reply header on (Gmail / Apple Mail attribution,
Outlook's separator or header block), a trailing block of ``>`` lines, the signature
(from a ``-- `` line) and "Sent from my iPhone". Quotes between new paragraphs (an inline
answer) are kept: without them the answer reads wrong. A forward is kept whole: what it
forwards is the point of it. When nothing would remain, the text is kept whole.
"""

from __future__ import annotations

import re

from desk.mail_markers import strip_body_markers

# Gmail and Apple Mail: "On Mon, 30 Nov 2026 at 10:12, Ana <a@x> wrote:" / "Em seg., 30 de
# nov. de 2026 às 10:12, Ana <a@x> escreveu:" (Gmail wraps it over two lines when long).
ATTRIBUTION = re.compile(r"^(on|em|le|el|am)\s.{4,}\s(wrote|escreveu|a écrit|escribió|schrieb)\s*:\s*$", re.I)
ATTRIBUTION_START = re.compile(r"^(on|em|le|el|am)\s", re.I)
# Outlook: "-----Original Message-----", "-----Mensagem original-----", and the line of
# underscores it puts above its header block.
SEPARATOR = re.compile(
    r"^(-{2,}\s*(original message|mensagem original|mensaje original)\s*-{2,}|_{20,})\s*$", re.I
)
# Outlook's header block: "From: / De:" then, within a few lines, "Sent: / Enviada em: /
# Enviado: / Data: / Date:" (Gmail's text of an Outlook mail puts them between asterisks).
HEADER_FROM = re.compile(r"^\*?(from|de)\s*:\*?\s+\S", re.I)
HEADER_SENT = re.compile(r"^\*?(sent|enviada em|enviado em|enviado|data|date)\s*:\*?\s+\S", re.I)
# A forward keeps what it forwards: Gmail's and Apple Mail's forward lines, and a subject
# whose first prefix is a forward's (Outlook's forward looks like its reply otherwise).
FORWARD_LINE = re.compile(
    r"^(-{2,}\s*(forwarded message|mensagem encaminhada|mensaje reenviado)\s*-{2,}"
    r"|(begin forwarded message|in[ií]cio da mensagem encaminhada)\s*:)\s*$",
    re.I,
)
FORWARD_SUBJECT = re.compile(r"^\s*(fw|fwd|enc|tr|wg|rv)\s*:", re.I)
SIGNATURE = re.compile(r"^--\s?$")
MOBILE_FOOTER = re.compile(
    r"^(sent from my \w+.*|enviado do meu \w+.*|enviado de meu \w+.*|sent from (outlook|mail) for \w+.*"
    r"|enviado do (outlook|email) para \w+.*)$",
    re.I,
)
HEADER_WINDOW = 4


def is_attribution(lines: list[str], index: int) -> bool:
    """A Gmail / Apple Mail "On <date> ... wrote:" line, alone or wrapped over the next line
    (the date's digits keep "Em resumo, o técnico escreveu:" in the new text)."""
    line = lines[index].strip()
    if not ATTRIBUTION_START.match(line):
        return False
    if index + 1 < len(lines) and not ATTRIBUTION.match(line):
        line = f"{line} {lines[index + 1].strip()}"
    return bool(ATTRIBUTION.match(line)) and any(ch.isdigit() for ch in line)


def is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook "From: ... Sent: ..." block starting at ``index``."""
    if not HEADER_FROM.match(lines[index].strip()):
        return False
    following = lines[index + 1 : index + 1 + HEADER_WINDOW]
    return any(HEADER_SENT.match(line.strip()) for line in following)


def starts_history(lines: list[str], index: int) -> bool:
    """Whether the quoted (or forwarded) history starts at ``index``."""
    bare = lines[index].strip()
    if FORWARD_LINE.match(bare) or SEPARATOR.match(bare):
        return True
    return is_attribution(lines, index) or is_header_block(lines, index)


def history_start(lines: list[str]) -> int:
    """The index of the first line of the quoted history (len(lines) if there is none)."""
    return next((index for index in range(len(lines)) if starts_history(lines, index)), len(lines))


def is_forward(lines: list[str], start: int, subject: str) -> bool:
    """A forward: by its subject's first prefix, or its history opens with a forward line."""
    if FORWARD_SUBJECT.match(subject or ""):
        return True
    return start < len(lines) and bool(FORWARD_LINE.match(lines[start].strip()))


def is_trailing_noise(line: str) -> bool:
    """A blank line, a quoted line or a "Sent from my iPhone" at the end of a reply."""
    bare = line.strip()
    return not bare or bare.startswith(">") or bool(MOBILE_FOOTER.match(bare))


def drop_signature(lines: list[str]) -> list[str]:
    """Cut at the first ``-- `` line (the signature delimiter)."""
    for index, line in enumerate(lines):
        if SIGNATURE.match(line):
            return lines[:index]
    return lines


def drop_trailing_noise(lines: list[str]) -> list[str]:
    """Drop the trailing block of quoted, blank and "Sent from my ..." lines."""
    end = len(lines)
    while end and is_trailing_noise(lines[end - 1]):
        end -= 1
    return lines[:end]


def trim_reply(text: str, subject: str = "") -> str:
    """The new text of a reply, without ``ref:`` markers; the whole text (stripped) when
    trimming would leave nothing. A forward (by its subject, or a forward line before any
    quoted history) is kept whole."""
    text = strip_body_markers(text)
    whole = text.strip()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = history_start(lines)
    if is_forward(lines, start, subject):
        return whole
    kept = drop_trailing_noise(drop_signature(lines[:start]))
    return "\n".join(line.rstrip() for line in kept).strip() or whole
