"""Which one is real? Rounds of one real and one generated image; the student picks the real one and says how
sure they are, and the models' own judges play the same rounds.

Thin UI over genlib.real_or_fake: read the link, load whichever models exist, build the game once per
(seed, rounds, images, models) for the whole server, then play it. Not in a fragment: after a server restart
Streamlit discards a fragment's rerun request (the new session has no such fragment), so every answer clicked
there would be lost until something outside it ran the page; a whole-page run costs little here (all cached).
Answers live in this browser tab's link: nothing is stored on the server.
"""
from __future__ import annotations

import secrets

import numpy as np
import streamlit as st

import genlib
from genlib import data
from genlib import real_or_fake as rf
from pages._game_results import results
from pages._shared import (Param, _load_cached, first_link_value, literal, read_link, server_lock, shared_store,
                            show_notes, write_link)

MAX_ROUNDS = 50
IMAGE_SETS = {"both": "digits and faces", "digits": "digits", "faces": "faces"}
LINK = (Param("seed", int, None, 0, 2**31 - 1), Param("n", int, 10, 1, MAX_ROUNDS),
        Param("images", str, "both", choices=tuple(IMAGE_SETS)))
SCALE = {"digits": 7, "faces": 3}  # 28 px -> 196, 64 px -> 192: nearest-neighbour, so pixels stay crisp
WHERE = {"digits": "an MNIST test digit", "faces": "a UTKFace test photo"}


def read_url() -> None:
    """The link seeds the settings once per session; its notes stay until a setting changes."""
    if "rf_seed" in st.session_state:
        return
    values, notes = read_link(LINK, also_known=("progress",))
    progress, repeated = first_link_value("progress")
    seed = values["seed"] if values["seed"] is not None else secrets.randbelow(1_000_000)
    st.session_state.update(rf_seed=seed, rf_rounds=values["n"], rf_images=values["images"],
                            rf_notes=notes + repeated, rf_link_progress=progress)


def settings_ui() -> tuple[int, int, str]:
    def changed():
        st.session_state.rf_notes = []

    def new_seed():
        st.session_state.rf_seed = secrets.randbelow(1_000_000)
        changed()

    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    images = c1.segmented_control("Images", list(IMAGE_SETS), format_func=IMAGE_SETS.get, required=True,
                                  key="rf_images", on_change=changed)
    rounds = c2.number_input("Rounds", 1, MAX_ROUNDS, key="rf_rounds", on_change=changed)
    seed = c3.number_input("Seed (same seed, same rounds)", 0, 2**31 - 1, key="rf_seed", on_change=changed)
    c4.button("New game", icon="🎲", on_click=new_seed, help="A new seed: new rounds.")
    return int(seed), int(rounds), images


@st.cache_resource(show_spinner="Reading the UTKFace test faces…")
def test_faces() -> np.ndarray:
    return data.load_faces("test")["x"]  # the GAN trained on the train split: these faces are new to it


def available_models(names) -> tuple[dict, dict]:
    """({name: model} for those that load, {name: why not} for the others); one cached copy per server,
    shared with the other pages."""
    models, missing = {}, {}
    for name in dict.fromkeys(names):
        try:
            models[name] = _load_cached(name)
        except genlib.WeightsError as e:
            missing[name] = str(e)
    return models, missing


def playable_domains(images: str) -> list[str]:
    """The requested image domains that can be played here; says why faces are absent when they are."""
    domains = ["digits", "faces"] if images == "both" else [images]
    if "faces" in domains:
        try:
            _load_cached("gan-faces")
            test_faces()
        except (genlib.WeightsError, data.DataMissingError) as e:
            st.info(f"**Faces are absent, so this game plays digits.** Real faces come from UTKFace, which "
                    f"GenLab never ships (its photos of real people are licensed for non-commercial research "
                    f"only); a lab machine that has the data and the face GAN plays faces too. Here: {e}",
                    icon="🙂")
            domains = ["digits"]
    return domains


