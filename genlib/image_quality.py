"""Image quality figures for the face GAN that see texture and sharpness, calibrated on degraded real faces.

Why: FID-UTK (genlib/evaluate_gan.py) uses the features of a classifier trained on age, gender and race. Such
features ignore texture, so blurred photos and smeared GAN faces look alike to it. Here:

* `nss_features`: natural-scene statistics of the luminance (the BRISQUE features, Mittal, Moorthy and Bovik,
  IEEE TIP 2012): the distribution of mean-subtracted, contrast-normalised (MSCN) coefficients and of their
  products with each of 4 neighbours, at two scales (64 and 32 px). Photos have a characteristic MSCN
  distribution; blur narrows it, noise widens it, JPEG adds blocking that shows in the neighbour products.
  36 numbers per image, no training, no data: nothing in them can be fitted to the GAN.
* `frechet_nss`: the Frechet distance between Gaussians fitted to those features of two sets (each feature
  scaled by the reference set's standard deviation, so the 36 count alike).
* `LADDER`: degraded copies of real faces (Gaussian blur, JPEG, additive noise, each at three strengths) that
  calibrate the figure: it must grow along each rung (tests/unit/test_image_quality.py), and the generated faces
  are then placed on it ("between blur 1 px and 2 px").
* `two_sample_test`: a fresh small CNN trained to tell real faces from generated ones; its held-out accuracy
  (50% = indistinguishable to it) with a 95% Wilson interval.
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# (kind, strength, label); within a kind the strengths grow, so the figure must too.
LADDER = [("blur", 0.5, "blur 0.5 px"), ("blur", 1.0, "blur 1 px"), ("blur", 2.0, "blur 2 px"),
          ("jpeg", 70, "JPEG q70"), ("jpeg", 50, "JPEG q50"), ("jpeg", 30, "JPEG q30"),
          ("noise", 0.02, "noise 0.02"), ("noise", 0.05, "noise 0.05"), ("noise", 0.1, "noise 0.1")]


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def gaussian_blur(x01: torch.Tensor, sigma: float) -> torch.Tensor:
    """[n,c,h,w] -> the same, blurred with a separable Gaussian of std `sigma` px (reflect padding)."""
    k = _gaussian_kernel(sigma)
    c, r = x01.shape[1], len(k) // 2
    x = F.pad(x01, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1).contiguous(), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1).contiguous(), groups=c)


def jpeg(x01: torch.Tensor, quality: int) -> torch.Tensor:
    """Each image through a JPEG encoder at `quality` (Pillow, 4:2:0 as most encoders) and back."""
    from PIL import Image

    out = []
    for img in (x01.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy():
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=int(quality))
        out.append(np.asarray(Image.open(buf).convert("RGB")))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255


def degrade(x01: torch.Tensor, kind: str, strength: float, seed: int = 0) -> torch.Tensor:
    """A rung of the ladder: images [n,3,h,w] in [0,1] -> degraded images, same shape, in [0,1]."""
    if kind == "blur":
        return gaussian_blur(x01, strength)
    if kind == "jpeg":
        return jpeg(x01, int(strength))
    if kind == "noise":
        g = torch.Generator().manual_seed(seed)
        return (x01 + strength * torch.randn(x01.shape, generator=g)).clamp(0, 1)
    raise ValueError(f"unknown degradation {kind!r} (blur, jpeg or noise)")


def _mscn(y: torch.Tensor) -> torch.Tensor:
    """Mean-subtracted contrast-normalised coefficients of luminance maps [n,1,h,w] in [0,1] (BRISQUE)."""
    mu = gaussian_blur(y, 7 / 6)
    sigma = (gaussian_blur(y * y, 7 / 6) - mu * mu).abs().sqrt()
    return (y - mu) / (sigma + 1 / 255)


def _distribution_stats(v: torch.Tensor) -> list[torch.Tensor]:
    """Per image [n, m] values -> moment features of an (asymmetric) generalised Gaussian: the mean, the
    spread left and right of 0, and the shape (E|v|)^2 / E[v^2] (0.64 Gaussian, lower for heavier tails)."""
    neg, pos = (v < 0).float(), (v >= 0).float()
    left = ((v * v * neg).sum(1) / neg.sum(1).clamp_min(1)).sqrt()
    right = ((v * v * pos).sum(1) / pos.sum(1).clamp_min(1)).sqrt()
    shape = v.abs().mean(1) ** 2 / (v * v).mean(1).clamp_min(1e-12)
    return [v.mean(1), left, right, shape]


@torch.no_grad()
def nss_features(x01: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Images [n,3,h,w] in [0,1] -> [n, 36] BRISQUE-style natural-scene statistics (2 scales x 18)."""
    feats = []
    for i in range(0, len(x01), batch):
        x = x01[i:i + batch].float()
        y = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)  # luminance [n,1,h,w]
        per_scale = []
        for _ in range(2):
            m = _mscn(y)
            flat = m.flatten(1)
            stats = [(flat * flat).mean(1), flat.abs().mean(1) ** 2 / (flat * flat).mean(1).clamp_min(1e-12)]
            # products with the right, lower, lower-right and lower-left neighbour
            for a, b in ((m[..., :, :-1], m[..., :, 1:]), (m[..., :-1, :], m[..., 1:, :]),
                         (m[..., :-1, :-1], m[..., 1:, 1:]), (m[..., :-1, 1:], m[..., 1:, :-1])):
                stats += _distribution_stats((a * b).flatten(1))
            per_scale.append(torch.stack(stats, 1))                            # [n, 18]
            y = F.avg_pool2d(y, 2)
        feats.append(torch.cat(per_scale, 1))
    return torch.cat(feats)


