//! Privacy: membership inference and distance to closest record.
//!
//! **Members** are the real rows the generator was shown (their ids are recorded with every
//! call); **non-members** are real holdout rows. The attacker scores each real row from the
//! synthetic table alone:
//! - `dcr`: minus its Gower distance to the closest synthetic record;
//! - `loss`: minus the log-loss of its true label under a GBDT trained on the synthetic rows;
//! - `combined`: the mean of the two scores' percentile ranks (no fitting, so no leakage).
//!
//! Reported per attack: AUROC, membership advantage (max over thresholds of TPR − FPR) and
//! **empirical risk**, declared as the share of members the attacker flags at a 5% false-positive
//! rate (TPR at the non-members' 95th-percentile score), and TPR at a 1% false-positive rate,
//! each with a seeded bootstrap CI.
//!
//! **Gower distance** (declared): the mean over columns of |x − y| / range for numeric columns
//! (range of the real reference rows; 0 when both are equal, 1 otherwise if the range is 0;
//! capped at 1), 0/1 mismatch for binary columns; both missing = 0, one missing = 1.

use super::fidelity::is_categorical;
use super::gbdt::{Gbdt, GbdtParams};
use super::row_key;
use super::stats::{self, average_ranks, Estimate, Undefined};
use super::Frame;
use crate::cohort::schema::LABEL;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;

/// Per-column scales of the Gower distance, from reference (real) rows.
#[derive(Debug, Clone, Serialize)]
pub struct Gower {
    pub ranges: Vec<f64>,
    pub categorical: Vec<bool>,
}

impl Gower {
    pub fn fit(reference: &Frame) -> Gower {
        let ranges = reference
            .columns
            .iter()
            .map(|c| {
                let (lo, hi) = c
                    .iter()
                    .filter(|v| !v.is_nan())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(*v), b.max(*v))
                    });
                if hi >= lo {
                    hi - lo
                } else {
                    0.0
                }
            })
            .collect();
        let categorical = reference.names.iter().map(|n| is_categorical(n)).collect();
        Gower {
            ranges,
            categorical,
        }
    }

    pub fn distance(&self, a: &[f64], b: &[f64]) -> f64 {
        let mut s = 0.0;
        for j in 0..a.len() {
            let (x, y) = (a[j], b[j]);
            s += match (x.is_nan(), y.is_nan()) {
                (true, true) => 0.0,
                (true, false) | (false, true) => 1.0,
                _ if self.categorical[j] => f64::from(u8::from(x != y)),
                _ if self.ranges[j] > 0.0 => ((x - y).abs() / self.ranges[j]).min(1.0),
                _ => f64::from(u8::from(x != y)),
            };
        }
        s / a.len().max(1) as f64
    }
}

fn rows(f: &Frame) -> Vec<Vec<f64>> {
    (0..f.n_rows())
        .map(|i| f.columns.iter().map(|c| c[i]).collect())
        .collect()
}

