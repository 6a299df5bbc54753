"""pages/_busy.py: heavy work runs one at a time, first come first served; a waiting visitor sees their
place; one who gives up waiting does not block the line; and a page shows the note while it waits."""
import threading

from streamlit.testing.v1 import AppTest

from pages._busy import WorkLine, line, one_at_a_time, waiting_text

WAIT_S = 30  # a generous bound for thread hand-overs on a busy machine; never slept, only waited on


def test_jobs_run_one_at_a_time_in_arrival_order():
    work_line = WorkLine()
    order, release, running = [], threading.Event(), threading.Semaphore(0)

    def job(name):
        ticket = work_line.join()
        try:
            while work_line.wait_turn(ticket, 0.05) > 0:
                pass
            order.append(name)
            running.release()
            release.wait(WAIT_S)
        finally:
            work_line.leave(ticket)

    first = threading.Thread(target=job, args=("first",))
    first.start()
    assert running.acquire(timeout=WAIT_S)  # first is running
    others = []
    for name in ("second", "third"):
        others.append(threading.Thread(target=job, args=(name,)))
        others[-1].start()
        with work_line._changed:  # wait until it has joined the line behind the ones before it
            assert work_line._changed.wait_for(lambda: len(work_line._tickets) == len(others) + 1, WAIT_S)
    assert order == ["first"], "a job started while another one was running"
    release.set()
    for t in [first, *others]:
        t.join(WAIT_S)
    assert order == ["first", "second", "third"]
    assert len(work_line) == 0


def test_a_visitor_who_leaves_the_line_does_not_block_it():
    work_line = WorkLine()
    running, quitter, last = work_line.join(), work_line.join(), work_line.join()
    assert work_line.wait_turn(last, 0) == 2
    work_line.leave(quitter)  # e.g. the visitor clicked again: Streamlit stopped the waiting run
    assert work_line.wait_turn(last, 0) == 1
    work_line.leave(running)
    assert work_line.wait_turn(last, WAIT_S) == 0


def test_waiting_text_says_who_is_next():
    assert waiting_text("PixelCNN completion", 1, 3.2) == \
        "Busy: another visitor's PixelCNN completion is running; yours starts next (waiting 3 s)."
    assert "1 more is ahead of yours" in waiting_text("x", 2, 0)
    assert "2 more are ahead of yours" in waiting_text("x", 3, 0)


def _page_that_queues():
    import streamlit as st

    from pages._busy import one_at_a_time

    with one_at_a_time("test page job", "test job"):
        st.write("done")


def test_a_page_shows_its_place_while_waiting_and_runs_when_its_turn_comes(monkeypatch):
    from pages import _busy

    notes, noted = [], threading.Event()

    def recording_text(what, ahead, waited_s):
        notes.append(ahead)
        noted.set()
        return waiting_text(what, ahead, waited_s)

    monkeypatch.setattr(_busy, "waiting_text", recording_text)
    holder = line("test page job").join()  # another session's job is running
    at = AppTest.from_function(_page_that_queues, default_timeout=WAIT_S)
    page = threading.Thread(target=at.run)
    page.start()
    try:
        assert noted.wait(WAIT_S), "the waiting page showed no note"
    finally:
        line("test page job").leave(holder)
    page.join(WAIT_S)
    assert notes and set(notes) == {1}  # "yours starts next"
    assert [m.value for m in at.markdown] == ["done"]
    assert not at.exception


def test_one_at_a_time_runs_the_block_at_once_when_no_one_waits():
    ran = []
    with one_at_a_time("nobody else", "job"):
        ran.append(True)
    assert ran and len(line("nobody else")) == 0
