"""Fitting and applying the logistic regression (scikit-learn), deterministic given the
data: rows in id order, features sorted by name, a stratified holdout split and the
solver with a fixed ``random_state``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from leadbase.scoring.predictive import features

RANDOM_STATE = 0
TOP_FACTORS = 10  # the model's strongest, reported at training
LEAD_FACTORS = 3  # per lead


@dataclass(frozen=True)
class Fitted:
    spec: list[dict[str, Any]]  # each feature with its "weight"
    intercept: float
    auc: float
    metrics: dict[str, Any]
    factors: list[dict[str, Any]]


def fit(rows: list[dict[str, Any]], spec: list[dict[str, Any]], *,
        holdout: float) -> Fitted:
    """Fit on the labelled ``rows`` (id order) over ``spec``; the holdout AUC is measured
    on ``holdout`` of them, kept out of the fit."""
    x = np.array([features.vector(spec, r) for r in rows], dtype=np.float64)
    y = np.array([features.label(r["status"]) for r in rows], dtype=np.int64)
    x_fit, x_test, y_fit, y_test = train_test_split(
        x, y, test_size=holdout, random_state=RANDOM_STATE, stratify=y)
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=RANDOM_STATE)
    model.fit(x_fit, y_fit)
    auc = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    weights = [float(w) for w in model.coef_[0]]
    fitted = [{**s, "weight": round(w, 6)} for s, w in zip(spec, weights, strict=True)]
    strongest = sorted(fitted, key=lambda s: (-abs(s["weight"]), s["name"]))[:TOP_FACTORS]
    factors = [{"feature": s["name"], "weight": s["weight"],
                "odds_ratio": round(math.exp(s["weight"]), 4),
                "effect": "raises" if s["weight"] > 0 else "lowers"}
               for s in strongest if s["weight"] != 0]
    metrics = {"labelled": len(rows), "converted": int(y.sum()),
               "not_converted": int(len(y) - y.sum()), "holdout": len(y_test),
               "features": len(spec), "holdout_share": holdout}
    return Fitted(spec=fitted, intercept=round(float(model.intercept_[0]), 6),
                  auc=round(auc, 6), metrics=metrics, factors=factors)


def predict(spec: list[dict[str, Any]], intercept: float,
            rows: list[dict[str, Any]]) -> list[tuple[float, list[dict[str, Any]]]]:
    """Per row: the probability of conversion and the factors that weighed most."""
    if not rows:
        return []
    x = np.array([features.vector(spec, r) for r in rows], dtype=np.float64)
    w = np.array([s["weight"] for s in spec], dtype=np.float64)
    contributions = x * w
    logits = contributions.sum(axis=1) + intercept
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    out = []
    for i in range(len(rows)):
        row = contributions[i]
        order = sorted((j for j in range(len(spec)) if row[j] != 0),
                       key=lambda j: (-abs(row[j]), spec[j]["name"]))[:LEAD_FACTORS]
        factors = [{"feature": spec[j]["name"], "effect": round(float(row[j]), 4),
                    "why": f"{spec[j]['name']} {'raises' if row[j] > 0 else 'lowers'} "
                           f"the odds ×{math.exp(float(row[j])):.2f}"} for j in order]
        out.append((round(float(probabilities[i]), 6), factors))
    return out
