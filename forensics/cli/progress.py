"""Progress on a terminal (tqdm on stderr); silent when stderr is not a terminal or with -q."""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager

__all__ = ["Progress"]


class Progress:
    """Steps of the main job (a line with the elapsed time, redrawn twice a second while a
    step works), and a byte counter where the step can tell how far it is."""

    def __init__(self, quiet: bool = False):
        self.on = not quiet and sys.stderr.isatty()

    @contextmanager
    def step(self, text: str, total_bytes: int | None = None):
        """A phase named ``text``; yields a function that advances the bytes done."""
        if not self.on:
            yield lambda n: None
            return
        from tqdm import tqdm

        bar = tqdm(total=total_bytes or None, desc=text, unit="B", unit_scale=True,
                   leave=False, file=sys.stderr, dynamic_ncols=True,
                   bar_format=None if total_bytes else "{desc} … {elapsed}")
        done = threading.Event()

        def tick():
            while not done.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield bar.update
        finally:
            done.set()
            ticker.join()
            bar.close()
