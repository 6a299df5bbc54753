"""The trainers' shared skeleton (genlib/train/common.py): a dry run of every trainer into a temporary folder
writes a card that follows the schema; a dry run never writes into the repository; resume reads checkpoints
of the older layout; the EMA; and the commands in the shipped cards still parse and mean the same."""
import argparse
import json
import shlex

import pytest
import torch

from genlib import pixelcnn, zoo
from genlib.train import common
from genlib.train import flow as flow_trainer
from genlib.train import pixelcnn as pixelcnn_trainer
from genlib.train import pixelcnnpp as pixelcnnpp_trainer
from genlib.train import vae as vae_trainer
from genlib.train.__main__ import main as train, parser

TRAINERS = {  # model name -> the command's arguments
    "gan-faces": ["gan"], "faces-classifier": ["classifier"], "vae-mnist": ["vae", "--name", "vae-mnist"],
    "ae-mnist": ["vae", "--name", "ae-mnist"], "pixelcnn-mnist": ["pixelcnn"],
    "pixelrnn-row-mnist": ["pixelrnn", "--variant", "row"], "pixelrnn-diag-mnist": ["pixelrnn", "--variant", "diag"],
}


@pytest.mark.parametrize("name", TRAINERS)
def test_dry_run_writes_a_loadable_model_with_a_schema_card(name, tmp_path):
    card = train([*TRAINERS[name], "--dry-run", "--threads", "1", "--out-dir", str(tmp_path),
                  "--data", str(tmp_path / "no-data")])  # no data there: the synthetic stand-ins
    assert zoo.card_problems(card) == [] and card == zoo.card(name, tmp_path)
    assert card["steps"] == common.DRY_RUN_STEPS and card["dry_run"] == common.DRY_RUN_NOTE
    run = tmp_path / "runs" / name
    assert (run / "checkpoint.pt").exists()
    assert (run / "log.csv").read_text().startswith("step,elapsed_s,")
    assert not zoo.load(name, tmp_path).training


def test_a_dry_run_without_out_dir_writes_into_a_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(common.tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes its folder
    monkeypatch.setattr(common, "RUNS_DIR", tmp_path / "repo" / "runs")
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path / "repo" / "weights")
    train(["pixelcnn", "--dry-run", "--threads", "1", "--data", str(tmp_path / "no-data")])
    assert not (tmp_path / "repo").exists()
    [folder] = tmp_path.glob("genlab-dry-run-*")
    assert (folder / "pixelcnn-mnist.safetensors").exists()
    assert (folder / "runs" / "pixelcnn-mnist" / "checkpoint.pt").exists()


def _args(tmp_path, *extra):
    args = argparse.Namespace(name="m", steps=10, batch_size=4, seed=3, threads=0, resume=False, dry_run=False,
                              out_dir=str(tmp_path), data=None, export=False)
    for flag in extra:
        setattr(args, flag, True)
    args.argv = ["python", "-m", "genlib.train", "x", *(f"--{f}" for f in extra)]
    return args


def test_resume_reads_a_checkpoint_of_the_older_layout(tmp_path):
    (tmp_path / "runs" / "m").mkdir(parents=True)
    common.save_checkpoint(tmp_path / "runs" / "m" / "checkpoint.pt", step=7, elapsed=12.5, command="first",
                           seed=3, G_ema={"w": torch.ones(1)}, data_rng=torch.Generator().get_state())
    run = common.Run(_args(tmp_path, "resume"), log_fields=["loss"])
    ck = run.resume()
    assert {"ema", "rng"} <= set(ck) and not {"G_ema", "data_rng"} & set(ck)
    assert (run.step, run.elapsed, run.command) == (7, 12.5, "first")
    assert run.resumed_with == ["at step 7: python -m genlib.train x --resume"]
    assert run.card_fields()["resumed_with"] == run.resumed_with


def test_tracked_objects_go_into_each_checkpoint_and_come_back_on_resume(tmp_path):
    model, rng = torch.nn.Linear(2, 2), torch.Generator().manual_seed(5)
    run = common.Run(_args(tmp_path), log_fields=["loss"])
    run.track(model=model, rng=rng)

    def step():
        with torch.no_grad():
            model.weight.add_(torch.rand(2, 2, generator=rng))
        return {"loss": 0.0}

    run.fit(step, steps=3)
    again, rng_again = torch.nn.Linear(2, 2), torch.Generator()
    resumed = common.Run(_args(tmp_path, "resume"), log_fields=["loss"])
    resumed.track(model=again, rng=rng_again)
    assert resumed.step == 3 and torch.equal(again.weight, model.weight)
    assert torch.equal(rng_again.get_state(), rng.get_state())


