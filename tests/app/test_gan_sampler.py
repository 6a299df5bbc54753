"""AppTest of the GAN face sampler with a tiny random GAN saved into a temporary weights folder
(so the tests neither need nor depend on the trained weights)."""
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from genlib import zoo
from tests.app.helpers import notes_text, save_tiny_models

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "gan_sampler.py")


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    save_tiny_models(tmp_path, {"gan-faces", "gan-faces-d"})
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))  # keep the nearest-faces search out of it
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()


def run(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def seed_of(at) -> int:
    return int(at.number_input[0].value)


def test_page_draws_a_face_and_new_face_changes_the_seed(tiny_weights):
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value.endswith("This face does not exist")
    first = seed_of(at)
    assert at.query_params["seed"] == str(first)
    seeds = set()
    for _ in range(3):  # a new random seed can collide with the old one once in 100,000 clicks
        at.button[0].click().run()
        assert not at.exception
        seeds.add(seed_of(at))
    assert seeds - {first}
    assert at.query_params["seed"] == str(seed_of(at))
    assert any("discriminator" in m.label.lower() for m in at.metric)


def test_nothing_below_the_face_is_sent_until_picked(tiny_weights):
    """By default only the face is drawn; a picked section (here the morph) and an opened lecture are sent."""
    at = run({"seed": "3"})
    assert len(at.get("image")) == 1  # the face
    assert "morph_a" in at.session_state and not [w for w in at.number_input if w.key == "morph_a"]
    assert "128 numbers" not in " ".join(e.value for e in at.markdown)
    at.session_state["gan_lecture"] = True
    at.session_state["gan_more"] = "Morph between two seeds"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "128 numbers" in " ".join(e.value for e in at.markdown)  # read from G.z_dim
    assert at.number_input(key="morph_a").value == 3
    assert len(at.get("image")) == 2  # the face and the morph
    at.session_state["gan_more"] = "16 more faces"
    at.run()
    assert [len(element.proto.imgs) for element in at.get("image")] == [1, 16]  # one element, 16 faces


def test_seed_and_truncation_come_from_the_url(tiny_weights):
    at = run({"seed": "1234", "trunc": "0.5"})
    assert not at.exception
    assert seed_of(at) == 1234 and at.slider[0].value == pytest.approx(0.5)
    assert not at.info  # good input, no notes


@pytest.mark.parametrize("query, seed, trunc, words", [
    ({"seed": "abc"}, None, 0.8, "not a whole number"),
    ({"seed": "-5"}, 0, 0.8, "outside"),
    ({"seed": "99999999999999999999"}, 2**31 - 1, 0.8, "outside"),
    ({"seed": "7", "trunc": "3"}, 7, 1.0, "outside"),
    ({"seed": "7", "trunc": "nan"}, 7, 0.8, "not a finite number"),
    ({"seed": "7", "trunc": "x"}, 7, 0.8, "not a number"),
    ({"seed": "7", "trunc": "0.33"}, 7, 0.35, "not offered here"),
])
def test_bad_url_input_gives_a_note_and_a_sensible_value(tiny_weights, query, seed, trunc, words):
    at = run(query)
    assert not at.exception, [e.message for e in at.exception]
    assert words in notes_text(at)
    if seed is not None:
        assert seed_of(at) == seed
    assert 0 <= seed_of(at) <= 2**31 - 1
    assert at.slider[0].value == pytest.approx(trunc)


def test_missing_weights_show_the_loader_message(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    at = run()
    st.cache_resource.clear()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "gan-faces" in errors and "python -m genlib.train gan" in errors


def test_morph_animation_renders(tiny_weights):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["seed"] = "3"
    at.session_state["gan_more"] = "Morph between two seeds"
    at.run()
    assert at.number_input(key="morph_a").value == 3 and at.number_input(key="morph_b").value == 4
    at.toggle(key="gan_animate").set_value(True).run()
    assert not at.exception
    assert at.slider(key="gan_t").value == pytest.approx(0.5)


def test_faces_are_served_as_encoded_here(tiny_weights, monkeypatch):
    """Faces go out as this page's own JPEG (quality 95, no chroma subsampling), passed through untouched:
    st.image given a PIL image or format "auto" would re-encode them at quality 90 with 4:2:0 chroma."""
    import io

    from PIL import Image, JpegImagePlugin
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served = []
    keep = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        served.append((path_or_data, mimetype))
        return keep(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["seed"] = "7"
    at.session_state["gan_more"] = "16 more faces"
    at.run()
    urls = [img.url for element in at.get("image") for img in element.proto.imgs]
    assert len(urls) == 1 + 16, urls  # the face and the grid
    faces = [Image.open(io.BytesIO(data)) for data, mimetype in served if mimetype == "image/jpeg"]
    assert len(faces) == 1 + 16 and len(served) == len(faces), [m for _, m in served]
    assert {face.size for face in faces} == {(320, 320), (128, 128)}
    assert all(JpegImagePlugin.get_sampling(face) == 0 for face in faces)  # 4:4:4: ours, not re-encoded


def test_the_download_is_a_png_made_on_click(tiny_weights):
    at = run({"seed": "7"})
    button = at.get("download_button")[0].proto
    assert button.label == "⬇️ Download PNG"
    assert button.deferred_file_id and not button.url  # nothing encoded until someone clicks
    assert button.ignore_rerun  # and downloading reruns nothing


FD_DLIB = {"generated": 7.5, "generated_per_seed_set": {"seeds 2000+": 7.4, "seeds 5000+": 7.6},
           "floor_train_vs_test": 0.78, "blurred_train_vs_test": {"0.5 px": 0.91, "1 px": 2.15, "2 px": 5.26},
           "position": "worse than photos blurred by 2 px (5.26)", "faces_per_set": 1152,
           "reference": "UTKFace test split, 1,166 faces",
           "hog_detector_hit_rate": {"generated": {"seeds 2000+": 0.99, "seeds 5000+": 1.0}, "test_faces": 0.98},
           "earlier_generations": [{"fd_dlib": 6.9, "images_seen": 140608}]}
LADDER = {"real_faces": 1.0, "degraded_real_faces": {"blur 0.5 px": 10.0, "blur 1 px": 20.0, "blur 2 px": 40.0},
          "generated": {"truncation_1": 16.8}, "position": {"truncation_1": "between blur 0.5 px and blur 1 px"}}
DETECTOR = {"accuracy": 0.992, "ci95": [0.985, 0.996], "train_images": 1166, "held_out_images": 1166}


@pytest.mark.parametrize("with_fd_dlib", [True, False])
def test_how_real_leads_with_the_face_model_trained_elsewhere(tiny_weights, with_fd_dlib):
    metrics = {"quality_ladder": LADDER, "detector": DETECTOR, "measured_with": "python -m genlib.evaluate_gan",
               "eval_set": "UTKFace test split", "eval_images": 1166,
               **({"fd_dlib": FD_DLIB} if with_fd_dlib else {})}
    zoo.update_card("gan-faces", weights_dir=tiny_weights, metrics=metrics)
    at = run({"seed": "3"})
    at.session_state["gan_more"] = "How real do they look?"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(e.value for e in at.markdown)
    verdicts = [text.find(words) for words in ("A face model trained elsewhere", "Can a machine tell?",
                                               "Sharpness and texture")]
    charts = len(at.get("plotly_chart"))
    if with_fd_dlib:
        assert -1 < verdicts[0] < verdicts[1] < verdicts[2], verdicts  # the strictest judge first
        assert "worse than photos blurred by 2 px" in text and "7.50" in text and charts == 2
        assert "less plausible than photos blurred by 2 px" in text  # the disagreement is said, not hidden
    else:
        assert verdicts[0] == -1 and -1 < verdicts[1] < verdicts[2] and charts == 1
        assert "no FD-dlib yet" in " ".join(e.value for e in at.caption)
