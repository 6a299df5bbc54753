""""Which one is real?": the game's rounds, images, scoring and machine judges (pages/real_or_fake.py is
its UI; benchmarks/judges.py measures the judges over 1,000 rounds per model family).

A round shows one real image and one generated image side by side; the player picks the real one and says
how sure they are. Everything random comes from the game's seed, so a seed gives the same rounds on every
machine (one class, one game). Images are numpy uint8: digits [n,28,28] of 0/255, faces [n,64,64,3].

Judges are the lecture's point about explicit density: a model that writes p(x) down can score an image,
so the PixelCNN (and the VAE, the PixelRNNs) pick the image they give the higher log p(x); the GAN has no
p(x), only its discriminator's opinion "how real does this look".
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np

CERTAINTY = {1: "guess", 2: "fairly sure", 3: "sure"}
Z95 = 1.959963984540054  # the standard normal's 97.5% quantile
VAE_JUDGE_SAMPLES = 100   # importance samples per image for the VAE's log p(x): ~0.5 s for a 10-round game
SAMPLE_BATCH = 64         # images per call of a fast sampler: its caches hold every layer for every image
JUDGE_BATCH = 32          # images per judge call: the PixelCNN's forward keeps every layer (~4 MB an image)
# Nightingale & Farid, PNAS 119(8) e2120481119 (2022): StyleGAN2 faces, one face at a time, real or synthetic;
# mean accuracy and its 95% interval.
HUMAN_BASELINES = {"people, untrained (experiment 1, 315 people)": (0.482, 0.471, 0.492),
                   "people after training, with feedback (experiment 2, 219 people)": (0.590, 0.577, 0.604)}
BASELINE_SOURCE = "Nightingale & Farid, PNAS 2022 (StyleGAN2 faces)"


@dataclass(frozen=True)
class Opponent:
    name: str    # the zoo model that makes the fake image
    label: str   # what the player reads
    domain: str  # "digits" or "faces"


@dataclass(frozen=True)
class Judge:
    name: str    # the zoo model that judges
    label: str
    domain: str
    how: str     # "likelihood" (higher log p(x) is real) or "discriminator" (higher D(x) is real)


OPPONENTS = (Opponent("vae-mnist-32", "VAE", "digits"),
             Opponent("pixelcnn-mnist", "PixelCNN", "digits"),
             Opponent("pixelrnn-row-mnist", "PixelRNN (Row LSTM)", "digits"),
             Opponent("pixelrnn-diag-mnist", "PixelRNN (Diagonal BiLSTM)", "digits"),
             Opponent("gan-faces", "GAN", "faces"))
JUDGES = (Judge("pixelcnn-mnist", "PixelCNN's p(x)", "digits", "likelihood"),
          Judge("vae-mnist-32", "VAE's p(x)", "digits", "likelihood"),
          Judge("pixelrnn-row-mnist", "Row LSTM's p(x)", "digits", "likelihood"),
          Judge("pixelrnn-diag-mnist", "Diagonal BiLSTM's p(x)", "digits", "likelihood"),
          Judge("gan-faces-d", "GAN's discriminator", "faces", "discriminator"))
LABELS = {o.name: o.label for o in OPPONENTS}
DOMAIN = {o.name: o.domain for o in OPPONENTS}


@dataclass(frozen=True)
class Round:
    number: int       # 1-based, in playing order
    opponent: str     # model name of the fake's maker
    real_left: bool
    real_index: int   # into the real pool of the opponent's domain
    fake_index: int   # into this opponent's generated pool (its k-th round uses sample k)


def plan_rounds(seed: int, n_rounds: int, opponents: list[str], real_counts: dict[str, int]) -> list[Round]:
    """The rounds of a game: opponents take turns as evenly as possible (counts differ by at most one), the
    real image is on the left in half of the rounds (overall and per opponent, within one), the real images
    are distinct, and the order is shuffled. Same arguments, same rounds."""
    if not opponents or n_rounds < 1:
        raise ValueError("a game needs at least one opponent and one round")
    rng = np.random.default_rng(seed)
    k = len(opponents)
    counts = [n_rounds // k] * k
    for i in rng.choice(k, n_rounds % k, replace=False):
        counts[i] += 1
    slots = [name for name, c in zip(opponents, counts) for _ in range(c)]  # grouped by opponent
    # Alternating sides along the grouped list balances every opponent and the whole game within one.
    first_left = bool(rng.integers(2))
    sides = [(i % 2 == 0) == first_left for i in range(n_rounds)]
    order = rng.permutation(n_rounds)
    real_index = {}
    for domain in sorted({DOMAIN[o] for o in opponents}):
        needed = sum(DOMAIN[s] == domain for s in slots)
        if needed > real_counts[domain]:
            raise ValueError(f"{needed} rounds need {needed} real {domain}, only {real_counts[domain]} exist")
        real_index[domain] = iter(rng.choice(real_counts[domain], needed, replace=False).tolist())
    rounds, used = [], {name: 0 for name in opponents}
    for number, slot in enumerate(order, start=1):
        name = slots[slot]
        rounds.append(Round(number, name, sides[slot], next(real_index[DOMAIN[name]]), used[name]))
        used[name] += 1
    return rounds


# ---- images ---------------------------------------------------------------------------------------------

def binarize_digits(x_uint8: np.ndarray, seed: int) -> np.ndarray:
    """Real digits shown as the binary models see them: one seeded Bernoulli draw per pixel, p = x/255."""
    import torch

    from genlib.data import binarize

    x = binarize(torch.from_numpy(np.ascontiguousarray(x_uint8)), torch.Generator().manual_seed(seed))
    return (x.numpy() * 255).astype(np.uint8)


def sample_digits(model, count: int, seed: int, progress=None) -> np.ndarray:
    """`count` digits from a binary digit model, uint8 [count,28,28] of 0/255.

    Autoregressive models (PixelCNN, PixelRNN) complete an empty image, a sample of p(x). The VAE draws
    z ~ N(0, I) and then x ~ Bernoulli(decode(z)): that Bernoulli draw is the VAE's model of x, the same
    likelihood it was trained and evaluated with. Showing its means instead would give the VAE away by the
    rendering (smooth grey strokes next to binary real digits), not by what the model learned.
    Batches of SAMPLE_BATCH (the fast samplers cache every layer per image); batch k > 0 has its own seed.
    """
    import torch

    out = []
    for k, start in enumerate(range(0, count, SAMPLE_BATCH)):
        n = min(SAMPLE_BATCH, count - start)
        batch_seed = seed if k == 0 else int(np.random.SeedSequence([seed, k]).generate_state(1)[0])
        step = None if progress is None else (lambda done, total, s=start, n=n: progress(s + done * n / total, count))
        with torch.inference_mode():
            if hasattr(model, "complete"):
                x = model.complete(torch.zeros(n, 1, 28, 28), torch.zeros(1, 1, 28, 28, dtype=torch.bool),
                                   seed=batch_seed, progress=step)
            else:
                g = torch.Generator().manual_seed(batch_seed)
                x = torch.bernoulli(model.decode(torch.randn(n, model.z_dim, generator=g)), generator=g)
                if step:
                    step(1, 1)
        out.append((x[:, 0].numpy() * 255).astype(np.uint8))
    return np.concatenate(out)


def sample_faces(generator, count: int, seed: int) -> np.ndarray:
    """`count` faces from the GAN, uint8 [count,64,64,3]; truncation 1.0, i.e. the GAN's own distribution
    (truncation makes nicer faces, but then the game would test a curated generator)."""
    from genlib.images import to_uint8_hwc

    return to_uint8_hwc(generator.sample(count, seed=seed, truncation=1.0))


def realness(judge: Judge, model, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """The judge's score per image, [n] floats, higher = "more likely real": log p(x) in nats for a
    likelihood judge, D's probability of "real" for the discriminator. In batches, so memory stays small."""
    import torch

    scores = []
    with torch.inference_mode():
        for start in range(0, len(images), JUDGE_BATCH):
            batch = images[start:start + JUDGE_BATCH]
            if judge.how == "discriminator":
                scores.append(model.opinion(torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255))
                continue
            x = torch.from_numpy(batch[:, None]).float() / 255
            if hasattr(model, "decode"):  # the VAE: an importance-weighted estimate, seeded so it repeats
                g = torch.Generator().manual_seed(seed + start)
                scores.append(model.log_prob(x, k=VAE_JUDGE_SAMPLES, generator=g))
            else:
                scores.append(model.log_prob(x))
    return torch.cat(scores).double().numpy()


