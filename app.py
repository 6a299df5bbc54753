"""GenLab: router and shared frame. Imports no torch, so the home page appears fast;
each page loads its own model (cached) only when it is shown."""
import os
import sys
from datetime import timedelta

# Thread policy (issue 15): every visitor's session is a thread of this one server process, so torch's
# default of one compute thread per core makes concurrent sessions (and a training next door) fight for
# the cores: one face took 192 ms instead of 2.4 ms that way. One torch thread per session is the
# policy; GENLAB_TORCH_THREADS=N picks N (0: torch's default). OpenMP and MKL read these variables when
# torch is first imported, which no page has done before the shell's first run; from then on every
# thread, including the script thread Streamlit starts for each run, begins with that count.
# An explicit OMP_NUM_THREADS / MKL_NUM_THREADS in the server's environment wins.
TORCH_THREADS = os.environ.get("GENLAB_TORCH_THREADS", "1")
if TORCH_THREADS != "0":
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, TORCH_THREADS)
    # A deep link to a fresh server runs its page once before this shell (see pages/_shared.py), and
    # that page may have imported torch already: then set the count through torch itself (no import here).
    loaded_torch, wanted = sys.modules.get("torch"), os.environ["OMP_NUM_THREADS"]
    if loaded_torch and wanted.isdigit() and loaded_torch.get_num_threads() != int(wanted):
        loaded_torch.set_num_threads(int(wanted))

import streamlit as st  # noqa: E402

from pages._catalog import existing_demos  # noqa: E402
from pages._network import send_small_messages_at_once  # noqa: E402

send_small_messages_at_once()

# An emoji favicon: the browser draws it from a data: URL (a Material icon would be fetched from Google).
st.set_page_config(page_title="GenLab", page_icon="🧪", layout="wide")

# Touch screens: Streamlit's own radio rows, checkboxes, segmented controls, page links and +/- steppers are
# 22-38 px high; a finger needs about 40 (tests/browser/test_phone.py measures them). A constant style sheet
# (nothing from data or links); st.html with only <style> takes no space on the page.
TOUCH_CSS = """<style>
@media (pointer: coarse), (max-width: 640px) {
  [data-testid="stRadio"] label[data-baseweb="radio"], [data-testid="stCheckbox"] label,
  [data-testid="stPageLink-NavLink"], [data-testid="stButtonGroup"] button { min-height: 40px; align-items: center; }
  [data-testid="stNumberInputStepDown"], [data-testid="stNumberInputStepUp"] { min-height: 40px; }
}
</style>"""
st.html(TOUCH_CSS)

home = st.Page("pages/home.py", title="Home", icon="🏠", default=True)
demos = [st.Page(d["path"], title=d["title"], icon=d["icon"]) for d in existing_demos()]
# Our own menu (below) instead of Streamlit's: with a folder named pages/, Streamlit's menu briefly
# lists every file in it on a deep link to a fresh server (see showSidebarNavigation in config.toml).
page = st.navigation([home, *demos], position="hidden")


# After a server restart the open page reconnects to a new session that never ran it, so the session knows
# none of the page's fragments and silently drops a click in one ("New face" did nothing, click after click,
# until a reload). Streamlit's page reruns itself on reconnecting only if its last run was a fragment run or a
# fragment reruns on a timer (handleConnectionStateChanged in Streamlit's frontend): this timer fragment, which
# draws nothing and runs once an hour, makes every reconnection a full run. tests/browser/test_restart.py.
@st.fragment(run_every=timedelta(hours=1))
def rerun_the_page_after_a_reconnection():
    pass


def menu():
    with st.sidebar:
        st.markdown("### 🧪 GenLab")
        for p in [home, *demos]:
            st.page_link(p)
        st.divider()
        st.caption("A hands-on lab for the lecture on generative models (PixelCNN, flow, VAE, GAN). "
                   "Every model was trained by this project on CPU.")
        rerun_the_page_after_a_reconnection()


# The home page is what a cold start waits for: its title goes out before the menu's dozen elements
# (benchmarks/cold_start.py, idle, painted frame, 5 runs each: 1.32x the one-line app with the menu first,
# 0.96x with the title first). A demo page draws the menu first, so that a student can leave a page that
# is still computing.
if page is home:
    page.run()
    menu()
else:
    menu()
    page.run()
