"""Home: the lecture's map of generative models and one card per demo."""
import streamlit as st

from pages._catalog import existing_demos

TAXONOMY = """
digraph {
  rankdir=TB; bgcolor="transparent";
  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=12, fillcolor="#f3f4f6", color="#9ca3af"];
  edge [color="#6b7280"];
  ml [label="Machine learning"];
  sup [label="Supervised\\n(x, y): learn x -> y\\nclassification, regression, ..."];
  unsup [label="Unsupervised\\nx only: learn hidden structure\\nclustering, density estimation, ..."];
  gen [label="Generative models\\nlearn p_model(x) ~ p_data(x)", fillcolor="#e0e7ff"];
  explicit [label="Explicit density\\ndefine and solve for p_model(x)"];
  implicit [label="Implicit density\\nonly learn to sample from p_model(x)"];
  tractable [label="Tractable density\\nPixelRNN / PixelCNN", fillcolor="#dcfce7"];
  flow [label="Tractable density, invertible\\nFlow (reversible: RealNVP, Glow)", fillcolor="#cffafe"];
  approx [label="Approximate density\\nVariational autoencoder (VAE)", fillcolor="#fef9c3"];
  direct [label="Direct sampling\\nGenerative adversarial network (GAN)", fillcolor="#fee2e2"];
  ml -> sup; ml -> unsup; unsup -> gen;
  gen -> explicit; gen -> implicit;
  explicit -> tractable; explicit -> flow; explicit -> approx; implicit -> direct;
}
"""

st.title("GenLab: a hands-on lab for generative models")
st.write("Use the four model families of the lecture (PixelCNN, flow, VAE and GAN) on real data, "
         "then check yourself with the Reflect quiz. Every model here was trained by this project on CPU.")

left, right = st.columns([3, 2])
with left:
    st.subheader("The map of generative models")
    st.graphviz_chart(TAXONOMY, width="stretch")
with right:
    st.subheader("How to read it")
    st.markdown(
        "- **Supervised** learning maps data *x* to labels *y*; **unsupervised** learning only has *x*.\n"
        "- A **generative model** learns a distribution $p_{model}(x)$ close to $p_{data}(x)$, "
        "so it can make new samples.\n"
        "- **Explicit density**: the model writes $p(x)$ down. PixelCNN computes it exactly with the chain rule, "
        "$p(x) = \\prod_i p(x_i \\mid x_1, \\dots, x_{i-1})$; a flow computes it exactly too, through an "
        "invertible map $z = f(x)$ and the change of variables $p(x) = p(z)\\,|\\det \\partial f / \\partial x|$; "
        "a VAE optimises a lower bound of an intractable "
        "$p_\\theta(x) = \\int p_\\theta(z)\\, p_\\theta(x \\mid z)\\, dz$.\n"
        "- **Implicit density**: a GAN never writes $p(x)$; a generator learns to fool a discriminator.")

st.subheader("Demos")
demos = existing_demos()
for row_start in range(0, len(demos), 3):
    cols = st.columns(3)
    for col, demo in zip(cols, demos[row_start:row_start + 3]):
        with col.container(border=True):
            st.markdown(f"#### {demo['icon']} {demo['title']}")
            st.caption(demo["density"])
            st.write(demo["blurb"])
            st.page_link(demo["path"], label=f"Open {demo['title']}", icon="➡️")