def frechet_nss(features: np.ndarray, reference: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sets of nss_features, each feature divided by its
    standard deviation over the reference set."""
    from genlib.metrics import frechet_distance_features

    scale = np.asarray(reference, np.float64).std(0) + 1e-12
    return float(frechet_distance_features(np.asarray(features) / scale, np.asarray(reference) / scale))


def ladder_position(value: float, rungs: dict[str, float], floor: float) -> str:
    """Where `value` sits among the blur rungs, in words: 'between blur 1 px and blur 2 px'."""
    blur = sorted((v, k) for k, v in rungs.items() if k.startswith("blur"))
    if value <= floor:
        return "as close as real photos"
    below = [k for v, k in blur if v <= value]
    above = [k for v, k in blur if v > value]
    if not below:
        return f"between real photos and {above[0]}"
    if not above:
        return f"beyond {below[-1]}"
    return f"between {below[-1]} and {above[0]}"


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


class SmallCNN(nn.Module):
    """Faces [n,3,64,64] in [0,1] -> `outputs` logits; `features` is the pooled 4*width-D layer before them.
    Used twice: the quality encoder (outputs: one per DEGRADATIONS class; weights/faces-quality) and the
    two-sample detector (one output: "generated")."""

    def __init__(self, width: int = 16, outputs: int = 1):
        super().__init__()
        self.config = {"width": width, "outputs": outputs}
        self.body = nn.Sequential(
            nn.Conv2d(3, width, 3, 2, 1), nn.LeakyReLU(0.2),              # [n,w,32,32]
            nn.Conv2d(width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2),      # [n,2w,16,16]
            nn.Conv2d(2 * width, 4 * width, 3, 2, 1), nn.LeakyReLU(0.2),  # [n,4w,8,8]
            nn.Conv2d(4 * width, 4 * width, 3, 2, 1), nn.LeakyReLU(0.2),  # [n,4w,4,4]
            nn.AdaptiveAvgPool2d(1), nn.Flatten())                         # [n,4w]
        self.out = nn.Linear(4 * width, outputs)

    def features(self, x01):
        return self.body(x01 * 2 - 1)

    def forward(self, x01):
        logits = self.out(self.features(x01))
        return logits.view(-1) if logits.shape[1] == 1 else logits


def build(config: dict | None = None) -> SmallCNN:
    """The zoo's constructor (family "quality")."""
    c = {"width": 24, "outputs": len(DEGRADATIONS), **(config or {})}
    return SmallCNN(int(c["width"]), int(c["outputs"]))


# The quality encoder's classes: real, or degraded by one of these at a random strength (training only; the
# ladder's fixed strengths above are used to check it, never to train it).
DEGRADATIONS = ("real", "blur", "noise", "jpeg", "resample")


def random_degradation(x01: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A training batch for the quality encoder: the batch cut into len(DEGRADATIONS) parts, part k degraded by
    class k at one random strength. Returns (images, class labels)."""
    parts, labels = [], []
    for k, part in enumerate(x01.chunk(len(DEGRADATIONS))):
        u = float(torch.rand((), generator=g))
        if DEGRADATIONS[k] == "blur":
            part = gaussian_blur(part, 0.3 + 2.7 * u)
        elif DEGRADATIONS[k] == "noise":
            part = degrade(part, "noise", 0.005 + 0.115 * u, seed=int(torch.randint(1 << 30, (), generator=g)))
        elif DEGRADATIONS[k] == "jpeg":
            part = jpeg(part, int(10 + 75 * u))
        elif DEGRADATIONS[k] == "resample":
            size = int(16 + 32 * u)  # down to 16..48 px and back up
            part = F.interpolate(F.interpolate(part, size=size, mode="area"), size=x01.shape[-1], mode="bilinear",
                                 align_corners=False)
        parts.append(part)
        labels.append(torch.full((len(part),), k))
    return torch.cat(parts), torch.cat(labels)


@torch.no_grad()
def encoder_features(encoder: SmallCNN, x01: torch.Tensor, batch: int = 500) -> np.ndarray:
    return torch.cat([encoder.features(x01[i:i + batch].float()) for i in range(0, len(x01), batch)]).numpy()


def two_sample_test(real01: torch.Tensor, fake01: torch.Tensor, epochs: int = 15, seed: int = 0,
                    batch: int = 64) -> dict:
    """Classifier two-sample test: half of each set trains a fresh SmallCNN detector (random flips), the other half
    measures it. Returns the held-out accuracy, its 95% Wilson interval and the counts."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    n = min(len(real01), len(fake01))
    x = torch.cat([real01[:n], fake01[:n]]).float()
    y = torch.cat([torch.zeros(n), torch.ones(n)])
    order = torch.randperm(2 * n, generator=g)
    train, held_out = order[:n], order[n:]
    model = SmallCNN(16, 1)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(epochs):
        for idx in train[torch.randperm(len(train), generator=g)].split(batch):
            xb = x[idx]
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(3), xb)
            loss = F.binary_cross_entropy_with_logits(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[idx]) > 0 for idx in held_out.split(500)]).float()
    correct = int((pred == y[held_out]).sum())
    low, high = wilson_interval(correct, len(held_out))
    return {"accuracy": round(correct / len(held_out), 4), "ci95": [round(low, 4), round(high, 4)],
            "held_out_images": len(held_out), "train_images": len(train), "epochs": epochs}


def ladder_figures(encoder: SmallCNN, reference01: torch.Tensor, sample01: torch.Tensor,
                   generated01: dict[str, torch.Tensor], seed: int = 0) -> dict:
    """The calibrated quality figure: Frechet distances to `reference01` (real test faces) in the encoder's
    feature space of real faces (`sample01`, the floor), of each LADDER rung applied to those same faces, and of
    each generated set; plus where each generated set sits on the blur rungs, in words.
    All sets other than the reference should hold the same number of images (the distance is biased by n)."""
    ref = encoder_features(encoder, reference01)

    def distance(x01):
        return round(frechet_nss(encoder_features(encoder, x01), ref), 3)

    floor = distance(sample01)
    rungs = {label: distance(degrade(sample01, kind, strength, seed)) for kind, strength, label in LADDER}
    generated = {name: distance(x) for name, x in generated01.items()}
    return {"real_faces": floor, "degraded_real_faces": rungs, "generated": generated,
            "position": {name: ladder_position(v, rungs, floor) for name, v in generated.items()},
            "monotone_along_each_degradation": all(
                rungs[a] < rungs[b] for (ka, _, a), (kb, _, b) in zip(LADDER, LADDER[1:]) if ka == kb)}
