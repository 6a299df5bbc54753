"""The lecture's "Coding GAN" example: 2x2 grey images in a land where every face is slanted by 45°.

An image is 4 numbers in raster order (top-left, top-right, bottom-left, bottom-right), 0 = white,
1 = black. A face has a dark top-left / bottom-right diagonal; noise does not. The lecture's
discriminator is one neuron: weights (+1, -1, -1, +1), bias -1, then a sigmoid. Here that neuron is
hand-set (to reproduce the slides' numbers) or trained against a one-layer generator (scalar z -> four
sigmoid pixels) with the lecture's error functions. Pure PyTorch; never imports streamlit.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

@contextmanager
def one_thread():
    """Run tiny models on one CPU thread. Their cost is per-op overhead, so extra threads only add hand-offs,
    and on a busy 2-core host OpenMP's spin-waiting made a 2-D step 30x slower (12 ms vs 300-460 ms,
    measured). The setting is per calling thread (OpenMP), so other pages' models are unaffected."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# --- the lecture's world (slide "What Agent will see") ------------------------------------------------
# One face on that slide has a blank bottom-left cell; the pattern (and slide 53's [1, .5, 0, 1]) says 0.
FACES = [[0.75, 0, 0, 0.75], [1, 0.5, 0.5, 1], [1, 0, 0, 1], [1, 0.25, 0, 1]]
NO_FACES = [[0.25, 0, 1, 0.75], [0.75, 1, 1, 0.25], [0.75, 0.25, 0.75, 0.25], [1, 1, 0, 0.25]]
# The images the discriminator slides compute with.
SLIDE_FACE = [1, 0, 0, 1]             # "1*1 + 1*1 + 0*(-1) + 0*(-1) = 2.0"; then g = 1 -> 0.73
SLIDE_NOISE = [0.75, 1, 1, 0.25]      # "0.75*1 + 0.25*1 + 1*(-1) + 1*(-1) = -1.0"
SLIDE_NOT_FACE = [0.25, 1, 0.5, 0.75]  # g = -1.5 -> 0.18
SLIDE_53_FACES = [[0.5, 0, 0, 0.5], [1, 0.5, 0.5, 1], [1, 0, 0, 1], [1, 0.5, 0, 1]]  # "the discriminator knows"

LECTURE_WEIGHTS = (1.0, -1.0, -1.0, 1.0)
LECTURE_BIAS = -1.0
PIXELS = ("top-left", "top-right", "bottom-left", "bottom-right")


def sample_faces(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """[n, 4] more faces like the slides': a dark diagonal (0.7..1) over a light one (0..0.3)."""
    u = torch.rand(n, 4, generator=generator)
    dark = 0.7 + 0.3 * u
    light = 0.3 * u
    diagonal = torch.tensor([True, False, False, True])
    return torch.where(diagonal, dark, light)


def sample_noise(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """[n, 4] images with no face: every pixel uniform in [0, 1]."""
    return torch.rand(n, 4, generator=generator)


def is_face(x) -> torch.Tensor:
    """The lecture's rule, [n] bools: top-left + bottom-right clearly darker (by > 0.5) than the other pair."""
    x = torch.as_tensor(x, dtype=torch.float32).reshape(-1, 4)
    return (x[:, 0] + x[:, 3]) - (x[:, 1] + x[:, 2]) > 0.5


# --- the two players -------------------------------------------------------------------------------------
class Discriminator(nn.Module):
    """One neuron: g = w . x + b, output sigmoid(g) = probability that x is a real face."""

    def __init__(self, weights=LECTURE_WEIGHTS, bias: float = LECTURE_BIAS):
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.set(weights, bias)

    def set(self, weights, bias: float) -> None:
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weights, dtype=torch.float32).reshape(1, 4))
            self.linear.bias.fill_(float(bias))

    @property
    def weights(self) -> list[float]:
        return self.linear.weight.detach().reshape(4).tolist()

    @property
    def bias(self) -> float:
        return float(self.linear.bias.detach())

    def score(self, x) -> torch.Tensor:
        """[n, 4] -> [n] the raw score g before the sigmoid."""
        x = torch.as_tensor(x, dtype=torch.float32).reshape(-1, 4)
        return self.linear(x).squeeze(1)

    def forward(self, x) -> torch.Tensor:
        """[n, 4] -> [n] probabilities."""
        return torch.sigmoid(self.score(x))


def lecture_discriminator() -> Discriminator:
    """The slides' hand-set discriminator: weights (+1, -1, -1, +1), bias -1."""
    return Discriminator(LECTURE_WEIGHTS, LECTURE_BIAS)


