#!/usr/bin/python3
"""Reference values of RetinaGrade's grading metrics from scikit-learn 1.2.1 (Debian).

    /usr/bin/python3 sklearn_metrics_fixture.py > sklearn-metrics.json

Cases: random predictions, a grade absent from the reference, a grade never predicted,
a single reference class, and a single class everywhere. Where scikit-learn warns that a
metric is undefined (a zero denominator) the expected value is null, and RetinaGrade must
return NaN. ECE has no scikit-learn function; it is computed with numpy from its definition
(10 equal-width bins of the top-grade probability).
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, cohen_kappa_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support, recall_score, precision_score, roc_auc_score)

rng = np.random.default_rng(2026)


def case(name, truth, probabilities):
    truth = np.asarray(truth)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    predicted = probabilities.argmax(axis=1)
    labels = list(range(5))
    out = {"name": name, "truth": truth.tolist(), "probabilities": probabilities.tolist()}
    expected = {}
    cm = confusion_matrix(truth, predicted, labels=labels)
    out["confusion"] = cm.tolist()
    expected["accuracy"] = accuracy_score(truth, predicted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    for g in labels:
        expected[f"precision_grade_{g}"] = None if cm[:, g].sum() == 0 else float(p[g])
        expected[f"recall_grade_{g}"] = None if cm[g, :].sum() == 0 else float(r[g])
        expected[f"f1_grade_{g}"] = None if cm[:, g].sum() == 0 or cm[g, :].sum() == 0 else float(f[g])
        expected[f"support_grade_{g}"] = float(s[g])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected["macro_f1"] = float(f1_score(truth, predicted, average="macro", zero_division=0))
        expected["weighted_f1"] = float(f1_score(truth, predicted, average="weighted", zero_division=0))
        q = cohen_kappa_score(truth, predicted, weights="quadratic")
        l = cohen_kappa_score(truth, predicted, weights="linear")
    expected["quadratic_kappa"] = None if np.isnan(q) else float(q)
    expected["linear_kappa"] = None if np.isnan(l) else float(l)
    score = probabilities[:, 2:].sum(axis=1)
    referable = (truth >= 2).astype(int)
    expected["referable_auc"] = None if referable.min() == referable.max() else float(roc_auc_score(referable, score))
    called = (score >= 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected["referable_sensitivity_threshold"] = None if referable.sum() == 0 else float(recall_score(referable, called))
        expected["referable_specificity_threshold"] = None if (1 - referable).sum() == 0 else float(recall_score(1 - referable, 1 - called))
        expected["referable_ppv_threshold"] = None if called.sum() == 0 else float(precision_score(referable, called))
        expected["referable_npv_threshold"] = None if (1 - called).sum() == 0 else float(precision_score(1 - referable, 1 - called))
    confidence = probabilities.max(axis=1)
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = 0.0
    for b in range(10):
        mask = bins == b
        if mask.any():
            ece += mask.sum() * abs((predicted[mask] == truth[mask]).mean() - confidence[mask].mean())
    expected["ece"] = ece / len(truth)
    out["expected"] = expected
    return out


def random_probabilities(n, sharpen):
    logits = rng.normal(size=(n, 5)) * sharpen
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


cases = []
truth = rng.integers(0, 5, size=200)
probabilities = random_probabilities(200, 1.0)
probabilities[np.arange(200), truth] += rng.uniform(0, 0.8, size=200)
probabilities /= probabilities.sum(axis=1, keepdims=True)
cases.append(case("random-200", truth, probabilities))

truth = rng.choice([0, 1, 2, 4], size=60)
cases.append(case("grade-3-absent", truth, random_probabilities(60, 2.0)))

probabilities = random_probabilities(50, 2.0)
probabilities[:, 1] = 0
probabilities /= probabilities.sum(axis=1, keepdims=True)
cases.append(case("grade-1-never-predicted", rng.integers(0, 5, size=50), probabilities))

cases.append(case("single-reference-class", np.full(30, 2), random_probabilities(30, 1.5)))

probabilities = np.full((20, 5), 0.05)
probabilities[:, 0] = 0.8
cases.append(case("single-class-everywhere", np.zeros(20, dtype=int), probabilities))

print(json.dumps({"sklearn": sklearn.__version__, "cases": cases}))
