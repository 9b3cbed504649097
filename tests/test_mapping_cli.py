"""``semeq-live check-mapping`` and the demo generator, run as a user would."""

from __future__ import annotations

from semeq_live.cli import main
from semeq_live.midi import load_performance


def test_check_mapping_reports_every_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n"
                   "  - {target: term_a, type: note, number: 2, term: brigth}\n")
    rc = main(["check-mapping", "--terms", "warm,bright,clear,full", "generic", str(bad),
               "beatstep"])
    out, err = capsys.readouterr()
    assert rc == 2
    assert "terms checked against --terms (4)" in out
    assert f"{bad}:4: controls[1].term: unknown term 'brigth' (did you mean 'bright'?)" in err
    # the shipped palettes hold words beyond these four: refused, each with its file and line
    assert "generic.yaml:15: palette[1]: the model has no word 'cold'" in err
    assert "beatstep.yaml:17: palette[1]: the model has no word 'cold'" in err
    assert main(["check-mapping", "generic", "beatstep"]) == 0  # the bundled model has them
    assert capsys.readouterr().out.count("ok: ") == 2


def test_check_mapping_all_shipped_and_scene_files(tmp_path, capsys):
    scenes = tmp_path / "scenes.yaml"
    scenes.write_text("version: 1\nscenes:\n  intro: {alpha: 0.1, term_a: warm}\n")
    bad_scenes = tmp_path / "bad_scenes.yaml"
    bad_scenes.write_text("version: 1\nscenes:\n  intro: {alpha: 3}\n")
    rc = main(["check-mapping", "--no-terms", "generic", "nanokontrol2", "midimix",
               "launchcontrol_xl", "beatstep", "--scenes", str(scenes)])
    out, _ = capsys.readouterr()
    assert rc == 0 and out.count("ok: ") == 6 and "(1 scenes)" in out
    rc = main(["check-mapping", "--no-terms", "generic", "--scenes", str(bad_scenes)])
    _, err = capsys.readouterr()
    assert rc == 2 and f"{bad_scenes}:3: scenes.intro.alpha:" in err


def test_demo_generator_command(tmp_path, capsys):
    from semeq_live.midi.demo import main as demo_main

    out = tmp_path / "demo.mid"
    assert demo_main([str(out), "--seconds", "4"]) == 0
    events = load_performance(out)
    assert events and events[-1][0] <= 4.0
    assert {m.type for _, m in events} >= {"control_change", "note_on"}
