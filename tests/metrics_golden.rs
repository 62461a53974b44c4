//! The metrics against golden vectors from scipy / scikit-learn / pandas
//! (`tests/reference/make_golden.py` wrote `tests/golden/metrics.json`), plus property tests.

use proptest::prelude::*;
use serde_json::Value;
use synthehr::metrics::fidelity::{self, KlEstimator};
use synthehr::metrics::privacy;
use synthehr::metrics::stats;

fn golden() -> Value {
    serde_json::from_str(include_str!("golden/metrics.json")).unwrap()
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: {a} vs reference {b}"
    );
}

#[test]
fn fidelity_matches_scipy() {
    let g = golden();
    let est = KlEstimator {
        bins: g["estimator"]["bins"].as_u64().unwrap() as usize,
        epsilon: g["estimator"]["epsilon"].as_f64().unwrap(),
    };
    assert_eq!(
        est,
        KlEstimator::default(),
        "the golden file uses the default estimator"
    );
    for c in g["fidelity"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (real, synth) = (vec_of(&c["real"]), vec_of(&c["synth"]));
        let (p, q) = fidelity::histograms(&real, &synth, c["categorical"].as_bool().unwrap(), &est);
        assert_eq!(p, vec_of(&c["p"]), "{name}: P histogram");
        assert_eq!(q, vec_of(&c["q"]), "{name}: Q histogram");
        close(
            fidelity::kl(&p, &q, est.epsilon),
            c["kl"].as_f64().unwrap(),
            &format!("{name}: KL (scipy.stats.entropy)"),
        );
        match c["kl_present"].as_f64() {
            Some(k) => close(
                fidelity::kl_present(&p, &q, est.epsilon),
                k,
                &format!("{name}: KL on present values (scipy.stats.entropy)"),
            ),
            None => assert!(
                fidelity::kl_present(&p, &q, est.epsilon).is_nan(),
                "{name}: KL on present values undefined"
            ),
        }
        close(
            fidelity::total_variation(&p, &q),
            c["tv"].as_f64().unwrap(),
            &format!("{name}: TV"),
        );
        match c["ks"].as_f64() {
            Some(ks) => close(
                fidelity::ks_statistic(&real, &synth),
                ks,
                &format!("{name}: KS (scipy.stats.ks_2samp)"),
            ),
            None => assert!(
                fidelity::ks_statistic(&real, &synth).is_nan(),
                "{name}: KS undefined"
            ),
        }
        match c["wasserstein"].as_f64() {
            Some(w) => close(
                fidelity::wasserstein1(&real, &synth),
                w,
                &format!("{name}: Wasserstein (scipy)"),
            ),
            None => assert!(fidelity::wasserstein1(&real, &synth).is_nan()),
        }
    }
}

