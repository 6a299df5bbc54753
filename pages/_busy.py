"""Heavy work one at a time for the whole server, first come first served, with a visible place in line.

Every visitor's session is a thread of one server process on a few cores. Two 8-image completions at
once do not finish sooner than one after the other; they only make both visitors (and everyone
else) wait longer. So heavy work runs inside `one_at_a_time(...)`:

    with one_at_a_time("pixelcnn", "PixelCNN completion"):
        out = model.complete(...)

A visitor who arrives while another one's job runs sees "Busy: … yours starts next" (or how many are
ahead) until their turn, then the job runs. Leaving the page or clicking again while waiting gives the
place up, because the note is redrawn every half second, which is when Streamlit stops a run.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import streamlit as st

POLL_S = 0.5


class WorkLine:
    """A first-come-first-served line: the ticket at the front runs, the others wait their turn."""

    def __init__(self):
        self._changed = threading.Condition()
        self._tickets: list[object] = []

    def join(self) -> object:
        ticket = object()
        with self._changed:
            self._tickets.append(ticket)
        return ticket

    def wait_turn(self, ticket, timeout_s: float) -> int:
        """Wait up to timeout_s for the ticket's turn; returns how many tickets are still ahead of it."""
        with self._changed:
            self._changed.wait_for(lambda: self._tickets[0] is ticket, timeout=timeout_s)
            return self._tickets.index(ticket)

    def leave(self, ticket) -> None:
        with self._changed:
            self._tickets.remove(ticket)
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._tickets)


@st.cache_resource
def _lines() -> dict:
    """The server's lines by name, shared by every session (and kept across reruns)."""
    return {}


def line(name: str) -> WorkLine:
    return _lines().setdefault(name, WorkLine())  # dict.setdefault is atomic under the GIL


def waiting_text(what: str, ahead: int, waited_s: float) -> str:
    place = "yours starts next" if ahead == 1 else f"{ahead - 1} more {'is' if ahead == 2 else 'are'} ahead of yours"
    return f"Busy: another visitor's {what} is running; {place} (waiting {waited_s:.0f} s)."


@contextmanager
def one_at_a_time(name: str, what: str):
    """Run the `with` block when no other session runs work of the same `name`; meanwhile show the
    visitor their place in line. `what` names the work for people ("PixelCNN completion")."""
    work_line = line(name)
    ticket = work_line.join()
    try:
        note, started = None, time.monotonic()
        while (ahead := work_line.wait_turn(ticket, POLL_S)) > 0:
            if note is None:
                note = st.empty()
            note.info(waiting_text(what, ahead, time.monotonic() - started), icon="⏳")
        if note is not None:
            note.empty()
        yield
    finally:
        work_line.leave(ticket)