def judge_is_right(real_score: float, fake_score: float, real_left: bool) -> bool:
    """The judge picks the higher-scoring side (the left one on a tie); right when that side is the real one."""
    left, right = (real_score, fake_score) if real_left else (fake_score, real_score)
    return (left >= right) == real_left


# ---- a whole game -----------------------------------------------------------------------------------------

@dataclass
class Game:
    seed: int
    rounds: list[Round]
    real: list[np.ndarray]                                    # per round
    fake: list[np.ndarray]
    judged: dict[str, list] = field(default_factory=dict)     # judge label -> per round True/False/None
    scores: dict[str, list] = field(default_factory=dict)     # judge label -> per round (real, fake) or None

    def left_right(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        r = self.rounds[i]
        return (self.real[i], self.fake[i]) if r.real_left else (self.fake[i], self.real[i])


def build_game(seed: int, n_rounds: int, models: dict, real_pools: dict[str, np.ndarray], progress=None,
               opponents: list[str] | None = None) -> Game:
    """Plan the rounds, make each opponent's fakes, and let every available judge of the domain decide.

    models: zoo name -> loaded model, for whichever opponents and judges are available (an opponent not in
    `models` does not play; a judge not in it does not judge). real_pools: domain -> uint8 images.
    progress(fraction, text) is called between the steps and as the autoregressive models sample.
    opponents: who makes the fakes (default: every opponent in `models` whose domain has real images).
    """
    opponents = opponents or [o.name for o in OPPONENTS if o.name in models and o.domain in real_pools]
    rounds = plan_rounds(seed, n_rounds, opponents, {d: len(x) for d, x in real_pools.items()})
    counts = {name: sum(r.opponent == name for r in rounds) for name in opponents}
    playing = [name for name in opponents if counts[name]]  # a short game may leave some out
    judges = [j for j in JUDGES if j.name in models and any(DOMAIN[r.opponent] == j.domain for r in rounds)]
    steps = len(playing) + len(judges)
    report = progress or (lambda fraction, text: None)

    fakes = {}
    for step, name in enumerate(playing):
        count = counts[name]
        text = f"{LABELS[name]} is making {count} image{'s' * (count != 1)}…"
        report(step / steps, text)
        if DOMAIN[name] == "faces":
            fakes[name] = sample_faces(models[name], count, seed)
        else:
            fakes[name] = sample_digits(models[name], count, seed,
                                        lambda done, total, s=step: report((s + done / total) / steps, text))
    real = []
    for r in rounds:
        image = real_pools[DOMAIN[r.opponent]][r.real_index]
        real.append(binarize_digits(image, seed * 100_003 + r.real_index) if image.ndim == 2 else image)
    game = Game(seed, rounds, real, [fakes[r.opponent][r.fake_index] for r in rounds])

    for step, judge in enumerate(judges, start=len(playing)):
        report(step / steps, f"The {judge.label} judges…")
        mine = [i for i, r in enumerate(rounds) if DOMAIN[r.opponent] == judge.domain]
        images = np.stack([game.real[i] for i in mine] + [game.fake[i] for i in mine])
        s = realness(judge, models[judge.name], images, seed)
        game.scores[judge.label] = [None] * len(rounds)
        game.judged[judge.label] = [None] * len(rounds)
        for k, i in enumerate(mine):
            real_score, fake_score = float(s[k]), float(s[len(mine) + k])
            game.scores[judge.label][i] = (real_score, fake_score)
            game.judged[judge.label][i] = judge_is_right(real_score, fake_score, rounds[i].real_left)
    report(1.0, "Ready.")
    return game


# ---- scoring ------------------------------------------------------------------------------------------------

def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default); (0, 1) when there is no data.
    Unlike p +- z*se it stays inside [0, 1] and is honest for the handful of rounds of one game."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Score:
    group: str
    rounds: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.rounds if self.rounds else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.rounds)


