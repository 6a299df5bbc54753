"""A model trained further with --init counts the images of the run it continued: the four-family table and the
PixelCNN++ page show totals, and say so when an older card did not record the earlier run's count."""
from genlib import families


def card(images, start=None):
    return {"images_seen": images, "wall_time_s": 60.0, **({"initialised_from": start} if start else {})}


def test_a_continued_run_adds_the_earlier_runs_images():
    first = card(1000)
    second = card(500, {"name": "m", "images_seen": families.images_seen(first), "wall_time_s": 60.0})
    third = card(200, {"name": "m", "images_seen": families.images_seen(second)})
    assert [families.images_seen(c) for c in (first, second, third)] == [1000, 1500, 1700]
    assert families.uncounted_start(second) is None


def test_an_earlier_run_without_a_count_is_said_not_guessed():
    older = card(500, {"name": "pixelcnnpp-mnist8", "sha256": "x", "test_nll_nats": 598.86})
    assert families.images_seen(older) == 500
    assert "continues an earlier pixelcnnpp-mnist8" in families.uncounted_start(older)


def test_steps_times_batch_when_the_card_has_no_count():
    assert families.images_seen({"steps": 10, "batch_size": 64}) == 640
    assert families.images_seen({}) is None


def test_a_gap_down_the_chain_is_still_said(tmp_path, monkeypatch):
    """Continuing a card that did not count its own start: the new card carries the gap, and the page says so."""
    import json

    from genlib.train import __main__ as train_cli

    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path)])
    path = tmp_path / "pixelcnn-mnist.json"
    old = json.loads(path.read_text())
    old["initialised_from"] = {"name": "pixelcnn-mnist", "sha256": "x", "test_nll_nats": 1.0}  # an older card
    path.write_text(json.dumps(old))
    card = train_cli.main(["pixelcnn", "--dry-run", "--out-dir", str(tmp_path), "--name", "pixelcnn-next",
                      "--init", "pixelcnn-mnist", "--lr", "1e-12"])
    assert card["initialised_from"]["earlier_runs_uncounted"] is True
    assert "too low" in families.uncounted_start(card)


def test_a_resumed_run_marks_the_gap_of_a_start_still_installed(monkeypatch):
    from genlib import zoo
    from genlib.train.levels import counted_gap

    installed = card(500, {"name": "m", "sha256": "x", "test_nll_nats": 1.0})  # did not count its own start
    monkeypatch.setattr(zoo, "card", lambda name, weights_dir=None: {**installed, "sha256": "s"})
    assert counted_gap({"name": "m", "sha256": "s", "images_seen": 500})["earlier_runs_uncounted"] is True
    assert "earlier_runs_uncounted" not in counted_gap({"name": "m", "sha256": "other", "images_seen": 500})
    assert counted_gap(None) is None
