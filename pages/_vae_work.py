"""Cached model work of the VAE explorer, keyed by model name (the same for every visitor), so a
slider move or a second visitor does not redo it. Imported by pages/vae_explorer.py only."""
import numpy as np
import streamlit as st
import torch

from genlib.data import demo_images
from genlib.vae import elbo_report, encode_means, grid_image, manifold_z, to_uint8
from pages._shared import load_model

ZOOM = 6  # decoded 28x28 images are drawn 168x168 with sharp pixels


@st.cache_data(show_spinner=False)
def demo_set(dataset):
    return demo_images(dataset)


@st.cache_data(show_spinner="Encoding the test images…")
def latent_codes(name, dataset):
    return encode_means(load_model(name), demo_set(dataset)[0])


@st.cache_data(show_spinner="Decoding the manifold…")
def manifold_image(name, box, n=20):
    model = load_model(name)
    if model.is_vae:
        z = manifold_z(n)  # equal prior mass per cell (Kingma & Welling, Fig. 4)
    else:  # the AE has no prior: a plain grid over the box its codes occupy
        (x_lo, x_hi), (y_lo, y_hi) = box
        z1, z2 = torch.meshgrid(torch.linspace(x_lo, x_hi, n), torch.linspace(y_hi, y_lo, n), indexing="xy")
        z = torch.stack([z1.reshape(-1), z2.reshape(-1)], 1)
    with torch.inference_mode():
        return grid_image(model.decode(z), n)


@st.cache_data(show_spinner=False)
def chosen_image(name, dataset, img):
    """Binarized image, reconstruction, and (VAE) the ELBO terms with a k=1000 log p(x): ~0.3 s, so cached
    rather than recomputed on every slider move."""
    model = load_model(name)
    x = torch.from_numpy(demo_set(dataset)[0][img]).float()[None, None] / 255
    x_bin = torch.bernoulli(x, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        mu, _ = model.encode(x_bin)
        out = {"x_bin": grid_image(x_bin, 1, 0), "recon": grid_image(model.decode(mu), 1, 0), "mu": mu[0].tolist()}
    if model.is_vae:
        out.update(elbo_report(model, x_bin))
    return out


@st.cache_data(show_spinner=False)
def prior_samples(name, seed, n=32):
    """n draws of z ~ N(0, I) decoded by `name`, as one grid image; cached so slider moves do not redo it."""
    model = load_model(name)
    z = torch.randn(n, model.z_dim, generator=torch.Generator().manual_seed(int(seed)))
    with torch.inference_mode():
        return grid_image(model.decode(z), 16)


def zoom(img, k=ZOOM):
    return np.kron(img, np.ones((k, k), dtype=np.uint8))  # sharp pixels


def decode_one(model, z1, z2):
    with torch.inference_mode():
        return zoom(to_uint8(model.decode(torch.tensor([[z1, z2]], dtype=torch.float32)))[0])
