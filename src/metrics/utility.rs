//! Utility: can a mortality model trained on one table predict `death` on another?
//!
//! Protocols (the callers pick the tables): **within** = a seeded stratified 70/30 split of the
//! synthetic rows; **across / TSTR** = train on synthetic, test on the real holdout; **TRTR** =
//! train on the real member pool, test on the real holdout (the ceiling); leave-hospitals-out and
//! leave-region-out TSTR/TRTR use the splits of `cohort::split`.
//!
//! AUROC (Mann–Whitney with ties) and AUPRC (average precision as scikit-learn defines it), each
//! with a seeded 95% percentile bootstrap over the test rows; class counts come with every number.
//!
//! GBDT choice (measured by `tools/gbdt-choice` on the demo matrix, TRTR, Johnson's
//! hyperparameters; numbers in the closing note of the session that made it): forust-ml builds
//! from crates.io alone (pure Rust) and reproduces xgboost's AUROC within the tolerance.

use super::gbdt::{Gbdt, GbdtParams};
use super::stats::{self, Estimate};
use super::Frame;
use crate::cohort::schema::LABEL;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct UtilityOptions {
    pub gbdt: GbdtParams,
    pub resamples: usize,
    pub seed: u64,
    /// Share of synthetic rows held out by the `within` protocol.
    pub within_test_fraction: f64,
}

impl Default for UtilityOptions {
    fn default() -> Self {
        UtilityOptions {
            gbdt: GbdtParams::default(),
            resamples: 1000,
            seed: 7,
            within_test_fraction: 0.3,
        }
    }
}

/// Environment variable that picks the evaluation effort: unset or `full` = the study's
/// settings; `check` = [`UtilityOptions::check`].
pub const EFFORT_ENV: &str = "SYNTHEHR_EFFORT";

impl UtilityOptions {
    /// A light setting for runs that compare engines, not the study's numbers (CI's evcxr
    /// kernel check runs every notebook at opt level 0 twice): 30 trees, 30 resamples. Every
    /// other setting is the study's, so the same code paths run.
    pub fn check() -> Self {
        let d = UtilityOptions::default();
        UtilityOptions {
            gbdt: GbdtParams {
                trees: 30,
                ..d.gbdt
            },
            resamples: 30,
            ..d
        }
    }

    /// The options `SYNTHEHR_EFFORT` asks for; an unknown value is an error, not a silent
    /// default.
    pub fn from_env() -> crate::error::Result<Self> {
        match std::env::var(EFFORT_ENV).ok().as_deref() {
            None | Some("") | Some("full") => Ok(UtilityOptions::default()),
            Some("check") => Ok(UtilityOptions::check()),
            Some(other) => Err(crate::error::Error::Invalid(format!(
                "{EFFORT_ENV}={other:?}: expected `full` (the study's settings) or `check` \
                 (30 trees and 30 bootstrap resamples, for engine comparisons)"
            ))),
        }
    }
}

/// Fewest rows of each class a model is trained on. Below it the fit is degenerate (with one
/// death in 51 rows a GBDT predicts a near-constant and "AUROC 0.5000 [0.5000, 0.5000]" measures
/// nothing), so the metric is refused as undefined, with the counts, instead of printed.
pub const MIN_CLASS_ROWS: usize = 5;

/// (deaths, survivors) of the labels when either is under [`MIN_CLASS_ROWS`]: too few for a
/// model to learn from, or for an AUROC over them to mean more than chance.
pub fn too_few_of_a_class(y: &[f64]) -> Option<(usize, usize)> {
    let (deaths, survivors) = super::stats::class_counts(y);
    (deaths < MIN_CLASS_ROWS || survivors < MIN_CLASS_ROWS).then_some((deaths, survivors))
}

#[derive(Debug, Clone, Serialize)]
pub struct UtilityResult {
    pub protocol: String,
    pub auroc: Option<Estimate>,
    pub auprc: Option<Estimate>,
    /// Why the numbers are missing, when they are.
    pub undefined: Option<String>,
    pub n_train: usize,
    pub train_positives: usize,
    pub n_test: usize,
    pub test_positives: usize,
    pub features: usize,
}

