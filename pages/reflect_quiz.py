"""Reflect quiz: graded self-assessment from the question files in quiz/questions (or $GENLAB_QUIZ_DIR).

Thin UI over `quiz`: the URL holds the quiz (topics, n, seed, scheme), so a link reproduces the same
questions in the same order, and the answers given so far (`progress`, quiz.progress), so a server restart or
another replica loses nothing: a session without a quiz of its own restores it from the link. session_state
holds the progress and, across quizzes, every answer of this browser session (for mastery per topic and the
CSV). Text from question files is rendered as Markdown
with $...$ maths (never as HTML); values from the link are shown literally.
"""
from __future__ import annotations

import random

import streamlit as st

import quiz
from pages._quiz_ui import (LOG, STATE, explain, files_ui, grading_help, mastery_ui, plain, review_ui, score_ui,
                            teachers_ui)
from pages._quiz_link import answer_key, answers_of, from_link
from pages._shared import Param, first_link_value, literal, read_link, show_notes, write_link
from quiz import session as qs

MAX_SEED = 999_999
DEFAULT_N = 10


# ------------------------------------------------------------------------------------------- data

@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_bank(folder: str, stamp: tuple) -> quiz.Bank:  # stamp: reload when a file changes
    return quiz.load_bank([folder])


def load_bank() -> quiz.Bank:
    folder = quiz.questions_dir()
    try:
        stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.iterdir()))
    except OSError:
        stamp = ()
    return _cached_bank(str(folder), stamp)


# ------------------------------------------------------------------------------------------- settings

def link_table(bank: quiz.Bank, topics: list[str], default_seed: int) -> list[Param]:
    """The link's parameters besides `topics` (a comma list of topic slugs, read by topics_from_link)."""
    pool = sum(1 for q in bank.questions if q.topic in topics)
    return [Param("n", int, min(DEFAULT_N, pool), 1, pool), Param("seed", int, default_seed, 0, MAX_SEED),
            Param("scheme", str, "partial", choices=qs.SCHEMES)]


def topics_from_link(bank: quiz.Bank) -> tuple[list[str], list[str]]:
    """The topics named by ?topics=gan,vae (all of them when absent), and a note for what was not taken."""
    slugs = {qs.topic_slug(t): t for t in bank.topics()}
    given, notes = first_link_value("topics")
    if given is None:
        return list(slugs.values()), []
    asked = [s.strip() for s in given.split(",") if s.strip()]
    known = [t for s, t in slugs.items() if s in asked]  # bank order, whatever the link's order
    if len(known) < len(asked) or not asked:
        notes.append(f"{literal('topics=' + given)} in the link names "
                     f"{'topics this quiz does not have' if asked else 'no topic'}; known: "
                     f"{plain(', '.join(slugs))}." + ("" if known else " Using all topics."))
    return known or list(slugs.values()), notes


def settings_from_url(bank: quiz.Bank) -> tuple[dict, list[str]]:
    """The quiz described by the link, with a note for each value not taken (which falls back to a default)."""
    topics, notes = topics_from_link(bank)
    default_seed = st.session_state.setdefault("rq_default_seed", random.randrange(MAX_SEED + 1))
    values, more = read_link(link_table(bank, topics, default_seed), also_known=("topics", "progress"))
    return {"topics": topics, **values}, notes + more + first_link_value("progress")[1]


def write_url(config: dict, bank: quiz.Bank, answers: str | None = None) -> None:
    """Put the quiz into the address bar (every parameter, so a shared link says it all), with the answers
    given so far as `progress` (none before the first answer)."""
    extra = {}
    if config["topics"] != bank.topics():
        extra["topics"] = ",".join(qs.topic_slug(t) for t in config["topics"])
    if answers:
        extra["progress"] = answers
    write_link(link_table(bank, config["topics"], config["seed"]), config, extra)


def new_quiz(config: dict, bank: quiz.Bank) -> dict:
    """A new quiz from the config; quizzes are numbered through the browser session (for mastery, CSV)."""
    st.session_state["rq_quizzes"] = number = st.session_state.get("rq_quizzes", 0) + 1
    return qs.start(config, bank.questions, quiz=number)


