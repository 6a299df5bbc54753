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
