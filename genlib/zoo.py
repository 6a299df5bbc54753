"""Model zoo: weights/<name>.safetensors + weights/<name>.json (the model card).

Weights load only through safetensors (no pickle) and only after the sha256 in the card matches,
so a swapped or truncated file is refused with a message that says what to do.
torch is imported lazily: listing the zoo (`available`, `card`) must stay cheap for the app shell.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import time
import types
import typing
from pathlib import Path
from typing import TypedDict

WEIGHTS_DIR = Path(os.environ.get("GENLAB_WEIGHTS", Path(__file__).resolve().parent.parent / "weights"))

# family -> module that provides build(config: dict) -> torch.nn.Module.
# A fixed table (not a module path read from the card) so a card cannot make us import arbitrary code.
FAMILIES = {
    "gan": "genlib.gan",
    "vae": "genlib.vae",
    "ae": "genlib.vae",
    "pixelcnn": "genlib.pixelcnn",
    "pixelrnn": "genlib.pixelrnn",
    "classifier": "genlib.classifier",
    "quality": "genlib.image_quality",
    "flow": "genlib.flow",
    "pixelcnnpp": "genlib.pixelcnnpp",
}

# How each shipped model is (re)made; quoted when its weights are missing.
TRAIN_COMMANDS = {
    "gan-faces": "python -m genlib.train gan",
    "faces-classifier": "python -m genlib.train classifier",
    "vae-mnist": "python -m genlib.train vae --name vae-mnist",
    "vae-fashion": "python -m genlib.train vae --name vae-fashion",
    "ae-mnist": "python -m genlib.train vae --name ae-mnist",
    "vae-mnist-32": "python -m genlib.train vae --name vae-mnist-32",
    "pixelcnn-mnist": "python -m genlib.train pixelcnn",
    "pixelrnn-row-mnist": "python -m genlib.train pixelrnn --variant row",
    "pixelrnn-diag-mnist": "python -m genlib.train pixelrnn --variant diag",
    "faces-quality": "python -m genlib.train quality",
    "flow-mnist8": "python -m genlib.train flow",
    "pixelcnnpp-mnist8": "python -m genlib.train pixelcnnpp",
    "pixelcnnpp-ablation-0": "python benchmarks/pixelcnnpp_ablation.py --train, then copy "
                             "runs/pixelcnnpp-ablation/pixelcnnpp-ablation-0.* into weights/",
    "vae-mnist8": "python -m genlib.train vae --name vae-mnist8",
}


class WeightsError(RuntimeError):
    """A model's weights are missing, corrupt or do not match their model card."""

# ---- the model card schema -------------------------------------------------------------------------

# dataset.id -> the data in words (genlib.data reads each); a card's description may say more (split, binarization)
DATASETS = {
    "mnist": "MNIST (LeCun, Cortes, Burges): 28x28 grey handwritten digits, 60,000 train / 10,000 test",
    "fashion": "Fashion-MNIST (Zalando Research): 28x28 grey clothing images, 60,000 train / 10,000 test",
    "utkface64": "UTKFace (Zhang, Song, Qi, CVPR 2017), aligned & cropped, 64x64 RGB",
}


class DatasetInfo(TypedDict):
    id: str           # a key of DATASETS: which data, for programs
    description: str  # the same for people: source, split, preprocessing


class Metrics(TypedDict):
    """Held-out measurements. These three keys are in every card; the family's numbers (test_nll_nats,
    fid_utk, test_accuracy_*, ...) sit beside them. A model not measured yet has None, None, 0."""
    measured_with: str | None  # the exact command that measured the numbers
    eval_set: str | None       # the held-out data, in words
    eval_images: int           # how many held-out images the numbers are measured on


class ModelCard(TypedDict):
    """weights/<name>.json. Every card has these keys (zoo.save checks them; tests/unit/test_cards.py checks
    every shipped card); a family may add its own (training, schedule, labels, resumed_with, ...)."""
    name: str
    family: str        # a key of FAMILIES: which module builds the model
    config: dict       # build(config) makes the architecture
    dataset: DatasetInfo
    licence: str       # the terms of the training data, which the weights inherit
    command: str       # the exact command that trained the weights
    seed: int
    steps: int         # optimizer steps
    wall_time_s: float
    parameters: int
    storage: str       # float32 or float16
    file_bytes: int
    sha256: str        # of the .safetensors file; load() refuses a file that differs
    written: str       # UTC time of writing
    metrics: Metrics