def settings_ui(bank: quiz.Bank, config: dict) -> None:
    """The setup form; submitting it starts a new quiz (and puts it in the URL)."""
    with st.expander("⚙️ Quiz settings: topics, number of questions, seed", expanded=False):
        with st.form("rq-settings"):
            topics = st.multiselect("Topics", bank.topics(), default=config["topics"], key="rq-topics")
            pool = sum(1 for q in bank.questions if q.topic in (topics or bank.topics()))
            n = st.number_input("Number of questions", 1, max(1, len(bank.questions)),
                                value=min(config["n"], len(bank.questions)), step=1, key="rq-n",
                                help=f"The chosen topics hold {pool} questions; asking for more gives all of them.")
            seed = st.number_input("Seed (same seed, same quiz)", 0, MAX_SEED, value=config["seed"], step=1,
                                   key="rq-seed")
            c1, c2 = st.columns(2)
            start = c1.form_submit_button("Start quiz", type="primary")
            reseed = c2.form_submit_button("🎲 Start with a new random seed")
        if start or reseed:
            chosen = topics or bank.topics()
            n_total = sum(1 for q in bank.questions if q.topic in chosen)
            cfg = {**config, "topics": [t for t in bank.topics() if t in chosen],
                   "n": int(min(n, n_total)), "seed": random.randrange(MAX_SEED + 1) if reseed else int(seed)}
            st.session_state[STATE] = new_quiz(cfg, bank)
            write_url(cfg, bank)
            st.rerun()


# ------------------------------------------------------------------------------------------- asking

def _selected(q: quiz.Question, key: str, order: list[int]):
    """The current answer from the widgets' state: option indices, or a number."""
    if q.kind == "numeric":
        return st.session_state.get(key)
    if q.kind == "single":
        value = st.session_state.get(key)
        return set() if value is None else {value}
    return {i for i in order if st.session_state.get(f"{key}-{i}")}


def _submit(q: quiz.Question, key: str, order: list[int]) -> None:
    state = st.session_state[STATE]
    certainty = st.session_state.get(f"{key}-certainty") if state["config"]["scheme"] == "cbm" else None
    res = qs.result(q, _selected(q, key, order), state["round"], certainty, state["quiz"])
    qs.record(state, st.session_state.setdefault(LOG, []), res)


def _label(q: quiz.Question, order: list[int], i: int) -> str:
    return f"**{quiz.letter(order.index(i))}.** {q.markdown(q.options[i])}"


def _certainty_label(c: int) -> str:
    return f"{quiz.CERTAINTIES[c]} ({quiz.cbm_mark(True, c):+d} / {quiz.cbm_mark(False, c):+d})"


def ask(q: quiz.Question, state: dict) -> None:
    seed, cbm = state["config"]["seed"], state["config"]["scheme"] == "cbm"
    order = qs.option_order(q, seed)
    key = answer_key(state, q)
    done = state["submitted"]
    prompt = q.markdown(q.prompt)
    st.markdown(prompt if "\n" in prompt else f"##### {prompt}")
    st.caption(f"Topic: {plain(q.topic)}")
    if q.kind == "single":
        st.radio("Pick one answer", order, index=None, key=key, disabled=done,
                 format_func=lambda i: _label(q, order, i))
    elif q.kind == "multiple":
        st.write("Select **all** that apply:")
        for i in order:
            st.checkbox(_label(q, order, i), key=f"{key}-{i}", disabled=done)
    else:
        st.number_input("Your answer (a number)", value=None, step=0.01, format="%.4g", key=key,
                        disabled=done, placeholder="type a number")
    if cbm:
        st.radio("How sure are you?", list(quiz.CERTAINTIES), index=None, horizontal=True, key=f"{key}-certainty",
                 disabled=done, format_func=_certainty_label, help=quiz.RULES["cbm"])
    if not done:
        answer = _selected(q, key, order)
        missing = (q.kind == "numeric" and answer is None) or (q.kind == "single" and not answer)
        unsure = cbm and st.session_state.get(f"{key}-certainty") is None
        # Submit and Next act inline, not in on_click callbacks: a click that reaches a new server (a restart,
        # another replica) has no callback there, but the button still returns True.
        if st.button("Submit", type="primary", key="rq-submit", disabled=missing or unsure,
                     help="Pick an answer and how sure you are first" if missing or unsure else None):
            _submit(q, key, order)
            st.rerun()
        return
    feedback(q, state["results"][-1], order, key, state["config"]["scheme"])
    last = state["pos"] + 1 >= len(state["ids"])
    if st.button("See my score" if last else "Next question →", type="primary", key="rq-next"):
        qs.advance(state)
        st.rerun()


