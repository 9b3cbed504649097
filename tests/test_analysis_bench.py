"""The ``analysis`` bench section runs end to end and reports its figures next to baselines."""

from semeq_live.bench import run_section, sections


def test_analysis_bench_section_quick():
    assert "analysis" in sections()
    r = run_section("analysis", quick=True)
    assert r["updates"] == 60 and r["confident_updates"] >= 50
    for key in ("push", "baseline_block_copy", "update", "engine", "baseline_fft_2s",
                "baseline_fft_segment"):
        assert r[key]["p50_us"] > 0
    assert r["cpu_load_pct_of_one_core"] > 0 and r["wall_load_pct_of_one_core"] > 0
    assert r["engine_decode_calls"] <= r["updates"] + r["warmup_s"] * r["updates_per_s"]
    # The engine runs for new estimates only: at 10 updates a second every update brings new audio
    # for auto-gain (a refresh), so at most once per update.
    assert r["engine"]["n"] <= r["updates"]
    assert 5 <= r["segments_per_s"] <= 8  # half-overlapping 0.34 s segments at 48 kHz
    assert r["cpu_per_second_in_segment_ffts"] > 0
    # The soundcheck path is timed too, and its estimates are real (a learned reference fits the
    # programme, so every measured update has one).
    assert r["learned_reference_confident_updates"] == r["updates"]
    assert r["learned_reference_update_and_engine"]["p50_us"] > 0
    assert r["cpu_load_pct_of_one_core_learned_reference"] > 0