#[test]
fn correlation_distance_matches_pandas() {
    let g = golden();
    let cols = |k: &str| -> Vec<Vec<f64>> {
        g["correlation"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(vec_of)
            .collect()
    };
    close(
        fidelity::correlation_distance(&cols("real"), &cols("synth")),
        g["correlation"]["distance"].as_f64().unwrap(),
        "correlation distance",
    );
}

#[test]
fn ranking_matches_sklearn() {
    for r in golden()["ranking"].as_array().unwrap() {
        let (y, s) = (vec_of(&r["y"]), vec_of(&r["score"]));
        close(
            stats::auroc(&y, &s).unwrap(),
            r["auroc"].as_f64().unwrap(),
            "AUROC (sklearn roc_auc_score)",
        );
        close(
            stats::average_precision(&y, &s).unwrap(),
            r["auprc"].as_f64().unwrap(),
            "AUPRC (sklearn average_precision_score)",
        );
        close(
            stats::max_tpr_minus_fpr(&y, &s).unwrap(),
            r["advantage"].as_f64().unwrap(),
            "membership advantage (max TPR - FPR over sklearn roc_curve)",
        );
        for (f, key) in [
            (
                privacy::tpr_at_1pct_fpr as fn(&[f64], &[f64]) -> _,
                "tpr_at_1pct_fpr",
            ),
            (privacy::tpr_at_5pct_fpr, "tpr_at_5pct_fpr"),
        ] {
            close(
                f(&y, &s).unwrap(),
                r[key].as_f64().unwrap(),
                "TPR at fixed FPR (numpy quantile of the negatives)",
            );
        }
    }
}

#[test]
fn single_class_is_a_reason_not_a_panic() {
    let e = stats::auroc(&[1.0, 1.0], &[0.2, 0.3]).unwrap_err();
    assert!(e.to_string().contains("one class"), "{e}");
    assert!(stats::bootstrap(&[0.0; 4], &[0.1, 0.2, 0.3, 0.4], stats::auroc, 10, 1).is_err());
    assert!(stats::average_precision(&[0.0, 0.0], &[0.1, 0.2]).is_err());
}

#[test]
fn bootstrap_is_reproducible_by_seed() {
    let y: Vec<f64> = (0..100).map(|i| (i % 3 == 0) as u8 as f64).collect();
    let s: Vec<f64> = (0..100)
        .map(|i| ((i * 37) % 101) as f64 / 101.0 + y[i] * 0.3)
        .collect();
    let a = stats::bootstrap(&y, &s, stats::auroc, 200, 9).unwrap();
    assert_eq!(a, stats::bootstrap(&y, &s, stats::auroc, 200, 9).unwrap());
    assert_ne!(
        a.lo,
        stats::bootstrap(&y, &s, stats::auroc, 200, 10).unwrap().lo
    );
    assert!(a.lo <= a.value && a.value <= a.hi);
    assert_eq!((a.positives, a.negatives), (34, 66));
}

fn column() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![4 => (-50.0f64..50.0).prop_map(|v| (v * 10.0).round() / 10.0), 1 => Just(f64::NAN)],
        1..80,
    )
}

proptest! {
    #[test]
    fn kl_is_nonnegative_and_zero_on_identical(a in column(), b in column()) {
        let est = KlEstimator::default();
        let (p, q) = fidelity::histograms(&a, &b, false, &est);
        prop_assert!(fidelity::kl(&p, &q, est.epsilon) >= -1e-12);
        let (p, q) = fidelity::histograms(&a, &a, false, &est);
        prop_assert!(fidelity::kl(&p, &q, est.epsilon).abs() < 1e-12);
    }

    #[test]
    fn metrics_ignore_row_order(a in column(), b in column(), seed in 0u64..1000) {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut a2, mut b2) = (a.clone(), b.clone());
        a2.shuffle(&mut rng);
        b2.shuffle(&mut rng);
        let est = KlEstimator::default();
        let (p, q) = fidelity::histograms(&a, &b, false, &est);
        let (p2, q2) = fidelity::histograms(&a2, &b2, false, &est);
        prop_assert_eq!(fidelity::kl(&p, &q, est.epsilon), fidelity::kl(&p2, &q2, est.epsilon));
        let (k1, k2) = (fidelity::ks_statistic(&a, &b), fidelity::ks_statistic(&a2, &b2));
        prop_assert!(k1 == k2 || (k1.is_nan() && k2.is_nan()));
        let (w1, w2) = (fidelity::wasserstein1(&a, &b), fidelity::wasserstein1(&a2, &b2));
        prop_assert!((w1 - w2).abs() < 1e-9 || (w1.is_nan() && w2.is_nan()));
    }

    #[test]
    fn auroc_of_negated_scores_is_one_minus(y in prop::collection::vec(0u8..2, 2..60), s in prop::collection::vec(-5i32..5, 60)) {
        let y: Vec<f64> = y.iter().map(|v| *v as f64).collect();
        let s: Vec<f64> = s[..y.len()].iter().map(|v| *v as f64).collect();
        if let Ok(a) = stats::auroc(&y, &s) {
            let neg: Vec<f64> = s.iter().map(|v| -v).collect();
            prop_assert!((stats::auroc(&y, &neg).unwrap() - (1.0 - a)).abs() < 1e-12);
        }
    }
}
