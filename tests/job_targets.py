"""Functions the job tests enqueue by dotted path."""

import os
from pathlib import Path


def append_line(path: str, text: str) -> None:
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def append_pid(path: str) -> None:
    """Which process ran the job."""
    append_line(path, str(os.getpid()))