def prepared_game(seed: int, rounds: int, models: dict, pools: dict) -> rf.Game:
    """The game for these settings, built once for the whole server: a class on one link shares one build,
    and builds run one at a time, so a room full of new games queues instead of thrashing the cores."""
    key = (seed, rounds, tuple(pools), tuple((n, m.card.get("sha256")) for n, m in sorted(models.items())))
    store = shared_store("real-or-fake games", 32)  # a few hundred kB each
    game = store.get(key)
    if game is None:
        lock, waiting = server_lock("real-or-fake build"), st.empty()
        if lock.locked():
            waiting.info("Another player's game is being prepared on this server; yours is next…", icon="⏳")
        with lock:
            waiting.empty()
            game = store.get(key)  # the same link may have been built while we waited
            if game is None:
                bar = st.progress(0.0, text="Preparing the rounds…")
                game = rf.build_game(seed, rounds, models, pools, lambda f, text: bar.progress(min(f, 1.0), text))
                store.put(key, game)
                bar.empty()
    return game


def shown(image: np.ndarray) -> np.ndarray:
    k = SCALE["digits" if image.ndim == 2 else "faces"]
    return image.repeat(k, 0).repeat(k, 1)


def verdict(game: rf.Game, answers: list) -> None:
    """The last round in one short line: right or wrong, and which model made the fake."""
    i = len(answers) - 1
    r, (picked_left, certainty) = game.rounds[i], answers[i]
    fake_side = "right" if r.real_left else "left"
    right = rf.is_correct(r, picked_left)
    say = st.success if right else st.error
    say(f"**Round {r.number}: {'right' if right else 'wrong'}** ({rf.CERTAINTY[certainty]}). The {fake_side} one "
        f"was made by the **{rf.LABELS[r.opponent]}**.", icon="✅" if right else "❌")


def feedback(game: rf.Game, answers: list) -> None:
    """The last round's two images, where the real one came from, and how each judge did on it."""
    i = len(answers) - 1
    r = game.rounds[i]
    domain, label = rf.DOMAIN[r.opponent], rf.LABELS[r.opponent]
    left, right_img = game.left_right(i)
    st.caption(f"Round {r.number}: the {'left' if r.real_left else 'right'} one was real ({WHERE[domain]}).")
    cols = st.columns([1, 1, 4])
    cols[0].image(shown(left), caption="real" if r.real_left else label, width=110, output_format="PNG")
    cols[1].image(shown(right_img), caption=label if r.real_left else "real", width=110, output_format="PNG")
    for judge, verdicts in game.judged.items():
        if verdicts[i] is None:
            continue
        real_s, fake_s = game.scores[judge][i]
        unit = "log p(x) in nats" if domain == "digits" else "D(x), the chance it is real"
        cols[2].write(f"{'✅' if verdicts[i] else '❌'} **{judge}** was {'right' if verdicts[i] else 'wrong'}: "
                      f"real {real_s:.2f}, fake {fake_s:.2f} ({unit}); it picks the higher.")


def answer_key(left: bool, certainty: int, round_index: int) -> str:
    """An answer button's key: with the round in it, so a double click answers its own round once, never the
    next round unseen (that round's buttons have other keys)."""
    return f"rf_{'left' if left else 'right'}_{certainty}_{round_index}"


def clicked_answer(round_index: int) -> tuple[bool, int] | None:
    """The answer button of this round whose click started this run, read before anything is drawn, so the
    screen shows the verdict and the next round at once. Plain buttons, not on_click callbacks: a callback does not
    exist on a server that never drew the page (a restart, another replica), and the click would be lost."""
    for left in (True, False):
        for certainty in rf.CERTAINTY:
            if st.session_state.get(answer_key(left, certainty, round_index)):
                return left, certainty
    return None


