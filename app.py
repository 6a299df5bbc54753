"""GenLab: router and shared frame. Imports no torch, so the home page appears fast;
each page loads its own model (cached) only when it is shown."""
import os
import sys

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

from pages._catalog import existing_demos

# No emoji before the home title that a cold start waits for: the first emoji makes Streamlit compile its
# whole emoji table (0.04-0.35 s here), so the favicon is a Material icon and the pages get their emoji
# icons only in the menu, which the home page draws after its title.
st.set_page_config(page_title="GenLab", page_icon=":material/science:", layout="wide")

home = st.Page("pages/home.py", title="Home", default=True)
entries = [(home, "🏠")] + [(st.Page(d["path"], title=d["title"]), d["icon"]) for d in existing_demos()]
# Our own menu (below) instead of Streamlit's: with a folder named pages/, Streamlit's menu briefly
# lists every file in it on a deep link to a fresh server (see showSidebarNavigation in config.toml).
page = st.navigation([p for p, _ in entries], position="hidden")


def menu():
    with st.sidebar:
        st.markdown("### 🧪 GenLab")
        for p, icon in entries:
            st.page_link(p, icon=icon)
        st.divider()
        st.caption("A hands-on lab for the lecture on generative models (PixelCNN, VAE, GAN). "
                   "Every model was trained by this project on CPU.")


# The home page is what a cold start waits for: its title goes out before the menu's dozen elements
# (0.5-0.7 s sooner in a real browser, benchmarks/cold_start.py). A demo page draws the menu first, so that
# a student can leave a page that is still computing.
if page is home:
    page.run()
    menu()
else:
    menu()
    page.run()
