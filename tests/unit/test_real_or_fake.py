"""genlib.real_or_fake: balanced seeded rounds, scoring and Wilson intervals on known answers, and the
judges' choices on constructed cases (tiny untrained models and stubs: no weights, no training)."""
from collections import Counter

import numpy as np
import pytest
import torch

from genlib import pixelcnn, pixelrnn, vae
from genlib import real_or_fake as rf
from genlib.real_or_fake import Round

DIGIT_OPPONENTS = ["vae-mnist-32", "pixelcnn-mnist", "pixelrnn-row-mnist", "pixelrnn-diag-mnist"]
POOLS = {"digits": 1000, "faces": 1166}


@pytest.mark.parametrize("opponents", [DIGIT_OPPONENTS[:1], DIGIT_OPPONENTS[:2], DIGIT_OPPONENTS[:3],
                                       DIGIT_OPPONENTS + ["gan-faces"]])
def test_rounds_are_balanced(opponents):
    for seed in range(40):
        for n in range(1, 24):
            rounds = rf.plan_rounds(seed, n, opponents, POOLS)
            assert [r.number for r in rounds] == list(range(1, n + 1))
            left = sum(r.real_left for r in rounds)
            assert abs(left - (n - left)) <= 1, (seed, n)            # real on the left half the time
            per = Counter(r.opponent for r in rounds)
            counts = [per[name] for name in opponents]
            assert sum(counts) == n and max(counts) - min(counts) <= 1  # opponents take even turns
            for name in per:                                           # ... and per opponent
                mine = [r for r in rounds if r.opponent == name]
                assert abs(2 * sum(r.real_left for r in mine) - len(mine)) <= 1
                assert sorted(r.fake_index for r in mine) == list(range(len(mine)))
            for domain in ("digits", "faces"):                         # distinct real images
                used = [r.real_index for r in rounds if rf.DOMAIN[r.opponent] == domain]
                assert len(set(used)) == len(used) and all(0 <= i < POOLS[domain] for i in used)


def test_even_games_put_the_real_image_left_exactly_half_the_time_and_sides_vary():
    sides = [tuple(r.real_left for r in rf.plan_rounds(seed, 10, DIGIT_OPPONENTS[:2], POOLS)) for seed in range(30)]
    assert all(sum(s) == 5 for s in sides)
    assert len(set(sides)) > 20  # not one fixed pattern a player could learn


def test_same_seed_same_rounds_other_seed_other_rounds():
    a = rf.plan_rounds(7, 12, DIGIT_OPPONENTS[:2] + ["gan-faces"], POOLS)
    assert a == rf.plan_rounds(7, 12, DIGIT_OPPONENTS[:2] + ["gan-faces"], POOLS)
    assert a != rf.plan_rounds(8, 12, DIGIT_OPPONENTS[:2] + ["gan-faces"], POOLS)


def test_plan_refuses_impossible_games():
    with pytest.raises(ValueError):
        rf.plan_rounds(0, 5, ["gan-faces"], {"faces": 3})
    with pytest.raises(ValueError):
        rf.plan_rounds(0, 5, [], POOLS)


@pytest.mark.parametrize("correct, n, lo, hi", [(7, 10, 0.3968, 0.8922), (0, 10, 0.0, 0.2775),
                                                (10, 10, 0.7225, 1.0), (50, 100, 0.4038, 0.5962)])
def test_wilson_interval_matches_published_values(correct, n, lo, hi):
    assert rf.wilson(correct, n) == pytest.approx((lo, hi), abs=5e-5)


def test_wilson_without_data_is_the_whole_range():
    assert rf.wilson(0, 0) == (0.0, 1.0)


def known_game():
    """Four rounds with known truth: VAE, PixelCNN, VAE, PixelCNN; real on the left, right, right, left."""
    rounds = [Round(1, "vae-mnist-32", True, 0, 0), Round(2, "pixelcnn-mnist", False, 1, 0),
              Round(3, "vae-mnist-32", False, 2, 1), Round(4, "pixelcnn-mnist", True, 3, 1)]
    blank = np.zeros((28, 28), np.uint8)
    game = rf.Game(5, rounds, [blank] * 4, [blank] * 4)
    game.judged["PixelCNN's p(x)"] = [True, True, False, True]
    return game


