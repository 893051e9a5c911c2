"""``python -m utils.bench attacks``: every attack on the course's default target, in one run.

Trains the default target (MLP on 1,250 MNIST-5k members), then runs the loss and
modified-entropy threshold attacks, Shokri's shadow-model attack, offline and online LiRA, online
RMIA next to online LiRA (the same shadows), offline RMIA next to offline LiRA with the same few
reference models (``rmia-offline-4``, ``lira-offline-4``: LiRA with one global variance, its own
recommendation for few shadows) and, when adversarial-robustness-toolbox is installed, IBM ART's
`MembershipInferenceBlackBox`; prints
one markdown table (``auc | advantage | tpr@1%fpr | tpr@0.1%fpr | seconds``, then 95%
Clopper-Pearson intervals of the TPRs) and the course's target checks.

``seconds`` is the wall time an attack needs beyond the target itself, *including* training the
shadow models it uses (`shokri` and `lira-offline` share the same pool shadows; each row counts them).
RMIA's population records z are the attacker's pool.

Options: ``--seed``, ``--shadows`` (LiRA/Shokri shadow count), ``--references`` (the few reference
models of the offline RMIA/LiRA pair), ``--rmia-a`` (RMIA's offline correction, tuned on the reference
models by default), ``--art-shadows``, ``--art-epochs``,
``--epochs`` (all models), ``--threads`` (torch CPU threads), ``--sweep-k`` (Shokri's power as k
grows), ``--pooled`` (LiRA vs loss over 8 pooled targets, and RMIA on the same shadows, for honest TPR at 0.1% FPR).
``COURSE_FAST=1`` shrinks the shadow counts.

`headline` (for ``python -m utils.bench all``): online LiRA vs the loss attack on the same target,
with 32 candidate shadows (16 with ``COURSE_FAST=1``), via `lira_vs_loss`.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import softmax

from ..attacks import lira, pooled, report, rmia, shadow, threshold
from ..config import pick
from ..data import load_digits, make_membership_split
from ..inference import predict_logits
from ..metrics import auc, tpr_at_fpr
from ..models import MLP
from ..train import init_model, train_model

__all__ = ["LiraVsLoss", "headline", "lira_vs_loss", "main", "run_art_blackbox"]


def run_art_blackbox(target_model, shadow_models, X_pool, y_pool, X_eval, y_eval, *, epochs=100, seed=0):
    """IBM ART's `MembershipInferenceBlackBox` (default "nn" attack model) fitted on shadow outputs.

    The attack model is trained on the shadows' softmax outputs for their IN (member) and OUT
    (non-member) pool records -- the same attacker knowledge as Shokri's attack -- and applied to
    the target's outputs on the evaluation records.

    Returns
    -------
    ndarray of float64, shape (n_eval,)
        ART's membership probability; higher = more likely member.

    Raises
    ------
    ImportError
        When adversarial-robustness-toolbox is not installed.
    """
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox
    from art.estimators.classification import PyTorchClassifier

    n_classes = target_model.n_classes
    estimator = PyTorchClassifier(
        model=copy.deepcopy(target_model), loss=torch.nn.CrossEntropyLoss(),
        input_shape=(X_eval.shape[1],), nb_classes=n_classes,
    )
    probs = softmax(predict_logits(shadow_models, X_pool), axis=-1)  # (K, n_pool, C)
    in_mask = shadow_models.in_mask
    y_rep = np.broadcast_to(y_pool, in_mask.shape)
    attack = MembershipInferenceBlackBox(estimator, attack_model_type="nn", nn_model_epochs=epochs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # ART's attack network and its data loader use torch's global RNG
        attack.fit(x=None, y=y_rep[in_mask], test_x=None, test_y=y_rep[~in_mask],
                   pred=probs[in_mask], test_pred=probs[~in_mask])
        target_probs = softmax(predict_logits(target_model, X_eval), axis=-1)
        scores = attack.infer(None, y_eval, pred=target_probs, probabilities=True)
    return np.asarray(scores, dtype=np.float64).ravel()


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m utils.bench attacks", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="split and target seed (default 0)")
    parser.add_argument("--shadows", type=int, default=pick(default=64, fast=16), help="LiRA and Shokri shadows")
    parser.add_argument("--references", type=int, default=4,
                        help="reference models of rmia-offline-k and lira-offline-k")
    parser.add_argument("--rmia-a", default="tune",
                        help="RMIA's offline correction a in [0, 1], or 'tune' (default): rmia.tune_offline_a")
    parser.add_argument("--art-shadows", type=int, default=4, help="shadows whose outputs train ART's attack model")
    parser.add_argument("--art-epochs", type=int, default=pick(default=100, fast=20), help="ART attack-model epochs")
    parser.add_argument("--epochs", type=int, default=50, help="training epochs of every model (target recipe)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads for this run (default: torch's own choice); "
                             "1 is much faster on a busy machine")
    parser.add_argument("--sweep-k", action="store_true", help="also print Shokri's power for k = 2, 4, ... shadows")
    parser.add_argument("--pooled", action="store_true", help="also print LiRA vs loss over 8 pooled targets")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    threads = torch.get_num_threads()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        return _run(args)
    finally:
        torch.set_num_threads(threads)


def _run(args) -> int:
    recipe = dict(epochs=args.epochs, lr=3e-3, batch_size=128)
    digits = load_digits()
    X, y = digits.X, digits.y
    split = make_membership_split(y, seed=args.seed)
    idx, labels = split.evaluation()
    pool = split.attacker_pool
    X_eval, y_eval, X_pool, y_pool = X[idx], y[idx], X[pool], y[pool]

    clock = time.perf_counter
    start = clock()
    target = train_model(init_model(MLP, args.seed), X[split.members], y[split.members], seed=args.seed, **recipe)
    target_seconds = clock() - start
    results, seconds, notes = {}, {}, []

    for kind in ("loss", "modified-entropy"):
        start = clock()
        results[kind] = threshold.score(target, X_eval, y_eval, kind=kind)
        seconds[kind] = clock() - start

    # Shadows on halves of the attacker's own pool: OUT for every candidate (Shokri, offline LiRA).
    start = clock()
    pool_shadows = shadow.train_shadow_models(
        MLP, X_pool, y_pool, n_shadows=args.shadows, seed=1000 + args.seed, **recipe
    )
    pool_seconds = clock() - start
    start = clock()
    attack = shadow.fit_attack_models(pool_shadows, X_pool, y_pool, seed=args.seed)
    results["shokri"] = shadow.score(target, X_eval, y_eval, shadows=attack)
    seconds["shokri"] = pool_seconds + clock() - start
    start = clock()
    results["lira-offline"] = lira.score_offline(target, X_eval, y_eval, shadows=pool_shadows)
    seconds["lira-offline"] = pool_seconds + clock() - start

    # A few reference models on halves of the pool, shared by offline RMIA and offline LiRA.
    k = args.references
    start = clock()
    references = shadow.train_shadow_models(MLP, X_pool, y_pool, n_shadows=k, seed=5000 + args.seed, **recipe)
    reference_seconds = clock() - start
    start = clock()
    results[f"lira-offline-{k}"] = lira.score_offline(target, X_eval, y_eval, shadows=references, global_variance=True)
    seconds[f"lira-offline-{k}"] = reference_seconds + clock() - start
    start = clock()
    a = rmia.tune_offline_a(references, X_pool, y_pool) if args.rmia_a == "tune" else float(args.rmia_a)
    results[f"rmia-offline-{k}"] = rmia.score_offline(target, X_eval, y_eval, shadows=references,
                                                      population=(X_pool, y_pool), a=a)
    seconds[f"rmia-offline-{k}"] = reference_seconds + clock() - start

    # Shadows on halves of the candidates: each candidate IN for half of them, like the target (online LiRA).
    start = clock()
    online_shadows = shadow.train_shadow_models(
        MLP, X_eval, y_eval, n_shadows=args.shadows, seed=2000 + args.seed, **recipe
    )
    online_seconds = clock() - start
    for name, global_variance in (("lira-online", False), ("lira-online-global", True)):
        start = clock()
        results[name] = lira.score_online(target, X_eval, y_eval, shadows=online_shadows,
                                          global_variance=global_variance)
        seconds[name] = online_seconds + clock() - start
    start = clock()
    name = f"rmia-online-{args.shadows}"
    results[name] = rmia.score_online(target, X_eval, y_eval, shadows=online_shadows, population=(X_pool, y_pool))
    seconds[name] = online_seconds + clock() - start

    start = clock()
    try:
        art_shadows = shadow.train_shadow_models(
            MLP, X_pool, y_pool, n_shadows=args.art_shadows, seed=3000 + args.seed, **recipe
        )
        results["art-blackbox"] = run_art_blackbox(target, art_shadows, X_pool, y_pool, X_eval, y_eval,
                                                   epochs=args.art_epochs, seed=args.seed)
        seconds["art-blackbox"] = clock() - start
    except ImportError as exc:
        notes.append(f"art-blackbox: skipped, adversarial-robustness-toolbox is not installed ({exc}). "
                     "Install it with: pip install adversarial-robustness-toolbox==1.20.1")

    table = report.compare_attacks(results, labels=labels, seconds=seconds)
    if "art-blackbox" not in results:
        table.loc[len(table), "attack"] = "art-blackbox"
    print(f"## Attacks on the default target (MNIST-5k 14x14 MLP, {len(split.members)} members, "
          f"{len(split.nonmembers)} non-members, split seed {args.seed})\n")
    print(report.format_markdown(table))
    print()
    train_logits = predict_logits(target, X[split.members])
    test_logits = predict_logits(target, X[split.nonmembers])
    train_acc = np.mean(train_logits.argmax(1) == y[split.members])
    test_acc = np.mean(test_logits.argmax(1) == y[split.nonmembers])
    print(f"- target: train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f}, trained in {target_seconds:.1f} s")
    print(f"- torch CPU threads: {torch.get_num_threads()}")
    print(f"- {args.shadows} pool shadows (shokri, lira-offline) trained in {pool_seconds:.1f} s; "
          f"{args.shadows} candidate shadows (lira-online, rmia-online) trained in {online_seconds:.1f} s; "
          f"{k} pool reference models (lira-offline-{k}, rmia-offline-{k}; RMIA a={a}"
          f"{', tuned on the references' if args.rmia_a == 'tune' else ''}) "
          f"trained in {reference_seconds:.1f} s")
    if "art-blackbox" in results:
        art = results["art-blackbox"]
        ties = int(np.sum(art == art.max()))
        tie_note = (f"; {ties} of {len(art)} records tie at its top score {art.max():.6g} (float32 probabilities), "
                    "which hides its low-FPR end") if ties > 1 else ""
        print(f"- art-blackbox: ART 'nn' attack model ({args.art_epochs} epochs) on {args.art_shadows} pool shadows' "
              f"outputs{tie_note}")
    for note in notes:
        print(f"- {note}")
    _print_checks(table, args)
    if args.sweep_k:
        _print_sweep(pool_shadows, pool_seconds, target, X_pool, y_pool, X_eval, y_eval, labels, args)
    if args.pooled:
        _print_pooled(X_eval, y_eval, X_pool, y_pool, recipe, args)
    return 0


def _row(table, name):
    return table.set_index("attack").loc[name]


def _print_checks(table, args):
    loss, online = _row(table, "loss"), _row(table, "lira-online")
    ratio = online["tpr@1%fpr"] / max(loss["tpr@1%fpr"], 1e-12)
    checks = [
        (f"lira-online TPR@1%FPR is {ratio:.1f}x the loss attack's (target >= 5x)", ratio >= 5),
        (f"lira-online AUC - loss AUC = {online['auc'] - loss['auc']:+.3f} (target >= 0.05)",
         online["auc"] - loss["auc"] >= 0.05),
        (f"shokri AUC - loss AUC = {_row(table, 'shokri')['auc'] - loss['auc']:+.3f} (target > 0)",
         _row(table, "shokri")["auc"] > loss["auc"]),
    ]
    k = args.references
    rmia_k, lira_k = _row(table, f"rmia-offline-{k}"), _row(table, f"lira-offline-{k}")
    checks.append((
        f"rmia-offline-{k} vs lira-offline-{k} (same {k} reference models): TPR@1%FPR {rmia_k['tpr@1%fpr']:.3f} vs "
        f"{lira_k['tpr@1%fpr']:.3f}, AUC {rmia_k['auc']:.3f} vs {lira_k['auc']:.3f} (target: RMIA >= LiRA on both)",
        rmia_k["tpr@1%fpr"] >= lira_k["tpr@1%fpr"] and rmia_k["auc"] >= lira_k["auc"],
    ))
    art = _row(table, "art-blackbox")
    if not np.isnan(art["auc"]):
        best = table.set_index("attack").drop(index="art-blackbox")
        best_name = best["tpr@1%fpr"].idxmax()
        top = best.loc[best_name]
        checks.append((f"best attack ({best_name}) vs art-blackbox: TPR@1%FPR {top['tpr@1%fpr']:.3f} vs "
                       f"{art['tpr@1%fpr']:.3f}, AUC {top['auc']:.3f} vs {art['auc']:.3f}; seconds "
                       f"{top['seconds']:.1f} vs {art['seconds']:.1f}",
                       top["tpr@1%fpr"] >= art["tpr@1%fpr"] and top["auc"] >= art["auc"]))
    print("\nChecks:")
    for text, ok in checks:
        print(f"- [{'pass' if ok else 'FAIL'}] {text}")


def _print_sweep(pool_shadows, pool_seconds, target, X_pool, y_pool, X_eval, y_eval, labels, args):
    results, seconds = {}, {}
    k = 2
    while k <= len(pool_shadows):
        start = time.perf_counter()
        attack = shadow.fit_attack_models(shadow.select_models(pool_shadows, range(k)), X_pool, y_pool, seed=args.seed)
        results[f"shokri k={k}"] = shadow.score(target, X_eval, y_eval, shadows=attack)
        seconds[f"shokri k={k}"] = pool_seconds * k / len(pool_shadows) + time.perf_counter() - start
        k *= 2
    print("\n## Shokri's attack as the number of shadow models k grows (same target)\n")
    print(report.format_markdown(report.compare_attacks(results, labels=labels, seconds=seconds)))


def _print_pooled(X_eval, y_eval, X_pool, y_pool, recipe, args):
    experiment = pooled.train_pooled(
        MLP, X_eval, y_eval, n_shadows=args.shadows, n_targets=8, seed=4000 + args.seed, **recipe
    )
    results = {name: pooled.pooled_scores(experiment, name) for name in ("loss", "lira-offline", "lira-online")}
    shadows = experiment.shadows()
    a = rmia.tune_offline_a(shadows, X_eval, y_eval) if args.rmia_a == "tune" else float(args.rmia_a)
    for name in ("rmia-offline", "rmia-online"):  # population z: the attacker's pool
        options = {"a": a} if name == "rmia-offline" else {}
        results[name] = pooled.pooled_scores(experiment, name, population=(X_pool, y_pool), **options)
    table = report.compare_attacks(results)
    print(f"\n## Pooled: 8 targets x {len(y_eval)} candidates against {args.shadows} shadows "
          f"({int(table['n_nonmembers'][0])} non-members); {8 + args.shadows} models trained in "
          f"{experiment.train_seconds:.1f} s\n")
    print(report.format_markdown(table, columns=["auc", "advantage", "tpr@1%fpr", "tpr@0.1%fpr"]))


@dataclass(frozen=True)
class LiraVsLoss:
    """Online LiRA and the loss attack on one target (`lira_vs_loss`).

    Attributes
    ----------
    n_shadows, epochs : int
        Candidate shadows of online LiRA, and training epochs of every model.
    lira_auc, lira_tpr, loss_auc, loss_tpr : float
        Each attack's ROC AUC and its TPR at 1% FPR (fractions), over the target's
        evaluation records (1,250 members, 1,250 non-members).
    seconds : float
        Wall time of the whole measurement (target, shadows, both attacks), in seconds.
    """

    n_shadows: int
    epochs: int
    lira_auc: float
    lira_tpr: float
    loss_auc: float
    loss_tpr: float
    seconds: float


def lira_vs_loss(n_shadows: int, *, epochs: int = 50, seed: int = 0) -> LiraVsLoss:
    """Online LiRA with `n_shadows` candidate shadows vs the loss attack, on the default target.

    The same target, split, recipe and shadow seeds as the ``lira-online`` and ``loss`` rows of
    ``python -m utils.bench attacks --shadows n_shadows --epochs epochs --seed seed``, without the
    other attacks. About 6 s for 32 shadows x 50 epochs on one busy CPU core (the shadows dominate).
    """
    start = time.perf_counter()
    recipe = dict(epochs=epochs, lr=3e-3, batch_size=128)
    digits = load_digits()
    X, y = digits.X, digits.y
    split = make_membership_split(y, seed=seed)
    idx, labels = split.evaluation()
    X_eval, y_eval = X[idx], y[idx]
    target = train_model(init_model(MLP, seed), X[split.members], y[split.members], seed=seed, **recipe)
    loss = threshold.score(target, X_eval, y_eval, kind="loss")
    shadows = shadow.train_shadow_models(MLP, X_eval, y_eval, n_shadows=n_shadows, seed=2000 + seed, **recipe)
    online = lira.score_online(target, X_eval, y_eval, shadows=shadows)
    return LiraVsLoss(
        n_shadows=n_shadows, epochs=epochs,
        lira_auc=auc(labels, online), lira_tpr=tpr_at_fpr(labels, online, 0.01),
        loss_auc=auc(labels, loss), loss_tpr=tpr_at_fpr(labels, loss, 0.01),
        seconds=time.perf_counter() - start,
    )


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): LiRA's power vs the loss attack's.

    `lira_vs_loss` with 32 candidate shadows (16 with ``COURSE_FAST=1``), 50 epochs, seed 0: online
    LiRA's TPR at 1% FPR and AUC, then the loss attack's. A regression in attack power (or in the
    trainer the shadows share) moves LiRA's figures while the loss attack's stay put. About 6 s
    (4 s fast) on a busy 2-core machine.
    """
    r = lira_vs_loss(pick(default=32, fast=16))
    k = r.n_shadows
    return [(f"lira-online ({k} shadows) TPR at 1% FPR (fraction)", r.lira_tpr),
            (f"lira-online ({k} shadows) AUC (0.5 = chance)", r.lira_auc),
            ("loss attack TPR at 1% FPR (fraction)", r.loss_tpr),
            ("loss attack AUC (0.5 = chance)", r.loss_auc)]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(None))
