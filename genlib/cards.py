"""Model cards written before the schema (genlib.zoo.ModelCard), rewritten into it.

    python -m genlib.cards migrate [WEIGHTS_DIR]   rewrite every card in place (re-runnable: a card that
                                                  follows the schema is left as it is)
    python -m genlib.cards check [WEIGHTS_DIR]     what keeps each card from the schema (exit 1 if anything)

Trainers started before the schema still write the old layout when they finish; run `migrate` after them.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# Trainers started before the schema import this module when they export (zoo.save migrated their cards then):
# import only names that genlib.zoo has had since the schema came (commit f43bb6a).
from genlib.zoo import DATASETS, NOT_MEASURED, WEIGHTS_DIR, card_problems, validate, write_card


def migrate_card(info: dict) -> dict:
    """A card written by an older trainer, with its keys renamed and regrouped into a ModelCard.
    Rewrites keys only: every number, command and the sha256 stay as they were. Running it on a card that
    already follows the schema changes nothing."""
    info = json.loads(json.dumps(info))  # a deep copy
    if isinstance(info.get("dataset"), str):
        text = info["dataset"]
        ids = [i for i in DATASETS if text == i or text.lower().startswith(DATASETS[i].split(" ")[0].lower())]
        if ids:
            info["dataset"] = {"id": ids[0], "description": DATASETS[ids[0]] if text == ids[0] else text}
    m = info.get("metrics") or dict(NOT_MEASURED)
    if "command" in m and "measured_with" not in m:          # VAE cards
        m["measured_with"] = m.pop("command")
    prose = re.fullmatch(r"(.*), measured by `(.*)`", m.get("eval") or "")
    if prose and "measured_with" not in m:                    # PixelCNN cards: the command inside a sentence
        m.pop("eval")
        m["eval_set"], m["measured_with"] = prose.groups()
    note = re.fullmatch(r"(.*?)\s{2}\((.*)\)", m.get("measured_with") or "")
    if note:                                                  # classifier: "COMMAND  (what it measured)"
        m["measured_with"] = note.group(1)
        m.setdefault("eval_set", note.group(2))
    if "eval_set" not in m and isinstance(m.get("fid_utk"), dict):  # GAN: FID against the test split
        m["eval_set"] = m["fid_utk"].get("reference")
    if "test_images" in m:                                    # PixelCNN cards
        m.setdefault("eval_images", m.pop("test_images"))
    count = re.search(r"([\d,]+) (?:faces|images)", m.get("eval_set") or "")
    if "eval_images" not in m and count:
        m["eval_images"] = int(count.group(1).replace(",", ""))
    info["metrics"] = {**NOT_MEASURED, **m}
    return info


def migrate(weights_dir: Path | None = None) -> list[str]:
    """Migrate every card in the weights folder in place; returns the names whose card changed.
    CardError (and nothing written for that card) when a card cannot be made into a ModelCard."""
    d = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
    changed = []
    for card_path in sorted(d.glob("*.json")):
        before = card_path.read_text()
        write_card(card_path, validate(migrate_card(json.loads(before))))
        if card_path.read_text() != before:
            changed.append(card_path.stem)
    return changed


if __name__ == "__main__":
    command, folder = (sys.argv[1:] + [None, None])[:2]
    if command == "migrate":
        print("migrated:", ", ".join(migrate(folder)) or "nothing (every card follows the schema)")
    elif command == "check":
        d = Path(folder) if folder else WEIGHTS_DIR
        bad = {p.stem: card_problems(json.loads(p.read_text())) for p in sorted(d.glob("*.json"))}
        print("\n".join(f"{n}: {'; '.join(p) or 'ok'}" for n, p in bad.items()))
        sys.exit(1 if any(bad.values()) else 0)
    else:
        sys.exit("usage: python -m genlib.cards {migrate | check} [WEIGHTS_DIR]")
