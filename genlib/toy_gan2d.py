"""2-D toy GANs, GAN Lab style: small MLP generator and discriminator on 2-D point clouds.

Distributions: a ring of 8 Gaussians, two moons, a line, a circle. Losses: "plain" (the lecture's
-ln(p) / -ln(1-p) errors) and "pacgan" (the remedy for mode collapse, Lin et al. 2018: D judges packs of
samples together, so a generator that puts every sample on one mode is easy to catch). Everything is
seeded with a private torch.Generator and deterministic on CPU. Pure PyTorch; never imports streamlit.
"""
from __future__ import annotations

import math

import torch
from torch import nn

DISTRIBUTIONS = ("ring", "moons", "line", "circle")
LOSSES = ("plain", "pacgan")
RING_RADIUS, RING_STD, RING_MODES = 2.0, 0.05, 8
Z_DIM = 2          # GAN Lab also uses 2-D noise: easy to picture
HIDDEN = 64        # two hidden layers of 64: enough for these shapes, ~1 ms a step on one CPU core
PACK = 4           # PacGAN packing degree: D sees 4 samples at once
BOUNDS = (-3.0, 3.0)  # the square every view draws


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


def mlp(n_in: int, n_out: int) -> nn.Sequential:
    # state size: n_in -> HIDDEN -> HIDDEN -> n_out
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, n_out))


class ToyGAN2D:
    """G: z [n, 2] -> x [n, 2]; D: x [n, 2] (or a pack [n/PACK, 2*PACK]) -> logit. Trained step by step."""

    def __init__(self, dist: str = "ring", loss: str = "plain", lr_d: float = 1e-3, lr_g: float = 1e-3,
                 d_steps: int = 1, g_steps: int = 1, seed: int = 0, batch: int = 128):
        if dist not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {dist!r}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.dist, self.loss, self.d_steps, self.g_steps, self.batch = dist, loss, d_steps, g_steps, batch
        self.seed = seed
        self.rng = torch.Generator().manual_seed(seed)
        self.pack = PACK if loss == "pacgan" else 1
        with torch.random.fork_rng(devices=[]):  # layer init uses torch's global RNG: seed it, then restore
            torch.manual_seed(seed)
            self.G = mlp(Z_DIM, 2)
            self.D = mlp(2 * self.pack, 1)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=(0.5, 0.999))
        self.fixed_z = torch.randn(512, Z_DIM, generator=self.rng)  # the same fakes drawn every frame
        self.steps = 0
        self.history: dict[str, list] = {"step": [], "d_error": [], "g_error": []}

    def _d_logit(self, x: torch.Tensor) -> torch.Tensor:
        """D's logits; with packing, PACK consecutive samples form one input."""
        return self.D(x.reshape(-1, 2 * self.pack)).squeeze(1)

    def step(self, n: int = 1) -> None:
        bce = nn.functional.binary_cross_entropy_with_logits  # -ln(sigmoid) / -ln(1 - sigmoid), stably
        for _ in range(n):
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
        return self.G(self.fixed_z)

    @torch.no_grad()
    def d_grid(self, n: int = 40) -> tuple[torch.Tensor, torch.Tensor]:
        """(axis [n], D's probability [n, n] over the BOUNDS square; row = y, column = x). With packing,
        a grid point is judged as a pack of copies of itself."""
        axis = torch.linspace(*BOUNDS, n)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
        logits = self.D(pts.repeat(1, self.pack)).squeeze(1)
        return axis, torch.sigmoid(logits).reshape(n, n)


def mode_coverage(loss: str, seed: int = 0, steps: int = 2000, **kw) -> int:
    """Train on the ring with `loss` and count the modes G covers (the measurement behind the tests)."""
    gan = ToyGAN2D("ring", loss=loss, seed=seed, **kw)
    gan.step(steps)
    return modes_covered(gan.fakes())
