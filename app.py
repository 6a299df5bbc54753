"""GenLab: router and shared frame. Imports no torch, so the home page appears fast;
each page loads its own model (cached) only when it is shown."""
import streamlit as st

from pages._catalog import existing_demos

st.set_page_config(page_title="GenLab", page_icon="🧪", layout="wide")

home = st.Page("pages/home.py", title="Home", icon="🏠", default=True)
demos = [st.Page(d["path"], title=d["title"], icon=d["icon"]) for d in existing_demos()]
# Our own menu (below) instead of Streamlit's: with a folder named pages/, Streamlit's menu briefly
# lists every file in it on a deep link to a fresh server (see showSidebarNavigation in config.toml).
page = st.navigation([home, *demos], position="hidden")

with st.sidebar:
    st.markdown("### 🧪 GenLab")
    for p in [home, *demos]:
        st.page_link(p)
    st.divider()
    st.caption("A hands-on lab for the lecture on generative models (PixelCNN, VAE, GAN). "
               "Every model was trained by this project on CPU.")

page.run()