class Generator(nn.Module):
    """One layer: a scalar z in [0, 1] -> four pixels, each sigmoid(v_i * z + c_i)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 4)

    def forward(self, z) -> torch.Tensor:
        """[n] -> [n, 4] images."""
        z = torch.as_tensor(z, dtype=torch.float32).reshape(-1, 1)
        return torch.sigmoid(self.linear(z))


# --- the lecture's error functions -------------------------------------------------------------------
def neg_log(p):
    """-ln(p) for a float or a tensor."""
    return -torch.log(p) if torch.is_tensor(p) else -math.log(p)


def discriminator_error_real(p):
    """D wants p = D(real) near 1: error -ln(p)."""
    return neg_log(p)


def discriminator_error_fake(p):
    """D wants p = D(fake) near 0: error -ln(1 - p) (0.1 -> 0.11, 0.9 -> 2.30)."""
    return neg_log(1 - p)


def generator_error(p):
    """G wants p = D(G(z)) near 1: error -ln(p) (0.1 -> 2.30, 0.9 -> 0.11)."""
    return neg_log(p)


# --- the slides' arithmetic, written out ----------------------------------------------------------------
def fmt(v: float) -> str:
    """A number the way the slides write it: 1, 0.25, -1.5 (two decimals at most)."""
    v = round(float(v), 2)
    return f"{v + 0.0:g}"  # + 0.0 turns -0.0 into 0


def _term(pixel: float, weight: float) -> str:
    w = fmt(weight)
    return f"{fmt(pixel)} * {'(' + w + ')' if weight < 0 else w}"


def no_bias_sum_text(x, weights=LECTURE_WEIGHTS) -> str:
    """Slide 50's form: the face diagonal first, then the other one, no bias; one decimal.
    [1,0,0,1] -> '1 * 1 + 1 * 1 + 0 * (-1) + 0 * (-1) = 2.0'."""
    x = [float(v) for v in x]
    order = (0, 3, 1, 2)
    total = sum(x[i] * weights[i] for i in order)
    return " + ".join(_term(x[i], weights[i]) for i in order) + f" = {total:.1f}"


def score(x, weights=LECTURE_WEIGHTS, bias: float = LECTURE_BIAS) -> float:
    """g = w . x + b for one image, in plain Python (the page's sliders change w and b freely)."""
    return sum(float(p) * w for p, w in zip(x, weights)) + bias


def score_text(x, weights=LECTURE_WEIGHTS, bias: float = LECTURE_BIAS) -> str:
    """Slides 51-52's form, raster order then the bias.
    [1,0,0,1] -> 'g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1'."""
    x = [float(v) for v in x]
    g = score(x, weights, bias)
    terms = " + ".join(_term(p, w) for p, w in zip(x, weights))
    sign = "-" if bias < 0 else "+"
    return f"g = +{terms} {sign} {fmt(abs(bias))} = {fmt(g)}"


def sigmoid(g: float) -> float:
    return 1.0 / (1.0 + math.exp(-g))


def output_text(g: float) -> str:
    """'f = σ(g) → output = 0.73'."""
    return f"f = σ(g) → output = {sigmoid(g):.2f}"


# --- training the two against each other -----------------------------------------------------------------
class SGD:
    """Plain gradient descent by hand, as the lecture derives it. Not torch.optim: its constructor imports
    torch._dynamo, which took 7 s on a busy 2-core host, far longer than any training here."""

    def __init__(self, params, lr: float):
        self.params, self.lr = list(params), lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            p.sub_(self.lr * p.grad)


class SlantedGAN:
    """G and D of the lecture trained step by step; `history` keeps both errors and the weights per step.

    One step = (1) update D on a batch of real faces and fakes, (2) update G on fresh fakes. Plain SGD, as
    in the lecture's hand-derived updates; no momentum, so each step is easy to follow.
    """

    def __init__(self, seed: int = 0, lr: float = 0.1, batch: int = 16):
        self.seed, self.lr, self.batch = seed, lr, batch
        # A private generator, not torch's global one: the page's sessions must not disturb each other.
        self.rng = torch.Generator().manual_seed(seed)
        self.G, self.D = Generator(), Discriminator()
        with torch.no_grad():
            self.G.linear.weight.uniform_(-1, 1, generator=self.rng)
            self.G.linear.bias.uniform_(-1, 1, generator=self.rng)
            # D starts knowing nothing: small random weights, not the lecture's.
            self.D.linear.weight.normal_(0, 0.1, generator=self.rng)
            self.D.linear.bias.zero_()
        self.opt_d = SGD(self.D.parameters(), lr)
        self.opt_g = SGD(self.G.parameters(), lr)
        self.steps = 0
        self.history: dict[str, list] = {k: [] for k in (
            "step", "d_error", "g_error", "d_real", "d_fake", "d_weights", "d_bias", "g_weights", "g_bias")}

    def _z(self, n: int) -> torch.Tensor:
        return torch.rand(n, generator=self.rng)

    def step(self, n: int = 1) -> None:
        with one_thread():
            for _ in range(n):
                self._step()

    def _step(self) -> None:
        # (1) Update D: -ln(D(real)) - ln(1 - D(G(z)))
        real = sample_faces(self.batch, self.rng)
        fake = self.G(self._z(self.batch)).detach()
        p_real, p_fake = self.D(real), self.D(fake)
        d_error = (discriminator_error_real(p_real) + discriminator_error_fake(p_fake)).mean()
        self.opt_d.zero_grad()
        d_error.backward()
        self.opt_d.step()
        # (2) Update G: -ln(D(G(z))) on fresh fakes
        p_gen = self.D(self.G(self._z(self.batch)))
        g_error = generator_error(p_gen).mean()
        self.opt_g.zero_grad()
        g_error.backward()
        self.opt_g.step()

        self.steps += 1
        h = self.history
        h["step"].append(self.steps)
        h["d_error"].append(d_error.item())
        h["g_error"].append(g_error.item())
        h["d_real"].append(p_real.mean().item())
        h["d_fake"].append(p_fake.mean().item())
        h["d_weights"].append(self.D.weights)
        h["d_bias"].append(self.D.bias)
        h["g_weights"].append(self.G.linear.weight.detach().reshape(4).tolist())
        h["g_bias"].append(self.G.linear.bias.detach().tolist())

    @torch.no_grad()
    def samples(self, z=(0.0, 0.25, 0.5, 0.75, 1.0)) -> torch.Tensor:
        """G's images for fixed z values (the same z every call, so the tiles are comparable)."""
        return self.G(torch.tensor(z, dtype=torch.float32))


def train_slanted(steps: int = 300, seed: int = 0, lr: float = 0.1, batch: int = 16):
    """Train the lecture's GAN from scratch; returns (G, D, history)."""
    gan = SlantedGAN(seed=seed, lr=lr, batch=batch)
    gan.step(steps)
    return gan.G, gan.D, gan.history
