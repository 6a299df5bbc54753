"""Convolutional VAE with a Bernoulli decoder, and a plain autoencoder of the same shape.

Images are [n,1,28,28] floats in [0,1]; likelihoods are in nats. The lecture's model:
    p(x) = ∫ p(z) p(x|z) dz,   p(z) = N(0, I),   p(x|z) = Bernoulli(decoder(z)),   q(z|x) = N(mu, diag(exp(logvar)))
    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))                  <= log p(x)
    log p(x) ≈ log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q     (importance-weighted; -> log p(x) as k grows)

`build(config)` is what genlib.load calls; config keys (all optional):
    kind   "vae" (default) or "ae"
    z_dim  latent size (2 for the explorer models, 32 for the quality model)
    enc_ch encoder channels at 14x14 (doubled at 7x7)
    dec_ch half the decoder's channels at 7x7; the decoder runs k=1000 times per test image when
           log p(x) is estimated, so its cost per image is what the design minimises
    hidden width of the fully connected layer between the 7x7 features and z
    dec_stages  1: one sub-pixel step 7x7 -> 28x28; 2: 7x7 -> 14x14 -> 28x28 with a 3x3 conv at 14x14
           (twice the decoder's cost; it models strokes at finer scale, issue 6 notes)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genlib import discretized
from genlib.images import tile

# Images decoded at once by log_prob: ~22 MB of decoder activations for vae-mnist-32 (3,200 at once took
# 173 MB, the largest single step of the hosted server's peak, issue 15), and no slower on one thread.
DECODES_PER_CHUNK = 128

DEFAULT_CONFIG = {"kind": "vae", "z_dim": 2, "enc_ch": 16, "dec_ch": 16, "hidden": 256, "dec_stages": 1,
                  "likelihood": "bernoulli"}
# p(x|z) per pixel: "bernoulli" on binary images, or "logistic" (discretized logistic, genlib/discretized.py) on
# 8-bit grey levels 0..255, where the decoder gives each pixel a mean and a log-scale.
OUTPUTS = {"bernoulli": 1, "logistic": 2}
LOG_2PI = math.log(2 * math.pi)


class Encoder(nn.Module):
    def __init__(self, ch: int, hidden: int, out: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, ch, 4, 2, 1), nn.SiLU(),           # [n, ch, 14, 14]
            nn.Conv2d(ch, 2 * ch, 4, 2, 1), nn.SiLU(),      # [n, 2ch, 7, 7]
            nn.Flatten(),                                   # [n, 2ch*49]
            nn.Linear(2 * ch * 49, hidden), nn.SiLU(),      # [n, hidden]
            nn.Linear(hidden, out),                         # [n, out]: (mu, logvar) or z
        )

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """z -> 7x7 feature map -> 3x3 convs -> sub-pixel upsampling (PixelShuffle) to 28x28 logits.

    Why sub-pixel and not ConvTranspose2d: on this CPU a transposed conv ran ~5x fewer multiply-adds
    per second than a plain conv, and estimating log p(x) decodes 10,000 x 1,000 latents.
    """

    def __init__(self, ch: int, hidden: int, z_dim: int, stages: int = 1, outputs: int = 1):
        super().__init__()
        self.ch = ch
        self.fc = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.SiLU(),            # [n, hidden]
            nn.Linear(hidden, 2 * ch * 49), nn.SiLU(),      # [n, 2ch*49] -> [n, 2ch, 7, 7]
        )
        if stages == 1:
            self.conv = nn.Sequential(
                nn.Conv2d(2 * ch, 2 * ch, 3, 1, 1), nn.SiLU(),  # [n, 2ch, 7, 7]
                nn.Conv2d(2 * ch, 16 * outputs, 3, 1, 1),       # [n, 16 o, 7, 7]: one 4x4 block of pixels per cell
                nn.PixelShuffle(4),                             # [n, o, 28, 28]: logits (o = 1) or mean, log-scale
            )
        else:
            self.conv = nn.Sequential(
                nn.Conv2d(2 * ch, 2 * ch, 3, 1, 1), nn.SiLU(),  # [n, 2ch, 7, 7]
                nn.Conv2d(2 * ch, 4 * ch, 3, 1, 1),             # [n, 4ch, 7, 7]
                nn.PixelShuffle(2), nn.SiLU(),                  # [n, ch, 14, 14]
                nn.Conv2d(ch, ch, 3, 1, 1), nn.SiLU(),          # [n, ch, 14, 14]
                nn.Conv2d(ch, 4 * outputs, 3, 1, 1),            # [n, 4 o, 14, 14]: one 2x2 block per cell
                nn.PixelShuffle(2),                             # [n, o, 28, 28]: logits (o = 1) or mean, log-scale
            )

    def forward(self, z):
        return self.conv(self.fc(z).view(-1, 2 * self.ch, 7, 7))


def bernoulli_log_lik(logits, x):
    """log p(x|z) summed over pixels: [n,1,28,28] logits and binary x -> [n]."""
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def logistic_params(out):
    """The decoder's two maps [n,2,28,28] -> (mean, log-scale) [n,1,28,28] in grey-level units 0..255."""
    mean = 127.5 + 127.5 * out[:, :1]
    return mean, (out[:, 1:] + 2.0).clamp(min=-5.0)  # scale >= e^-5 grey levels; starts near e^2


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) in closed form, summed over z: [n]; never negative."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


