"""GenLab: router and shared frame. Imports no torch, so the home page appears fast;
each page loads its own model (cached) only when it is shown."""
import streamlit as st

from pages._catalog import existing_demos

st.set_page_config(page_title="GenLab", page_icon="🧪", layout="wide")

home = st.Page("pages/home.py", title="Home", icon="🏠", default=True)
demos = [st.Page(d["path"], title=d["title"], icon=d["icon"]) for d in existing_demos()]
page = st.navigation({"GenLab": [home], "Demos": demos})

with st.sidebar:
    st.caption("GenLab: a hands-on lab for the lecture on generative models "
               "(PixelCNN, VAE, GAN). Everything runs on CPU in your browser session.")

page.run()
