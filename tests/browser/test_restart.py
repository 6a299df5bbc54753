"""No student loses work when a server goes away: in chromium, a student answers 5 quiz questions with their
certainty; then the server is restarted (one server), or the replica serving them is killed (two replicas
behind HAProxy). The open page reconnects by itself, without a reload, and shows the same 5 answers and marks:
they live in the page's link (`progress`), not in the server's memory. A game answer clicked just after a restart
counts, and so does a click in a fragment (New face)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import quiz
from quiz import session
from tests.appserver import APP_IDLE, ROOT, free_port, screenshot, start_server, stop_server, wait_for_app, wait_healthy

N, ANSWERED = 8, 5
RECONNECT_MS = 90_000  # the browser retries with a back-off; a fresh server imports torch first
REPLICAS = ROOT / "deploy" / "replicas.sh"


def single_choice_seed() -> tuple[int, list[quiz.Question]]:
    """The first seed whose 8-question quiz starts with 5 one-answer questions (deterministic)."""
    bank = quiz.load_bank()
    for seed in range(1, 5000):
        asked = session.pick(bank.questions, bank.topics(), N, seed)
        if all(q.kind == "single" for q in asked[:ANSWERED]):
            return seed, asked
    raise AssertionError("no such quiz")


SEED, ASKED = single_choice_seed()
LINK = f"reflect_quiz?seed={SEED}&n={N}&scheme=cbm"


def answer_five(page: Page) -> list[str]:
    """Answer the first 5 questions (the first option shown, 'fairly sure'); the marks each got."""
    marks = []
    for i, q in enumerate(ASKED[:ANSWERED]):
        page.locator(f".st-key-rq-1-1-{q.id} [role=radiogroup] label").first.click()
        page.locator(f".st-key-rq-1-1-{q.id}-certainty [role=radiogroup] label").nth(1).click()
        page.get_by_role("button", name="Submit", exact=True).click()
        expect(page.locator('[data-testid="stProgress"]')).to_contain_text(f"{i + 1} of {N} answered")
        marks.append(page.get_by_text(re.compile(r"^You were fairly sure: [+-]2 marks\.$")).inner_text())
        if i < ANSWERED - 1:
            page.get_by_role("button", name="Next question →").click()
    return marks


def wait_until(page: Page, done, failure: str) -> None:
    """Poll done() every 100 ms (the page's events run meanwhile) until it is true; failure after RECONNECT_MS."""
    deadline = time.monotonic() + RECONNECT_MS / 1000
    while not done():
        assert time.monotonic() < deadline, failure
        page.wait_for_timeout(100)


def wait_settled(page: Page, quiet_ms: int = 1500) -> None:
    """Until the page has been connected and idle for quiet_ms in a row: between the two runs of a fresh
    server's first run the page looks idle for a moment, and a fragment clicked then is not known yet."""
    quiet_since = time.monotonic()

    def quiet_long_enough() -> bool:
        nonlocal quiet_since
        if not page.evaluate(APP_IDLE):
            quiet_since = time.monotonic()
        return time.monotonic() - quiet_since >= quiet_ms / 1000

    wait_until(page, quiet_long_enough, "the page did not settle")


@contextmanager
def reconnection(page: Page):
    """Around what takes the page's server away (and brings one back): until the page has opened a new
    websocket by itself and the full run it then asks for (app.py's timer fragment makes it ask) has ended.
    That run, in a new session, reads the link."""
    sockets = []

    def opened(socket):
        sockets.append(socket)

    page.on("websocket", opened)
    yield
    wait_until(page, lambda: sockets, "the page did not reconnect")
    page.remove_listener("websocket", opened)
    wait_settled(page)  # connected again, and the reconnection's run over


def expect_the_same_quiz(page: Page, link: str) -> None:
    """After the reconnection: the page as it was; Next, on the new server, goes on from the 5 answers."""
    assert page.url == link
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text(f"{ANSWERED} of {N} answered")
    page.get_by_role("button", name="Next question →").click()
    expect(page.get_by_text(f"Topic: {ASKED[ANSWERED].topic}", exact=True)).to_be_visible()
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text(f"{ANSWERED} of {N} answered")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # the new server re-encoded the same 5 answers (certainty included), now asking the 6th
    expect(page).to_have_url(link.replace(".f.", ".a."))


def test_answers_survive_a_server_restart(page: Page):
    port = free_port()
    server = start_server(port=port)
    try:
        wait_healthy(server)
        page.goto(f"{server.url}/{LINK}")
        wait_for_app(page)
        answer_five(page)
        link = page.url
        assert "progress=1." in link
        with reconnection(page):  # no page.reload(): the page reconnects by itself
            stop_server(server)
            server = start_server(port=port)  # a restart: nothing of the old process is left
            wait_healthy(server)
        expect_the_same_quiz(page, link)
        screenshot(page, "restart_quiz_restored")
    finally:
        stop_server(server)


def test_a_game_answer_clicked_after_a_restart_counts(page: Page):
    """The first click after a restart runs in a new session, which never drew the answer buttons: it still
    answers the round (plain buttons; an on_click callback would not exist there and the click would be lost)."""
    port = free_port()
    server = start_server(port=port)
    try:
        wait_healthy(server)
        page.goto(f"{server.url}/real_or_fake?seed=11&n=3&images=digits")
        expect(page.get_by_text("Round 1 of 3: which one is real?")).to_be_visible(timeout=RECONNECT_MS)
        page.locator('[class*="st-key-rf_left_3_"] button').click()
        expect(page.get_by_text("Round 2 of 3: which one is real?")).to_be_visible()
        with reconnection(page):
            stop_server(server)
            server = start_server(port=port)
            wait_healthy(server)
        page.locator('[class*="st-key-rf_right_1_"] button').click()
        expect(page.get_by_text(re.compile(r"^Round 2: (right|wrong)"))).to_be_visible(timeout=RECONNECT_MS)
        expect(page.get_by_text("Round 3 of 3: which one is real?")).to_be_visible()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        screenshot(page, "restart_game_answer_counts")
    finally:
        stop_server(server)


def test_new_face_works_right_after_a_restart(page: Page):
    """The face sampler's button lives in a fragment with an on_click callback, both unknown to a new server's
    session: the first click after a restart must still draw a new face (and keep the link in step)."""
    port = free_port()
    server = start_server(port=port)
    face = page.locator('[data-testid="stMain"] [data-testid="stImage"] img').first
    try:
        wait_healthy(server)
        page.goto(f"{server.url}/gan_sampler?seed=7")
        expect(face).to_be_visible(timeout=RECONNECT_MS)
        with reconnection(page):
            stop_server(server)
            server = start_server(port=port)
            wait_healthy(server)
        before, link = face.get_attribute("src"), page.url
        page.get_by_role("button", name="New face").click()
        expect(face).not_to_have_attribute("src", before, timeout=RECONNECT_MS)
        expect(page).not_to_have_url(link)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    finally:
        stop_server(server)


def replicas(run_dir: Path, *args: str) -> str:
    env = {**os.environ, "GENLAB_RUN_DIR": str(run_dir), "PYTHON": sys.executable}
    return subprocess.run(["bash", str(REPLICAS), *args], env=env, check=True, capture_output=True, text=True,
                          timeout=300).stdout


@pytest.fixture
def two_replicas(tmp_path):
    if shutil.which("haproxy") is None:
        if os.environ.get("GENLAB_REQUIRE_BROWSER") == "1":  # CI installs it: never skip there
            pytest.fail("haproxy is not installed (apt-get install -y haproxy)", pytrace=False)
        pytest.skip("haproxy is not installed (apt-get install -y haproxy)")
    replicas(tmp_path, "start", "2")
    try:
        yield tmp_path
    finally:
        replicas(tmp_path, "stop")


def test_a_killed_replica_loses_no_answers(page: Page, two_replicas):
    page.goto(f"http://127.0.0.1:8501/{LINK}")
    wait_for_app(page, timeout=RECONNECT_MS)
    answer_five(page)
    link = page.url
    mine = {c["name"]: c["value"] for c in page.context.cookies()}["GENLAB_REPLICA"]
    killed = time.monotonic()
    with reconnection(page):
        print(replicas(two_replicas, "kill", mine.removeprefix("r")))
    print(f"the page was connected to the other replica {time.monotonic() - killed:.1f} s after the kill")
    expect_the_same_quiz(page, link)
    now = {c["name"]: c["value"] for c in page.context.cookies()}["GENLAB_REPLICA"]
    assert now != mine, "the page came back on the killed replica?"
    screenshot(page, "replica_killed_quiz_restored")
