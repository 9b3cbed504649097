"""Render a model card (Markdown) from a model file: data, split, metrics next to baselines, how to
reproduce. ``python -m training.card MODEL.npz > MODEL_CARD.md``; ``training.train --card`` does it
after training.
"""

from __future__ import annotations

import sys

from semeq_live.model import load_model

from .evaluate import FIDELITY_TIE_DB, GOALS


def _f(x, digits=2):
    return f"{x:.{digits}f}"


def reading_notes(model) -> str:
    """Why some goals are not met, in the model's own numbers."""
    m = model.metrics
    fid, sep = m["fidelity"], m["separation"].get("warm_bright", {})
    parts = []
    if {"warm", "bright"} <= set(fid):
        w, b = fid["warm"], fid["bright"]
        parts.append(
            "The fidelity goal (1 dB) sits below how much people disagree: the training users' "
            f"mean curves are {_f(w['curve_average'])} dB (warm) and {_f(b['curve_average'])} dB "
            "(bright) away from the validation users' mean curves. The decoded centroids are fitted "
            "to the training users' mean curve, so they land as close as curve averaging does "
            f"({_f(w['model'])} / {_f(b['model'])} dB), in one 5-band setting. The plugin-style "
            f"parameter average is {_f(w['param_average'])} / {_f(b['param_average'])} dB: for "
            "this validation set it happens to land nearer on one term and further on the other.")
    if sep:
        parts.append(
            f"Likewise warm/bright accuracy: even 5 nearest neighbours on the full curves reach only "
            f"{_f(sep['curve_knn5_accuracy'], 3)} on the validation users (the latent centroids "
            f"{_f(sep['model_accuracy'], 3)}), so a part of their warm settings look like other "
            "people's bright ones. A split by user is the honest test for a tool that meets new "
            "engineers, and the validation set is dominated by one person: read these figures as "
            "one person's agreement with everyone else.")
    return "\n\n".join(parts)


def render(model, notes: str | None = None) -> str:
    if notes is None:
        notes = reading_notes(model)
    m, t = model.metrics, model.training
    rec = m["reconstruction"]
    lines = [
        "# semeq-live default semantic model",
        "",
        "Turns words engineers use for EQ (\"warm\", \"bright\", ...) into 5-band SAFE EQ settings: a",
        "residual MLP encoder (13 -> 128 -> 256 -> 128 -> 32, tanh latent), a residual decoder "
        f"({model.latent_dim} -> {t.get('decoder_width', '?')} -> {t.get('decoder_hidden', '?')} -> "
        f"{t.get('decoder_width', '?')} -> 13)",
        "with bounded heads, latent centroids per term, and a curve encoder that reads an input's",
        "deviation curve (28 third-octave bands) into the same latent. Runs in numpy at run time.",
        "",
        "## Data",
        "",
        f"- `{t['data']}` (SAFE-DB equaliser settings, Stables et al., ISMIR 2014), sha256",
        f"  `{model.data_sha256}`.",
        f"- {t['data_rows']} rows -> {t['clean_rows']} after clean-up: " + "; ".join(t["cleaning"]) + ".",
        f"- Split by user (one person's near-duplicates never straddle it): {t['train_rows']} training "
        f"rows from {t['train_users']} users, {t['val_rows']} validation rows from {t['val_users']} "
        "users (the most prolific person that fits 20 % plus occasional users).",
        f"- Terms need {t['min_count']}+ training rows: "
        + ", ".join(f"{term} ({model.counts[term]})" for term in model.terms) + ".",
        "  Warm and bright dominate; batches are class-balanced (weight count^-1/2).",
        "",
        "## Metrics (validation users, RMS dB of the EQ curve, 96 log points 20 Hz-20 kHz)",
        "",
        "Baselines from the same training rows: per-term averaging of parameters (what the SAFE",
        "plugin does) and per-term averaging of response curves.",
        "",
        "| metric | model | param average | curve average | goal |",
        "|---|---|---|---|---|",
        f"| reconstruction median / p90 (dB) | {_f(rec['model']['median_db'])} / "
        f"{_f(rec['model']['p90_db'])} | {_f(rec['param_average']['median_db'])} / "
        f"{_f(rec['param_average']['p90_db'])} | {_f(rec['curve_average']['median_db'])} / "
        f"{_f(rec['curve_average']['p90_db'])} | median <= {GOALS['reconstruction_median_db']} |",
    ]
    for term, f in m["fidelity"].items():
        lines.append(f"| fidelity {term} (n={f['n_val']}, dB) | {_f(f['model'])} | "
                     f"{_f(f['param_average'])} | {_f(f['curve_average'])} | "
                     f"<= {GOALS['fidelity_db']}, as good as curve average |")
    for name, s in m["separation"].items():
        label = "warm/bright" if name == "warm_bright" else "warm/bright rows, all centroids"
        lines.append(f"| nearest-centroid accuracy, {label} (n={s['n']}) | "
                     f"{_f(s['model_accuracy'], 3)} | {_f(s['param_average_accuracy'], 3)} | "
                     f"{_f(s['curve_average_accuracy'], 3)} | "
                     + (f">= {GOALS['warm_bright_accuracy']}" if name == "warm_bright" else "-") + " |")
        if name != "warm_bright":
            continue
        lines.append(f"| silhouette, {label} | {_f(s['model_silhouette'], 3)} | "
                     f"{_f(s['param_silhouette'], 3)} | {_f(s['curve_silhouette'], 3)} | - |")
    sm = m["smoothness"]
    lines += [
        f"| largest curve change per alpha step, warm->bright ({sm['steps']} steps, dB) | "
        f"{_f(sm['model_max_step_db'], 3)} | {_f(sm['param_average_max_step_db'], 3)} | "
        f"{_f(sm['curve_average_max_step_db'], 3)} | <= {GOALS['max_alpha_step_db']} |",
        "",
        "Goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in m["goals"].items())
        + f". \"As good as\" allows {FIDELITY_TIE_DB} dB.",
        "",
    ]
    ce = m["curve_encoder"]
    lines += [
        "Curve encoder (validation settings read back from their analysis-band curves; level-free",
        "RMS dB between the re-decoded EQ and the true one; nearest-centroid warm/bright accuracy):",
        "",
        "| input | curve error median / p90 (dB) | latent RMS | warm/bright accuracy |",
        "|---|---|---|---|",
    ]
    for name in ("clean", "noisy"):
        c = ce[name]
        lines.append(f"| {name} | {_f(c['curve_db']['median_db'])} / {_f(c['curve_db']['p90_db'])} | "
                     f"{_f(c['latent_rms'], 3)} | {_f(c.get('warm_bright_accuracy', float('nan')), 3)} |")
    lines += [
        "",
        "Noisy = plus a random spectral tilt, broad bumps, per-band jitter and a level offset",
        "(`training/curves.py`).",
        "",
    ]
    if notes:
        lines += ["## Reading the numbers", "", notes.strip(), ""]
    lines += [
        "## Reproduce",
        "",
        "```",
        t["command"],
        "```",
        "",
        f"Seed {t['seed']}, {t['steps']} encoder/decoder steps and {t['curve_steps']} curve-encoder "
        f"steps of batch {t['batch']}, {t['seconds']:.0f} s on this machine (torch {t['torch']}, "
        "1 thread). Deterministic for a given seed.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m training.card MODEL.npz", file=sys.stderr)
        return 2
    sys.stdout.write(render(load_model(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