/// Distance from each query row to its closest row of `pool` (same columns, same order).
pub fn closest_distances(query: &Frame, pool: &Frame, g: &Gower) -> Vec<f64> {
    let pool_rows = rows(pool);
    rows(query)
        .par_iter()
        .map(|q| {
            pool_rows
                .iter()
                .map(|p| g.distance(q, p))
                .fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// TPR at the threshold where 5% of non-members are flagged.
pub fn tpr_at_5pct_fpr(y: &[f64], score: &[f64]) -> Result<f64, Undefined> {
    tpr_at_fpr(y, score, 0.05)
}

/// TPR at a 1% false-positive rate: the low-FPR operating point membership-inference work now
/// reports first (an attack that is sure about a few members matters even at AUROC ≈ 0.5).
pub fn tpr_at_1pct_fpr(y: &[f64], score: &[f64]) -> Result<f64, Undefined> {
    tpr_at_fpr(y, score, 0.01)
}

/// Share of positives scored above the negatives' (1 − `fpr`) quantile (numpy's linear rule).
pub fn tpr_at_fpr(y: &[f64], score: &[f64], fpr: f64) -> Result<f64, Undefined> {
    let mut neg: Vec<f64> = y
        .iter()
        .zip(score)
        .filter(|(l, _)| **l != 1.0)
        .map(|(_, s)| *s)
        .collect();
    let pos: Vec<f64> = y
        .iter()
        .zip(score)
        .filter(|(l, _)| **l == 1.0)
        .map(|(_, s)| *s)
        .collect();
    if pos.is_empty() || neg.is_empty() {
        return Err(Undefined::SingleClass {
            positives: pos.len(),
            negatives: neg.len(),
        });
    }
    neg.sort_by(f64::total_cmp);
    let t = stats::quantile_sorted(&neg, 1.0 - fpr);
    Ok(pos.iter().filter(|s| **s > t).count() as f64 / pos.len() as f64)
}

#[derive(Debug, Clone, Serialize)]
pub struct Attack {
    pub name: String,
    pub auroc: Option<Estimate>,
    pub advantage: Option<Estimate>,
    pub risk: Option<Estimate>,
    /// Members flagged at a 1% false-positive rate.
    pub tpr_at_1pct_fpr: Option<Estimate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Privacy {
    pub n_members: usize,
    pub n_nonmembers: usize,
    pub n_synth: usize,
    pub attacks: Vec<Attack>,
    /// Median distance to the closest synthetic record, members and non-members.
    pub median_dcr_members: f64,
    pub median_dcr_nonmembers: f64,
    /// Share of synthetic rows closer to a member than to a non-member (equal-size samples;
    /// 0.5 = no sign of memorisation).
    pub closer_to_member_share: f64,
    /// Share of synthetic rows that are exact copies of a member row.
    pub exact_copy_rate: f64,
}

fn attack(name: &str, y: &[f64], score: &[f64], resamples: usize, seed: u64) -> Attack {
    Attack {
        name: name.into(),
        auroc: stats::bootstrap(y, score, stats::auroc, resamples, seed).ok(),
        advantage: stats::bootstrap(y, score, stats::max_tpr_minus_fpr, resamples, seed).ok(),
        risk: stats::bootstrap(y, score, tpr_at_5pct_fpr, resamples, seed).ok(),
        tpr_at_1pct_fpr: stats::bootstrap(y, score, tpr_at_1pct_fpr, resamples, seed).ok(),
    }
}

fn median(x: &[f64]) -> f64 {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    stats::quantile_sorted(&v, 0.5)
}

/// Membership inference against `synth` (all frames with the same columns, label included).
pub fn privacy(
    members: &Frame,
    nonmembers: &Frame,
    synth: &Frame,
    gbdt: &GbdtParams,
    resamples: usize,
    seed: u64,
) -> Privacy {
    let reference = Frame {
        names: members.names.clone(),
        columns: members
            .columns
            .iter()
            .zip(&nonmembers.columns)
            .map(|(a, b)| a.iter().chain(b).copied().collect())
            .collect(),
    };
    let g = Gower::fit(&reference);
    let d_mem = closest_distances(members, synth, &g);
    let d_non = closest_distances(nonmembers, synth, &g);
    let y: Vec<f64> = std::iter::repeat_n(1.0, d_mem.len())
        .chain(std::iter::repeat_n(0.0, d_non.len()))
        .collect();
    let dcr_score: Vec<f64> = d_mem.iter().chain(&d_non).map(|d| -d).collect();
    let mut attacks = vec![attack("dcr", &y, &dcr_score, resamples, seed)];

    // loss attack: a model trained on the synthetic rows
    let features: Vec<&str> = synth
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != LABEL)
        .collect();
    let ys = synth.column(LABEL).map(|c| c.to_vec()).unwrap_or_default();
    let fitted = synth
        .select(&features)
        .ok()
        .and_then(|x| Gbdt::fit(&x.columns, &ys, gbdt).ok());
    if let (Some(model), Ok(xr)) = (fitted, reference.select(&features)) {
        let yr = reference
            .column(LABEL)
            .map(|c| c.to_vec())
            .unwrap_or_default();
        let loss_score: Vec<f64> = model
            .predict(&xr.columns)
            .iter()
            .zip(&yr)
            .map(|(s, l)| {
                let p = (1.0 / (1.0 + (-s).exp())).clamp(1e-12, 1.0 - 1e-12);
                if *l == 1.0 {
                    p.ln()
                } else {
                    (1.0 - p).ln()
                } // = −log-loss
            })
            .collect();
        attacks.push(attack("loss", &y, &loss_score, resamples, seed));
        let (r1, r2) = (average_ranks(&dcr_score), average_ranks(&loss_score));
        let combined: Vec<f64> = r1.iter().zip(&r2).map(|(a, b)| (a + b) / 2.0).collect();
        attacks.push(attack("combined", &y, &combined, resamples, seed));
    }

    // closer to a member than to a non-member, on equal-size samples
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let k = members.n_rows().min(nonmembers.n_rows());
    let pick = |n: usize, rng: &mut ChaCha8Rng| {
        let mut i: Vec<usize> = (0..n).collect();
        i.shuffle(rng);
        i.truncate(k);
        i
    };
    let (mi, ni) = (
        pick(members.n_rows(), &mut rng),
        pick(nonmembers.n_rows(), &mut rng),
    );
    let to_mem = closest_distances(synth, &members.take(&mi), &g);
    let to_non = closest_distances(synth, &nonmembers.take(&ni), &g);
    let closer = to_mem.iter().zip(&to_non).filter(|(a, b)| a < b).count() as f64
        + 0.5 * to_mem.iter().zip(&to_non).filter(|(a, b)| a == b).count() as f64;
    let member_keys: HashSet<Vec<u64>> = rows(members).iter().map(|r| row_key(r)).collect();
    let copies = rows(synth)
        .iter()
        .filter(|r| member_keys.contains(&row_key(r)))
        .count();
    let n_synth = synth.n_rows();
    Privacy {
        n_members: members.n_rows(),
        n_nonmembers: nonmembers.n_rows(),
        n_synth,
        attacks,
        median_dcr_members: median(&d_mem),
        median_dcr_nonmembers: median(&d_non),
        closer_to_member_share: if n_synth > 0 {
            closer / n_synth as f64
        } else {
            f64::NAN
        },
        exact_copy_rate: if n_synth > 0 {
            copies as f64 / n_synth as f64
        } else {
            f64::NAN
        },
    }
}
