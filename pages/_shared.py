"""Small UI helpers every page uses: cached model loading with readable errors, URL parameters read
through one declarative table per page (a bad value gives a visible note and a sensible default, never a
crash), notes that show a link's values as literal text, and a server-wide "one at a time" lock."""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def _route_through_app_shell() -> None:
    """Make a deep link to a fresh server run through app.py's router.

    Streamlit treats a folder named pages/ as a legacy multipage app until some run calls
    st.navigation; so the very first visitor of a shared link such as /reflect_quiz?seed=7 would get
    the bare page (no GenLab sidebar, no wide layout). Every demo imports this module, so on that first
    run we switch Streamlit to st.navigation mode and rerun: app.py then routes to the same page with
    the same query parameters. Later runs find the flag already off and do nothing.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_route_through_app_shell()


@st.cache_resource(show_spinner="Loading model…")
def _load_cached(name: str):
    import genlib

    return genlib.load(name)


def load_model(name: str, optional: bool = False):
    """The model, or None after showing why it could not be loaded (and how to make it): an error box, or for
    an `optional` model (a comparison the page can do without) a caption."""
    import genlib

    try:
        return _load_cached(name)
    except genlib.WeightsError as e:
        if optional:
            st.caption(f"Model `{name}` is unavailable, so its comparison is left out: {e}")
        else:
            st.error(f"**Model `{name}` is unavailable.** {e}", icon="⚠️")
        return None


@st.cache_resource
def _locks() -> dict:
    return {}


def server_lock(name: str) -> threading.Lock:
    """One lock per name for the whole server (all sessions): optional heavy work such as timing the
    naive sampler runs once at a time, so one visitor cannot take every core from the class."""
    return _locks().setdefault(name, threading.Lock())


class SharedStore:
    """A small least-recently-used dict shared by every session of the server, for results a page
    computes while it draws (progress bars, painted frames), which st.cache_data cannot wrap."""

    def __init__(self, max_items: int):
        self.max_items, self._items, self._lock = max_items, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


@st.cache_resource
def shared_store(name: str, max_items: int = 64) -> SharedStore:
    return SharedStore(max_items)


# ---- digits as pictures ---------------------------------------------------------------------------------
ZOOM = 5


def zoomed_grid(images01, nrow: int, zoom: int = ZOOM):
    """Images in [0, 1] [n,1,h,w] -> one uint8 grid image, each pixel drawn as a zoom x zoom block."""
    import numpy as np

    from genlib.vae import grid_image

    return np.kron(grid_image(images01, nrow), np.ones((zoom, zoom), dtype=np.uint8))


def levels_to_image(x, nrow: int, zoom: int = ZOOM):
    """Grey levels [n,1,28,28] (0..255) -> one uint8 grid image, each pixel drawn as a zoom x zoom block."""
    import torch

    return zoomed_grid(torch.as_tensor(x).float() / 255, nrow, zoom)


# ---- values from a link, shown literally --------------------------------------------------------------
MAX_SHOWN = 100  # characters of a link's value quoted in a note; the rest is counted, not shown


def literal(text) -> str:
    """`text` (from a link or a file) as Markdown that displays exactly those characters: a code span.

    Backslash escapes are not enough: Streamlit's Markdown (GitHub flavour) still turns https://…, www.…
    and a@b.c in escaped text into links (seen in chromium). Nothing inside a code span is interpreted (no
    link, image, HTML, emoji code, LaTeX or colour directive); its fence is one backtick longer than any
    run of backticks in the text, so the text cannot close it. Line breaks and other control characters
    become spaces, and a long value is cut (the length is said after the span).
    """
    text = str(text)
    shown = "".join(c if c.isprintable() else " " for c in text[:MAX_SHOWN])
    fence = "`" * (max((len(run) for run in re.findall("`+", shown)), default=0) + 1)
    # CommonMark drops one space on each side when both are there, and a span must not touch its fence's
    # backticks: pad in exactly those cases.
    pad = " " if shown[:1] == "`" or shown[-1:] == "`" or (shown[:1] == " " and shown[-1:] == " ") else ""
    cut = f" … ({len(text):,} characters)" if len(text) > MAX_SHOWN else ""
    return f"{fence}{pad}{shown}{pad}{fence}{cut}"


def show_notes(notes) -> None:
    """One blue box per note. Notes are Markdown whose link values went through `literal`."""
    for note in notes:
        if note:
            st.info(note, icon="🔗")


# ---- one declarative table of URL parameters per page -----------------------------------------------------
# Why not Streamlit's own `bind="query-params"` (1.67)? Measured with AppTest (?seed=abc, ?seed=-4,
# ?trunc=3, ?dist=spiral on bound widgets): it drops a bad value silently and even removes it from the
# link, so the visitor never learns why the shared link did not do what it said; it also keys the
# session state by the bare URL name (two pages with a `seed` would share it) and drops a value that
# equals the default, which a random default (the face sampler's seed) cannot have. So pages declare
# their parameters here and read them through `read_link`, which says what it did not take.
@dataclass(frozen=True)
class Param:
    """One URL parameter: `kind` int, float or str; `default` used when it is absent or bad (None: the
    page decides, e.g. a random seed); ints and floats are clamped into lo..hi; a str must be one of
    `choices`; a float with `choices` snaps to the nearest offered value, one with `step` to its grid."""
    name: str
    kind: type
    default: object = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    step: float | None = None

    def parse(self, raw: str):
        """(value, note): the value this parameter takes from `raw`, and why it is not `raw` (or None)."""
        said = literal(f"{self.name}={raw}")
        using = "the default" if self.default is None else f"{self.default:g}" if self.kind is float \
            else literal(self.default)
        if raw == "":
            return self.default, f"{said} in the link has no value; using {using}."
        if self.kind is str:
            if raw in self.choices:
                return raw, None
            return self.default, (f"{said} in the link is not one of {literal(', '.join(self.choices))}; "
                                  f"using {using}.")
        text = raw.strip()
        pattern = r"[+-]?\d+" if self.kind is int else r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|[+-]?(inf|nan)"
        if not re.fullmatch(pattern, text, re.ASCII | re.IGNORECASE):  # plain digits only: no 1_000, no ٣
            what = "a whole number" if self.kind is int else "a number"
            return self.default, f"{said} in the link is not {what}; using {using}."
        # Python refuses int() of 4,300+ digits; anything over 30 digits is out of every range anyway
        value = self.kind(text if self.kind is float or len(text) <= 30 else text[0].strip("+") + "9" * 31)
        if not math.isfinite(value):
            return self.default, f"{said} in the link is not a finite number; using {using}."
        lo = self.lo if self.lo is not None else value
        hi = self.hi if self.hi is not None else value
        taken = self.kind(min(max(value, lo), hi))
        if self.choices:
            taken = min(self.choices, key=lambda c: abs(c - taken))
        elif self.step:
            taken = round(round((taken - lo) / self.step) * self.step + lo, 10)
        if math.isclose(taken, value, rel_tol=1e-9, abs_tol=1e-12):
            return value, None
        if not lo <= value <= hi:
            return taken, f"{said} in the link is outside {lo:g}..{hi:g}; using {taken:g}."
        offered = ", ".join(f"{c:g}" for c in self.choices) if self.choices else f"steps of {self.step:g}"
        return taken, f"{said} in the link is not offered here ({offered}); using {taken:g}."


IGNORED_KEYS = frozenset({"embed", "embed_options"})  # Streamlit's own, never a page's


def read_link(table, *, also_known=(), query=None) -> tuple[dict, list[str]]:
    """Every parameter of `table` from the link (or `query`, a dict of str or lists of str): ({name: value},
    notes). A note for each
    value not taken: bad, out of range, repeated (the first is used) or a key this page does not know
    (`also_known`: names a later `read_link` call of the same page reads)."""
    query = st.query_params if query is None else query
    values, notes = {}, []
    for p in table:
        given = query.get_all(p.name) if hasattr(query, "get_all") else query.get(p.name, [])
        given = [given] if isinstance(given, str) else list(given)
        if len(given) > 1:
            notes.append(f"{literal(p.name)} appears {len(given)} times in the link; only the first is used.")
        if not given:
            values[p.name] = p.default
            continue
        values[p.name], note = p.parse(given[0])
        notes.append(note)
    known = {p.name for p in table} | set(also_known) | IGNORED_KEYS
    unknown = [k for k in query.keys() if k not in known]
    if unknown:
        names = ", ".join(literal(k) for k in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        notes.append(f"This page does not use {names} from the link; ignored.")
    return values, [n for n in notes if n]


def first_link_value(name: str) -> tuple[str | None, list[str]]:
    """A link parameter a page reads itself (not a Param): its first value (None when absent), and a note when
    the link repeats it."""
    given = st.query_params.get_all(name)
    repeated = f"{literal(name)} appears {len(given)} times in the link; only the first is used."
    return (given[0] if given else None), [repeated] if len(given) > 1 else []


def link_of(table, values: dict) -> dict:
    """The query string for `values` (every parameter of the table, so a shared link says it all)."""
    def text(p, v):
        return f"{v:g}" if p.kind is float else str(v)
    return {p.name: text(p, values[p.name]) for p in table if values.get(p.name) is not None}


def write_link(table, values: dict, extra: dict | None = None) -> None:
    """Put `values` (and `extra`, parameters outside the table such as a game's progress) into the address
    bar, only when it changes: each write costs the browser a history update."""
    want = {**link_of(table, values), **(extra or {})}
    if dict(st.query_params) != want:
        st.query_params.from_dict(want)
