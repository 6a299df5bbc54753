"""A class of students as Locust users, each a Streamlit session over the browser's own protocol
(benchmarks/streamlit_client.py), no browser.

Every student opens the face sampler with a seed of their own and clicks "New face" every few seconds
(think time GENLAB_THINK_S, default 5 s, +-50 %). One student in four is a BusyStudent who, between faces,
also runs a PixelCNN completion, opens the VAE explorer or answers a quiz question with its certainty, each
in a second tab (the same cookies, so the same replica behind HAProxy).

    pip install locust
    locust -f benchmarks/locustfile.py --host http://127.0.0.1:8501 --headless \\
           --users 30 --spawn-rate 5 --run-time 3m --csv runs/load-30

Recorded (Locust's table and CSV, request type "streamlit"):
  "New face (server)"  click sent -> the new face's image delta received (load.py's "New face (server)")
  "New face"           ... + the image fetched from /media (load.py's "New face" also waits for drawing)
  "open <page>"        GET the page -> its first run finished; "quiz answer" = pick, certainty, Submit, Next
  "recover"            after a lost connection (a replica killed): until a fresh session drew the page again
  "sticky"             a failure when one user's requests reached two replicas (HAProxy's X-GenLab-Replica)
HTTP requests (the page, /_stcore/health, /_stcore/host-config, /media/[image]) appear under their paths.
At the end it prints this process's CPU per click and the users per replica.
"""
from __future__ import annotations

import itertools
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from streamlit_client import Click, StreamlitClient, answer_question  # noqa: E402

THINK_S = float(os.environ.get("GENLAB_THINK_S", "5"))
RECOVER_TIMEOUT_S = float(os.environ.get("GENLAB_RECOVER_TIMEOUT_S", "60"))
SEEDS = itertools.count(int(os.environ.get("GENLAB_FIRST_SEED", "100000")))  # a fresh face per user: no cache hit
CLICKS = Counter()            # clicks done, for the client's CPU per click
USERS_PER_REPLICA = Counter()  # replica name -> users whose face tab it served
FAILURES_BY_HOME = Counter()   # replica that first served a user (None without HAProxy) -> that user's failures


class Student(HttpUser):
    """Opens the face sampler and clicks "New face" every few seconds."""
    wait_time = between(0.5 * THINK_S, 1.5 * THINK_S)
    weight = 3

    def on_start(self):
        self.seed = next(SEEDS)
        self.face_tab, self.home = None, None
        self.open_face_tab()

    def on_stop(self):
        if self.face_tab is not None:
            seen = set(self.face_tab.replicas)
            USERS_PER_REPLICA.update(seen)
            if len(seen) > 1:
                self.record("sticky", 0, RuntimeError(f"one user reached replicas {sorted(seen)}"))
            self.face_tab.close()

    # -- reporting
    def record(self, name: str, ms: float, exception: Exception | None = None, length: int = 0) -> None:
        self.environment.events.request.fire(request_type="streamlit", name=name, response_time=ms,
                                             response_length=length, exception=exception, context={})
        if exception is not None:
            FAILURES_BY_HOME[self.home] += 1

    def timed(self, name: str, action):
        """Run action(); record its milliseconds (its return value if a number, else the wall time)."""
        t0 = time.perf_counter()
        try:
            value = action()
        except Exception as e:  # a timeout, a closed websocket, an error on the page: counted, the user goes on
            self.record(name, 1000 * (time.perf_counter() - t0), e)
            return None
        self.record(name, value if isinstance(value, float) else 1000 * (time.perf_counter() - t0))
        return value

    def tab(self, path: str) -> StreamlitClient:
        return StreamlitClient(f"{self.host}{path}", http=self.client)

    # -- the face sampler
    def open_face_tab(self) -> bool:
        self.face_tab = self.tab(f"/gan_sampler?seed={self.seed}")
        opened = self.timed("open gan_sampler", self.face_tab.open) is not None
        self.home = self.face_tab.replicas[0] if self.face_tab.replicas else None
        return opened

    @task(8)
    def new_face(self):
        if self.face_tab is None or self.face_tab.ws is None:
            return self.recover()
        t0 = time.perf_counter()
        try:
            click: Click = self.face_tab.click("New face")
        except Exception as e:
            self.record("New face", 1000 * (time.perf_counter() - t0), e)
            return self.recover()
        CLICKS["New face"] += 1
        self.record("New face (server)", click.server_ms)
        self.record("New face", click.total_ms, length=click.image_bytes)
        if self.face_tab.page.exceptions:
            self.record("error box", 0, RuntimeError(self.face_tab.page.exceptions.pop()))

    def recover(self):
        """As the browser after a lost connection: a new session until the page is drawn again."""
        t0 = time.perf_counter()
        if self.face_tab is not None:
            try:
                self.face_tab.close()
            except Exception:
                pass
        while time.perf_counter() - t0 < RECOVER_TIMEOUT_S:
            self.face_tab = self.tab(f"/gan_sampler?seed={self.seed}")
            try:
                self.face_tab.open()
                self.record("recover", 1000 * (time.perf_counter() - t0))
                return
            except Exception:
                self.face_tab.close()
                time.sleep(0.5)  # the browser retries too, with a back-off
        self.face_tab = None
        self.record("recover", 1000 * (time.perf_counter() - t0), TimeoutError("no working page again"))


class BusyStudent(Student):
    """A Student who also tries the other demos and the quiz."""
    weight = 1

    def one_tab(self, name: str, path: str, then=None):
        tab = self.tab(path)
        try:
            if self.timed(f"open {name}", tab.open) is not None and then is not None:
                self.timed(f"{name}: {then.__name__}", lambda: then(tab))
        finally:
            tab.close()

    @task(1)
    def pixelcnn(self):
        self.one_tab("pixelcnn_completion", f"/pixelcnn_completion?digit={self.seed % 1000}&n=8&seed={self.seed}")

    @task(1)
    def vae(self):
        self.one_tab("vae_explorer", f"/vae_explorer?seed={self.seed}")

    @task(1)
    def quiz(self):
        self.one_tab("reflect_quiz", f"/reflect_quiz?seed={self.seed}&scheme=cbm", then=answer_question)


@events.test_stop.add_listener
def client_cost(environment, **_):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    clicks = CLICKS["New face"]
    print(f"load client (pid {os.getpid()}): {cpu:.1f} CPU s in all, "
          f"{1000 * cpu / clicks if clicks else float('nan'):.1f} ms per New face click over {clicks} clicks; "
          f"users per replica: {dict(USERS_PER_REPLICA) or 'no X-GenLab-Replica header (no HAProxy)'}")
