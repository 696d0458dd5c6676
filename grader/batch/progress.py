"""Progress of a batch: a bar with count, rate and ETA on a terminal, plain lines otherwise.
Labels and results are student text (paths, failure messages): control characters are escaped."""

from __future__ import annotations

import time
from typing import TextIO

from grader.core.names import for_terminal

BAR_WIDTH = 28


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    def __init__(self, total: int, stream: TextIO, *, tty: bool) -> None:
        self.total = total
        self.stream = stream
        self.tty = tty
        self.done = 0
        self.started = time.monotonic()

    def eta(self) -> float | None:
        if self.done == 0:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)

    def advance(self, label: str, result: str) -> None:
        self.done += 1
        label, result = for_terminal(label), for_terminal(result)
        if self.tty:
            self._draw(label)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label}: {result}\n")
            self.stream.flush()

    def _draw(self, label: str) -> None:
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = self.eta()
        eta_text = format_seconds(eta) if eta is not None else "--:--"
        line = f"\r[{bar}] {self.done}/{self.total}  {rate:5.1f}/s  ETA {eta_text}  {label[:30]:<30}"
        self.stream.write(line)
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and 0 < self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
