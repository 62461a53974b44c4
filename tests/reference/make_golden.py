#!/usr/bin/env python3
"""Golden vectors for synthehr's metrics, produced by the reference implementations.

Writes tests/golden/metrics.json: fixed inputs (seeded) and what scipy / scikit-learn / numpy /
pandas compute on them. tests/metrics_golden.rs compares the Rust metrics to these to 1e-12.

The histogram rule is synthehr's declared KL estimator (src/metrics/fidelity.rs), written here
in numpy from its documentation; KL on those histograms is scipy.stats.entropy. "kl_present"
is the same KL on present values only (the missing bin dropped; undefined when either side has
no present value).

Pinned versions: tests/reference/requirements.txt.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import sklearn
from scipy.stats import entropy, ks_2samp, wasserstein_distance
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

EPS = 1e-6
BINS = 10


def histograms(real, synth, categorical):
    real = np.asarray(real, dtype=float)
    synth = np.asarray(synth, dtype=float)
    rp, sp = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if categorical:
        cats = np.unique(np.concatenate([rp, sp]))
        p = np.array([np.sum(rp == c) for c in cats] + [0.0])
        q = np.array([np.sum(sp == c) for c in cats] + [0.0])
    else:
        if len(rp):
            edges = np.unique(np.quantile(rp, [k / BINS for k in range(1, BINS)]))
            lo, hi = rp.min(), rp.max()
        else:
            edges, lo, hi = np.array([]), None, None
        n = len(edges) + 4

        def binned(x):
            out = np.zeros(n)
            for v in x:
                if lo is None:
                    out[len(edges) + 2] += 1
                elif v < lo:
                    out[0] += 1
                elif v > hi:
                    out[len(edges) + 2] += 1
                else:
                    out[1 + np.searchsorted(edges, v, side="right")] += 1
            return out

        p, q = binned(rp), binned(sp)
    p[-1] = np.isnan(real).sum()
    q[-1] = np.isnan(synth).sum()
    return p, q


def smooth(x):
    x = x / x.sum() if x.sum() > 0 else np.zeros_like(x)
    x = x + EPS
    return x / x.sum()


def fidelity_case(name, real, synth, categorical):
    p, q = histograms(real, synth, categorical)
    rp = [v for v in real if not np.isnan(v)]
    sp = [v for v in synth if not np.isnan(v)]
    both = len(rp) > 0 and len(sp) > 0
    pn = p / p.sum() if p.sum() else p
    qn = q / q.sum() if q.sum() else q
    return {
        "name": name,
        "real": [None if np.isnan(v) else v for v in real],
        "synth": [None if np.isnan(v) else v for v in synth],
        "categorical": categorical,
        "p": p.tolist(),
        "q": q.tolist(),
        "kl": float(entropy(smooth(p), smooth(q))),
        "kl_present": float(entropy(smooth(p[:-1]), smooth(q[:-1]))) if p[:-1].sum() and q[:-1].sum() else None,
        "tv": float(0.5 * np.abs(pn - qn).sum()),
        "ks": float(ks_2samp(rp, sp).statistic) if both else None,
        "wasserstein": float(wasserstein_distance(rp, sp)) if both else None,
    }


def main():
    rng = np.random.default_rng(20250425)
    cases = []
    real = rng.normal(80, 15, 300).round(1)
    synth = rng.normal(85, 20, 200).round(1)
    real[rng.choice(300, 40, replace=False)] = np.nan
    synth[rng.choice(200, 10, replace=False)] = np.nan
    cases.append(fidelity_case("normal with missing", real, synth, False))
    cases.append(fidelity_case("identical", real, real.copy(), False))
    skew = rng.lognormal(0, 1, 250)
    cases.append(fidelity_case("skewed, synthetic out of range", skew, np.concatenate([rng.lognormal(0.2, 1.2, 150), [-1.0, -0.5, 500.0]]), False))
    cases.append(fidelity_case("constant column", np.full(50, 7.0), rng.normal(7, 1, 40), False))
    cases.append(fidelity_case("all missing real", np.full(30, np.nan), rng.normal(0, 1, 20), False))
    cases.append(fidelity_case("binary", rng.integers(0, 2, 120).astype(float), rng.integers(0, 2, 90).astype(float), True))
    cases.append(fidelity_case("category only in synthetic", np.array([0.0, 1, 1, 0, 1]), np.array([0.0, 1, 2, 2, 1]), True))
    cases.append(fidelity_case("ties", np.array([1.0, 1, 1, 2, 2, 3, 3, 3, 3, 4]), np.array([1.0, 2, 2, 2, 3, 3, 5, 5]), False))
    # the lactate case: real mostly missing, synthetic never missing (own generator: the draws
    # above stay as they were)
    lab = np.random.default_rng(7)
    lactate = np.concatenate([lab.lognormal(0.5, 0.5, 12).round(1), np.full(48, np.nan)])
    cases.append(fidelity_case("real mostly missing, synthetic never", lactate, lab.lognormal(0.6, 0.4, 30).round(1), False))

    # correlation distance (pandas pairwise-complete Pearson)
    a = rng.normal(size=(200, 4))
    a[:, 1] += a[:, 0]
    a[rng.random((200, 4)) < 0.1] = np.nan
    b = rng.normal(size=(150, 4))
    b[:, 2] -= b[:, 3]
    b[rng.random((150, 4)) < 0.15] = np.nan
    ca, cb = pd.DataFrame(a).corr().to_numpy(), pd.DataFrame(b).corr().to_numpy()
    d = ca - cb
    np.fill_diagonal(d, 0.0)
    corr = {
        "real": [[None if np.isnan(v) else v for v in col] for col in a.T],
        "synth": [[None if np.isnan(v) else v for v in col] for col in b.T],
        "distance": float(np.sqrt(np.nansum(d * d))),
    }

    # AUROC / AUPRC (scikit-learn), ties included
    ranking = []
    for n, tie in [(60, False), (200, True), (25, True)]:
        y = rng.integers(0, 2, n).astype(float)
        y[0], y[1] = 0.0, 1.0
        s = rng.normal(size=n) + 0.8 * y
        if tie:
            s = s.round(1)
        fpr, tpr, _ = roc_curve(y, s)
        neg, pos = s[y == 0], s[y == 1]
        ranking.append({
            "y": y.tolist(),
            "score": s.tolist(),
            "auroc": float(roc_auc_score(y, s)),
            "auprc": float(average_precision_score(y, s)),
            # membership advantage: max over thresholds of TPR - FPR (sklearn roc_curve)
            "advantage": float(np.max(tpr - fpr)),
            # TPR at a fixed FPR, declared: flag scores above the negatives' numpy quantile
            "tpr_at_1pct_fpr": float(np.mean(pos > np.quantile(neg, 0.99))),
            "tpr_at_5pct_fpr": float(np.mean(pos > np.quantile(neg, 0.95))),
        })

    out = {
        "generated_by": "tests/reference/make_golden.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__, "pandas": pd.__version__},
        "estimator": {"bins": BINS, "epsilon": EPS},
        "fidelity": cases,
        "correlation": corr,
        "ranking": ranking,
    }
    path = Path(__file__).resolve().parent.parent / "golden" / "metrics.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