def play_round(game: rf.Game, answers: list) -> None:
    i = len(answers)
    r = game.rounds[i]
    st.markdown(f"#### Round {r.number} of {len(game.rounds)}: which one is real?")  # one line on a phone
    st.progress(i / len(game.rounds))
    # wrap=False: the two images stay side by side on a phone (scaled down to fit), their answer buttons
    # under each, so a whole round fits the first screen
    for col, side, image in zip(st.columns(2, border=True, wrap=False), ("left", "right"), game.left_right(i)):
        with col:
            st.image(shown(image), output_format="PNG")
            st.caption(f"The {side} one is real, and I am:")
            for c, (level, name) in zip(st.columns(3, gap="xsmall"), rf.CERTAINTY.items()):
                if c.button(name, key=answer_key(side == "left", level, i), width="stretch"):
                    # a session that had not drawn these buttons before this click (clicked_answer could not
                    # see it): record it, and draw the page again from the answers
                    answers.append((side == "left", level))
                    st.rerun()


def answers_from_link(game: rf.Game, answers: list) -> None:
    """A session that starts from a link with `progress` (a restarted server, another replica, a reload)
    continues the game where it was; a value that does not fit gives a note and a fresh game."""
    value = st.session_state.pop("rf_link_progress", None)
    try:
        answers.extend(rf.decode_answers(value, game.rounds) if value and not answers else [])
    except rf.ProgressError as e:
        st.session_state.rf_notes = [*st.session_state.rf_notes, f"{literal('progress=' + value)} in the link: "
                                     f"its answers could not be restored ({e}); a fresh game."]
        show_notes(st.session_state.rf_notes[-1:])


def board(game: rf.Game, key: tuple, settings: dict) -> None:
    """The game itself; the link carries the answers so far."""
    answers = st.session_state.setdefault("rf_answers", {}).setdefault(key, [])
    answers_from_link(game, answers)
    if len(answers) < len(game.rounds) and (answer := clicked_answer(len(answers))):
        answers.append(answer)
    write_link(LINK, settings, {"progress": rf.encode_answers(game.rounds, answers)} if answers else None)
    playing = len(answers) < len(game.rounds)
    if answers:  # the last round's verdict takes the place of the instructions: the round stays on a phone's screen
        verdict(game, answers)
        if not playing:
            with st.container(border=True):
                feedback(game, answers)
    else:
        st.write("One image in each round is real, the other was made by a model trained here: pick the real one.")
    if playing:
        play_round(game, answers)
        if answers:  # the details below the next round, which stays on a phone's first screen
            with st.container(border=True):
                feedback(game, answers)
    else:
        results(game, answers)


st.title("Which one is real?")
read_url()
show_notes(st.session_state.rf_notes)
# The round comes first (on a phone, on the first screen); the settings below it are read first, to build it.
play_box = st.container()
with st.expander("⚙️ Game settings: images, rounds, seed, new game"):
    seed, rounds, images = settings_ui()
settings = {"seed": seed, "n": rounds, "images": images}
st.write("The models' own judges play the same rounds: can a model that writes p(x) down tell its samples from "
         "real data?")

domains = playable_domains(images)
models, missing = available_models([m.name for m in rf.OPPONENTS + rf.JUDGES if m.domain in domains])
pools = {"digits": data.demo_images("mnist")[0]} if "digits" in domains else {}
pools.update({"faces": test_faces()} if "faces" in domains else {})
opponents = [o for o in rf.OPPONENTS if o.name in models]
if missing:
    with st.expander(f"Without weights, so not in this game: {', '.join(rf.LABELS.get(n, n) for n in missing)}"):
        for name, why in missing.items():
            st.write(f"**{name}**: {why}")
if not opponents:
    write_link(LINK, settings)
    play_box.error("No model is installed to play against (see below); the game needs at least one.", icon="⚠️")
    st.stop()
st.caption("Playing against: " + ", ".join(o.label for o in opponents) + ". Digits are shown as the models "
           "see them: black or white pixels, the real ones binarized with one seeded coin flip per pixel.")
with play_box:
    board(prepared_game(seed, rounds, models, pools), (seed, rounds, tuple(pools), tuple(models)), settings)
