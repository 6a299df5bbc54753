"""Small UI helpers every page uses: cached model loading with readable errors, and URL parameters
that never crash a page (a bad value gives a visible note and a sensible default)."""
from __future__ import annotations

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


def load_model(name: str):
    """The model, or None after showing why it could not be loaded (and how to make it)."""
    import genlib

    try:
        return _load_cached(name)
    except genlib.WeightsError as e:
        st.error(f"**Model `{name}` is unavailable.** {e}", icon="⚠️")
        return None


def parse_int(raw, default: int, lo: int, hi: int, what: str) -> tuple[int, str | None]:
    """An int in [lo, hi] from a URL string; (value, note) where note says what was wrong, if anything."""
    if raw is None or raw == "":
        return default, None
    try:
        value = int(str(raw).strip())
    except ValueError:
        return default, f"`{what}={raw}` in the link is not a whole number; using {default}."
    if not lo <= value <= hi:
        clamped = min(max(value, lo), hi)
        return clamped, f"`{what}={raw}` in the link is outside {lo}..{hi}; using {clamped}."
    return value, None


def parse_float(raw, default: float, lo: float, hi: float, what: str) -> tuple[float, str | None]:
    """A finite float in [lo, hi] from a URL string; (value, note)."""
    if raw is None or raw == "":
        return default, None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return default, f"`{what}={raw}` in the link is not a number; using {default}."
    if value != value or value in (float("inf"), float("-inf")):
        return default, f"`{what}={raw}` in the link is not a finite number; using {default}."
    if not lo <= value <= hi:
        clamped = min(max(value, lo), hi)
        return clamped, f"`{what}={raw}` in the link is outside {lo}..{hi}; using {clamped}."
    return value, None


def parse_choice(raw, choices, default, what: str):
    """One of `choices` from a URL string; (value, note)."""
    if raw is None or raw == "":
        return default, None
    if raw in choices:
        return raw, None
    return default, f"`{what}={raw}` in the link is not one of {', '.join(map(str, choices))}; using {default}."


def url_param(key: str):
    """The raw value of ?key=… (None when absent)."""
    return st.query_params.get(key)


def show_notes(notes) -> None:
    for note in notes:
        if note:
            st.info(note, icon="🔗")
