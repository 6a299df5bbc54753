"""A Glow-style reversible flow for 8-bit 28x28 grey images (Dinh et al. 2017, RealNVP; Kingma & Dhariwal 2018, Glow).

The lecture's fourth family: an invertible map f from an image to a code z of the same size, with
    log p(x) = log N(f(x); 0, I) + log |det df/dx|        (change of variables)
so the likelihood is exact, sampling is one pass of f^-1 and inference of z is exact (z = f(x)).

Images are integer grey values 0..255 in [n,1,28,28] (uint8 or float tensors). A flow needs a density on
continuous values, so pixels are dequantized: v = x + u with u in [0,1)^784 drawn from q(u|x), and
    log P(x) >= E_q[log p_V(x + u) - log q(u|x)]     (Jensen; Theis et al. 2016; Ho et al. 2019)
with q uniform (config "dequantizer": "uniform", log q = 0) or learned ("variational": VariationalDequantizer).
log_prob() returns that bound in nats, estimated with one u per image from a seed; bits/dim is
-log_prob / (784 ln 2). Before the flow, v/256 in [0,1) is mapped through a logit (config "logit_alpha" > 0)
or centred to [-0.5, 0.5) (0); each is part of the flow and counted in its log-det.

Architecture (multi-scale, Glow's): squeeze 1x28x28 -> 4x14x14, `steps` flow steps, split off half the
channels; squeeze -> 8x7x7, `steps` flow steps. A flow step is actnorm -> invertible 1x1 convolution (LU) ->
affine coupling. The code z is standardised: each split part and the top are divided by the mean and scale
their learned prior predicts, so z ~ N(0, I) under the model, 784 numbers, and temperature T samples
z ~ N(0, T^2 I).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genlib.vae import lerp

H = W = 28
D = H * W
BINS = 256
LOG_2PI = math.log(2 * math.pi)
# The shipped shape (weights/flow-mnist8). "dequantizer": "uniform" (u ~ U[0,1)) or "variational" (u ~ q(u|x),
# a small conditional flow of its own, Flow++), with "deq_hidden" channels.
DEFAULT_CONFIG = {"steps": 8, "hidden": 96, "logit_alpha": 0.05, "dequantizer": "uniform", "deq_hidden": 32}


def gaussian_log_density(z) -> torch.Tensor:
    """log N(z; 0, I) summed over all but the batch dimension: [n]."""
    return -0.5 * (z.pow(2) + LOG_2PI).flatten(1).sum(1)


def squeeze(x):
    """[n, c, h, w] -> [n, 4c, h/2, w/2]: each 2x2 block of pixels becomes 4 channels (log-det 0)."""
    n, c, h, w = x.shape
    x = x.view(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(x):
    """Inverse of squeeze: [n, 4c, h, w] -> [n, c, 2h, 2w]."""
    n, c4, h, w = x.shape
    x = x.view(n, c4 // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c4 // 4, 2 * h, 2 * w)


class ActNorm(nn.Module):
    """y = (x + bias) * exp(logs) per channel; initialised from the first training batch so that y has zero
    mean and unit variance per channel (Glow). log-det = h*w*sum(logs)."""

    def __init__(self, c: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.logs = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.register_buffer("initialized", torch.tensor(0, dtype=torch.uint8))

    @torch.no_grad()
    def _initialize(self, x):
        self.bias.copy_(-x.mean((0, 2, 3), keepdim=True))
        self.logs.copy_(-torch.log(x.std((0, 2, 3), keepdim=True) + 1e-6))
        self.initialized.fill_(1)

    def forward(self, x):
        if self.training and not self.initialized:
            self._initialize(x)
        logdet = self.logs.sum() * x.shape[2] * x.shape[3]
        return (x + self.bias) * self.logs.exp(), logdet.expand(x.shape[0])

    def inverse(self, y):
        return y * (-self.logs).exp() - self.bias


class InvConv1x1(nn.Module):
    """An invertible 1x1 convolution, W = P L (U + diag(sign * exp(log_s))) (Glow's LU form): log|det W| is
    sum(log_s), O(c) instead of O(c^3). P (a permutation) and sign are fixed at initialisation."""

    def __init__(self, c: int):
        super().__init__()
        q = torch.linalg.qr(torch.randn(c, c))[0]  # a random rotation: the initial W
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        self.register_buffer("p", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones(c, c), -1))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(torch.abs(s)))

    def weight(self):
        c = self.log_s.numel()
        lower = self.lower * self.lower_mask + torch.eye(c)
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * self.log_s.exp())
        return self.p @ lower @ upper  # [c, c]

    def forward(self, x):
        with torch.autocast("cpu", enabled=False):  # W and its inverse must agree: keep float32 here
            y = F.conv2d(x.float(), self.weight()[:, :, None, None])
        return y, (self.log_s.sum() * x.shape[2] * x.shape[3]).expand(x.shape[0])

    def inverse(self, y):
        w_inv = torch.linalg.inv(self.weight().double()).float()
        return F.conv2d(y, w_inv[:, :, None, None])


class AffineCoupling(nn.Module):
    """Split the channels (a, b); b' = (b + shift(a)) * scale(a), a unchanged. The Jacobian is triangular,
    so log|det| = sum(log scale) costs nothing, and the inverse b = b' / scale(a) - shift(a) is exact however
    complex the network that computes shift and scale. scale = sigmoid(raw + 2) (Glow): in (0, 1), near 0.88
    at the start, so early training is stable. With c_context > 0, shift and scale also see a context tensor."""

    def __init__(self, c: int, hidden: int, c_context: int = 0):
        super().__init__()
        self.c_a = c // 2
        c_b = c - self.c_a
        self.net = nn.Sequential(
            nn.Conv2d(self.c_a + c_context, hidden, 3, padding=1), nn.ReLU(),   # [n, hidden, h, w]
            nn.Conv2d(hidden, hidden, 1), nn.ReLU(),                # [n, hidden, h, w]
            nn.Conv2d(hidden, 2 * c_b, 3, padding=1),               # [n, 2 c_b, h, w]: shift, raw scale
        )
        nn.init.zeros_(self.net[-1].weight)  # the step starts as (almost) the identity
        nn.init.zeros_(self.net[-1].bias)

    def _shift_scale(self, a):
        shift, raw = self.net(a).float().chunk(2, dim=1)  # float: bf16 autocast (training) stops here
        return shift, torch.sigmoid(raw + 2.0)

    def forward(self, x, ctx=None):
        a, b = x[:, :self.c_a], x[:, self.c_a:]
        shift, scale = self._shift_scale(a if ctx is None else torch.cat([a, ctx], 1))
        return torch.cat([a, (b + shift) * scale], 1), scale.log().flatten(1).sum(1)

    def inverse(self, y, ctx=None):
        a, b = y[:, :self.c_a], y[:, self.c_a:]
        shift, scale = self._shift_scale(a if ctx is None else torch.cat([a, ctx], 1))
        return torch.cat([a, b / scale - shift], 1)


class FlowStep(nn.Module):
    def __init__(self, c: int, hidden: int):
        super().__init__()
        self.layers = nn.ModuleList([ActNorm(c), InvConv1x1(c), AffineCoupling(c, hidden)])

    def forward(self, x):
        logdet = 0
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, y):
        for layer in reversed(self.layers):
            y = layer.inverse(y)
        return y


class StandardizeWithPrior(nn.Module):
    """z -> (z - mean) / exp(logs), where (mean, logs) come from a conditioning tensor (the half a split keeps)
    or, with none, from learned per-position values. log-det = -sum(logs). Starts as the identity."""

    def __init__(self, c: int, c_cond: int | None, h: int, w: int):
        super().__init__()
        if c_cond is None:
            self.net, self.top = None, nn.Parameter(torch.zeros(1, 2 * c, h, w))
        else:
            self.net = nn.Conv2d(c_cond, 2 * c, 3, padding=1)  # [n, 2c, h, w]: mean, logs
            nn.init.zeros_(self.net.weight)
            nn.init.zeros_(self.net.bias)

    def _mean_logs(self, cond, n):
        out = self.top.expand(n, -1, -1, -1) if self.net is None else self.net(cond).float()
        return out.chunk(2, dim=1)

    def forward(self, z, cond=None):
        mean, logs = self._mean_logs(cond, z.shape[0])
        return (z - mean) * (-logs).exp(), -logs.flatten(1).sum(1)

    def inverse(self, eps, cond=None):
        mean, logs = self._mean_logs(cond, eps.shape[0])
        return eps * logs.exp() + mean


class VariationalDequantizer(nn.Module):
    """q(u | x) for the noise that makes integer pixels continuous (Ho et al. 2019, Flow++): eps ~ N(0, I), a few
    affine couplings conditioned on the image, then u = sigmoid(.) in (0, 1). Uniform noise forces the flow to
    model a flat box inside each pixel's bin, which smooth layers fit badly (MNIST's black background is most of
    the pixels); q learns the shape the flow can model instead, and the bound E_q[log p(x + u) - log q(u | x)]
    tightens. Works at 14x14 on squeezed tensors: [n, 4, 14, 14]."""

    def __init__(self, hidden: int = 32, steps: int = 4):
        super().__init__()
        self.context = nn.Sequential(
            nn.Conv2d(4, hidden, 3, padding=1), nn.ReLU(),        # squeezed x/256 [n, 4, 14, 14] -> [n, hidden, 14, 14]
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),   # [n, hidden, 14, 14]
        )
        self.couplings = nn.ModuleList([AffineCoupling(4, hidden, c_context=hidden) for _ in range(steps)])

    def forward(self, x, eps):
        """Integer images x [n,1,28,28] and eps [n,1,28,28] ~ N(0, I) -> (u in (0, 1) [n,1,28,28], log q(u|x) [n])."""
        ctx = self.context(squeeze(x / BINS - 0.5))
        h, log_q = squeeze(eps), gaussian_log_density(eps)
        for i, coupling in enumerate(self.couplings):
            h, ld = coupling(h.flip(1) if i % 2 else h, ctx)  # flip: each half is transformed in turn
            log_q = log_q - ld
        y = unsqueeze(h)
        log_q = log_q + (F.softplus(-y) + F.softplus(y)).flatten(1).sum(1)  # - log sigmoid'(y)
        return torch.sigmoid(y), log_q


class Flow(nn.Module):
    """Two scales: 4x14x14 (steps, then half the channels leave as z1) and 8x7x7 (steps, then z2)."""

    def __init__(self, steps: int = 8, hidden: int = 96, logit_alpha: float = 0.05, dequantizer: str = "uniform",
                 deq_hidden: int = 32):
        super().__init__()
        if dequantizer not in ("uniform", "variational"):
            raise ValueError(f"dequantizer must be 'uniform' or 'variational', got {dequantizer!r}")
        self.config = {"steps": steps, "hidden": hidden, "logit_alpha": logit_alpha, "dequantizer": dequantizer,
                       **({"deq_hidden": deq_hidden} if dequantizer == "variational" else {})}
        self.alpha = logit_alpha
        self.dequantizer = VariationalDequantizer(deq_hidden) if dequantizer == "variational" else None
        self.scale1 = nn.ModuleList([FlowStep(4, hidden) for _ in range(steps)])   # on [n, 4, 14, 14]
        self.split_prior = StandardizeWithPrior(2, 2, 14, 14)                      # z1: [n, 2, 14, 14]
        self.scale2 = nn.ModuleList([FlowStep(8, hidden) for _ in range(steps)])   # on [n, 8, 7, 7]
        self.top_prior = StandardizeWithPrior(8, None, 7, 7)                        # z2: [n, 8, 7, 7]

    # ---- the pixel transform: v in [0, 256) -> t, and back ----------------------------------------------
    def preprocess(self, v):
        """Continuous pixel values v in [0, 256) -> the flow's input t, with log|dt/dv| per image: [n]."""
        y = v / BINS
        logdet = torch.full((v.shape[0],), -D * math.log(BINS))
        if self.alpha <= 0:
            return y - 0.5, logdet
        s = self.alpha + (1 - 2 * self.alpha) * y
        t = torch.log(s) - torch.log1p(-s)
        return t, logdet + (math.log(1 - 2 * self.alpha) - torch.log(s) - torch.log1p(-s)).flatten(1).sum(1)

    def postprocess(self, t):
        """Inverse of preprocess: t -> v in [0, 256)."""
        y = t + 0.5 if self.alpha <= 0 else (torch.sigmoid(t) - self.alpha) / (1 - 2 * self.alpha)
        return y * BINS

    # ---- the flow proper -----------------------------------------------------------------------------
    def forward_continuous(self, v):
        """v [n,1,28,28] in [0, 256) -> (z [n, 784] ~ N(0, I) under the model, log|det dz/dv| [n])."""
        t, logdet = self.preprocess(v)
        h = squeeze(t)                                   # [n, 4, 14, 14]
        for step in self.scale1:
            h, ld = step(h)
            logdet = logdet + ld
        keep, z1 = h[:, :2], h[:, 2:]                    # [n, 2, 14, 14] each
        eps1, ld = self.split_prior(z1, keep)
        logdet = logdet + ld
        h = squeeze(keep)                                # [n, 8, 7, 7]
        for step in self.scale2:
            h, ld = step(h)
            logdet = logdet + ld
        eps2, ld = self.top_prior(h)                     # [n, 8, 7, 7]
        return torch.cat([eps1.flatten(1), eps2.flatten(1)], 1), logdet + ld

    def inverse_continuous(self, z):
        """z [n, 784] -> v [n,1,28,28]: one pass back through every layer (no loop over pixels)."""
        eps1, eps2 = z_parts(z)
        h = self.top_prior.inverse(eps2)
        for step in reversed(self.scale2):
            h = step.inverse(h)
        keep = unsqueeze(h)                              # [n, 2, 14, 14]
        z1 = self.split_prior.inverse(eps1, keep)
        h = torch.cat([keep, z1], 1)                     # [n, 4, 14, 14]
        for step in reversed(self.scale1):
            h = step.inverse(h)
        return self.postprocess(unsqueeze(h))            # [n, 1, 28, 28]

    def log_density(self, v):
        """log p_V(v) of continuous pixel values in [0, 256): [n] nats."""
        z, logdet = self.forward_continuous(v)
        return gaussian_log_density(z) + logdet

    # ---- the public API on 8-bit images ------------------------------------------------------------
    def dequantized_log_prob(self, x, generator=None) -> torch.Tensor:
        """[n] nats: log p(x + u) - log q(u | x) for one noise draw u per image (q uniform: log q = 0), the
        quantity whose expectation bounds log P(x) from below, and the training objective."""
        if self.dequantizer is None:
            return self.log_density(x + torch.rand(x.shape, generator=generator))
        u, log_q = self.dequantizer(x, torch.randn(x.shape, generator=generator))
        return self.log_density(x + u) - log_q

    def log_prob(self, x, seed: int | None = 0, k: int = 1) -> torch.Tensor:
        """[n] nats: the dequantization bound on log P(x) of integer images x, from k noise draws u per image
        (drawn from `seed`; None: fresh): log of the mean of p(x + u) / q(u | x), never above the discrete
        log-likelihood in expectation, and tighter as k grows (importance weighting, as the VAE's bound)."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        x = as_levels(x)
        draws = torch.stack([self.dequantized_log_prob(x, g) for _ in range(k)])  # [k, n]
        return torch.logsumexp(draws, 0) - math.log(k)

    def encode(self, x) -> torch.Tensor:
        """Integer images [n,1,28,28] -> their exact codes z [n, 784] (each pixel taken at its bin's centre)."""
        return self.forward_continuous(as_levels(x) + 0.5)[0]

    def decode(self, z) -> torch.Tensor:
        """Codes z [n, 784] -> integer images [n,1,28,28] (float tensor of 0..255): decode(encode(x)) == x."""
        return self.inverse_continuous(z).floor().clamp(0, BINS - 1)

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0) -> torch.Tensor:
        """n images [n,1,28,28] of integer grey values (float tensor), z ~ N(0, T^2 I): one pass of f^-1."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.decode(temperature * torch.randn(n, D, generator=g))


def recipe_in_words(pilot: dict) -> str:
    """A pilot run's recipe (a card's "pilots" entry) in a few words, e.g. for the flow page's caption."""
    config = pilot["config"]
    words = [f"logit α = {config['logit_alpha']:g}" if config["logit_alpha"] > 0 else "no logit (pixels centred)",
             "learned dequantizer" if config.get("dequantizer") == "variational" else "uniform noise"]
    if "--init" in pilot.get("command", ""):
        words.append("continuing the shipped flow")
    return ", ".join(words)