def feedback(q: quiz.Question, res: dict, order: list[int], key: str, scheme: str) -> None:
    if res["correct"]:
        st.success("✅ **Right!**")
    elif res["partial"] > 0:
        st.warning(f"🟡 **Partly right.** All or nothing: 0. Partial credit: {res['partial']:.2f}.")
    else:
        st.error("❌ **Not right.**")
    if scheme == "partial" and q.kind != "numeric":
        st.caption(f"Counts as {res['partial']:.2f} with partial credit (the scheme you chose).")
    if scheme == "cbm":  # an answer given under another scheme has no certainty: it counts as "not sure"
        sure = quiz.CERTAINTIES[res["certainty"] or qs.UNSTATED_CERTAINTY]
        st.caption(f"You were {sure}{'' if res['certainty'] else ' (no certainty given)'}: "
                   f"{qs.marks(res, 'cbm'):+d} marks.")
    if q.kind == "numeric":
        st.markdown(f"**Answer:** {plain(qs.key_text(q))}; yours: {plain(res['your_answer'] or '(none)')}")
    else:
        right = ", ".join(_label(q, order, i) for i in order if i in q.correct)
        st.markdown(f"**Right answer{'s' if len(q.correct) > 1 else ''}:** {right}")
        chosen = _selected(q, key, order)
        notes = [f"- {_label(q, order, i)}: {q.markdown(q.feedback[i])}"
                 for i in order if q.feedback and i in chosen and q.feedback[i]]
        if notes:
            st.markdown("**On your choices:**\n" + "\n".join(notes))
    explain(q)


# ------------------------------------------------------------------------------------------- results

def results_ui(state: dict, bank: quiz.Bank) -> None:
    st.subheader("Your score")
    score_ui(state["results"], state["config"]["scheme"], state["round"])
    review_ui(state["results"], bank)
    mastery_ui(bank)
    missed = qs.missed_ids(state["results"])
    cols = iter(st.columns(3 if missed else 2))
    if missed:
        next(cols).button(f"🔁 Retry the {len(missed)} I missed", key="rq-retry", on_click=_retry, type="primary")
    next(cols).button("🎲 New quiz (new seed)", key="rq-new", on_click=_new_seed)
    scheme = state["config"]["scheme"]
    next(cols).download_button("⬇️ Download results (CSV)", qs.to_csv(st.session_state.get(LOG, []), scheme),
                               file_name=f"reflect-quiz-results-{scheme}.csv", mime="text/csv",
                               key="rq-csv", on_click="ignore")


def _retry() -> None:
    st.session_state[STATE] = qs.retry(st.session_state[STATE])


def _new_seed() -> None:
    st.session_state["rq_new_seed"] = True


# ------------------------------------------------------------------------------------------- page

def main() -> None:
    st.title("✅ Reflect quiz")
    st.caption("Check what you understood from the lecture: its eight Reflect questions and many more, "
               "each with an explanation. Your quiz is in the link: share it and others get the same "
               "questions in the same order.")
    bank = load_bank()
    files_ui(bank)
    if not bank.questions:
        st.error(f"No questions could be loaded from {plain(quiz.questions_dir())}. Add a question file "
                 "(see quiz/README.md) or fix the errors above.")
        return

    config, notes = settings_from_url(bank)
    show_notes(notes)
    if st.session_state.pop("rq_new_seed", False):
        config["seed"] = random.randrange(MAX_SEED + 1)
        st.session_state[STATE] = new_quiz(config, bank)
    state = st.session_state.get(STATE)
    url_quiz = {k: config[k] for k in ("topics", "n", "seed")}
    if state is None or {k: state["config"][k] for k in url_quiz} != url_quiz \
            or any(i not in bank.by_id() for i in state["ids"]):
        # a new link, changed files, or a session that starts from a link: a restart, another replica, a reload
        state, more = from_link(new_quiz(config, bank), config, bank)
        st.session_state[STATE] = state
        show_notes(more)
    # The question comes first (on a phone, on the first screen); grading and settings below it are read first.
    question_box = st.container()
    scheme = st.radio("Grading", qs.SCHEMES, index=qs.SCHEMES.index(config["scheme"]), horizontal=True,
                      key="rq-scheme", format_func=qs.SCHEME_NAMES.get,
                      help="\n\n".join(f"{qs.SCHEME_NAMES[s]}: {quiz.RULES[s]}" for s in qs.SCHEMES))
    state["config"]["scheme"] = config["scheme"] = scheme
    write_url(state["config"], bank, answers_of(state, bank))
    grading_help()
    settings_ui(bank, state["config"])
    cfg = state["config"]
    st.caption(f"Seed **{cfg['seed']}** · {len(state['ids'])} questions · "
               f"{'all topics' if cfg['topics'] == bank.topics() else plain(', '.join(cfg['topics']))}"
               " · share this quiz with the link in your address bar")
    teachers_ui(bank)

    total = len(state["ids"])
    answered = len(state["results"])
    with question_box:
        st.progress(answered / total if total else 1.0, text=f"{answered} of {total} answered")
        if state["pos"] < total:
            ask(bank.by_id()[state["ids"][state["pos"]]], state)
        else:
            results_ui(state, bank)


main()
