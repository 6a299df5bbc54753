"""The Reflect quiz's answers in its link (`progress`, quiz.progress): a session that starts from a link with
answers (a restarted server, another replica, a reload) continues the quiz where it was, marks and all."""
from __future__ import annotations

import streamlit as st

import quiz
from pages._quiz_ui import LOG, plain
from pages._shared import first_link_value, literal
from quiz import progress


def answer_key(state: dict, q: quiz.Question) -> str:
    """The widget key of question q's answer in this quiz and round."""
    return f"rq-{state['quiz']}-{state['round']}-{q.id}"


def from_link(state: dict, config: dict, bank: quiz.Bank) -> tuple[dict, list[str]]:
    """The new quiz `state` with the link's answers replayed into it, when the link has them; a value that does
    not fit gives a note and the fresh quiz."""
    value = first_link_value("progress")[0]
    if not value:
        return state, []
    try:
        state, results = progress.restore(value, config, bank.questions, quiz=state["quiz"])
    except progress.ProgressError as e:
        return state, [f"{literal('progress=' + value)} in the link: its answers could not be restored "
                       f"({plain(str(e))}); starting this quiz afresh."]
    st.session_state.setdefault(LOG, []).extend(results)
    show_answer_in_widgets(state, bank)
    return state, []


def show_answer_in_widgets(state: dict, bank: quiz.Bank) -> None:
    """A restored quiz whose last answer's feedback is on screen shows that answer in its (disabled) widgets."""
    if not state["submitted"]:
        return
    res, q = state["results"][-1], bank.by_id()[state["ids"][state["pos"]]]
    key = answer_key(state, q)
    if q.kind == "multiple":
        st.session_state.update({f"{key}-{i}": i in res["selected"] for i in range(len(q.options))})
    elif q.kind == "single":
        st.session_state[key] = next(iter(res["selected"]), None)
    else:
        st.session_state[key] = res["selected"]
    if res["certainty"]:
        st.session_state[f"{key}-certainty"] = res["certainty"]


def answers_of(state: dict, bank: quiz.Bank) -> str | None:
    """The progress value of the page's quiz, or None before its first answer."""
    log = st.session_state.get(LOG, [])
    if not any(r["quiz"] == state["quiz"] for r in log):
        return None
    return progress.encode(state, log, bank.questions)