def test_resume_without_a_checkpoint_starts_afresh_and_export_refuses(tmp_path):
    assert common.Run(_args(tmp_path, "resume"), log_fields=[]).resume() is None
    with pytest.raises(SystemExit, match="no checkpoint to export"):
        common.Run(_args(tmp_path, "export"), log_fields=[]).resume()


def test_fit_stops_at_the_time_budget_and_checkpoints_the_run(tmp_path, monkeypatch):
    run = common.Run(_args(tmp_path), log_fields=["loss"])
    clock = iter(range(0, 10_000, 30))  # every time.time() call: 30 s later
    monkeypatch.setattr(common.time, "time", lambda: next(clock))
    run.fit(lambda: {"loss": 1.0}, lambda: {"weights": 1}, steps=1000, minutes=2, log_every=1)
    monkeypatch.undo()
    assert 0 < run.step < 10 and run.elapsed >= 120  # stopped by the 2 minutes, not by the 1000 steps
    ck = common.load_checkpoint(run.checkpoint_path)
    assert ck["step"] == run.step and ck["weights"] == 1 and ck["command"] == run.command


def test_ema_ramps_its_decay_and_buffers_follow_the_model():
    model = torch.nn.Sequential(torch.nn.Linear(1, 1, bias=False), torch.nn.BatchNorm1d(1))
    ema = common.ema_of(model, decay=0.999)
    weight = model[0].weight
    with torch.no_grad():
        weight.fill_(2.0)
        ema.update_parameters(model)          # the first update copies
        weight.fill_(4.0)
        model[1].running_mean.fill_(5.0)
        ema.update_parameters(model)          # then decay (1 + 1) / (10 + 1), far below 0.999
    assert ema.module[0].weight.item() == pytest.approx(2 / 11 * 2 + 9 / 11 * 4)
    assert ema.module[1].running_mean.item() == 5.0
    plain = ema.module.state_dict()
    assert common.ema_weights(ema.state_dict()).keys() == plain.keys()
    again = common.ema_of(model, 0.999)
    common._restore(again, plain, step=40)    # a checkpoint that held the averaged model only
    assert again.n_averaged.item() == 40 and again.module[0].weight.item() == ema.module[0].weight.item()


def test_pixelcnn_defaults_are_the_shipped_model():
    p = argparse.ArgumentParser()
    pixelcnn_trainer.add_arguments(p)
    args = p.parse_args([])
    assert pixelcnn_trainer.model_config(args) == pixelcnn.DEFAULT_CONFIG
    shipped = json.loads((zoo.WEIGHTS_DIR / "pixelcnn-mnist.json").read_text())["config"]
    assert pixelcnn.build(pixelcnn.DEFAULT_CONFIG).config == shipped


def _commands(card: dict) -> list[str]:
    """Every training command a card records: its command (older cards chain resumes with '  # then at
    step N: '), each resumed_with entry, and a measuring command that is a training command."""
    found = card["command"].split("  # then at step ")
    found = found[:1] + [c.split(": ", 1)[1] for c in found[1:]]
    found += [c.split(": ", 1)[1] if c.startswith("at step ") else c for c in card.get("resumed_with", [])]
    measured = card["metrics"]["measured_with"] or ""
    return found + ([measured] if measured.startswith("python -m genlib.train ") else [])


@pytest.mark.parametrize("path", sorted(zoo.WEIGHTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_the_commands_in_the_shipped_cards_still_parse_and_mean_the_same(path):
    card = json.loads(path.read_text())
    names = []
    for command in _commands(card):
        words = shlex.split(command)
        assert words[:3] == ["python", "-m", "genlib.train"], command
        args = parser().parse_args(words[3:])
        names.append(args.name)
        config, args_shape = card["config"], ("z_dim", "ngf", "ndf")
        if args.family == "vae":  # the name's table and the flags make the card's architecture
            s = vae_trainer.settings(args)
            assert {k: s[k] for k in config} == config, command
        elif args.family == "gan" and not args.init:
            assert {"z_dim": args.z_dim, "ngf": args.ngf, "ndf": args.ndf} == {k: config[k] for k in args_shape}
        elif args.family == "classifier":
            assert {"width": args.width, "features": args.features} == config
        elif args.family == "pixelcnn" and args.init:
            assert args.init == card["initialised_from"]["name"]
            assert args.add_blocks == card["initialised_from"].get("added_identity_blocks", 0)
        elif args.family == "flow" and not (args.init or args.export):  # the flags make the card's flow
            assert flow_trainer.model_config(args) == config, command
        elif args.family == "pixelcnnpp" and not (args.init or args.export):
            assert pixelcnnpp_trainer.model_config(args) == config, command
    # A pilot may start under its own name and be resumed under the card's; every later command names the card.
    own = {card["name"], card["name"].removesuffix("-d"), None}
    assert set(names[1:]) <= own, names
    assert names[0] in own or set(names[1:]) & (own - {None}), names
