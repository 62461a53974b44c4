//! Shared numerics: quantiles as numpy's default (`linear`, Hyndman & Fan type 7), average ranks,
//! AUROC (Mann–Whitney with ties, = sklearn `roc_auc_score`), average precision (= sklearn
//! `average_precision_score`), and seeded percentile bootstrap intervals.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// numpy.quantile(x, q) with the default linear method; `x` must be sorted and non-empty.
pub fn quantile_sorted(x: &[f64], q: f64) -> f64 {
    let n = x.len();
    if n == 1 {
        return x[0];
    }
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    x[lo] + (h - lo as f64) * (x[hi] - x[lo])
}

/// Average ranks (1-based), ties share their mean rank.
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Why a score could not be computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Undefined {
    /// The labels hold one class only.
    SingleClass {
        positives: usize,
        negatives: usize,
    },
    Empty,
}

impl std::fmt::Display for Undefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undefined::SingleClass { positives, negatives } => write!(
                f,
                "undefined: the labels hold one class only ({positives} positive, {negatives} negative)"
            ),
            Undefined::Empty => write!(f, "undefined: no rows"),
        }
    }
}

/// (positives, negatives) of 1/0 labels.
pub fn class_counts(y: &[f64]) -> (usize, usize) {
    let pos = y.iter().filter(|v| **v == 1.0).count();
    (pos, y.len() - pos)
}

/// AUROC by the Mann–Whitney U statistic with average ranks for ties. Labels are 1 = positive,
/// anything else negative; NaN scores are not allowed (the caller imputes or drops them).
pub fn auroc(y: &[f64], score: &[f64]) -> Result<f64, Undefined> {
    if y.is_empty() {
        return Err(Undefined::Empty);
    }
    let (pos, neg) = class_counts(y);
    if pos == 0 || neg == 0 {
        return Err(Undefined::SingleClass {
            positives: pos,
            negatives: neg,
        });
    }
    let r = average_ranks(score);
    let sum_pos: f64 = r
        .iter()
        .zip(y)
        .filter(|(_, l)| **l == 1.0)
        .map(|(r, _)| r)
        .sum();
    let u = sum_pos - (pos as f64) * (pos as f64 + 1.0) / 2.0;
    Ok(u / (pos as f64 * neg as f64))
}

/// Cumulative (true positives, false positives) at each distinct score threshold, from the
/// highest score down (tied scores enter together).
fn roc_steps<'a>(y: &'a [f64], score: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let (mut tp, mut fp, mut i) = (0.0, 0.0, 0);
    std::iter::from_fn(move || {
        if i >= idx.len() {
            return None;
        }
        let s = score[idx[i]];
        while i < idx.len() && score[idx[i]] == s {
            if y[idx[i]] == 1.0 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        Some((tp, fp))
    })
}

/// Average precision as scikit-learn defines it: Σ_n (R_n − R_{n−1}) P_n over the distinct
/// score thresholds in decreasing order.
pub fn average_precision(y: &[f64], score: &[f64]) -> Result<f64, Undefined> {
    if y.is_empty() {
        return Err(Undefined::Empty);
    }
    let (pos, neg) = class_counts(y);
    if pos == 0 {
        return Err(Undefined::SingleClass {
            positives: pos,
            negatives: neg,
        });
    }
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (tp, fp) in roc_steps(y, score) {
        let recall = tp / pos as f64;
        ap += (recall - prev_recall) * tp / (tp + fp);
        prev_recall = recall;
    }
    Ok(ap)
}

/// max over thresholds of TPR − FPR (membership advantage; Youden's J).
pub fn max_tpr_minus_fpr(y: &[f64], score: &[f64]) -> Result<f64, Undefined> {
    let (pos, neg) = class_counts(y);
    if pos == 0 || neg == 0 {
        return Err(Undefined::SingleClass {
            positives: pos,
            negatives: neg,
        });
    }
    let best = roc_steps(y, score)
        .map(|(tp, fp)| tp / pos as f64 - fp / neg as f64)
        .fold(0.0f64, f64::max);
    Ok(best)
}

/// A point estimate with a percentile bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    /// Resamples used (resamples where the metric was undefined are skipped and not counted).
    pub resamples: usize,
    pub positives: usize,
    pub negatives: usize,
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} [{:.4}, {:.4}]", self.value, self.lo, self.hi)
    }
}

/// Seeded percentile bootstrap (95%) of `metric(y, score)` over rows resampled with replacement.
pub fn bootstrap(
    y: &[f64],
    score: &[f64],
    metric: fn(&[f64], &[f64]) -> Result<f64, Undefined>,
    resamples: usize,
    seed: u64,
) -> Result<Estimate, Undefined> {
    let value = metric(y, score)?;
    let (positives, negatives) = class_counts(y);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = y.len();
    let mut vals = Vec::with_capacity(resamples);
    let (mut by, mut bs) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..resamples {
        for k in 0..n {
            let i = rng.gen_range(0..n);
            by[k] = y[i];
            bs[k] = score[i];
        }
        if let Ok(v) = metric(&by, &bs) {
            vals.push(v);
        }
    }
    vals.sort_by(f64::total_cmp);
    let (lo, hi) = if vals.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (quantile_sorted(&vals, 0.025), quantile_sorted(&vals, 0.975))
    };
    Ok(Estimate {
        value,
        lo,
        hi,
        resamples: vals.len(),
        positives,
        negatives,
    })
}

/// Bootstrap of a statistic of one sample (e.g. a mean over features).
pub fn bootstrap_mean(x: &[f64], resamples: usize, seed: u64) -> (f64, f64, f64) {
    let vals: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if vals.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = vals.iter().sum::<f64>() / vals.len() as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| {
            (0..vals.len())
                .map(|_| vals[rng.gen_range(0..vals.len())])
                .sum::<f64>()
                / vals.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    (
        mean,
        quantile_sorted(&means, 0.025),
        quantile_sorted(&means, 0.975),
    )
}
