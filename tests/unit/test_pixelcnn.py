"""PixelCNN: causality, the likelihood, and the exact fast sampler (small random models: seconds)."""
import math

import pytest
import torch

from genlib import pixelcnn
from genlib.train import __main__ as train_cli


def small_model(seed=0, channels=16, blocks=2, hidden=None):
    torch.manual_seed(seed)
    model = pixelcnn.build({"channels": channels, "blocks": blocks, "head": 16, "hidden": hidden}).eval()
    with torch.no_grad():  # larger random weights than the init: decisive, non-trivial probabilities
        for p in model.parameters():
            p.mul_(3.0)
    return model


def digits(n=2, seed=0):
    """Binary test-like images without the data folder: random blobs."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 28, 28, generator=g) < 0.3).float()


def test_logit_i_has_zero_gradient_wrt_pixels_i_and_later():
    model = small_model(blocks=3)
    x = digits(1)[0:1]
    jac = torch.autograd.functional.jacobian(lambda v: model(v.view(1, 1, 28, 28)).flatten(),
                                             x.flatten())  # [784 logits, 784 pixels]
    on_or_after = torch.triu(torch.ones(784, 784, dtype=torch.bool))  # j >= i, raster order
    assert jac[on_or_after].abs().max().item() == 0.0
    # ...and the test can fail: earlier pixels do matter (the left neighbour, for almost every pixel).
    left = jac[torch.arange(1, 784), torch.arange(0, 783)]
    assert (left != 0).float().mean() > 0.9


def test_type_a_and_b_masks():
    a = pixelcnn.MaskedConv2d(1, 1, 3, "A").mask[0, 0]
    b = pixelcnn.MaskedConv2d(1, 1, 3, "B").mask[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0]]  # the kernel's top two rows; the row below is not stored
    assert b.tolist() == [[1, 1, 1], [1, 1, 0]]


def test_log_prob_equals_direct_bernoulli():
    model = small_model()
    x = digits(3)
    p = torch.sigmoid(model(x).double())
    direct = (x * torch.log(p) + (1 - x) * torch.log1p(-p)).flatten(1).sum(1)
    torch.testing.assert_close(model.log_prob(x).double(), direct, rtol=1e-5, atol=1e-3)
    assert model.log_prob(x).shape == (3,)


def test_training_loss_from_bf16_logits_is_float32_and_close_to_the_fp32_one():
    model = small_model()
    x = digits(3)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
    assert logits.dtype == torch.bfloat16  # autocast really ran the convs in bf16
    nll = pixelcnn.bernoulli_nll(logits, x)
    assert nll.dtype == torch.float32
    torch.testing.assert_close(nll, -model.log_prob(x).detach(), rtol=0.02, atol=0.5)  # bf16: ~3 digits


@pytest.mark.parametrize("kind", pixelcnn.MASKS)
def test_fast_equals_naive_and_keeps_known_pixels(kind):
    model = small_model(seed=1)
    x = digits(2, seed=2)
    known = pixelcnn.make_mask(kind, top=10, bottom=20, left=9, right=21)
    fast = model.complete(x, known, seed=7, method="fast")
    naive = model.complete(x, known, seed=7, method="naive")
    assert torch.equal(fast, naive)
    k = known.expand_as(x)
    assert torch.equal(fast[k], x[k])
    hidden = fast[~k]
    assert 0 < hidden.mean() < 1  # a real sample: some ones, some zeros
    assert set(fast.unique().tolist()) <= {0.0, 1.0}


def test_fast_equals_naive_with_a_block_width_other_than_half():
    model = small_model(seed=4, channels=12, blocks=2, hidden=20)  # wider inside the block than C/2
    assert model.blocks[0].conv.weight.shape[:2] == (20, 20)
    x = digits(2, seed=5)
    known = pixelcnn.make_mask("bottom", top=16)
    assert torch.equal(model.complete(x, known, seed=3, method="fast"),
                       model.complete(x, known, seed=3, method="naive"))


def test_fast_equals_naive_with_a_different_mask_per_image():
    model = small_model(seed=3, channels=32, blocks=4)
    x = digits(2, seed=4)
    known = torch.cat([pixelcnn.make_mask("bottom", top=20), pixelcnn.make_mask("box", 5, 12, 3, 25)])
    assert torch.equal(model.complete(x, known, seed=1), model.complete(x, known, seed=1, method="naive"))


def test_same_seed_same_completion_other_seed_differs():
    model = small_model()
    x, known = digits(1), pixelcnn.make_mask("bottom")
    a = model.complete(x, known, seed=5)
    assert torch.equal(a, model.complete(x, known, seed=5))
    assert not torch.equal(a, model.complete(x, known, seed=6))


def test_progress_and_paint_callbacks():
    model = small_model()
    calls, frames = [], []
    model.complete(digits(1), pixelcnn.make_mask("rows", top=20, bottom=22), seed=0,
                   progress=lambda d, t: calls.append((d, t)), paint=frames.append)
    assert calls == [(28, 56), (56, 56)]  # after each hidden row
    assert len(frames) == 2


def test_nothing_hidden_returns_input_everything_hidden_samples_all():
    model = small_model()
    x = digits(1)
    assert torch.equal(model.complete(x, torch.ones(1, 1, 28, 28, dtype=torch.bool), seed=0), x)
    full = model.complete(x, torch.zeros(1, 1, 28, 28, dtype=torch.bool), seed=0)
    assert torch.equal(full, model.complete(x * 0, torch.zeros(1, 1, 28, 28, dtype=torch.bool), seed=0))


def test_unknown_mask_is_an_error():
    with pytest.raises(ValueError):
        pixelcnn.make_mask("diagonal")


def test_training_dry_run_writes_loadable_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))  # synthetic data: no shared folder needed
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path)])
    assert (tmp_path / "pixelcnn-mnist.safetensors").exists()
    from genlib import zoo

    model = zoo.load("pixelcnn-mnist", weights_dir=tmp_path)
    assert model.config == card["config"]
    assert math.isfinite(card["metrics"]["test_nll_nats"])
    assert card["command"].startswith("python -m genlib.train pixelcnn --dry-run")
    assert card["schedule"].startswith("bfloat16 autocast")  # the default: convs in bf16, loss in fp32
    assert model(digits(1)).shape == (1, 1, 28, 28)


def test_resumed_run_records_every_command_and_export_keeps_the_runs_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--minutes", "30", "--no-bf16",
                    "--lr", "3e-4", "--ema", "0.99"])
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--resume", "--minutes", "60"])
    assert card["command"].endswith("--minutes 30 --no-bf16 --lr 3e-4 --ema 0.99")  # the run's first command...
    assert len(card["resumed_with"]) == 1 and card["resumed_with"][0].endswith("--minutes 60")  # ...and its resume
    exported = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--export"])
    assert "over 60 min" in exported["schedule"]  # the run's own schedule, not --export's defaults
    assert "bfloat16" not in exported["schedule"]  # nor --export's default precision
    assert "lr 0.0003 peak" in exported["schedule"] and "EMA 0.99" in exported["schedule"]  # nor its default lr
    assert exported["resumed_with"] == card["resumed_with"]
    assert exported["schedule_completed"] == 1.0  # the dry run's steps all ran: nothing left to anneal


def test_fast_equals_naive_without_torchscript(monkeypatch):
    monkeypatch.setattr(pixelcnn, "_SCRIPTED", pixelcnn._fast_row)  # the plain Python fallback
    model = small_model(seed=5)
    x, known = digits(2, seed=6), pixelcnn.make_mask("box", top=6, bottom=18, left=6, right=18)
    assert torch.equal(model.complete(x, known, seed=2), model.complete(x, known, seed=2, method="naive"))


def test_init_starts_a_new_run_from_installed_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    first = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path)])
    # a learning rate of ~0: the new run's weights must still be the installed ones
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--name", "pixelcnn-next",
                           "--init", "pixelcnn-mnist", "--lr", "1e-12"])
    assert card["initialised_from"] == {"name": "pixelcnn-mnist", "sha256": first["sha256"],
                                        "test_nll_nats": first["metrics"]["test_nll_nats"],
                                        "images_seen": first["steps"] * first["batch_size"],
                                        "wall_time_s": first["wall_time_s"]}
    assert card["config"] == first["config"]
    from genlib import zoo

    start, after = zoo.load("pixelcnn-mnist", weights_dir=tmp_path), zoo.load("pixelcnn-next", weights_dir=tmp_path)
    for (name, p0), p1 in zip(start.state_dict().items(), after.state_dict().values()):
        torch.testing.assert_close(p1, p0, msg=name)


def test_init_reads_the_shipped_weights_when_the_run_folder_has_none(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    from genlib import zoo

    shipped = zoo.card("pixelcnn-mnist")
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--name", "pixelcnn-next",
                           "--init", "pixelcnn-mnist", "--lr", "1e-12"])
    assert card["initialised_from"]["sha256"] == shipped["sha256"] and card["config"] == shipped["config"]


def test_identity_blocks_keep_the_function_and_then_learn():
    torch.manual_seed(0)
    model = pixelcnn.build({"channels": 8, "blocks": 1, "head": 8})
    x = (torch.rand(3, 1, 28, 28) < 0.3).float()
    before = model(x)
    model.add_identity_blocks(2)
    assert model.config["blocks"] == 3 and len(model.blocks) == 3
    torch.testing.assert_close(model(x), before, rtol=0, atol=0)  # exactly the same logits
    # the new blocks are not dead: their output conv gets a gradient at once
    pixelcnn.bernoulli_nll(model(x), x).mean().backward()
    assert model.blocks[-1].up.weight.grad.abs().sum() > 0


def test_init_with_add_blocks_grows_the_installed_model(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    first = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path)])
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--name", "pixelcnn-deeper",
                           "--init", "pixelcnn-mnist", "--add-blocks", "2"])
    assert card["config"] == {**first["config"], "blocks": first["config"]["blocks"] + 2}
    assert card["initialised_from"]["added_identity_blocks"] == 2
    with pytest.raises(SystemExit, match="--init"):
        train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--add-blocks", "2"])
