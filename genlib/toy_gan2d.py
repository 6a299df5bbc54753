"""2-D toy GANs, GAN Lab style: small MLP generator and discriminator on 2-D point clouds.

Distributions: a ring of 8 Gaussians, two moons, a line, a circle. Losses: "plain" (the lecture's
-ln(p) / -ln(1-p) errors) and "mbstd", the remedy for mode collapse: minibatch standard deviation
(Karras et al. 2018, ProGAN). D also sees how spread out the whole batch is, so a generator that puts every
sample on one mode is caught at once, and G is pushed to spread out over more modes. Everything is
seeded with a private torch.Generator and deterministic on CPU. Pure PyTorch; never imports streamlit.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from genlib.toy_gan import one_thread

DISTRIBUTIONS = ("ring", "moons", "line", "circle")
LOSSES = ("plain", "mbstd")
RING_RADIUS, RING_STD, RING_MODES = 2.0, 0.05, 8
Z_DIM = 2          # GAN Lab also uses 2-D noise: easy to picture
HIDDEN = 64        # two hidden layers of 64: enough for these shapes, ~1 ms a step on one CPU core
BOUNDS = (-3.0, 3.0)  # the square every view draws
# The setup that shows mode collapse: G learns 5x faster than D, so it keeps jumping to wherever D is
# most fooled instead of spreading out. With lr_g = lr_d the plain loss covers the ring on most seeds.
COLLAPSE_SETUP = {"lr_d": 1e-3, "lr_g": 5e-3}


def sample_real(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """[n, 2] points from one of DISTRIBUTIONS."""
    if name == "ring":
        k = torch.randint(RING_MODES, (n,), generator=generator).float()
        angle = 2 * math.pi * k / RING_MODES
        centres = RING_RADIUS * torch.stack([angle.cos(), angle.sin()], 1)
        return centres + RING_STD * torch.randn(n, 2, generator=generator)
    if name == "moons":  # two interleaved half circles, like sklearn's make_moons, centred and scaled
        upper = torch.rand(n, generator=generator) < 0.5
        t = math.pi * torch.rand(n, generator=generator)
        x = torch.where(upper, t.cos(), 1 - t.cos())
        y = torch.where(upper, t.sin(), 0.5 - t.sin())
        pts = 1.5 * torch.stack([x - 0.5, y - 0.25], 1)
        return pts + 0.05 * torch.randn(n, 2, generator=generator)
    if name == "line":  # a slanted segment, like the lecture's slanted land
        t = 2 * torch.rand(n, generator=generator) - 1
        pts = torch.stack([2.0 * t, 1.0 * t], 1)
        return pts + 0.03 * torch.randn(n, 2, generator=generator)
    if name == "circle":
        t = 2 * math.pi * torch.rand(n, generator=generator)
        pts = 1.5 * torch.stack([t.cos(), t.sin()], 1)
        return pts + 0.03 * torch.randn(n, 2, generator=generator)
    raise ValueError(f"unknown distribution {name!r}; choose one of {', '.join(DISTRIBUTIONS)}")


def display_real(name: str, n: int = 300) -> list:
    """A fixed cloud of real points to draw (the same every frame), as [[x, y], ...]."""
    return sample_real(name, n, torch.Generator().manual_seed(1)).tolist()


def ring_centres() -> torch.Tensor:
    angle = 2 * math.pi * torch.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * torch.stack([angle.cos(), angle.sin()], 1)


def modes_covered(points: torch.Tensor, radius: float = 0.25, min_share: float = 0.02) -> int:
    """How many of the ring's 8 modes get at least `min_share` of the points within `radius` of their
    centre (the modes are 1.53 apart, so 0.25 is close to one mode and far from the others)."""
    d = torch.cdist(points, ring_centres())  # [n, 8]
    nearest, idx = d.min(1)
    counts = torch.bincount(idx[nearest < radius], minlength=RING_MODES)
    return int((counts >= min_share * len(points)).sum())


def mlp(n_in: int, n_out: int, rng: torch.Generator) -> nn.Sequential:
    # state size: n_in -> HIDDEN -> HIDDEN -> n_out
    net = nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                        nn.Linear(HIDDEN, n_out))
    # PyTorch's default init (uniform, +-1/sqrt(fan_in)) drawn from our generator, not the global one,
    # so concurrent page sessions cannot change each other's runs.
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                bound = 1 / math.sqrt(layer.in_features)
                layer.weight.uniform_(-bound, bound, generator=rng)
                layer.bias.uniform_(-bound, bound, generator=rng)
    return net


class Adam:
    """Adam by hand (Kingma & Ba 2015), betas (0.5, 0.999) as in DCGAN. Not torch.optim: its constructor
    imports torch._dynamo, which took 7 s on a busy 2-core host, longer than a whole demo run."""

    def __init__(self, params, lr: float, betas=(0.5, 0.999), eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]  # running mean of the gradient
        self.v = [torch.zeros_like(p) for p in self.params]  # running mean of its square
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t  # bias corrections for the zero start
        for p, m, v in zip(self.params, self.m, self.v):
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)


class ToyGAN2D:
    """G: z [n, 2] -> x [n, 2]; D: x [n, 2] -> logit [n]. Trained step by step; `history` keeps both errors."""

    def __init__(self, dist: str = "ring", loss: str = "plain", lr_d: float = 1e-3, lr_g: float = 1e-3,
                 d_steps: int = 1, g_steps: int = 1, seed: int = 0, batch: int = 128):
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {dist!r}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.dist, self.loss, self.d_steps, self.g_steps, self.batch = dist, loss, d_steps, g_steps, batch
        self.seed = seed
        self.rng = torch.Generator().manual_seed(seed)
        self.G = mlp(Z_DIM, 2, self.rng)
        self.D = mlp(3 if loss == "mbstd" else 2, 1, self.rng)  # mbstd: x, y and the batch spread
        self.opt_d, self.opt_g = Adam(self.D.parameters(), lr_d), Adam(self.G.parameters(), lr_g)
        self.fixed_z = torch.randn(512, Z_DIM, generator=self.rng)  # the same fakes drawn every frame
        self.steps = 0
        self.history: dict[str, list] = {"step": [], "d_error": [], "g_error": []}

    def _d_logit(self, x: torch.Tensor, spread: torch.Tensor | None = None) -> torch.Tensor:
        """[n, 2] -> [n] D's logits. With mbstd each point also carries its batch's spread (the mean
        per-coordinate std), or `spread` when given."""
        if self.loss == "mbstd":
            s = x.std(0).mean() if spread is None else spread
            x = torch.cat([x, s.expand(len(x), 1)], 1)
        return self.D(x).squeeze(1)

    def step(self, n: int = 1) -> None:
        with one_thread():
            for _ in range(n):
                self._step()

    def _step(self) -> None:
        bce = nn.functional.binary_cross_entropy_with_logits  # -ln(sigmoid) / -ln(1 - sigmoid), stably
        # (1) Update D d_steps times: -ln D(real) - ln(1 - D(G(z)))
        for _ in range(self.d_steps):
            real = sample_real(self.dist, self.batch, self.rng)
            fake = self.G(torch.randn(self.batch, Z_DIM, generator=self.rng)).detach()
            lr_, lf = self._d_logit(real), self._d_logit(fake)
            d_error = bce(lr_, torch.ones_like(lr_)) + bce(lf, torch.zeros_like(lf))
            self.opt_d.zero_grad()
            d_error.backward()
            self.opt_d.step()
        # (2) Update G g_steps times: -ln D(G(z))
        for _ in range(self.g_steps):
            lg = self._d_logit(self.G(torch.randn(self.batch, Z_DIM, generator=self.rng)))
            g_error = bce(lg, torch.ones_like(lg))
            self.opt_g.zero_grad()
            g_error.backward()
            self.opt_g.step()
        self.steps += 1
        self.history["step"].append(self.steps)
        self.history["d_error"].append(d_error.item())
        self.history["g_error"].append(g_error.item())

    @torch.no_grad()
    def fakes(self) -> torch.Tensor:
        """[512, 2] G's points for a fixed batch of z."""
        with one_thread():
            return self.G(self.fixed_z)

    @torch.no_grad()
    def d_grid(self, n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
        """(axis [n], D's probability [n, n] over the BOUNDS square; row = y, column = x). With mbstd a grid
        point is judged as if it came in G's current batch (its spread), which is what G's gradient sees."""
        axis = torch.linspace(*BOUNDS, n)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
        with one_thread():
            logits = self._d_logit(pts, spread=self.fakes().std(0).mean())
        return axis, torch.sigmoid(logits).reshape(n, n)


def mode_coverage(loss: str, seed: int = 0, steps: int = 500, **setup) -> int:
    """Train on the ring with `loss` (COLLAPSE_SETUP unless `setup` says otherwise) and count the modes
    G covers: the measurement behind the tests and the page's comparison."""
    gan = ToyGAN2D("ring", loss=loss, seed=seed, **{**COLLAPSE_SETUP, **setup})
    gan.step(steps)
    return modes_covered(gan.fakes())
