"""PixelCNN on 8-bit 28x28 grey images, with the lecture's "Improving PixelCNN performance" as switches
(van den Oord et al. 2016; Salimans et al. 2017, PixelCNN++).

    p(x) = prod_i P(x_i | x_1..x_{i-1}),  x_i in 0..255, raster order.

Switches (the model's config), each an item of the slide:
  * head:       "softmax"  - a 256-way softmax per pixel (the PixelCNN paper's output);
                "logistic" - a mixture of `mixtures` discretized logistics (PixelCNN++): neighbouring grey
                             levels share probability, 3 numbers per component instead of 256 logits.
  * block:      "relu" | "gated" (PixelCNN++'s gated unit a * sigmoid(b), with SiLU inside the block where
                PixelCNN++ has concatenated ELUs: ELU runs ~20x slower than SiLU on this CPU, measured).
  * shortcuts:  residual connections around every block, plus skip connections: on one scale, every block's
                output feeds the head through a 1x1 conv; on several scales, the down pass feeds the up pass
                at the same resolution (PixelCNN++'s short-cuts).
  * multiscale: False - masked convolutions at 28x28 (the binarized PixelCNN's, blind spot included);
                True  - PixelCNN++'s two streams of shifted convolutions (one sees the rows above, one the
                        pixels to the left too: no blind spot), downsampled 28 -> 14 -> 7 and back up.
  * dropout:    channel dropout inside every block (a training trick; Dropout2d, as the PyTorch port of
                PixelCNN++ has: per-element dropout draws 28x more random numbers, ~40x slower here, measured);
                the other trick, the EMA of the weights, is the trainer's --ema.

Images are integer grey values 0..255 in [n,1,28,28] (uint8 or float), as for the flow: log_prob(x) -> [n]
nats of the discrete image (an exact likelihood, not a bound); sample and complete return the same format.
Sampling is naive (the network once per pixel), run only on the rows the pixel can see.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genlib import discretized
from genlib.flow import as_levels
from genlib.pixelcnn import MaskedConv2d

H = W = 28
D = H * W
LEVELS = discretized.LEVELS
# The shipped configuration (weights/pixelcnnpp-mnist8) and the defaults of build() and the training CLI.
DEFAULT_CONFIG = {"channels": 64, "layers": 1, "head": "logistic", "mixtures": 5, "block": "gated",
                  "shortcuts": True, "multiscale": True, "dropout": 0.0}
HEADS, BLOCKS = ("softmax", "logistic"), ("relu", "gated")
ROW_STEP = 4  # multi-scale nets halve the size twice: a crop of rows must keep a multiple of 4


def down_shift(x):
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def right_shift(x):
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


class DownShiftedConv(nn.Conv2d):
    """Output (i, j) sees input rows i-kh+1..i and columns j-(kw-1)/2..j+(kw-1)/2: nothing below row i."""

    def __init__(self, c_in, c_out, kernel=(2, 3), stride=1):
        super().__init__(c_in, c_out, kernel, stride)

    def forward(self, x):
        kh, kw = self.kernel_size
        return super().forward(F.pad(x, ((kw - 1) // 2, (kw - 1) // 2, kh - 1, 0)))


class DownRightShiftedConv(nn.Conv2d):
    """Output (i, j) sees input rows i-kh+1..i and columns j-kw+1..j: nothing below, nothing to the right."""

    def __init__(self, c_in, c_out, kernel=(2, 2), stride=1):
        super().__init__(c_in, c_out, kernel, stride)

    def forward(self, x):
        kh, kw = self.kernel_size
        return super().forward(F.pad(x, (kw - 1, 0, kh - 1, 0)))


class DownShiftedDeconv(nn.ConvTranspose2d):
    """Doubles h and w; the crop keeps what DownShiftedConv would see."""

    def __init__(self, c_in, c_out, kernel=(2, 3)):
        super().__init__(c_in, c_out, kernel, stride=2, output_padding=1)

    def forward(self, x):
        y = super().forward(x)
        kh, kw = self.kernel_size
        return y[:, :, :y.shape[2] - kh + 1, (kw - 1) // 2:y.shape[3] - (kw - 1) // 2]


class DownRightShiftedDeconv(nn.ConvTranspose2d):
    def __init__(self, c_in, c_out, kernel=(2, 2)):
        super().__init__(c_in, c_out, kernel, stride=2, output_padding=1)

    def forward(self, x):
        y = super().forward(x)
        kh, kw = self.kernel_size
        return y[:, :, :y.shape[2] - kh + 1, :y.shape[3] - kw + 1]


class Block(nn.Module):
    """conv -> (+ 1x1 of a side input) -> nonlinearity -> dropout -> conv, gated or not, residual or not.

    `conv(c_in, c_out)` makes the causal convolution of the stream (masked, or shifted); `side` is the
    channel count of a side input (the other stream, or the down pass's output): 0 for none."""

    def __init__(self, conv, c: int, gated: bool, residual: bool, dropout: float, side: int = 0):
        super().__init__()
        self.gated, self.residual = gated, residual
        self.act = F.silu if gated else F.relu
        self.conv_in = conv(c, c)                                    # [n,C,h,w] -> [n,C,h,w]
        self.side = nn.Conv2d(side, c, 1) if side else None          # [n,S,h,w] -> [n,C,h,w]
        self.drop = nn.Dropout2d(dropout)
        self.conv_out = conv(c, 2 * c if gated else c)               # [n,C,h,w] -> [n,2C or C,h,w]

    def forward(self, h, side=None):
        t = self.conv_in(self.act(h))
        if self.side is not None:
            t = t + self.side(self.act(side))
        t = self.conv_out(self.drop(self.act(t)))
        if self.gated:
            a, b = t.chunk(2, 1)
            t = a * torch.sigmoid(b)
        return h + t if self.residual else t


class SingleScale(nn.Module):
    """Masked convolutions at 28x28: a 7x7 type-A conv, then `layers` blocks of two masked 3x3 type-B convs."""

    def __init__(self, c: int, layers: int, gated: bool, shortcuts: bool, dropout: float):
        super().__init__()
        conv = lambda i, o: MaskedConv2d(i, o, 3, "B")  # noqa: E731
        self.input = MaskedConv2d(2, c, 7, "A")                                    # [n,2,28,28] -> [n,C,28,28]
        self.blocks = nn.ModuleList(Block(conv, c, gated, shortcuts, dropout) for _ in range(layers))
        self.skips = nn.ModuleList(nn.Conv2d(c, c, 1) for _ in range(layers)) if shortcuts else None

    def forward(self, x):
        h = self.input(x)
        skip = 0
        for i, block in enumerate(self.blocks):
            h = block(h)
            if self.skips is not None:
                skip = skip + self.skips[i](h)
        return h if self.skips is None else skip                                   # [n,C,28,28]


class MultiScale(nn.Module):
    """PixelCNN++'s network: a stream u of down-shifted convs (sees the rows above) and a stream ul of
    down-right-shifted convs fed by u (the rows above and the pixels to the left: no blind spot); `layers`
    blocks per stage at 28, 14 and 7 pixels on the way down, then back up (layers + 1 per stage after the
    first, as in the paper), each up-pass block fed the down pass's output at its resolution (with shortcuts)."""

    def __init__(self, c: int, layers: int, gated: bool, shortcuts: bool, dropout: float):
        super().__init__()
        self.layers, self.shortcuts = layers, shortcuts
        block = lambda conv, side: Block(conv, c, gated, shortcuts, dropout, side)  # noqa: E731
        self.u_in = DownShiftedConv(2, c, (2, 3))                                  # [n,2,28,28] -> [n,C,28,28]
        self.ul_in_above = DownShiftedConv(2, c, (1, 3))
        self.ul_in_left = DownRightShiftedConv(2, c, (2, 1))
        self.down_u = nn.ModuleList(block(DownShiftedConv, 0) for _ in range(3 * layers))
        self.down_ul = nn.ModuleList(block(DownRightShiftedConv, c) for _ in range(3 * layers))
        self.shrink_u = nn.ModuleList(DownShiftedConv(c, c, (2, 3), 2) for _ in range(2))     # h, w halved
        self.shrink_ul = nn.ModuleList(DownRightShiftedConv(c, c, (2, 2), 2) for _ in range(2))
        n_up = 3 * layers + 2
        self.up_u = nn.ModuleList(block(DownShiftedConv, c if shortcuts else 0) for _ in range(n_up))
        self.up_ul = nn.ModuleList(block(DownRightShiftedConv, 2 * c if shortcuts else c) for _ in range(n_up))
        self.grow_u = nn.ModuleList(DownShiftedDeconv(c, c) for _ in range(2))                 # h, w doubled
        self.grow_ul = nn.ModuleList(DownRightShiftedDeconv(c, c) for _ in range(2))

    def forward(self, x):
        u = down_shift(self.u_in(x))
        ul = down_shift(self.ul_in_above(x)) + right_shift(self.ul_in_left(x))
        us, uls = [u], [ul]                       # every state of the down pass, for the short-cuts
        for stage in range(3):                    # 28x28, 14x14, 7x7
            for i in range(stage * self.layers, (stage + 1) * self.layers):
                u = self.down_u[i](u)
                ul = self.down_ul[i](ul, u)
                us.append(u)
                uls.append(ul)
            if stage < 2:
                u, ul = self.shrink_u[stage](u), self.shrink_ul[stage](ul)
                us.append(u)
                uls.append(ul)
        us.pop()
        uls.pop()                                 # the last state is where the up pass starts
        k = 0
        for stage in range(3):                    # 7x7, 14x14, 28x28
            if stage:
                u, ul = self.grow_u[stage - 1](u), self.grow_ul[stage - 1](ul)
            for _ in range(self.layers + (stage > 0)):
                su, sul = us.pop(), uls.pop()
                u = self.up_u[k](u, su if self.shortcuts else None)
                ul = self.up_ul[k](ul, torch.cat([u, sul], 1) if self.shortcuts else u)
                k += 1
        return ul                                 # [n,C,28,28]


class PixelCNNpp(nn.Module):
    def __init__(self, channels: int = 64, layers: int = 2, head: str = "logistic", mixtures: int = 5,
                 block: str = "gated", shortcuts: bool = True, multiscale: bool = True, dropout: float = 0.0):
        super().__init__()
        if head not in HEADS or block not in BLOCKS:
            raise ValueError(f"head must be one of {HEADS} and block one of {BLOCKS}, not {head!r}, {block!r}")
        self.config = {"channels": channels, "layers": layers, "head": head, "mixtures": mixtures, "block": block,
                       "shortcuts": bool(shortcuts), "multiscale": bool(multiscale), "dropout": dropout}
        body = MultiScale if multiscale else SingleScale
        self.body = body(channels, layers, block == "gated", shortcuts, dropout)
        out = LEVELS if head == "softmax" else 3 * mixtures
        self.head1 = nn.Conv2d(channels, channels, 1)                 # [n,C,28,28] -> [n,C,28,28]
        self.head2 = nn.Conv2d(channels, out, 1)                      # [n,C,28,28] -> [n,256 or 3K,28,28]
        self.act = F.silu if block == "gated" else F.relu

    def forward(self, x):
        """Grey levels [n,1,h,w] (float, 0..255) -> the head's parameters per pixel [n, 256 or 3K, h, w]."""
        scaled = x / 127.5 - 1                                        # [-1, 1]
        ones = torch.ones_like(x)                                     # tells zero padding from the data
        h = self.body(torch.cat([scaled, ones], 1))
        return self.head2(self.act(self.head1(self.act(h))))

    def pixel_log_probs(self, out, x) -> torch.Tensor:
        """log P(x_i | x_<i) per pixel [n,1,h,w], from the head's output; float32 also under autocast."""
        out = out.float()
        if self.config["head"] == "softmax":
            return F.log_softmax(out, 1).gather(1, x.long())
        return discretized.mixture_log_prob(x, *logistic_parameters(out))

    def log_prob(self, x, seed=None) -> torch.Tensor:
        """log P(x) in nats, [n], of integer images [n,1,28,28]: exact. (`seed` is not used: it is there so
        that one evaluation serves this model and the flow, whose log_prob is a dequantized estimate.)"""
        x = as_levels(x)
        return self.pixel_log_probs(self(x), x).flatten(1).sum(1)

    def draw(self, out, u) -> torch.Tensor:
        """Grey levels [n] drawn from one pixel's head output [n, 256 or 3K] with uniforms u [n, 2]."""
        out = out.float()
        if self.config["head"] == "softmax":
            cdf = F.softmax(out, 1).cumsum(1)
            return (cdf < u[:, :1] * cdf[:, -1:]).sum(1).clamp(max=LEVELS - 1).float()
        return discretized.mixture_draw(*logistic_parameters(out), u)

    @torch.inference_mode()
    def complete(self, x, known, seed=None, progress=None, paint=None) -> torch.Tensor:
        """Sample the pixels where `known` is False, in raster order, keeping the known ones: [n,1,28,28] grey
        levels (float). Same seed, same pixels. progress(done, total) after each pixel, paint(images) after each
        row with hidden pixels. The network runs on the rows up to the pixel's only (causal: exact)."""
        x = as_levels(x).clone()
        known = torch.as_tensor(known, dtype=torch.bool).expand_as(x)
        x = torch.where(known, x, torch.zeros_like(x))
        gen = torch.Generator()
        gen.manual_seed(int(seed)) if seed is not None else gen.seed()
        u = torch.rand(x.shape[0], 2, H, W, generator=gen)
        todo = [(r, c) for r, c in (~known).any(0)[0].nonzero().tolist()]
        was_training = self.training
        self.eval()
        for k, (r, c) in enumerate(todo):
            rows = min(H, math.ceil((r + 1) / ROW_STEP) * ROW_STEP)
            value = self.draw(self(x[:, :, :rows])[:, :, r, c], u[:, :, r, c])
            x[:, 0, r, c] = torch.where(known[:, 0, r, c], x[:, 0, r, c], value)
            if progress:
                progress(k + 1, len(todo))
            if paint and (k + 1 == len(todo) or todo[k + 1][0] != r):
                paint(x.clone())
        self.train(was_training)
        return x

    def sample(self, n: int, seed: int | None = None, progress=None, paint=None) -> torch.Tensor:
        """n new images [n,1,28,28] of grey levels: every pixel sampled."""
        return self.complete(torch.zeros(n, 1, H, W), torch.zeros(1, 1, H, W, dtype=torch.bool), seed,
                             progress, paint)


@torch.inference_mode()
def causality_error(model, seed: int = 1, chunk: int = 49) -> float:
    """The largest change of the head's output at pixel k when pixels k..783 change (0 for a causal model).

    Input k is a base image before raster position k and random from k on; the output at k must equal the base
    image's output at k. 784 perturbed images, run `chunk` at a time."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randint(0, LEVELS, (1, 1, H, W), generator=g).float()
    noise = torch.randint(0, LEVELS, (D, 1, H, W), generator=g).float()
    reference = model(base).flatten(2)[0]                                        # [P, 784]
    worst = 0.0
    for start in range(0, D, chunk):
        k = torch.arange(start, min(start + chunk, D))
        before_k = torch.arange(D).view(1, D) < k.view(-1, 1)                    # [chunk, 784]: i < k
        out = model(torch.where(before_k.view(-1, 1, H, W), base, noise[k])).flatten(2)  # [chunk, P, 784]
        mixed = out[torch.arange(len(k)), :, k]                                  # [chunk, P]: image k at pixel k
        worst = max(worst, float((mixed - reference[:, k].t()).abs().max()))
    return worst


def logistic_parameters(out):
    """Head output [n,3K,...] -> mixture logits, means (grey levels) and log scales (grey levels), each
    [n,K,...]. Means and scales are learnt on the [-1, 1] scale of the input, as in PixelCNN++."""
    logits, means, log_scales = out.chunk(3, 1)
    half = (LEVELS - 1) / 2
    return logits, half * (means + 1), log_scales.clamp(min=-7.0) + math.log(half)


def bits_per_dim(log_prob_nats) -> torch.Tensor:
    return -torch.as_tensor(log_prob_nats) / (D * math.log(2))


def build(config: dict | None = None) -> PixelCNNpp:
    return PixelCNNpp(**{**DEFAULT_CONFIG, **(config or {})})


# The ablation: each row switches one more item of the slide on (benchmarks/pixelcnnpp_ablation.py trains them).
SINGLE_SCALE_LAYERS = 12  # blocks of the masked-convolution net: 2 rows each, 3 + 24 rows of receptive field
ABLATION = [
    ("baseline: ReLU blocks, 256-way softmax", {"block": "relu", "shortcuts": False, "head": "softmax",
                                                "multiscale": False, "layers": SINGLE_SCALE_LAYERS,
                                                "dropout": 0.0}),
    ("+ gated blocks", {"block": "gated"}),
    ("+ short-cut connections", {"shortcuts": True}),
    ("+ discretized logistic mixture", {"head": "logistic"}),
    ("+ multi-scale (down/up-sampling, no blind spot)", {"multiscale": True, "layers": DEFAULT_CONFIG["layers"]}),
    ("+ EMA of the weights (Polyak averaging)", {}),
    ("+ dropout", {"dropout": 0.1}),
]
EMA_FROM = 5  # the rows from this one on train with --ema 0.999; the earlier ones with --ema 0


def ablation_configs(base: dict | None = None) -> list[tuple[str, dict]]:
    """(label, full config) per ablation row, each the previous one with one more switch on; `base` overrides
    every row (tests: tiny shapes)."""
    config, rows = dict(DEFAULT_CONFIG), []
    for label, change in ABLATION:
        config = {**config, **change, **(base or {})}
        rows.append((label, dict(config)))
    return rows
