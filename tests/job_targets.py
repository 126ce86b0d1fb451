"""Functions the job tests enqueue by dotted path."""

from pathlib import Path


def append_line(path: str, text: str) -> None:
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
