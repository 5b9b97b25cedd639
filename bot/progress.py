"""A small terminal progress bar for long imports (only drawn on a terminal)."""

from __future__ import annotations

from typing import TextIO


class ProgressBar:
    """Redraws one line in place; prints nothing when the stream is not a terminal."""

    def __init__(self, stream: TextIO, label: str, width: int = 30) -> None:
        self.stream = stream
        self.label = label
        self.width = width
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = round(self.width * done / total)
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,}{end}")
        self.stream.flush()
