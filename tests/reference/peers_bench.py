#!/usr/bin/env python3
"""The Python peers of benches/metrics.rs, timed on the same CSVs in the same run.

usage: peers_bench.py REAL.csv SYNTH.csv   -> JSON of seconds per task (best of 3)

- fidelity: per column scipy.stats.entropy on the declared histograms (numpy), scipy.stats.ks_2samp,
  scipy.stats.wasserstein_distance, total variation; pandas DataFrame.corr() for the correlation
  distance
- sdmetrics: KSComplement and TVComplement per column (SDMetrics' own single-column metrics)
- dcr: Gower distance to the closest synthetic record for each real row (numpy, chunked)
- auroc: sklearn.metrics.roc_auc_score
- xgboost: one fit (TSTR) with Johnson's hyperparameters, one thread
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.stats import entropy, ks_2samp, wasserstein_distance
from sklearn.metrics import roc_auc_score

real = pd.read_csv(sys.argv[1])
synth = pd.read_csv(sys.argv[2])
BINARY = {c for c in real.columns if set(real[c].dropna().unique()) <= {0.0, 1.0}}


def best(f, n=3):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def fidelity():
    for c in real.columns:
        r, s = real[c].to_numpy(float), synth[c].to_numpy(float)
        rp, sp = r[~np.isnan(r)], s[~np.isnan(s)]
        if len(rp):
            edges = np.unique(np.quantile(rp, np.arange(1, 10) / 10))
            bins = np.concatenate([[-np.inf, rp.min()], edges, [rp.max(), np.inf]])
            p = np.append(np.histogram(rp, bins)[0], np.isnan(r).sum()) + 0.0
            q = np.append(np.histogram(sp, bins)[0], np.isnan(s).sum()) + 0.0
            entropy(p / p.sum() + 1e-6, q / q.sum() + 1e-6)
            0.5 * np.abs(p / p.sum() - q / q.sum()).sum()
        if len(rp) and len(sp):
            ks_2samp(rp, sp)
            wasserstein_distance(rp, sp)
    np.nansum((real.corr().to_numpy() - synth.corr().to_numpy()) ** 2)


def sdm():
    from sdmetrics.single_column import KSComplement, TVComplement
    for c in real.columns:
        if real[c].isna().all() or synth[c].isna().all():
            continue  # SDMetrics refuses all-missing columns
        if c in BINARY:
            TVComplement.compute(real[c], synth[c])
        else:
            KSComplement.compute(real[c], synth[c])


def dcr():
    r, s = real.to_numpy(float), synth.to_numpy(float)
    rng = np.nanmax(np.vstack([r, s]), 0) - np.nanmin(np.vstack([r, s]), 0)
    rng[rng == 0] = 1
    cat = np.array([c in BINARY for c in real.columns])
    out = np.empty(len(r))
    for i in range(0, len(r), 64):
        a = r[i : i + 64, None, :]
        d = np.abs(a - s[None, :, :]) / rng
        d = np.where(cat, (a != s[None, :, :]).astype(float), np.minimum(d, 1))
        na, ns = np.isnan(a), np.isnan(s[None, :, :])
        d = np.where(na & ns, 0.0, np.where(na | ns, 1.0, d))
        out[i : i + 64] = d.mean(2).min(1)
    return out


def auroc():
    y = real["death"].to_numpy()
    roc_auc_score(y, np.random.default_rng(0).normal(size=len(y)) + y)


def xgb_fit():
    import xgboost as xgb
    m = xgb.XGBClassifier(max_depth=9, learning_rate=0.01, n_estimators=1000, subsample=0.8,
                          colsample_bytree=0.7, tree_method="hist", n_jobs=1, random_state=0)
    m.fit(synth.drop(columns="death"), synth["death"])
    return roc_auc_score(real["death"], m.predict_proba(real.drop(columns="death"))[:, 1])


res = {"fidelity": best(fidelity), "dcr": best(dcr, 1), "auroc": best(auroc)}
try:
    res["sdmetrics"] = best(sdm)
except Exception as e:  # reported, not hidden
    res["sdmetrics_error"] = str(e)
t0 = time.perf_counter()
res["xgboost_auroc"] = xgb_fit()
res["xgboost"] = time.perf_counter() - t0
print(json.dumps(res))
