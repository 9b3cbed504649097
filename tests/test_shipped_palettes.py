"""The shipped mappings' palettes with the bundled model: every word known, a useful size, and
contrasting words next to each other (what one step of a knob or button does must be heard)."""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.dsp.design import response_db
from semeq_live.midi import load_mapping, shipped_mappings
from semeq_live.model import load_model

FREQS = np.geomspace(25.0, 18000.0, 96)


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def curves(model):
    return {t: response_db(model.morph(t), FREQS, model.sample_rate) for t in model.terms}


def difference_db(curves, a: str, b: str) -> float:
    """RMS difference of two words' decoded EQ curves, level removed (auto-gain takes that)."""
    d = curves[a] - curves[b]
    return float(np.sqrt(np.mean((d - d.mean()) ** 2)))


@pytest.mark.parametrize("path", shipped_mappings(), ids=lambda p: p.stem)
def test_each_shipped_palette_pairs_contrasting_words(path, model, curves):
    mapping = load_mapping(path, known_terms=model.terms)  # every word known to the model
    palette = mapping.palette
    assert palette is not None and 12 <= len(palette) <= 24, palette
    assert len(palette) % 2 == 0  # pairs: a word, then its opposite
    words = list(model.terms)
    typical = np.median([difference_db(curves, a, b)
                         for i, a in enumerate(words) for b in words[i + 1:]])
    for a, b in zip(palette[::2], palette[1::2]):
        # each pair is further apart in sound than two words picked at random
        assert difference_db(curves, a, b) > 1.2 * typical, (a, b, typical)
    infos = {t: model.term_info(t) for t in palette}
    certain = sum(info.certainty != "low" for info in infos.values())
    assert certain >= 0.75 * len(palette), {t: i.certainty for t, i in infos.items()}


def test_controller_palettes_share_a_core(model):
    """The knob controllers step through the same words (a performer moving between them
    finds the same palette); the encoder and keyboard mappings extend it."""
    by_name = {p.stem: load_mapping(p).palette for p in shipped_mappings()}
    core = by_name["nanokontrol2"]
    assert by_name["midimix"] == core and by_name["launchcontrol_xl"] == core
    for extended in ("generic", "beatstep"):
        assert by_name[extended][:len(core)] == core and len(by_name[extended]) > len(core)
