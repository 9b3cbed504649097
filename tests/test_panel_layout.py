"""The panel fits the terminal it is given: at every size no line is longer than the width and
no more lines than the height; the curve spans 20 Hz-20 kHz; health and keys stay visible.
And what the panel shows of the vocabulary: palette position, certainty marks, the nearest
words, the finder, the top of the term profile, and the fields other parts add."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from semeq_live.bench.ui import sample_status
from semeq_live.model import load_model
from semeq_live.ui.panel import WIDE_MIN, render_status

from .vocab_model import vocab_model_path

SIZES = [(80, 24), (80, 40), (100, 30), (60, 20), (70, 16), (110, 34), (120, 36), (160, 50),
         (200, 60), (109, 60), (200, 24)]


@pytest.fixture(scope="module")
def big_status(tmp_path_factory):
    """A running app's status with a 22-word vocabulary."""
    model = load_model(vocab_model_path(tmp_path_factory.mktemp("vocab")))
    return sample_status(model)


def screen(status: dict, width: int, height: int | None) -> list[str]:
    console = Console(file=io.StringIO(), width=width, height=height or 200, record=True,
                      color_system=None)
    console.print(render_status(status, width, height))
    return console.export_text().splitlines()


@pytest.mark.parametrize("width, height", SIZES)
def test_every_size_fits_with_curve_health_and_keys(big_status, width, height):
    lines = screen(big_status, width, height)
    assert len(lines) <= height, "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    text = "\n".join(lines)
    axis = [line.strip("│ ").split() for line in lines if line.strip("│ ").endswith("20k")]
    assert axis and "20" in axis[0] and {"100", "1k"} <= set(axis[0]), text  # 20 Hz to 20 kHz
    assert "q quit" in text and "xruns" in text.lower() and "dBFS" in text, text
    assert "A " in text or "Term A" in text
    if width >= WIDE_MIN[0] and height >= WIDE_MIN[1]:
        assert lines[0].startswith("╭") and lines[-1].startswith("╰")
        assert "high shelf" in text and "Input profile" in text
    else:
        assert lines[0].startswith("semantic EQ")


def test_height_is_used_for_a_taller_curve(big_status):
    def curve_rows(lines):
        return sum(1 for line in lines if "█" in line or "▒" in line or "━" in line
                   or line.strip().startswith(("+0", "-", "+")) and "dB" not in line)

    small, tall = screen(big_status, 80, 24), screen(big_status, 80, 40)
    assert len(tall) > len(small)
    assert curve_rows(tall) >= curve_rows(small)
    assert "LS " in "\n".join(tall)  # room for the band figures at 80x40


def test_vocabulary_on_the_panel(big_status):
    for width, height in ((80, 24), (160, 50)):
        text = "\n".join(screen(big_status, width, height))
        st = big_status["state"]
        pal = big_status["palette"]
        pos = pal["a_index"]
        expected = f"{'–' if pos is None else pos + 1}/{len(pal['terms'])}"
        assert f"{st['term_a']}" in text and expected in text, (expected, text)
        assert "now " in text and big_status["position"]["label"] in text
        near = big_status["nearest"][0][0]
        assert near in text
        assert "cap +6 dB holding 1.5 dB" in text  # engine's boost ceiling
        assert "ref music (built-in)" in text or "Reference  music (built-in)" in text
        assert "subsonic 20 Hz" in text or "20 Hz high-pass" in text


def test_profile_ranks_the_whole_vocabulary_and_marks_certainty(big_status):
    st = dict(big_status)
    st["estimate"] = {"confident": True, "reason": "ok",
                      "profile": [("sibilant", 0.9), ("harsh", 0.8), ("boomy", 0.7),
                                  ("present", 0.6), ("airy", 0.5), ("crisp", 0.4),
                                  ("bright", 0.3), ("thin", 0.2)]}
    wide = "\n".join(screen(st, 160, 50))
    for word in ("sibilant??", "harsh", "boomy?", "present", "airy", "crisp", "bright", "thin"):
        assert word in wide, word
    compact = "\n".join(screen(st, 80, 24))
    assert "input sibilant?? 0.90 · harsh 0.80 · boomy? 0.70" in compact


def test_finder_on_the_panel(big_status):
    st = dict(big_status)
    st["finder"] = {"slot": "b", "query": "ha", "selected": 1, "count": 3, "message": "",
                    "candidates": ["harsh", "hard", "shallow"]}
    for width, height in ((80, 24), (160, 50)):
        lines = screen(st, width, height)
        text = "\n".join(lines)
        assert "find term B: ha" in text and "3 matches" in text
        assert "▶hard" in text and "Esc cancel" in text and "q quit" not in text
        assert len(lines) <= height and max(map(len, lines)) <= width


def test_missing_optional_fields_are_fine(big_status):
    st = {k: v for k, v in big_status.items()
          if k not in ("palette", "nearest", "position", "vocab", "reference", "protection",
                       "finder")}
    st["settings"] = {k: v for k, v in st["settings"].items() if k != "boost_cap"}
    st["estimate"] = None
    for width, height in ((80, 24), (160, 50)):
        text = "\n".join(screen(st, width, height))
        assert "no estimate" in text and "cap" not in text.split("EQ ")[1].split("\n")[0]
