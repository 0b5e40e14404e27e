#!/usr/bin/python3
"""Peer for the metrics benchmark: a numpy bootstrap loop over scikit-learn 1.2.1 metrics.

Usage: sklearn_peer.py PREDICTIONS RESAMPLES REPEATS
Generates predictions like `retinagrade bench metrics` (two images per patient), then per
resample computes, with scikit-learn, accuracy, quadratic and linear kappa, macro and
weighted F1, per-grade precision/recall/F1, referable AUC and sensitivity/specificity at
0.5; prints the median time of the repeats.
"""
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, cohen_kappa_score, f1_score, precision_recall_fscore_support,
                             recall_score, roc_auc_score)

n, resamples, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(2026)
truth = rng.integers(0, 5, size=n)
probabilities = rng.random((n, 5))
probabilities[np.arange(n), truth] += 0.3
probabilities /= probabilities.sum(axis=1, keepdims=True)
predicted = probabilities.argmax(axis=1)
patients = np.arange(n) // 2
members = [np.where(patients == p)[0] for p in range(patients.max() + 1)]
warnings.simplefilter("ignore")


def metrics(index):
    t, p, prob = truth[index], predicted[index], probabilities[index]
    score = prob[:, 2:].sum(axis=1)
    referable = (t >= 2).astype(int)
    called = (score >= 0.5).astype(int)
    return [accuracy_score(t, p), cohen_kappa_score(t, p, weights="quadratic"), cohen_kappa_score(t, p, weights="linear"),
            f1_score(t, p, average="macro", zero_division=0), f1_score(t, p, average="weighted", zero_division=0),
            *precision_recall_fscore_support(t, p, labels=range(5), zero_division=0)[:3],
            roc_auc_score(referable, score), recall_score(referable, called), recall_score(1 - referable, 1 - called)]


times = []
for r in range(repeats + 1):
    start = time.perf_counter()
    generator = np.random.default_rng(7)
    values = []
    for _ in range(resamples):
        drawn = generator.integers(0, len(members), size=len(members))
        values.append(metrics(np.concatenate([members[d] for d in drawn])))
    kappas = [v[1] for v in values]
    low, high = np.percentile(kappas, [2.5, 97.5])
    if r > 0:
        times.append(time.perf_counter() - start)
        print(f"repeat {r}: {times[-1]:.2f} s (quadratic kappa interval {low:.4f}-{high:.4f})")
print(f"median: {statistics.median(times):.2f} s for {n} predictions and {resamples} resamples")