NOT_MEASURED: Metrics = {"measured_with": None, "eval_set": None, "eval_images": 0}


class CardError(ValueError):
    """A model card that does not follow ModelCard."""


def _type_problems(value, expected, where: str) -> list[str]:
    """Why `value` is not of the annotated type `expected` (a TypedDict, a union with None, or a plain type)."""
    if typing.is_typeddict(expected):
        if not isinstance(value, dict):
            return [f"{where} must be an object, not {type(value).__name__}"]
        hints = typing.get_type_hints(expected)
        problems = [f"{where} lacks '{key}'" for key in hints if key not in value]
        for key, hint in hints.items():
            if key in value:
                problems += _type_problems(value[key], hint, f"{where}.{key}")
        return problems
    union = typing.get_origin(expected) in (typing.Union, types.UnionType)
    options = typing.get_args(expected) if union else (expected,)
    for option in options:
        if option is type(None) and value is None:
            return []
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return []
        if option in (int, str, dict, list) and isinstance(value, option) and not isinstance(value, bool):
            return []
    names = " or ".join("null" if o is type(None) else o.__name__ for o in options)
    return [f"{where} must be {names}, not {json.dumps(value)[:40]}"]


def card_problems(info: dict) -> list[str]:
    """Everything that keeps `info` from being a ModelCard; [] when it is one."""
    problems = _type_problems(info, ModelCard, "card")
    if problems:
        return problems
    if info["family"] not in FAMILIES:
        problems.append(f"card.family '{info['family']}' is not one of {sorted(FAMILIES)}")
    if info["dataset"]["id"] not in DATASETS:
        problems.append(f"card.dataset.id '{info['dataset']['id']}' is not one of {sorted(DATASETS)}")
    if not re.fullmatch(r"[0-9a-f]{64}", info["sha256"]):
        problems.append("card.sha256 is not 64 hex digits")
    m = info["metrics"]
    if m["measured_with"] is None and m != NOT_MEASURED:
        problems.append("card.metrics holds numbers but names no command that measured them (measured_with)")
    if m["measured_with"] is not None and not (m["eval_set"] and m["eval_images"] > 0):
        problems.append("card.metrics names a command but not the held-out images (eval_set, eval_images > 0)")
    return problems


def validate(info: dict) -> dict:
    """`info` itself when it is a ModelCard; CardError naming every problem otherwise."""
    problems = card_problems(info)
    if problems:
        raise CardError(f"model card '{info.get('name', '?')}': " + "; ".join(problems))
    return info


def metric(info: dict | None, key: str, default=None):
    """One held-out number (or measured_with, eval_set, eval_images) from a card; `default` when absent.
    What pages read, so none of them digs through the card's layout."""
    return ((info or {}).get("metrics") or {}).get(key, default)



def _paths(name: str, weights_dir: Path | None) -> tuple[Path, Path]:
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    return d / f"{name}.safetensors", d / f"{name}.json"


def _how_to_make(name: str) -> str:
    cmd = TRAIN_COMMANDS.get(name)
    return f"Train it with `{cmd}`." if cmd else "No training command is known for this name."


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def card(name: str, weights_dir: Path | None = None) -> dict:
    """The model card of `name`; WeightsError when it is missing or unreadable."""
    weights_path, card_path = _paths(name, weights_dir)
    if not card_path.exists():
        raise WeightsError(f"Model '{name}' is not installed: {card_path} is missing. {_how_to_make(name)}")
    try:
        data = json.loads(card_path.read_text())
    except (OSError, ValueError) as e:
        raise WeightsError(f"Model card {card_path} is not valid JSON ({e}). {_how_to_make(name)}") from e
    if not isinstance(data, dict) or "family" not in data:
        raise WeightsError(f"Model card {card_path} has no 'family' field. {_how_to_make(name)}")
    return data


