"""DCGAN-family generator and discriminator for 64x64 RGB faces (UTKFace), built for CPU training.

Choices (why), see docs/notes/issue-4.md for the measurements:
- Generator: the DCGAN stack (transposed convs + BatchNorm + ReLU, tanh out). BatchNorm in G is what
  makes DCGAN converge in a few thousand steps, which is all a shared CPU affords.
- Discriminator: the mirrored conv stack with *spectral norm* instead of BatchNorm. SN bounds D's
  Lipschitz constant, so D cannot run away from G on a small data set, and it needs no batch
  statistics (D's opinion of one face does not depend on the rest of a batch).
- Loss: non-saturating logistic (training code); EMA of G's weights is what ships.
- Truncation: no mapping network here, so "truncation" scales the latent toward the prior's mean
  (the origin): z = psi * N(0, I). psi < 1 trades variety for typical, cleaner faces.

Public API (ARCHITECTURE.md): G.z_dim, G.latents(n, seed, truncation), G.generate(z) -> [n,3,64,64]
in [0,1], G.sample(n, seed, truncation). Same seed -> same latents -> same faces (CPU).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from genlib.images import tile, to_uint8_hwc

# upsample: "transposed" (DCGAN's 4x4 stride-2 transposed convolutions) or "nearest" (nearest-neighbour x2 then a
# 3x3 convolution: no checkerboard artefacts, Odena et al. 2016).
DEFAULT_CONFIG = {"net": "G", "z_dim": 128, "ngf": 32, "ndf": 32, "upsample": "transposed"}


def upsampling(c_in: int, c_out: int, how: str) -> nn.Module:
    """[n, c_in, h, w] -> [n, c_out, 2h, 2w], no bias (a BatchNorm or tanh follows)."""
    if how == "transposed":
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)
    if how == "nearest":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False))
    raise ValueError(f"upsample must be 'transposed' or 'nearest', got {how!r}")


class Generator(nn.Module):
    def __init__(self, z_dim: int = 128, ngf: int = 32, upsample: str = "transposed"):
        super().__init__()
        self.z_dim, self.ngf = z_dim, ngf
        self.net = nn.Sequential(
            # input: z as (z_dim) x 1 x 1
            nn.ConvTranspose2d(z_dim, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x 4 x 4
            upsampling(ngf * 8, ngf * 4, upsample),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 8 x 8
            upsampling(ngf * 4, ngf * 2, upsample),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 16 x 16
            upsampling(ngf * 2, ngf, upsample),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 32 x 32
            upsampling(ngf, 3, upsample),
            nn.Tanh(),
            # state size. 3 x 64 x 64, in [-1, 1]
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [n, z_dim] -> images [n, 3, 64, 64] in [-1, 1] (the training scale)."""
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))

    def latents(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor:
        """n latent vectors [n, z_dim]; a fixed seed always gives the same ones (its own generator,
        so the global torch RNG is neither used nor disturbed)."""
        if not 0.0 < truncation <= 1.0:
            raise ValueError(f"truncation must be in (0, 1], got {truncation}")
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        g = torch.Generator().manual_seed(int(seed))
        return truncation * torch.randn(n, self.z_dim, generator=g)

    @torch.inference_mode()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """latents [n, z_dim] -> images [n, 3, 64, 64] floats in [0, 1]."""
        x = self(z.to(torch.float32))
        return ((x + 1) / 2).clamp(0, 1)

    def sample(self, n: int, seed: int | None = None, truncation: float = 1.0) -> torch.Tensor:
        return self.generate(self.latents(n, seed, truncation))


class Discriminator(nn.Module):
    def __init__(self, ndf: int = 32):
        super().__init__()
        self.ndf = ndf
        self.net = nn.Sequential(
            # input is 3 x 64 x 64 in [-1, 1]
            spectral_norm(nn.Conv2d(3, ndf, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 32 x 32
            spectral_norm(nn.Conv2d(ndf, ndf * 2, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 16 x 16
            spectral_norm(nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 8 x 8
            spectral_norm(nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x 4 x 4
            spectral_norm(nn.Conv2d(ndf * 8, 1, 4, 1, 0)),
            # state size. 1 x 1 x 1: a logit, "how real does this look"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """images [n, 3, 64, 64] in [-1, 1] -> logits [n]."""
        return self.net(x).view(-1)

    @torch.inference_mode()
    def opinion(self, images01: torch.Tensor) -> torch.Tensor:
        """images [n, 3, 64, 64] in [0, 1] -> D's probability that each is a real photo, [n]."""
        return torch.sigmoid(self(images01 * 2 - 1))


def build(config: dict | None = None) -> nn.Module:
    """The family builder genlib.zoo calls: config {"net": "G"|"D", "z_dim", "ngf", "ndf", "upsample"}."""
    c = {**DEFAULT_CONFIG, **(config or {})}
    if c["net"] == "G":
        return Generator(c["z_dim"], c["ngf"], c["upsample"])
    if c["net"] == "D":
        return Discriminator(c["ndf"])
    raise ValueError(f"unknown GAN net '{c['net']}' (expected 'G' or 'D')")


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents (rows of z0 and z1) at t in [0, 1].

    Gaussian latents live near a sphere of radius sqrt(z_dim); a straight line between two of them
    passes through the low-norm middle, where the generator has seen few latents (faces go bland).
    slerp follows the great circle instead. t=0 gives exactly z0, t=1 exactly z1.
    """
    t = torch.as_tensor(t, dtype=z0.dtype).reshape(-1, 1)
    a, b = z0.reshape(1, -1) if z0.dim() == 1 else z0, z1.reshape(1, -1) if z1.dim() == 1 else z1
    cos = (a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    out = (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
    # nearly parallel vectors: slerp degenerates to lerp; the exact ends stay exact
    lin = (1 - t) * a + t * b
    out = torch.where(so.abs() < 1e-6, lin, out)
    out = torch.where(t == 0, a, torch.where(t == 1, b, out))
    return out


def recompute_batchnorm_stats(G: Generator, batches: int = 64, batch_size: int = 64, seed: int = 0) -> Generator:
    """Set G's BatchNorm running statistics to the exact average over fresh prior samples.

    Needed for the EMA generator: its weights are an average, so the running statistics collected by
    the training G do not belong to it ("standing statistics", as in BigGAN). Deterministic in `seed`.
    """
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average = exact mean over the batches
    was_training = G.training
    G.train()
    with torch.no_grad():
        for _ in range(batches):
            G(torch.randn(batch_size, G.z_dim, generator=g))
    for m in bns:
        m.momentum = 0.1
    G.train(was_training)
    return G


def grid(images01: torch.Tensor, nrow: int | None = None, pad: int = 2):
    """[n,3,H,W] in [0,1] -> one uint8 HxWx3 numpy grid (white padding), nrow columns (default: a square).
    A single image comes back as it is, without padding."""
    nrow = nrow or int(math.ceil(math.sqrt(len(images01))))
    return to_uint8_hwc(tile(images01, nrow, pad)[None])[0]
