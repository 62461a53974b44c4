#!/usr/bin/env python3
"""Fit Python xgboost on a train CSV, score a test CSV (label column `death`), print JSON.

Used by benches/gbdt_choice.rs and benches/metrics.rs to compare the Rust GBDT with xgboost on the
same split and hyperparameters (Johnson et al.'s: depth 9, eta 0.01, 1000 trees, subsample 0.8,
colsample 0.7), single-threaded, hist method.

usage: xgb_fit.py TRAIN.csv TEST.csv [TREES]
"""
import json
import sys
import time

import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

train = pd.read_csv(sys.argv[1])
test = pd.read_csv(sys.argv[2])
trees = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
y, yt = train.pop("death"), test.pop("death")
model = xgb.XGBClassifier(
    max_depth=9, learning_rate=0.01, n_estimators=trees, subsample=0.8, colsample_bytree=0.7,
    tree_method="hist", n_jobs=1, random_state=0,
)
t0 = time.perf_counter()
model.fit(train, y)
fit = time.perf_counter() - t0
score = model.predict_proba(test)[:, 1]
print(json.dumps({"auroc": roc_auc_score(yt, score), "fit_seconds": fit, "xgboost": xgb.__version__}))