def test_player_scores_on_known_answers():
    game = known_game()
    # right (sure), wrong (guess), right (sure), wrong (fairly sure)
    answers = [(True, 3), (True, 1), (False, 3), (False, 2)]
    s = rf.player_scores(game.rounds, answers)
    assert [(x.group, x.rounds, x.correct) for x in s["opponent"]] == [("VAE", 2, 2), ("PixelCNN", 2, 0)]
    assert [(x.group, x.rounds, x.correct) for x in s["certainty"]] == [("guess", 1, 0), ("fairly sure", 1, 0),
                                                                         ("sure", 2, 2)]
    assert (s["overall"][0].correct, s["overall"][0].rounds, s["overall"][0].accuracy) == (2, 4, 0.5)
    assert s["certainty"][2].interval == pytest.approx(rf.wilson(2, 2))
    # after two rounds only those two count, for the player and for the judges
    assert rf.player_scores(game.rounds, answers[:2])["overall"][0].rounds == 2
    assert [(j.group, j.rounds, j.correct) for j in rf.judge_scores(game, 3)] == [("PixelCNN's p(x)", 3, 2)]


def test_csv_has_one_row_per_played_round():
    game = known_game()
    lines = rf.results_csv(game, [(True, 3), (True, 1)]).strip().splitlines()
    assert lines[0] == ("round,seed,opponent,real_side,your_pick,certainty,you_right,PixelCNN's p(x) right")
    assert lines[1:] == ["1,5,VAE,left,left,sure,True,True", "2,5,PixelCNN,right,left,guess,False,True"]


@pytest.mark.parametrize("real, fake, real_left, right", [
    (-80.0, -100.0, True, True), (-80.0, -100.0, False, True),     # higher score on the real image: right
    (-100.0, -80.0, True, False), (-100.0, -80.0, False, False),   # higher on the fake: wrong
    (-90.0, -90.0, True, True), (-90.0, -90.0, False, False),      # a tie: the judge takes the left one
])
def test_judge_picks_the_higher_score(real, fake, real_left, right):
    assert rf.judge_is_right(real, fake, real_left) is right


