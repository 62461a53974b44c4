//! Metric speed against the Python peers, in one run: 10,000 synthetic rows × 83 columns (the
//! Gaussian-copula baseline fitted on the demo member pool) against 2,000 real rows (demo rows
//! resampled with replacement, as the demo has 1,378). Prints seconds and Python/Rust ratios.
//!
//! `SYNTHEHR_DATA=../shared/data cargo bench --bench metrics`

use std::time::Instant;
use synthehr::cohort::{schema, split, Cohort, SourceKind};
use synthehr::generate::baselines::{self, Baseline};
use synthehr::metrics::fidelity::{fidelity, KlEstimator};
use synthehr::metrics::gbdt::{Gbdt, GbdtParams};
use synthehr::metrics::privacy::{closest_distances, Gower};
use synthehr::metrics::{stats, Frame};

fn best<T>(n: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut best = f64::INFINITY;
    for _ in 0..n {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn write_csv(f: &Frame, p: &std::path::Path) {
    std::fs::write(p, f.to_csv()).unwrap();
}

fn main() {
    let data = std::env::var("SYNTHEHR_DATA").unwrap_or_else(|_| "../shared/data".into());
    let cohort = Cohort::build(SourceKind::EicuDemo, std::path::Path::new(&data))
        .expect("demo data (set SYNTHEHR_DATA)");
    let s = split::members_holdout(&cohort.matrix, 0.3, 20250425).unwrap();
    let names = schema::column_names();
    let synth_rows = baselines::generate(
        Baseline::Copula,
        &cohort.matrix,
        &s.train,
        &names,
        10_000,
        1,
    )
    .unwrap();
    let synth = Frame::from_rows(&names, &synth_rows);
    let idx: Vec<usize> = (0..2000)
        .map(|i| (i * 7919) % cohort.matrix.n_rows())
        .collect();
    let real = Frame::from_matrix(&cohort.matrix, &idx, &names).unwrap();

    let est = KlEstimator::default();
    let (t_fid, fid) = best(3, || fidelity(&real, &synth, &est));
    let (t_corr, _) = best(3, || {
        synthehr::metrics::fidelity::correlation_distance(&real.columns, &synth.columns)
    });
    eprintln!("  (of which the correlation distance: {t_corr:.4} s)");
    let (t_kstv, _) = best(3, || {
        use synthehr::metrics::fidelity::*;
        real.names
            .iter()
            .zip(&real.columns)
            .zip(&synth.columns)
            .map(|((n, r), s)| {
                let (rp, sp) = (Prepared::new(r), Prepared::new(s));
                let (p, q) = histograms_prepared(&rp, &sp, is_categorical(n), &est);
                ks_sorted(&rp.sorted, &sp.sorted) + total_variation(&p, &q)
            })
            .sum::<f64>()
    });
    let g = Gower::fit(&real);
    let (t_dcr, d) = best(1, || closest_distances(&real, &synth, &g));
    let y = real.column("death").unwrap().to_vec();
    let noise: Vec<f64> = (0..y.len())
        .map(|i| ((i * 7) % 13) as f64 / 13.0 + y[i])
        .collect();
    let (t_auc, _) = best(3, || stats::auroc(&y, &noise).unwrap());
    let features: Vec<&str> = names.iter().copied().filter(|n| *n != "death").collect();
    let (xs, xr) = (
        synth.select(&features).unwrap(),
        real.select(&features).unwrap(),
    );
    let ys = synth.column("death").unwrap().to_vec();
    let (t_fit, auc) = best(1, || {
        let m = Gbdt::fit(&xs.columns, &ys, &GbdtParams::default()).unwrap();
        stats::auroc(&y, &m.predict(&xr.columns)).unwrap()
    });

    let dir = tempfile::tempdir().unwrap();
    write_csv(&real, &dir.path().join("real.csv"));
    write_csv(&synth, &dir.path().join("synth.csv"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/peers_bench.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path().join("real.csv"))
        .arg(dir.path().join("synth.csv"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "peers failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = |k: &str| py[k].as_f64().unwrap_or(f64::NAN);

    println!(
        "10,000 synthetic x 83 columns vs 2,000 real rows (avg KL {:.4}, median DCR {:.4})\n",
        fid.avg_kl,
        {
            let mut v = d.clone();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        }
    );
    println!("| task | Rust (s) | Python peer | peer (s) | peer / Rust |");
    println!("|---|---|---|---|---|");
    let row = |task: &str, rust: f64, peer: &str, py: f64| {
        println!(
            "| {task} | {rust:.4} | {peer} | {py:.4} | {:.1}x |",
            py / rust
        )
    };
    row(
        "fidelity, 83 columns (KL, KS, TV, W1, corr)",
        t_fid,
        "scipy + numpy + pandas",
        p("fidelity"),
    );
    match py["sdmetrics"].as_f64() {
        Some(v) => row(
            "KS and TV only, 83 columns (1 thread)",
            t_kstv,
            "SDMetrics KSComplement/TVComplement",
            v,
        ),
        None => println!(
            "| KS and TV only | {t_kstv:.4} | SDMetrics | n/a: {} | |",
            py["sdmetrics_error"]
        ),
    }
    row(
        "DCR, 2,000 x 10,000 (Gower)",
        t_dcr,
        "numpy (chunked broadcast)",
        p("dcr"),
    );
    row(
        "AUROC, 2,000 rows",
        t_auc,
        "sklearn roc_auc_score",
        p("auroc"),
    );
    row(
        "GBDT fit + predict (TSTR, 1,000 trees)",
        t_fit,
        "xgboost (hist, 1 thread)",
        p("xgboost"),
    );
    println!(
        "\nTSTR AUROC: forust-ml {auc:.4}, xgboost {:.4}",
        p("xgboost_auroc")
    );
}