def as_levels(x) -> torch.Tensor:
    """uint8 or float integer grey values [n,1,28,28] -> float tensor of 0..255; ValueError otherwise."""
    x = torch.as_tensor(x)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, H, W):
        raise ValueError(f"expected images [n, 1, {H}, {W}], got {tuple(x.shape)}")
    x = x.float()
    if x.numel() and (x.min() < 0 or x.max() > BINS - 1):
        raise ValueError("expected grey values in 0..255")
    return x.floor()


def z_parts(z) -> list[torch.Tensor]:
    """A code [n, 784] as its two scales' images: z1 [n, 2, 14, 14] (split off at 14x14), z2 [n, 8, 7, 7]."""
    n = z.shape[0]
    return [z[:, :392].reshape(n, 2, 14, 14), z[:, 392:].reshape(n, 8, 7, 7)]


def bits_per_dim(log_prob_nats) -> torch.Tensor:
    return -torch.as_tensor(log_prob_nats) / (D * math.log(2))


def build(config: dict | None = None) -> Flow:
    return Flow(**{**DEFAULT_CONFIG, **(config or {})})


# ---- helpers for the flow page (pure tensors; the page only draws) ---------------------------------------
def code_images(z) -> list[torch.Tensor]:
    """One code [1, 784] as images in [0, 1] for display, one per scale: z1's 2 maps of 14x14 side by side
    ([1,1,14,28]) and z2's 8 maps of 7x7 in two rows of four ([1,1,14,28]); 0 is mid grey, +-3 white/black."""
    z1, z2 = (p[0] for p in z_parts(z))
    shown = lambda t: (t / 6 + 0.5).clamp(0, 1)  # noqa: E731
    return [shown(torch.cat(list(z1), 1))[None, None],
            shown(torch.cat([torch.cat(list(z2[:4]), 1), torch.cat(list(z2[4:]), 1)], 0))[None, None]]


def probes(digit, clothing, seed: int = 0) -> dict[str, torch.Tensor]:
    """Images to score against a digit model, each [1,1,28,28] of grey levels: the digit itself, the digit
    upside down, a Fashion-MNIST item, uniform noise and a blank (all-black) image."""
    digit, clothing = as_levels(digit), as_levels(clothing)
    noise = torch.randint(0, BINS, (1, 1, H, W), generator=torch.Generator().manual_seed(seed)).float()
    return {"this digit": digit, "upside down": digit.flip(2, 3), "a clothing item (Fashion-MNIST)": clothing,
            "uniform noise": noise, "blank (all black)": torch.zeros(1, 1, H, W)}


def interpolate_codes(model: Flow, a, b, steps: int = 10) -> torch.Tensor:
    """Images along the straight line between the exact codes of a and b: [steps,1,28,28] grey levels
    (the two ends are a and b themselves)."""
    return model.decode(lerp(model.encode(a)[0], model.encode(b)[0], steps))