impl UtilityResult {
    /// The AUROC's point value, when it is defined.
    pub fn auroc_value(&self) -> Option<f64> {
        self.auroc.as_ref().map(|a| a.value)
    }
    /// The AUROC with its interval ("0.7123 [0.65, 0.77]"), or why it is undefined.
    pub fn auroc_shown(&self) -> String {
        match &self.auroc {
            Some(e) => e.to_string(),
            None => self.undefined.clone().unwrap_or_default(),
        }
    }
}

/// Feature columns of a frame: every column but the label and `exclude`.
pub fn features_of<'a>(frame: &'a Frame, exclude: &[&str]) -> Vec<&'a str> {
    frame
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != LABEL && !exclude.contains(n))
        .collect()
}

fn labels(frame: &Frame) -> Vec<f64> {
    frame.column(LABEL).map(|c| c.to_vec()).unwrap_or_default()
}

/// Train on `train`, test on `test`, over `features`. Also returns the test scores.
pub fn train_test_scores(
    protocol: &str,
    train: &Frame,
    test: &Frame,
    features: &[&str],
    opt: &UtilityOptions,
) -> (UtilityResult, Option<Vec<f64>>) {
    let (ytr, yte) = (labels(train), labels(test));
    let pos = |y: &[f64]| y.iter().filter(|v| **v == 1.0).count();
    let mut r = UtilityResult {
        protocol: protocol.to_string(),
        auroc: None,
        auprc: None,
        undefined: None,
        n_train: ytr.len(),
        train_positives: pos(&ytr),
        n_test: yte.len(),
        test_positives: pos(&yte),
        features: features.len(),
    };
    if let Some((deaths, survivors)) = too_few_of_a_class(&ytr) {
        r.undefined = Some(format!(
            "cannot train: {deaths} death(s) and {survivors} survivor(s) in {} rows (at least {MIN_CLASS_ROWS} of each needed)",
            r.n_train
        ));
        return (r, None);
    }
    let (Ok(xtr), Ok(xte)) = (train.select(features), test.select(features)) else {
        r.undefined = Some("a feature is missing from one of the tables".into());
        return (r, None);
    };
    let model = match Gbdt::fit(&xtr.columns, &ytr, &opt.gbdt) {
        Ok(m) => m,
        Err(e) => {
            r.undefined = Some(e.to_string());
            return (r, None);
        }
    };
    let scores = model.predict(&xte.columns);
    // a model that learned nothing predicts one score for every row: refuse, as above
    if scores.windows(2).all(|w| w[0] == w[1]) {
        r.undefined = Some(format!(
            "cannot train: the model predicts a constant ({} death(s) in {} rows)",
            r.train_positives, r.n_train
        ));
        return (r, None);
    }
    match stats::bootstrap(&yte, &scores, stats::auroc, opt.resamples, opt.seed) {
        Ok(e) => r.auroc = Some(e),
        Err(u) => r.undefined = Some(u.to_string()),
    }
    if let Ok(e) = stats::bootstrap(
        &yte,
        &scores,
        stats::average_precision,
        opt.resamples,
        opt.seed,
    ) {
        r.auprc = Some(e);
    }
    (r, Some(scores))
}

pub fn train_test(
    protocol: &str,
    train: &Frame,
    test: &Frame,
    features: &[&str],
    opt: &UtilityOptions,
) -> UtilityResult {
    train_test_scores(protocol, train, test, features, opt).0
}

/// Seeded stratified split of row indices: (train, test).
pub fn stratified_split(y: &[f64], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [1.0, 0.0] {
        let mut idx: Vec<usize> = (0..y.len())
            .filter(|&i| (y[i] == 1.0) == (class == 1.0))
            .collect();
        idx.shuffle(&mut rng);
        let k = (idx.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&idx[..k]);
        train.extend_from_slice(&idx[k..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// The `within` protocol: split the synthetic rows, train and test inside them.
pub fn within(synth: &Frame, features: &[&str], opt: &UtilityOptions) -> UtilityResult {
    let y = labels(synth);
    let (tr, te) = stratified_split(&y, opt.within_test_fraction, opt.seed);
    train_test("within", &synth.take(&tr), &synth.take(&te), features, opt)
}