def available(weights_dir: Path | None = None) -> list[dict]:
    """Every readable model card in the weights folder, sorted by name (no weights are loaded)."""
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    cards = []
    for p in sorted(d.glob("*.json")):
        try:
            cards.append(card(p.stem, d))
        except WeightsError:
            continue
    return cards


def load(name: str, weights_dir: Path | None = None):
    """The model `name` in eval mode on CPU, float32, gradients off.

    Raises WeightsError (with the command that makes the file) when the weights are missing,
    truncated, corrupt or differ from the sha256 recorded in the model card.
    """
    info = card(name, weights_dir)
    weights_path, card_path = _paths(name, weights_dir)
    if not weights_path.exists():
        raise WeightsError(f"Model '{name}': {weights_path} is missing. {_how_to_make(name)}")
    blob = weights_path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != info.get("sha256"):
        raise WeightsError(
            f"Model '{name}': {weights_path.name} does not match its model card (sha256 {digest[:12]}… "
            f"instead of {str(info.get('sha256'))[:12]}…): the file is corrupt, truncated or was swapped. "
            f"{_how_to_make(name)}")
    family = info["family"]
    if family not in FAMILIES:
        raise WeightsError(f"Model '{name}': unknown family '{family}' in {card_path.name}.")

    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    try:
        state = load_safetensors(blob)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise WeightsError(f"Model '{name}': {weights_path.name} is not a valid safetensors file ({e}). "
                           f"{_how_to_make(name)}") from e
    model = importlib.import_module(FAMILIES[family]).build(info.get("config", {}))
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise WeightsError(f"Model '{name}': weights do not fit the architecture in its card ({e}). "
                           f"{_how_to_make(name)}") from e
    model.eval().requires_grad_(False)
    model.card = info
    return model


def save(model, name: str, card_fields: dict, weights_dir: Path | None = None, fp16: bool = False) -> dict:
    """Write weights/<name>.safetensors and its model card; returns the card.

    `card_fields` holds the ModelCard keys a trainer knows (family, config, dataset, licence, command, seed,
    steps, wall_time_s, metrics) and any of its own; name, parameters, storage, file size, sha256 and the time
    of writing are filled in here. No metrics: a model not measured yet (NOT_MEASURED). CardError, before
    anything is written, when the card would not be a ModelCard.
    """
    from safetensors.torch import save_file

    info = {"metrics": dict(NOT_MEASURED), **card_fields, "name": name,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "storage": "float16" if fp16 else "float32", "file_bytes": 0, "sha256": "0" * 64, "written": ""}
    validate(info)  # before anything is written
    weights_path, card_path = _paths(name, weights_dir)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu().contiguous()
        if fp16 and v.is_floating_point():
            v = v.half()
        state[k] = v.clone()  # clone: safetensors refuses tensors that share storage
    save_file(state, str(weights_path))
    weights_path.chmod(0o644)  # safetensors writes 0600; the app may run as another user than training
    info.update(file_bytes=weights_path.stat().st_size, sha256=sha256_of(weights_path),
                written=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return write_card(card_path, info)


def update_card(name: str, weights_dir: Path | None = None, merge: bool = True, **fields) -> dict:
    """Write `fields` into an existing card (e.g. metrics measured after training); weights untouched.
    A dict merges into the card's dict of that key, unless merge=False (then it replaces it)."""
    info = card(name, weights_dir)
    for k, v in fields.items():
        if merge and isinstance(v, dict) and isinstance(info.get(k), dict):
            info[k] = {**info[k], **v}
        else:
            info[k] = v
    return write_card(_paths(name, weights_dir)[1], validate(info))


def write_card(card_path: Path, info: dict) -> dict:
    """Write a card as JSON: schema keys first, metrics last (the longest), so every card reads alike."""
    keys = [k for k in typing.get_type_hints(ModelCard) if k != "metrics"]
    ordered = {k: info[k] for k in keys if k in info} | {k: v for k, v in info.items() if k not in keys}
    metrics = ordered.pop("metrics", {})
    ordered["metrics"] = {k: metrics[k] for k in typing.get_type_hints(Metrics) if k in metrics} | metrics
    card_path.write_text(json.dumps(ordered, indent=2) + "\n")
    return ordered