def is_correct(r: Round, picked_left: bool) -> bool:
    return picked_left == r.real_left


def score_groups(groups: list[str], outcomes: list[tuple[str, bool]]) -> list[Score]:
    """One Score per group, in the given order: outcomes are (group, right?) pairs."""
    return [Score(g, sum(k == g for k, _ in outcomes), sum(k == g and ok for k, ok in outcomes)) for g in groups]


def player_scores(rounds: list[Round], answers: list[tuple[bool, int]]) -> dict[str, list[Score]]:
    """The player's accuracy per opponent (label), per certainty level (calibration) and overall.
    answers: (picked_left, certainty in 1..3) for the first len(answers) rounds."""
    played = rounds[:len(answers)]
    right = [is_correct(r, left) for r, (left, _) in zip(played, answers)]
    labels = [LABELS[o.name] for o in OPPONENTS if any(r.opponent == o.name for r in played)]
    return {
        "opponent": score_groups(labels, [(LABELS[r.opponent], ok) for r, ok in zip(played, right)]),
        "certainty": score_groups(list(CERTAINTY.values()),
                                  [(CERTAINTY[c], ok) for (_, c), ok in zip(answers, right)]),
        "overall": score_groups(["all rounds"], [("all rounds", ok) for ok in right]),
    }