class VAE(nn.Module):
    is_vae = True

    def __init__(self, z_dim=2, enc_ch=16, dec_ch=16, hidden=256, dec_stages=1, likelihood="bernoulli"):
        super().__init__()
        self.z_dim, self.likelihood = z_dim, likelihood
        self.encoder = Encoder(enc_ch, hidden, 2 * z_dim)
        self.decoder = Decoder(dec_ch, hidden, z_dim, dec_stages, OUTPUTS[likelihood])

    def encode(self, x):
        """[n,1,28,28] -> (mu, logvar), each [n, z_dim]. x: binary images, or grey levels 0..255 for "logistic"."""
        if self.likelihood == "logistic":
            x = x / 255
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)  # clamp: keeps exp(logvar) finite early in training

    def decode_logits(self, z):
        return self.decoder(z)

    def decode(self, z):
        """[n, z_dim] -> [n,1,28,28] in [0,1]: Bernoulli means (pixel probabilities), or the logistics' means / 255."""
        out = self.decoder(z)
        if self.likelihood == "logistic":
            return (logistic_params(out)[0] / 255).clamp(0, 1)
        return torch.sigmoid(out)

    def log_lik(self, out, x):
        """log p(x|z) summed over pixels, [n], from the decoder's output for z."""
        if self.likelihood == "logistic":
            mean, log_scale = logistic_params(out)
            return discretized.log_prob(x, mean, log_scale).flatten(1).sum(1)
        return bernoulli_log_lik(out, x)

    def elbo_terms(self, x_bin, generator=None):
        """(reconstruction E_q[log p(x|z)] with one sample of z, KL(q||p)) in nats, each [n]."""
        mu, logvar = self.encode(x_bin)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + (0.5 * logvar).exp() * eps  # reparameterisation: gradients flow through mu and logvar
        return self.log_lik(self.decoder(z), x_bin), gaussian_kl(mu, logvar)

    def elbo(self, x_bin, generator=None):
        """The evidence lower bound in nats, [n] (one sample of z per image)."""
        rec, kl = self.elbo_terms(x_bin, generator)
        return rec - kl

    def iw_log_weights(self, x_bin, k, generator=None):
        """log p(x|z_i) + log p(z_i) - log q(z_i|x) for k samples z_i ~ q(z|x): [k, n]."""
        n = x_bin.shape[0]
        mu, logvar = self.encode(x_bin)
        eps = torch.randn((k, n, self.z_dim), generator=generator, dtype=mu.dtype)
        z = mu + (0.5 * logvar).exp() * eps                                  # [k, n, z]
        log_q = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(-1)               # [k, n]
        log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)                         # [k, n]
        x_rep = x_bin.expand(k, *x_bin.shape).reshape(k * n, *x_bin.shape[1:])
        log_px = self.log_lik(self.decoder(z.reshape(k * n, -1)), x_rep).view(k, n)
        return log_px + log_pz - log_q

    def iwae_bound(self, x_bin, k, generator=None):
        """The importance-weighted bound with k samples (Burda et al. 2015), [n]; k=1 is the ELBO."""
        return torch.logsumexp(self.iw_log_weights(x_bin, k, generator), 0) - math.log(k)

    @torch.inference_mode()
    def log_prob(self, x_bin, k=1000, chunk=None, generator=None):
        """Importance-weighted estimate of log p(x) in nats, [n].

        Decodes n*k images in chunks of `chunk` samples so memory stays small; the estimate
        is exact log-sum-exp over all k samples, so chunking does not change the value.
        """
        n = x_bin.shape[0]
        chunk = chunk or max(1, min(k, DECODES_PER_CHUNK // max(n, 1)))
        parts = []
        for start in range(0, k, chunk):
            parts.append(self.iw_log_weights(x_bin, min(chunk, k - start), generator))
        return torch.logsumexp(torch.cat(parts, 0), 0) - math.log(k)


class AutoEncoder(nn.Module):
    """Same encoder and decoder, no noise and no KL: trained on reconstruction only.

    Its codes sit wherever reconstruction likes them, so most of the latent plane (and most samples
    from N(0, I)) decode to nothing digit-like: the autoencoder is not a generative model.
    """
    is_vae = False

    def __init__(self, z_dim=2, enc_ch=16, dec_ch=16, hidden=256, dec_stages=1):
        super().__init__()
        self.z_dim = z_dim
        self.encoder = Encoder(enc_ch, hidden, z_dim)
        self.decoder = Decoder(dec_ch, hidden, z_dim, dec_stages)

    def encode(self, x):
        """[n,1,28,28] -> (z, None): a point, not a distribution, so there is no logvar."""
        return self.encoder(x), None

    def decode_logits(self, z):
        return self.decoder(z)

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def reconstruction(self, x_bin):
        """log p(x | z = encoder(x)) in nats, [n]: the AE's training objective (no KL, no bound on p(x))."""
        return bernoulli_log_lik(self.decoder(self.encoder(x_bin)), x_bin)

    def elbo(self, x_bin, generator=None):
        raise NotImplementedError("a plain autoencoder has no prior and no ELBO; use reconstruction()")

    def log_prob(self, x_bin, k=1000, **_):
        raise NotImplementedError("a plain autoencoder defines no p(x)")


def build(config: dict | None = None) -> nn.Module:
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    shape = dict(z_dim=cfg["z_dim"], enc_ch=cfg["enc_ch"], dec_ch=cfg["dec_ch"], hidden=cfg["hidden"],
                 dec_stages=cfg["dec_stages"])
    if cfg["kind"] == "ae":
        return AutoEncoder(**shape)
    return VAE(**shape, likelihood=cfg["likelihood"])


def manifold_z(n: int = 20, eps: float = 0.05):
    """The Kingma & Welling figure's grid: n x n points of the unit square, mapped through the inverse
    Gaussian CDF, so each cell covers equal prior mass. Returns [n*n, 2], row-major with z2 decreasing
    down the rows (so the picture has z2 pointing up)."""
    u = torch.linspace(eps, 1 - eps, n, dtype=torch.float64)
    g = torch.distributions.Normal(0.0, 1.0).icdf(u).float()
    z1, z2 = torch.meshgrid(g, g.flip(0), indexing="xy")
    return torch.stack([z1.reshape(-1), z2.reshape(-1)], 1)


def lerp(a, b, steps: int):
    """[steps, *a.shape]: straight-line interpolation from a to b (both ends included)."""
    t = torch.linspace(0, 1, steps).view(-1, *([1] * a.dim()))
    return (1 - t) * a.unsqueeze(0) + t * b.unsqueeze(0)


# ---- helpers for the explorer page (pure tensors/numpy; the page only draws) ----

def to_uint8(x):
    """[n,1,28,28] floats in [0,1] (tensor) -> numpy uint8 [n,28,28]."""
    return (x[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def grid_image(x, nrow: int, pad: int = 1):
    """[n,1,h,w] floats in [0,1] -> one numpy uint8 image of nrow columns, white lines between cells
    (a single image comes back as it is, without padding)."""
    return to_uint8(tile(x, nrow, pad)[None])[0]


@torch.inference_mode()
def encode_means(model, x_uint8, batch: int = 500):
    """uint8 images [n,28,28] -> the encoder's mean codes [n, z_dim] (the AE's codes) as numpy."""
    x = torch.as_tensor(x_uint8).float()[:, None] / 255
    return torch.cat([model.encode(x[i:i + batch])[0] for i in range(0, len(x), batch)]).numpy()


@torch.inference_mode()
def elbo_report(model, x_bin, samples: int = 100, k: int = 1000, seed: int = 0) -> dict:
    """The ELBO's two terms for one binary image [1,1,28,28], in nats, plus the importance-weighted log p(x).

    The reconstruction term E_q[log p(x|z)] is averaged over `samples` draws of z, so it barely
    changes between reruns; KL is exact.
    """
    g = torch.Generator().manual_seed(seed)
    rec, kl = model.elbo_terms(x_bin.expand(samples, -1, -1, -1), g)
    rec, kl = rec.mean().item(), kl[0].item()
    return {"reconstruction": rec, "kl": kl, "elbo": rec - kl,
            "log_p": model.log_prob(x_bin, k=k, generator=g).item(), "k": k}
