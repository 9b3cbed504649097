"""Train, evaluate and export the semantic model in one command.

    python -m training.train --data ../shared/data/safe_eq.csv --out semeq_live/model/data/default.npz

Steps: load and clean the data, split by user, train the encoder/decoder (response-domain
reconstruction + supervised contrastive loss on class-balanced batches), compute term centroids and
principal axes, train the curve encoder against the frozen encoder, evaluate the *exported* numpy
model on the validation users, write the ``.npz`` and check that numpy matches torch.

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

from . import data as D
from .curve_encoder import CURVE_SCALE_DB, CURVE_STEPS, train_curve_encoder
from .curves import prepare_curve
from .sampling import balanced_weights
from .evaluate import SAMPLE_RATE, evaluate, evaluate_curve_encoder
from .losses import supervised_contrastive
from .nets import Decoder, Encoder, ProjectionHead, ResidualMLP, param_coding
from .response import response_db_torch

LOSS_GRID = log_frequency_grid(64)   # response-domain loss
CURVE_GRID = log_frequency_grid(256)  # exported per-term curves (interpolated at run time)
RECON_SCALE_DB = 6.0
PARAM_LOSS_WEIGHT = 0.1
CENTROID_STEPS = 200
CENTROID_ANCHOR = 1.0  # weight of ||c - latent mean||^2 while matching the term's mean curve
QUICK_STEPS = 120


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, type=Path,
                   help="safe_eq.csv (developer layout) or the original SAFEEqualiserUserData.csv")
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
    if args.steps < 1 or args.curve_steps < 1 or args.batch < 2:
        p.error("--steps, --curve-steps must be >= 1 and --batch >= 2")
    return args


def _progress(disable: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[info]}"), disable=disable)


def train_autoencoder(args, train: D.EQRows, labels, rng, progress):
    enc = Encoder(args.latent)
    dec = Decoder(args.latent, args.decoder_width, args.decoder_hidden)
    head = ProjectionHead(args.latent)
    params = torch.tensor(train.params, dtype=torch.float32)
    target_curves = torch.tensor(response_db(train.params, LOSS_GRID, SAMPLE_RATE))
    label_t = torch.tensor(labels)
    weights = balanced_weights(labels)
    opt = torch.optim.AdamW([*enc.parameters(), *dec.parameters(), *head.parameters()],
                            lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps,
                                                pct_start=0.1)
    task = progress.add_task("encoder/decoder", total=args.steps, info="")
    for step in range(args.steps):
        idx = torch.as_tensor(rng.choice(len(params), size=args.batch, p=weights))
        p = params[idx]
        z = enc(p)
        p_hat = dec(z)
        c_hat = response_db_torch(p_hat.double(), LOSS_GRID, SAMPLE_RATE)
        curve_loss = torch.mean((c_hat - target_curves[idx]) ** 2) / RECON_SCALE_DB ** 2
        param_loss = torch.mean((dec.coding.encode(p_hat) - enc.coding.encode(p)) ** 2)
        con = supervised_contrastive(head(z), label_t[idx], args.tau)
        loss = curve_loss.float() + PARAM_LOSS_WEIGHT * param_loss + args.contrastive_weight * con
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 20 == 0 or step == args.steps - 1:
            rms = float(torch.sqrt(curve_loss.detach())) * RECON_SCALE_DB
            progress.update(task, info=f"curve rms {rms:.2f} dB  supcon {float(con.detach()):.3f}")
        progress.advance(task)
    return enc.eval(), dec.eval()


def term_centroids(dec, z_train, labels, train: D.EQRows, vocab, steps=CENTROID_STEPS):
    """One latent per term whose *decoded curve* matches the term's mean training curve.

    Start at the term's mean latent and move it (Adam) to minimise the dB error between the
    decoded EQ's curve and the mean curve of the term's training settings, anchored to the mean
    latent so the centroid stays inside its cluster (term profile, traverse). The plain latent
    mean decodes to a curve that can sit a few tenths of a dB off the term's average sound.
    """
    dec64 = _double(dec)
    for prm in dec64.parameters():
        prm.requires_grad_(False)
    terms = np.array(train.terms)
    out = np.empty((len(vocab), z_train.shape[1]))
    for k, term in enumerate(vocab):
        target = torch.tensor(response_db(train.params[terms == term], LOSS_GRID, SAMPLE_RATE).mean(0))
        anchor = torch.tensor(z_train[labels == k].mean(0))
        z = anchor.clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=0.02)
        for _ in range(steps):
            curve = response_db_torch(dec64(z), LOSS_GRID, SAMPLE_RATE)
            loss = torch.mean((curve - target) ** 2) + CENTROID_ANCHOR * torch.sum((z - anchor) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        out[k] = z.detach().numpy()
    return out


def _double(module):
    import copy

    return copy.deepcopy(module).double()


def latent_summary(z: np.ndarray, centroids: np.ndarray, labels: np.ndarray, vocab: list[str]):
    """``latent_mean``, principal ``axes`` [2, L], ``axis_scale`` [2], ``profile_scale``."""
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
    labelled = labels >= 0
    spread = np.sqrt(np.mean(np.sum((z[labelled] - centroids[labels[labelled]]) ** 2, axis=1)))
    return mean, axes, scale.std(0), float(spread)


def build_arrays(rows_all, train, val, vocab, labels, z_train, centroids, enc, dec, cenc):
    mean, axes, axis_scale, profile_scale = latent_summary(z_train, centroids, labels, vocab)
    train_terms = np.array(train.terms)
    grid_curves = response_db(train.params, CURVE_GRID, SAMPLE_RATE)
    band_curves = response_db(train.params, ANALYSIS_FREQS, SAMPLE_RATE)
    val_counts = Counter(val.terms)
    width = max(len(t) for t in vocab)
    coding = param_coding()
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "semeq_version": np.array(semeq_live.__version__),
        "data_sha256": np.array(rows_all.sha256),
        "coding.is_log": coding[0],
        "coding.lo": coding[1],
        "coding.hi": coding[2],
        "terms": np.array(vocab, dtype=f"<U{width}"),
        "term_counts": np.array([np.sum(train_terms == t) for t in vocab], dtype=np.int64),
        "term_val_counts": np.array([val_counts[t] for t in vocab], dtype=np.int64),
        "centroids": centroids,
        "curve_grid": CURVE_GRID,
        "term_curves_grid": np.stack([grid_curves[train_terms == t].mean(0) for t in vocab]),
        "analysis_freqs": ANALYSIS_FREQS.copy(),
        "term_curves": np.stack([band_curves[train_terms == t].mean(0) for t in vocab]),
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
        raw = D.load_safe_csv(args.data)
        rows = D.clean(raw)
        tr_idx, val_idx = D.split_by_user(rows, args.val_fraction, args.seed, args.min_count)
    except D.DataError as exc:
        print(f"training: error: {exc}", file=sys.stderr)
        return 2
    train, val = rows.subset(tr_idx), rows.subset(val_idx)
    vocab = D.vocabulary(train.terms, args.min_count)
    if len(vocab) < 2:
        print(f"training: error: fewer than two terms have {args.min_count}+ training rows",
              file=sys.stderr)
        return 2
    term_id = {t: i for i, t in enumerate(vocab)}
    labels = np.array([term_id.get(t, -1) for t in train.terms])
    print(f"data: {len(raw)} rows -> {len(rows)} after clean-up ({'; '.join(rows.notes)})")
    print(f"split by user: {len(train)} training rows ({len(set(train.users))} users), "
          f"{len(val)} validation rows ({len(set(val.users))} users); "
          f"terms with >= {args.min_count} rows: {', '.join(vocab)}")

    with _progress(args.no_progress) as progress:
        enc, dec = train_autoencoder(args, train, labels, rng, progress)
        with torch.no_grad():
            z_train = _double(enc)(torch.tensor(train.params)).numpy()
        centroids = term_centroids(dec, z_train, labels, train, vocab,
                                   steps=CENTROID_STEPS if not args.quick else 20)
        cenc = train_curve_encoder(args, enc, dec, train, labels, centroids, rng, progress)

    arrays = build_arrays(raw, train, val, vocab, labels, z_train, centroids, enc, dec, cenc)
    model = model_from_arrays(arrays)
    metrics = evaluate(model, train, val)
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
    print(json.dumps(metrics, indent=1))
    print(f"wrote {args.out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