def judge_scores(game: Game, n_played: int) -> list[Score]:
    """Each judge's accuracy on the rounds played so far (only rounds of its domain count)."""
    out = []
    for label, verdicts in game.judged.items():
        done = [v for v in verdicts[:n_played] if v is not None]
        out.append(Score(label, len(done), sum(done)))
    return out


def results_csv(game: Game, answers: list[tuple[bool, int]]) -> str:
    """One row per played round: what was shown, what the player said, whether each judge was right."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    judges = list(game.judged)
    writer.writerow(["round", "seed", "opponent", "real_side", "your_pick", "certainty", "you_right",
                     *[f"{j} right" for j in judges]])
    for i, (r, (left, certainty)) in enumerate(zip(game.rounds, answers)):
        verdicts = ["" if game.judged[j][i] is None else game.judged[j][i] for j in judges]
        writer.writerow([r.number, game.seed, LABELS[r.opponent], "left" if r.real_left else "right",
                         "left" if left else "right", CERTAINTY[certainty], is_correct(r, left), *verdicts])
    return buf.getvalue()


def percent(p: float | None) -> str:
    return "–" if p is None else f"{100 * p:.1f}%"


# ---- the player's answers in the URL ---------------------------------------------------------------------
# A game is fully given by its link (seed, n, images) and the models installed, so the answers are all that a
# restarted server or another replica needs to put the player back where they were:
#
#     progress=1.a41c.l3r1l2      version 1, the game's fingerprint, then per round played: the side picked
#                                 (l/r) and the certainty (1 guess, 2 fairly sure, 3 sure)
#
# The fingerprint (4 hex digits of the rounds' plan) changes when the rounds would differ, e.g. on a machine
# without the face GAN, so a link from elsewhere gets a note instead of answers moved to other rounds.
PROGRESS_VERSION = "1"


class ProgressError(ValueError):
    """A progress value that cannot be restored; the message says why, for the player."""


def rounds_fingerprint(rounds: list[Round]) -> str:
    text = "|".join(f"{r.opponent}:{int(r.real_left)}:{r.real_index}:{r.fake_index}" for r in rounds)
    return hashlib.sha256(text.encode()).hexdigest()[:4]


def encode_answers(rounds: list[Round], answers: list[tuple[bool, int]]) -> str:
    """The progress value of `answers` (picked_left, certainty) to the first rounds of a game."""
    if len(answers) > len(rounds) or any(c not in CERTAINTY for _, c in answers):
        raise ValueError("more answers than rounds, or a certainty outside 1-3")
    return f"{PROGRESS_VERSION}.{rounds_fingerprint(rounds)}." + "".join(
        f"{'l' if left else 'r'}{certainty}" for left, certainty in answers)


def decode_answers(text: str, rounds: list[Round]) -> list[tuple[bool, int]]:
    """The answers in a progress value, checked against this game's rounds; ProgressError otherwise."""
    if not isinstance(text, str) or len(text) > 16 + 2 * len(rounds):
        raise ProgressError("the progress value is missing or too long for this game")
    version, _, rest = text.partition(".")
    if version != PROGRESS_VERSION:
        raise ProgressError("the progress is in a format this version of GenLab cannot read")
    check, _, body = rest.partition(".")
    if check != rounds_fingerprint(rounds):
        raise ProgressError("these rounds differ from the ones the link was made with (other models or settings)")
    if not re.fullmatch(r"([lr][123])*", body):
        raise ProgressError("the answers are not pairs of a side (l or r) and a certainty (1-3)")
    answers = [(body[i] == "l", int(body[i + 1])) for i in range(0, len(body), 2)]
    if len(answers) > len(rounds):
        raise ProgressError(f"{len(answers)} answers for a game of {len(rounds)} rounds")
    return answers