def sparse_pixelcnn(bias: float = -2.0):
    """A PixelCNN that ignores its input: every pixel is ink with probability sigmoid(bias)."""
    model = pixelcnn.build({"channels": 8, "blocks": 1, "head": 8}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.head2.bias.fill_(bias)
    return model


def test_likelihood_judge_prefers_the_image_its_model_finds_likelier():
    model = sparse_pixelcnn()
    judge = rf.JUDGES[0]
    assert judge.how == "likelihood"
    few, many = np.zeros((2, 28, 28), np.uint8), np.zeros((2, 28, 28), np.uint8)
    few[:, 10, 5:10] = 255
    many[:, 5:20, 5:20] = 255
    s = rf.realness(judge, model, np.concatenate([few, many]))
    expected_few = 5 * np.log(torch.sigmoid(torch.tensor(-2.0)).item()) + 779 * np.log(torch.sigmoid(torch.tensor(2.0)).item())
    assert s[0] == pytest.approx(expected_few, rel=1e-5) and s[0] > s[2]


class BrightnessD:
    """A stand-in discriminator: the brighter the face, the more real it looks."""
    def opinion(self, images01):
        return images01.mean((1, 2, 3))


class FlatG:
    """A stand-in generator of flat grey faces."""
    def __init__(self, level):
        self.level = level

    def sample(self, n, seed=None, truncation=1.0):
        return torch.full((n, 3, 64, 64), self.level)


@pytest.mark.parametrize("real_pixels, judge_right", [(0, False), (255, True)])
def test_judges_on_constructed_games(real_pixels, judge_right):
    """Real digits all blank (all ink): the sparse PixelCNN gives them the higher (lower) p(x) than its own
    samples, so its judge is always right (wrong); the same for a brightness D on white (black) faces."""
    models = {"pixelcnn-mnist": sparse_pixelcnn(), "gan-faces": FlatG(0.5), "gan-faces-d": BrightnessD()}
    blank_digits = np.full((20, 28, 28), 0 if judge_right else 255, np.uint8)
    faces = np.full((20, 64, 64, 3), real_pixels, np.uint8)
    game = rf.build_game(3, 8, models, {"digits": blank_digits, "faces": faces})
    assert Counter(r.opponent for r in game.rounds) == {"pixelcnn-mnist": 4, "gan-faces": 4}
    for label, verdicts in game.judged.items():
        played = [v for v in verdicts if v is not None]
        assert len(played) == 4 and set(played) == {judge_right}, label


def test_build_game_plays_only_the_models_it_has_and_shows_what_they_made():
    torch.manual_seed(0)
    tiny_vae = vae.build({"z_dim": 4, "enc_ch": 4, "dec_ch": 4, "hidden": 16}).eval()
    digits = np.random.default_rng(0).integers(0, 256, (50, 28, 28)).astype(np.uint8)
    seen = []
    game = rf.build_game(1, 6, {"vae-mnist-32": tiny_vae}, {"digits": digits},
                         progress=lambda f, text: seen.append(f))
    assert {r.opponent for r in game.rounds} == {"vae-mnist-32"}
    assert list(game.judged) == ["VAE's p(x)"]                 # the VAE judges too; no PixelCNN here
    assert seen[-1] == 1.0 and seen == sorted(seen)
    for i, r in enumerate(game.rounds):
        assert set(np.unique(game.real[i])) <= {0, 255} and set(np.unique(game.fake[i])) <= {0, 255}
        left, right = game.left_right(i)
        assert (left is game.real[i]) == r.real_left and (right is game.real[i]) != r.real_left
    again = rf.build_game(1, 6, {"vae-mnist-32": tiny_vae}, {"digits": digits})
    assert all((a == b).all() for a, b in zip(game.fake + game.real, again.fake + again.real))
    assert game.scores == again.scores                          # the VAE's IWAE estimate is seeded


@pytest.mark.parametrize("make", [lambda: sparse_pixelcnn(0.0),
                                  lambda: vae.build({"z_dim": 4, "enc_ch": 4, "dec_ch": 4, "hidden": 16}).eval(),
                                  lambda: pixelrnn.build({"variant": "row", "hidden": 4, "layers": 1, "head": 4}).eval(),
                                  lambda: pixelrnn.build({"variant": "diag", "hidden": 4, "layers": 1, "head": 4}).eval()],
                         ids=["pixelcnn", "vae", "pixelrnn-row", "pixelrnn-diag"])
def test_samples_are_binary_and_seeded(make):
    model = make()
    a, b, c = (rf.sample_digits(model, 3, seed) for seed in (4, 4, 5))
    assert a.shape == (3, 28, 28) and a.dtype == np.uint8 and set(np.unique(a)) <= {0, 255}
    assert (a == b).all() and not (a == c).all()
    scores = rf.realness(rf.Judge("m", "m", "digits", "likelihood"), model, np.concatenate([a, c]))
    assert scores.shape == (6,) and np.isfinite(scores).all() and (scores < 0).all()  # log p(x) of binary images


def test_real_digits_are_binarized_with_their_own_seed():
    x = np.full((28, 28), 128, np.uint8)
    a, b, c = rf.binarize_digits(x, 1), rf.binarize_digits(x, 1), rf.binarize_digits(x, 2)
    assert set(np.unique(a)) == {0, 255} and (a == b).all() and not (a == c).all()


def test_a_game_shorter_than_the_list_of_opponents_leaves_some_out():
    models = {"pixelcnn-mnist": sparse_pixelcnn(), "vae-mnist-32": vae.build({"z_dim": 4, "enc_ch": 4, "dec_ch": 4,
                                                                              "hidden": 16}).eval()}
    game = rf.build_game(2, 1, models, {"digits": np.zeros((5, 28, 28), np.uint8)})
    assert len(game.rounds) == 1 and len(game.fake) == 1 and game.fake[0].shape == (28, 28)
