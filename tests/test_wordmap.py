"""The word map: coordinates on the traverse plane, nearest words, "between warm and soft", the
character map of ``semeq-live terms --map`` and the panel's vocabulary fields."""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.model import load_model
from semeq_live.model.wordmap import WordMap
from semeq_live.ui.mapview import draw_map, map_points, render_map_text
from semeq_live.ui.vocab import VocabularyStatus

from .vocab_model import EXTRA_WORDS, vocab_model_path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(vocab_model_path(tmp_path_factory.mktemp("vocab")))


@pytest.fixture(scope="module")
def wm(model):
    return WordMap(model)


def test_coordinates_are_the_traverse_plane(model, wm):
    # the bundled words plus the hand-written ones (which replace a bundled word of the same name)
    assert len(wm.terms) == len(model.terms) == len(set(load_model().terms) | set(EXTRA_WORDS))
    z = model.centroid("warm")
    # turning traverse X by +0.5 moves the point half a unit right on the map, Y likewise up
    moved = model.traverse(z, 0.5, -0.25)
    np.testing.assert_allclose(wm.project(moved) - wm.project(z), [0.5, -0.25], atol=1e-12)
    np.testing.assert_allclose(wm.position("warm"), wm.project(z))
    np.testing.assert_allclose(wm.project(model.latent_mean), [0.0, 0.0], atol=1e-12)
    # the words spread over the plane (not all piled up at one spot)
    assert np.ptp(wm.xy[:, 0]) > 0.5 and np.ptp(wm.xy[:, 1]) > 0.5


def test_nearest_words_in_the_full_latent(model, wm):
    near = wm.nearest(model.centroid("harsh"), 3)
    assert near[0] == ("harsh", 0.0)
    assert [d for _, d in near] == sorted(d for _, d in near)
    # distances are latent distances in profile_scale units, not map distances
    d = np.linalg.norm(model.centroid("harsh") - model.centroid(near[1][0])) / model.profile_scale
    assert near[1][1] == pytest.approx(d)
    brute = sorted(model.terms, key=lambda t: np.linalg.norm(model.centroid(t)
                                                             - model.centroid("harsh")))
    assert [t for t, _ in near] == brute[:3]


def test_describe_at_between_near_and_far(model, wm):
    assert wm.describe(model.centroid("soft")) == "at soft"
    # halfway along the morph of two neighbours: between them
    a, b = "soft", wm.nearest(model.centroid("soft"), 2)[1][0]
    assert wm.describe(model.morph_latent(a, b, 0.5)) in (f"between {a} and {b}",
                                                          f"between {b} and {a}")
    # a point off the line of its two nearest words: near both
    za, zb = model.centroid(a), model.centroid(b)
    off = 0.5 * (za + zb) + 1.2 * np.linalg.norm(zb - za) * _unit_orthogonal(zb - za, za)
    text = wm.describe(off)
    assert text.startswith(("near ", "far from", "between")), text
    # a point far outside the vocabulary says so
    far = model.latent_mean + 40 * model.profile_scale * model.axes[0]
    assert wm.describe(far).startswith("far from the words (nearest ")


def _unit_orthogonal(v, seed):
    u = np.random.default_rng(0).standard_normal(v.size)
    u -= u.dot(v) / v.dot(v) * v
    return u / np.linalg.norm(u)


def test_a_morph_is_described_by_the_words_it_passes(model, wm):
    labels = [wm.describe(model.morph_latent("bassy", "airy", a)) for a in np.linspace(0, 1, 21)]
    assert labels[0] == "at bassy" and labels[-1] == "at airy"
    assert any(label.startswith(("between", "near")) for label in labels[1:-1])


def test_map_drawing_places_words_without_overlap(wm):
    points = map_points(wm)
    d = draw_map(points, 80, 20)
    assert len(d.rows) == 20 and all(len(r) == 80 for r in d.rows)
    assert len(d.placed) + len(d.hidden) == len(points)
    cells = set()
    for label, (row, col) in d.placed.items():
        assert d.rows[row][col:col + len(label)] == label
        span = {(row, c) for c in range(col - 1, col + len(label) + 1)}  # one blank either side
        assert not span & cells, label
        cells |= {(row, c) for c in range(col, col + len(label))}
    # the most certain words get the spot nearest their point
    assert "warm" in d.placed and "bright" in d.placed


def test_a_crowded_map_lists_what_did_not_fit():
    points = [(f"word{i}", 0.0, 0.0) for i in range(40)]  # all on one spot
    d = draw_map(points, 40, 6, axes=False)
    assert d.hidden and len(d.placed) + len(d.hidden) == 40
    assert d.placed["word0"][0] == 3 or abs(d.placed["word0"][0] - 2.5) <= 1


def test_marker_is_drawn_and_never_covered(wm, model):
    points = map_points(wm)
    x, y = wm.position("warm")
    d = draw_map(points, 60, 14, marker=(x, y))
    r, c = d.marker_cell
    assert d.rows[r][c] == "●"
    assert "warm" in d.placed and d.placed["warm"] != (r, c)


def test_terms_map_command_fits_80_columns_and_shows_every_word(model, capsys):
    from semeq_live.cli import main

    assert main(["terms", "--map", "--model", str(model.path), "--width", "80"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "traverse X" in out and "+" in out
    wm = WordMap(model)
    for t in model.terms:  # every word is on the map or listed under it, with its mark
        label = t + wm.mark(t)
        assert any(label in line.split() or f"{label} (" in line for line in lines), t
    assert "sibilant??" in out and "?? = low certainty" in out  # 3 people: marked
    assert "boomy?" in out  # 9 people: medium


def test_terms_map_json_and_width_check(model, capsys):
    import json

    from semeq_live.cli import main

    assert main(["terms", "--map", "--json", "--model", str(model.path)]) == 0
    words = json.loads(capsys.readouterr().out)["words"]
    assert {w["term"] for w in words} == set(model.terms)
    assert main(["terms", "--map", "--width", "20"]) != 0


def test_render_map_text_with_the_bundled_model():
    text = render_map_text(load_model(), 80, 16)
    assert all(len(line) <= 80 for line in text.splitlines())
    for word in ("warm", "bright"):
        assert word in text


def test_vocabulary_status_fields(model):
    palette = ["warm", "bassy", "soft", "harsh", "airy"]
    vs = VocabularyStatus(model, palette)
    state = {"term_a": "soft", "term_b": "clear"}
    z = model.morph_latent("soft", "harsh", 0.5)
    f = vs.fields(state, z)
    assert f["palette"] == {"terms": palette, "a_index": 2, "b_index": None}
    assert f["nearest"][0][0] in model.terms and len(f["nearest"]) == 3
    assert f["position"]["label"] == WordMap(model).describe(z)
    x, y = WordMap(model).project(z)
    assert (f["position"]["x"], f["position"]["y"]) == pytest.approx((x, y))
    assert f["vocab"]["marks"]["sibilant"] == "??" and f["vocab"]["size"] == len(model.terms)
    assert [p[0].rstrip("?") for p in f["vocab"]["map"]] == WordMap(model).by_certainty(palette)
    assert vs.fields(state, z)["nearest"] is f["nearest"]  # unchanged target: cached answer
    assert vs.fields(state, None)["nearest"] == []
