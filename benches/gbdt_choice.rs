//! Which GBDT crate? Measured on the real demo matrix: train on the member pool, test on the
//! holdout (TRTR), Johnson et al.'s hyperparameters, one thread, against Python xgboost on the
//! same split in the same run. Prints AUROC, fit time and the ratio to xgboost.
//!
//! `SYNTHEHR_DATA=../shared/data cargo bench --bench gbdt_choice`
//!
//! Candidates left out, and why: lightgbm3 and the xgboost bindings (xgb) compile the C++
//! libraries with cmake in their build scripts — not "from crates.io alone", and a C++ build
//! step in every CI run; `gbdt` (0.1.3) has had no release since 2020 and no native missing-value
//! handling.

use std::time::Instant;
use synthehr::cohort::{schema, split, Cohort, SourceKind};
use synthehr::metrics::gbdt::{Gbdt, GbdtParams};
use synthehr::metrics::{stats, Frame};

fn main() {
    let data = std::env::var("SYNTHEHR_DATA").unwrap_or_else(|_| "../shared/data".into());
    let cohort = Cohort::build(SourceKind::EicuDemo, std::path::Path::new(&data))
        .expect("demo data (set SYNTHEHR_DATA)");
    let s = split::members_holdout(&cohort.matrix, 0.3, 20250425).unwrap();
    let names: Vec<&str> = schema::column_names();
    let train = Frame::from_matrix(&cohort.matrix, &s.train, &names).unwrap();
    let test = Frame::from_matrix(&cohort.matrix, &s.test, &names).unwrap();
    let features: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| *n != schema::LABEL)
        .collect();
    let (xtr, xte) = (
        train.select(&features).unwrap(),
        test.select(&features).unwrap(),
    );
    let (ytr, yte) = (
        train.column("death").unwrap().to_vec(),
        test.column("death").unwrap().to_vec(),
    );
    println!(
        "TRTR on the eICU demo matrix: {} train rows ({} deaths), {} test rows ({} deaths), {} features",
        ytr.len(),
        ytr.iter().filter(|v| **v == 1.0).count(),
        yte.len(),
        yte.iter().filter(|v| **v == 1.0).count(),
        features.len()
    );

    // Python xgboost on the same split
    let dir = tempfile::tempdir().unwrap();
    let write = |f: &Frame, p: &std::path::Path| std::fs::write(p, f.to_csv()).unwrap();
    write(&train, &dir.path().join("train.csv"));
    write(&test, &dir.path().join("test.csv"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/xgb_fit.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path().join("train.csv"))
        .arg(dir.path().join("test.csv"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "xgboost failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xgb: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (xgb_auc, xgb_s) = (
        xgb["auroc"].as_f64().unwrap(),
        xgb["fit_seconds"].as_f64().unwrap(),
    );

    let p = GbdtParams::default();
    let t = Instant::now();
    let m = Gbdt::fit(&xtr.columns, &ytr, &p).unwrap();
    let forust_s = t.elapsed().as_secs_f64();
    let forust_auc = stats::auroc(&yte, &m.predict(&xte.columns)).unwrap();

    // perpetual: no depth/learning-rate knobs; its budget 1.0 is the documented default
    let (data_tr, rows) = (
        xtr.columns.iter().flatten().copied().collect::<Vec<f64>>(),
        ytr.len(),
    );
    let mtr = perpetual::Matrix::new(&data_tr, rows, features.len());
    let t = Instant::now();
    let mut pb = perpetual::PerpetualBooster::default()
        .set_objective(perpetual::objective::Objective::LogLoss)
        .set_budget(1.0)
        .set_num_threads(Some(1));
    pb.fit(&mtr, &ytr, None, None).unwrap();
    let perp_s = t.elapsed().as_secs_f64();
    let data_te: Vec<f64> = xte.columns.iter().flatten().copied().collect();
    let perp_auc = stats::auroc(
        &yte,
        &pb.predict(
            &perpetual::Matrix::new(&data_te, yte.len(), features.len()),
            false,
        ),
    )
    .unwrap();

    println!("\n| model | AUROC | Δ vs xgboost | fit (s) | fit time / xgboost |");
    println!("|---|---|---|---|---|");
    println!(
        "| Python xgboost {} (hist) | {xgb_auc:.4} | — | {xgb_s:.2} | 1.00 |",
        xgb["xgboost"].as_str().unwrap_or("?")
    );
    println!(
        "| forust-ml 0.8 | {forust_auc:.4} | {:+.4} | {forust_s:.2} | {:.2} |",
        forust_auc - xgb_auc,
        forust_s / xgb_s
    );
    println!(
        "| perpetual 3.0.0-rc.2 (budget 1.0) | {perp_auc:.4} | {:+.4} | {perp_s:.2} | {:.2} |",
        perp_auc - xgb_auc,
        perp_s / xgb_s
    );
}
