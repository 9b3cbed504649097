"""Train, evaluate and export the semantic model in one command.

    python -m training.train --data ../shared/data/safe_eq.csv \
        --crowd ../shared/data/socialeq_words.csv --out semeq_live/model/data/default.npz \
        --card semeq_live/model/data/MODEL_CARD.md

Steps: load and clean the SAFE data, split it by user; load, check and filter the crowd words;
choose the vocabulary and put the crowd's curves on SAFE's scale (``training.vocabulary``); fit each
crowd word's curve with a 5-band SAFE-layout setting (``training.fit5``) and turn the fits into
training rows; train the encoder/decoder (response-domain reconstruction + supervised contrastive
loss on SAFE's class-balanced rows as before; the crowd rows are added to each batch and teach the
decoder); fit one centroid per word to its curve; principal axes; train the curve encoder against the frozen encoder; evaluate the *exported*
numpy model on SAFE's validation users and every word against its crowd curve; write the ``.npz``
and check that numpy matches torch. Without ``--crowd`` the model has SAFE's words only.

Deterministic for a given ``--seed`` (torch and numpy seeded; identical for any ``--threads``).
``--quick`` trains on a small budget (CI: the whole pipeline in a few seconds; the model is not good).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

import semeq_live
from semeq_live.dsp import log_frequency_grid, response_db
from semeq_live.model import FORMAT_VERSION, load_model, model_from_arrays
from semeq_live.model.store import write_model
from semeq_live.params import ANALYSIS_FREQS

from . import crowd as C
from . import data as D
from .curve_encoder import CURVE_SCALE_DB, CURVE_STEPS, train_curve_encoder
from .curves import prepare_curve
from .evaluate import SAMPLE_RATE, evaluate, evaluate_curve_encoder
from .fidelity import crowd_fidelity
from .fit5 import FIT_RESTARTS, FIT_STEPS, fit_settings
from .sampling import batch_sampler
from .vocabulary import CROWD_ROWS_PER_WORD, SAFE_LEAD_ROWS, build_vocabulary, crowd_training_rows
from .losses import supervised_contrastive
from .nets import Decoder, Encoder, ProjectionHead, ResidualMLP, param_coding
from .profile import people_spread
from .response import response_db_torch

LOSS_GRID = log_frequency_grid(64)   # response-domain loss
CURVE_GRID = log_frequency_grid(256)  # exported per-term curves (interpolated at run time)
RECON_SCALE_DB = 6.0
PARAM_LOSS_WEIGHT = 0.1
FIT_GRID = np.geomspace(25.0, 18000.0, 64)  # crowd fits: the range the fidelity is judged on
CENTROID_STEPS = 200
# Weight of ||c - latent mean||^2 while matching the term's curve: enough to keep a centroid in its
# cluster, little enough that it reaches its curve (1.0 left SAFE-led words ~0.05 dB short).
CENTROID_ANCHOR = 0.3
QUICK_STEPS = 120
QUICK_FIT = {"restarts": 2, "steps": 60}
QUICK_CROWD_ROWS = 8
CROWD_BATCH = 96  # crowd rows per batch, on top of --batch SAFE rows: ~2 per word
CROWD_WEIGHT = 1.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path,
                   help="safe_eq.csv (developer layout) or the original SAFEEqualiserUserData.csv")
    p.add_argument("--crowd", type=Path, metavar="socialeq_words.csv",
                   help="SocialEQ/Audealize crowd vocabulary (word, contributors, agreement, "
                        "g00..g39); without it the model knows SAFE's words only")
    p.add_argument("--out", required=True, type=Path, help="model file to write (.npz)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=2000, help="encoder/decoder training steps")
    p.add_argument("--curve-steps", type=int, default=CURVE_STEPS, help="curve encoder training steps")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--latent", type=int, default=32)
    # The decoder runs live, once per control change: 64/128 reconstructs as well as 128/256 on
    # this data (median 0.29 vs 0.30 dB) and decodes ~20 % faster in numpy.
    p.add_argument("--decoder-width", type=int, default=64,
                   help="decoder residual width (default 64; it runs live: cost ~ width x hidden)")
    p.add_argument("--decoder-hidden", type=int, default=128,
                   help="decoder block hidden size (default 128)")
    p.add_argument("--contrastive-weight", type=float, default=0.1)
    p.add_argument("--tau", type=float, default=0.1, help="contrastive temperature")
    p.add_argument("--min-count", type=int, default=4,
                   help="training rows a term needs to get a centroid (default 4)")
    p.add_argument("--min-contributors", type=int, default=C.MIN_CONTRIBUTORS,
                   help=f"people a crowd word needs (default {C.MIN_CONTRIBUTORS})")
    p.add_argument("--safe-lead-rows", type=int, default=SAFE_LEAD_ROWS,
                   help="SAFE training rows a word both sources know needs for its centroid to "
                        f"follow SAFE rather than the crowd (default {SAFE_LEAD_ROWS})")
    p.add_argument("--crowd-rows", type=int, default=CROWD_ROWS_PER_WORD,
                   help=f"training rows per crowd word: its fit plus jittered copies "
                        f"(default {CROWD_ROWS_PER_WORD})")
    p.add_argument("--crowd-batch", type=int, default=CROWD_BATCH,
                   help="crowd rows added to each batch of --batch SAFE rows "
                        f"(default {CROWD_BATCH})")
    p.add_argument("--crowd-weight", type=float, default=CROWD_WEIGHT,
                   help="weight of the crowd rows' losses next to SAFE's (default "
                        f"{CROWD_WEIGHT})")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--quick", action="store_true",
                   help=f"small budget ({QUICK_STEPS} steps each): checks the pipeline, not quality")
    p.add_argument("--card", type=Path, metavar="MODEL_CARD.md",
                   help="also write the model card (Markdown) for the exported model")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.quick:
        args.steps = min(args.steps, QUICK_STEPS)
        args.curve_steps = min(args.curve_steps, QUICK_STEPS)
        args.crowd_rows = min(args.crowd_rows, QUICK_CROWD_ROWS)
    if args.steps < 1 or args.curve_steps < 1 or args.batch < 2:
        p.error("--steps, --curve-steps must be >= 1 and --batch >= 2")
    if args.crowd_rows < 1 or args.crowd_batch < 2 or args.min_contributors < 1:
        p.error("--crowd-rows and --min-contributors must be >= 1, --crowd-batch >= 2")
    return args


def _progress(disable: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[info]}"), disable=disable)


def train_autoencoder(args, train: D.EQRows, labels, draw, rng, progress):
    enc = Encoder(args.latent)
    dec = Decoder(args.latent, args.decoder_width, args.decoder_hidden)
    head = ProjectionHead(args.latent)
    params = torch.tensor(train.params, dtype=torch.float32)
    target_curves = torch.tensor(response_db(train.params, LOSS_GRID, SAMPLE_RATE))
    label_t = torch.tensor(labels)
    opt = torch.optim.AdamW([*enc.parameters(), *dec.parameters(), *head.parameters()],
                            lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps,
                                                pct_start=0.1)
    task = progress.add_task("encoder/decoder", total=args.steps, info="")
    for step in range(args.steps):
        idx = torch.as_tensor(draw(rng))
        p = params[idx]
        z = enc(p)
        n_safe = args.batch
        if len(idx) > n_safe:
            # The crowd rows teach the decoder only: the latent's geometry (the encoder) stays
            # learnt from people's own settings. The crowd's rows are one agreed curve per word
            # with synthetic spread; letting them pull the encoder cost warm/bright separation.
            # The encoder still places each crowd word where its EQ belongs among SAFE's.
            z = torch.cat([z[:n_safe], z[n_safe:].detach()])
        p_hat = dec(z)
        c_hat = response_db_torch(p_hat.double(), LOSS_GRID, SAMPLE_RATE)
        row_curve = torch.mean((c_hat - target_curves[idx]) ** 2, 1) / RECON_SCALE_DB ** 2
        row_param = torch.mean((dec.coding.encode(p_hat) - enc.coding.encode(p)) ** 2, 1)
        # SAFE's rows weigh exactly what they did before the crowd came (their own mean); the
        # crowd rows add their mean times --crowd-weight. Contrastive: SAFE's words only.
        proj, lab = head(z[:n_safe]), label_t[idx[:n_safe]]
        curve_loss = row_curve[:n_safe].mean()
        param_loss = row_param[:n_safe].mean()
        con = supervised_contrastive(proj, lab, args.tau)
        if len(idx) > n_safe:
            curve_loss = curve_loss + args.crowd_weight * row_curve[n_safe:].mean()
            param_loss = param_loss + args.crowd_weight * row_param[n_safe:].mean()
        loss = curve_loss.float() + PARAM_LOSS_WEIGHT * param_loss + args.contrastive_weight * con
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 0 or step == args.steps - 1:
            rms = float(torch.sqrt(row_curve.detach().mean())) * RECON_SCALE_DB
            progress.update(task, info=f"curve rms {rms:.2f} dB  supcon {float(con.detach()):.3f}")
        progress.advance(task)
    return enc.eval(), dec.eval()


def term_centroids(dec, z_train, labels, targets: np.ndarray, steps=CENTROID_STEPS):
    """One latent per term whose *decoded curve* matches the term's curve ``targets [T, LOSS_GRID]``.

    Start at the term's mean latent and move it (Adam) to minimise the dB error between the
    decoded EQ's curve and the term's curve (SAFE's mean curve, or the crowd's on SAFE's scale),
    anchored to the mean latent so the centroid stays inside its cluster (term profile, traverse).
    The plain latent mean decodes to a curve that can sit a few tenths of a dB off. All terms at
    once: the losses are independent and Adam is element-wise, so this is the per-term fit.
    """
    dec64 = _double(dec)
    for prm in dec64.parameters():
        prm.requires_grad_(False)
    anchor = torch.tensor(np.stack([z_train[labels == k].mean(0) for k in range(len(targets))]))
    target = torch.tensor(targets)
    z = anchor.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.02)
    for _ in range(steps):
        curve = response_db_torch(dec64(z), LOSS_GRID, SAMPLE_RATE)
        loss = torch.mean((curve - target) ** 2, 1) + CENTROID_ANCHOR * torch.sum((z - anchor) ** 2, 1)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    return z.detach().numpy()


def _double(module):
    import copy

    return copy.deepcopy(module).double()


def latent_summary(z: np.ndarray, centroids: np.ndarray, labels: np.ndarray, vocab: list[str],
                   spread_rows: np.ndarray):
    """``latent_mean``, principal ``axes`` [2, L], ``axis_scale`` [2], ``profile_scale``.

    ``profile_scale`` is the RMS distance of the ``spread_rows`` (labelled rows of real people:
    SAFE's) to their own centroid; the crowd rows' spread is synthetic, so it does not count.
    """
    mean = z.mean(0)
    _, _, vt = np.linalg.svd(z - mean, full_matrices=False)
    axes = vt[:2].copy()
    if {"warm", "bright"} <= set(vocab):  # axis 0 points from warm towards bright
        d = centroids[vocab.index("bright")] - centroids[vocab.index("warm")]
        if axes[0] @ d < 0:
            axes[0] = -axes[0]
    for k in range(axes.shape[0]):  # otherwise: largest component positive (a fixed convention)
        if k > 0 or not {"warm", "bright"} <= set(vocab):
            if axes[k][np.argmax(np.abs(axes[k]))] < 0:
                axes[k] = -axes[k]
    scale = (z - mean) @ axes.T
    rows = spread_rows & (labels >= 0)
    if not rows.any():
        rows = labels >= 0
    spread = np.sqrt(np.mean(np.sum((z[rows] - centroids[labels[rows]]) ** 2, axis=1)))
    return mean, axes, scale.std(0), float(spread)


def build_arrays(raw, val, vocab, rows, labels, is_safe, z_train, centroids, enc, dec, cenc):
    terms = vocab.terms
    mean, axes, axis_scale, profile_scale = latent_summary(z_train, centroids, labels, terms, is_safe)
    val_counts = Counter(val.terms)
    width = max(len(t) for t in terms)
    coding = param_coding()
    infos = vocab.infos
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "semeq_version": np.array(semeq_live.__version__),
        "data_sha256": np.array(raw.sha256),
        "coding.is_log": coding[0],
        "coding.lo": coding[1],
        "coding.hi": coding[2],
        "terms": np.array(terms, dtype=f"<U{width}"),
        "term_sources": np.array([i.source_label for i in infos]),
        "term_lead": np.array([i.lead for i in infos]),
        "term_counts": np.array([i.safe_rows for i in infos], dtype=np.int64),
        "term_safe_users": np.array([i.safe_users for i in infos], dtype=np.int64),
        "term_val_counts": np.array([val_counts[t] if i.safe_rows else 0
                                     for t, i in zip(terms, infos)], dtype=np.int64),
        "term_contributors": np.array([i.contributors for i in infos], dtype=np.int64),
        "term_agreement": np.array([i.agreement or 0.0 for i in infos], dtype=np.float64),
        "centroids": centroids,
        "curve_grid": CURVE_GRID,
        "term_curves_grid": vocab.target_curves(CURVE_GRID, SAMPLE_RATE),
        "analysis_freqs": ANALYSIS_FREQS.copy(),
        "term_curves": vocab.target_curves(ANALYSIS_FREQS, SAMPLE_RATE),
        "latent_mean": mean,
        "axes": axes,
        "axis_scale": axis_scale,
        "profile_scale": np.array(profile_scale),
        "curve_scale": np.array(CURVE_SCALE_DB),
        "sample_rate": np.array(SAMPLE_RATE),
        "metrics": np.array("{}"),
        "training": np.array("{}"),
    }
    for name, net in (("encoder", enc.mlp), ("decoder", dec.mlp), ("curve_encoder", cenc.mlp)):
        # float32 is what was trained: storing it loses nothing and halves the file.
        arrays.update({k: v.astype(np.float32) for k, v in net.arrays(name).items()})
    return arrays


def export_check(model, enc, dec, cenc, params: np.ndarray) -> dict:
    """Largest difference between the numpy runtime and the float64 torch nets (same weights)."""
    arrays = {}
    for name, net in (("encoder", enc.mlp), ("decoder", dec.mlp), ("curve_encoder", cenc.mlp)):
        arrays.update({k: v.astype(np.float32) for k, v in net.arrays(name).items()})
    e64 = _double(enc)
    e64.mlp = ResidualMLP.from_arrays(arrays, "encoder")
    d64 = Decoder.from_arrays(arrays)
    c64 = _double(cenc)
    c64.mlp = ResidualMLP.from_arrays(arrays, "curve_encoder")
    with torch.no_grad():
        z_t = e64(torch.tensor(params)).numpy()
        p_t = d64(torch.tensor(z_t)).numpy()
        dev = response_db(params, ANALYSIS_FREQS, SAMPLE_RATE)
        x = torch.tensor(prepare_curve(dev, CURVE_SCALE_DB))
        zc_t = c64(x).numpy()
    return {
        "encode_max_abs": float(np.max(np.abs(model.encode(params) - z_t))),
        # dB absolute, Hz and Q relative; the runtime decoder computes in float32 (as trained)
        "decode_max_rel": float(np.max(np.abs(model.decode(z_t) - p_t) / np.maximum(np.abs(p_t), 1))),
        "encode_curve_max_abs": float(np.max(np.abs(model.encode_curve(dev) - zc_t))),
    }


def load_data(args):
    """SAFE rows (cleaned, split by user) and the selected crowd words; ``DataError`` on bad input."""
    raw = D.load_safe_csv(args.data)
    rows = D.clean(raw)
    tr_idx, val_idx = D.split_by_user(rows, args.val_fraction, args.seed, args.min_count)
    crowd = None
    if args.crowd is not None:
        crowd = C.select_words(C.load_crowd_csv(args.crowd), args.min_contributors)
    return raw, rows, rows.subset(tr_idx), rows.subset(val_idx), crowd


def fit_crowd_words(vocab, args) -> dict[str, np.ndarray]:
    """Each crowd word's least-squares 5-band fit to its curve on SAFE's scale."""
    if vocab.crowd is None:
        return {}
    words = list(vocab.crowd.words)
    targets = np.stack([vocab.crowd_curve(w, FIT_GRID, SAMPLE_RATE) for w in words])
    budget = QUICK_FIT if args.quick else {"restarts": FIT_RESTARTS, "steps": FIT_STEPS}
    fits = fit_settings(targets, FIT_GRID, SAMPLE_RATE, seed=args.seed, **budget)
    return dict(zip(words, fits))


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    # One intra-op thread by default: the matrices are tiny (a second thread gains ~10 % on an idle
    # machine), and on a shared, oversubscribed machine spinning OpenMP threads made training 3x
    # slower. Results are identical for any thread count.
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    try:
        raw, rows, train, val, crowd = load_data(args)
        vocab = build_vocabulary(train, crowd, args.min_count, SAMPLE_RATE, args.safe_lead_rows)
    except D.DataError as exc:
        print(f"training: error: {exc}", file=sys.stderr)
        return 2
    terms = vocab.terms
    if len(terms) < 2:
        print(f"training: error: fewer than two terms (SAFE terms need {args.min_count}+ training "
              f"rows, crowd words {args.min_contributors}+ contributors)", file=sys.stderr)
        return 2
    print(f"data: {len(raw)} rows -> {len(rows)} after clean-up ({'; '.join(rows.notes)})")
    print(f"split by user: {len(train)} training rows ({len(set(train.users))} users), "
          f"{len(val)} validation rows ({len(set(val.users))} users)")
    if crowd is not None:
        print(f"crowd: {Path(crowd.source).name}: {len(crowd)} words kept ({'; '.join(crowd.notes)}); "
              f"depth factor {vocab.depth:.3f} (fitted on "
              f"{', '.join(vocab.shared) or 'nothing'})")
    for note in vocab.notes:
        print(f"vocabulary: {note}")
    print(f"vocabulary: {len(terms)} words: {', '.join(terms)}")

    fits = fit_crowd_words(vocab, args)
    safe_labels = vocab.safe_labels()
    if fits:
        # Own generator: adding the crowd leaves SAFE's draws exactly as they were.
        crowd_rows, crowd_labels = crowd_training_rows(vocab, fits, np.random.default_rng([args.seed, 2]),
                                                       args.crowd_rows)
    else:
        crowd_rows = D.EQRows(np.empty((0, 13)), [], [])
        crowd_labels = np.empty(0, dtype=np.int64)
    all_rows = D.EQRows(np.concatenate([train.params, crowd_rows.params]),
                        train.terms + crowd_rows.terms, train.users + crowd_rows.users)
    labels = np.concatenate([safe_labels, crowd_labels])
    is_safe = np.arange(len(all_rows)) < len(train)
    draw = batch_sampler(safe_labels, crowd_labels, args.batch, args.crowd_batch, args.seed)

    with _progress(args.no_progress) as progress:
        enc, dec = train_autoencoder(args, all_rows, labels, draw, rng, progress)
        with torch.no_grad():
            z_train = _double(enc)(torch.tensor(all_rows.params)).numpy()
        centroids = term_centroids(dec, z_train, labels, vocab.target_curves(LOSS_GRID, SAMPLE_RATE),
                                   steps=CENTROID_STEPS if not args.quick else 20)
        # The curve encoder learns from people's own settings, their mixes and the morph paths
        # between SAFE's words, as before the crowd came: real inputs' characters look like
        # those. Morph paths between the 50 crowd words (mild, many alike) shrank its reading of
        # a strong bright or warm towards the middle (adaptive warm on bright input: 2.4 dB of
        # correction instead of 3.7). It still reads crowd-like curves: its target is the
        # encoder, which places every word's EQ.
        safe_led = np.array([lead == "safe" for lead in vocab.lead])
        cenc = train_curve_encoder(args, enc, dec, train, safe_labels, centroids[safe_led], rng,
                                   progress)

    arrays = build_arrays(raw, val, vocab, all_rows, labels, is_safe, z_train, centroids, enc, dec,
                          cenc)
    # The term profile's scale: people's own spread around the words SAFE leads (training.profile).
    arrays["profile_spread"], _ = people_spread(
        train.params, train.terms, [t for t, lead in zip(terms, vocab.lead) if lead == "safe"],
        SAMPLE_RATE)
    model = model_from_arrays(arrays)
    metrics = evaluate(model, train, val)
    metrics["crowd"] = crowd_fidelity(model, vocab, fits, SAMPLE_RATE, val)
    metrics["curve_encoder"] = evaluate_curve_encoder(model, val)
    metrics["export_check"] = export_check(model, enc, dec, cenc, val.params)
    seconds = time.perf_counter() - t0
    arrays["metrics"] = np.array(json.dumps(metrics))
    arrays["training"] = np.array(json.dumps({
        "command": "python -m training.train " + " ".join(shlex.quote(a) for a in
                                                          (sys.argv[1:] if argv is None else argv)),
        "data": Path(raw.source).name, "data_rows": len(raw), "clean_rows": len(rows),
        "train_rows": len(train), "val_rows": len(val), "train_users": len(set(train.users)),
        "val_users": len(set(val.users)), "cleaning": rows.notes, "seed": args.seed,
        "crowd": None if crowd is None else {
            "file": Path(crowd.source).name, "sha256": crowd.sha256, "words_kept": len(crowd),
            "selection": crowd.notes, "min_contributors": args.min_contributors,
            "rows_per_word": args.crowd_rows, "batch_rows": args.crowd_batch,
            "loss_weight": args.crowd_weight,
            "depth_factor": vocab.depth, "safe_lead_rows": args.safe_lead_rows,
            "vocabulary_notes": vocab.notes},
        "steps": args.steps, "curve_steps": args.curve_steps, "batch": args.batch, "lr": args.lr,
        "latent": args.latent, "decoder_width": args.decoder_width,
        "decoder_hidden": args.decoder_hidden, "contrastive_weight": args.contrastive_weight, "tau": args.tau,
        "min_count": args.min_count, "val_fraction": args.val_fraction, "quick": args.quick,
        "seconds": round(seconds, 1), "torch": torch.__version__,
    }))
    write_model(args.out, arrays)
    exported = load_model(args.out)  # what was written loads and validates
    if args.card:
        from .card import render

        args.card.write_text(render(exported))
    print(json.dumps({k: v for k, v in metrics.items() if k != "crowd"}, indent=1))
    _print_crowd_summary(metrics["crowd"])
    print(f"wrote {args.out} in {seconds:.0f} s")
    return 0


def _print_crowd_summary(crowd: dict) -> None:
    if not crowd:
        return
    print(f"crowd fidelity ({crowd['n_words']} words): correlation median {crowd['corr_median']:.3f}, "
          f"min {crowd['corr_min']:.3f} ({crowd['corr_min_word']}); level-free RMS median "
          f"{crowd['rms_db_median']:.2f} dB, max {crowd['rms_db_max']:.2f} dB "
          f"({crowd['rms_db_max_word']}); depth factor {crowd['depth_factor']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
