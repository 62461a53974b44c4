//! Fidelity of synthetic to real data, per feature and overall.
//!
//! **KL estimator** (declared; the paper does not state its own). KL(P_real ‖ Q_synth) in nats
//! (`scipy.stats.entropy(p, q)`) over a histogram built from the real column:
//! - continuous columns: interior bin edges at the real data's deciles (numpy's linear
//!   quantiles, duplicates dropped), a value goes to the bin `searchsorted(edges, x, 'right')`;
//!   two extra bins hold values below the real minimum and above the real maximum (so impossible
//!   synthetic values land in bins the real data leaves empty);
//! - binary, label and hospital-id columns: one bin per category seen in either sample;
//! - missing values: their own bin (missingness is part of the distribution);
//! - smoothing: ε = 1e-6 is added to every bin probability of both P and Q, then each is
//!   renormalised, so an empty Q bin costs a large but finite amount.
//!
//! **KL on present values** (`kl_present`, reported beside it): the same histograms with the
//! missing bin dropped, undefined when either side has no present value. A model that never
//! leaves a field empty, on a column the real data mostly leaves empty, gets a KL near
//! ln(1/ε) ≈ 13.8 from the missing bin alone; this second number says whether the values it did
//! write have the real shape. The paper does not say how it treated missing values.
//!
//! Also per feature: the two-sample KS statistic and Wasserstein-1 distance on present values
//! (`scipy.stats.ks_2samp`, `scipy.stats.wasserstein_distance`), total variation distance on
//! the same histogram; overall: the Frobenius norm of the difference of the Pearson correlation
//! matrices on pairwise-complete rows (pandas `DataFrame.corr()`).

use super::stats::quantile_sorted;
use super::Frame;
use crate::cohort::schema::{self, Kind};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KlEstimator {
    /// Number of quantile bins of a continuous column (before duplicates are dropped).
    pub bins: usize,
    pub epsilon: f64,
}

impl Default for KlEstimator {
    fn default() -> Self {
        KlEstimator {
            bins: 10,
            epsilon: 1e-6,
        }
    }
}

/// Whether a column is histogrammed by category.
pub fn is_categorical(name: &str) -> bool {
    name == "hospitalid"
        || schema::column(name).is_some_and(|c| matches!(c.kind, Kind::Binary | Kind::Label))
}

/// A column's present values, sorted once and shared by the histogram, KS and W1.
pub struct Prepared {
    pub sorted: Vec<f64>,
    pub missing: usize,
}

impl Prepared {
    pub fn new(x: &[f64]) -> Prepared {
        let mut sorted: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        Prepared {
            missing: x.len() - sorted.len(),
            sorted,
        }
    }
}

/// Number of values of sorted `x` that are `< v` (`strict`) or `<= v`.
fn count_below(x: &[f64], v: f64, strict: bool) -> usize {
    if strict {
        x.partition_point(|a| *a < v)
    } else {
        x.partition_point(|a| *a <= v)
    }
}

/// The (P, Q) bin counts of a column under the declared estimator.
pub fn histograms(
    real: &[f64],
    synth: &[f64],
    categorical: bool,
    est: &KlEstimator,
) -> (Vec<f64>, Vec<f64>) {
    histograms_prepared(
        &Prepared::new(real),
        &Prepared::new(synth),
        categorical,
        est,
    )
}

/// Counts of sorted `x` per bin (`bounds` are the upper ends; each bin is (prev, bound] or
/// [.., bound) as `strict` says) — by binary search, not per value.
fn bin_counts(x: &[f64], bounds: &[(f64, bool)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(bounds.len() + 1);
    let mut prev = 0;
    for &(b, strict) in bounds {
        let k = count_below(x, b, strict);
        out.push((k - prev) as f64);
        prev = k;
    }
    out.push((x.len() - prev) as f64);
    out
}

pub fn histograms_prepared(
    r: &Prepared,
    s: &Prepared,
    categorical: bool,
    est: &KlEstimator,
) -> (Vec<f64>, Vec<f64>) {
    let (mut p, mut q) = if categorical {
        let mut cats: Vec<f64> = r.sorted.iter().chain(s.sorted.iter()).copied().collect();
        cats.sort_unstable_by(f64::total_cmp);
        cats.dedup();
        // bin k holds category k: upper bounds are "< next category"
        let bounds: Vec<(f64, bool)> = cats.iter().skip(1).map(|c| (*c, true)).collect();
        (
            bin_counts(&r.sorted, &bounds),
            bin_counts(&s.sorted, &bounds),
        )
    } else if r.sorted.is_empty() {
        // no real values: every synthetic value is "outside" (the over bin), as the rule says
        let n = 1 + 1 + 1;
        let mut q = vec![0.0; n];
        q[n - 1] = s.sorted.len() as f64;
        (vec![0.0; n], q)
    } else {
        let mut edges: Vec<f64> = (1..est.bins)
            .map(|k| quantile_sorted(&r.sorted, k as f64 / est.bins as f64))
            .collect();
        edges.dedup();
        let (min, max) = (r.sorted[0], r.sorted[r.sorted.len() - 1]);
        // [under: < min] [interior: searchsorted(edges, x, right)] ... [over: > max]
        let mut bounds = vec![(min, true)];
        bounds.extend(edges.iter().map(|e| (*e, true)));
        bounds.push((max, false));
        (
            bin_counts(&r.sorted, &bounds),
            bin_counts(&s.sorted, &bounds),
        )
    };
    p.push(r.missing as f64);
    q.push(s.missing as f64);
    (p, q)
}

fn normalise(x: &[f64], eps: f64) -> Vec<f64> {
    let total: f64 = x.iter().sum();
    let probs: Vec<f64> = x
        .iter()
        .map(|v| if total > 0.0 { v / total } else { 0.0 } + eps)
        .collect();
    let z: f64 = probs.iter().sum();
    probs.iter().map(|v| v / z).collect()
}

/// KL(p ‖ q) in nats after ε-smoothing and normalisation (= scipy.stats.entropy on the
/// smoothed vectors).
pub fn kl(p: &[f64], q: &[f64], eps: f64) -> f64 {
    let (p, q) = (normalise(p, eps), normalise(q, eps));
    p.iter()
        .zip(&q)
        .map(|(a, b)| if *a > 0.0 { a * (a / b).ln() } else { 0.0 })
        .sum()
}

/// KL on present values only: `kl` without the missing bin (the last one of [`histograms`]);
/// NaN when either side has no present value.
pub fn kl_present(p: &[f64], q: &[f64], eps: f64) -> f64 {
    let (Some((_, p)), Some((_, q))) = (p.split_last(), q.split_last()) else {
        return f64::NAN;
    };
    if p.iter().sum::<f64>() == 0.0 || q.iter().sum::<f64>() == 0.0 {
        return f64::NAN;
    }
    kl(p, q, eps)
}

/// Total variation distance on unsmoothed normalised histograms.
pub fn total_variation(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalise(p, 0.0), normalise(q, 0.0));
    0.5 * p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// Two-sample Kolmogorov–Smirnov statistic on present values (NaN if a side is empty).
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    ks_sorted(&Prepared::new(a).sorted, &Prepared::new(b).sorted)
}

pub fn ks_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d
}

/// Wasserstein-1 distance between the empirical distributions of present values.
pub fn wasserstein1(a: &[f64], b: &[f64]) -> f64 {
    wasserstein_sorted(&Prepared::new(a).sorted, &Prepared::new(b).sorted)
}

/// ∫ |F_a − F_b| by merging the two sorted samples.
pub fn wasserstein_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut w) = (0, 0, 0.0);
    let mut x = a[0].min(b[0]);
    loop {
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let next = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) => p.min(*q),
            (Some(p), None) => *p,
            (None, Some(q)) => *q,
            (None, None) => break,
        };
        w += (i as f64 / na - j as f64 / nb).abs() * (next - x);
        x = next;
    }
    w
}

/// A column prepared for correlations: values centred on the column's mean (which keeps the
/// one-pass sums below well conditioned), missing as 0 with a 0/1 mask.
struct Centred {
    x: Vec<f64>,
    m: Vec<f64>,
}

impl Centred {
    fn new(c: &[f64]) -> Centred {
        let (s, n) = c
            .iter()
            .filter(|v| !v.is_nan())
            .fold((0.0, 0.0), |(s, n), v| (s + v, n + 1.0));
        let mean = if n > 0.0 { s / n } else { 0.0 };
        Centred {
            x: c.iter()
                .map(|v| if v.is_nan() { 0.0 } else { v - mean })
                .collect(),
            m: c.iter()
                .map(|v| if v.is_nan() { 0.0 } else { 1.0 })
                .collect(),
        }
    }
}

/// Pearson correlation on pairwise-complete rows from one branch-free pass of sums (it
/// vectorises); NaN with fewer than 2 pairs or zero variance.
fn pearson_centred(a: &Centred, b: &Centred) -> f64 {
    // independent lanes per sum: float addition is not reassociated by the compiler, so
    // separate accumulators (and bounds-check-free fixed chunks) are what lets this use SIMD
    const L: usize = 4;
    let mut acc = [[0.0f64; L]; 6];
    let chunks =
        a.x.chunks_exact(L)
            .zip(a.m.chunks_exact(L))
            .zip(b.x.chunks_exact(L).zip(b.m.chunks_exact(L)));
    for ((ax, am), (bx, bm)) in chunks {
        for l in 0..L {
            let w = am[l] * bm[l];
            let (x, y) = (ax[l] * w, bx[l] * w);
            acc[0][l] += w;
            acc[1][l] += x;
            acc[2][l] += y;
            acc[3][l] += x * x;
            acc[4][l] += y * y;
            acc[5][l] += x * y;
        }
    }
    let len = a.x.len();
    for i in len - len % L..len {
        let w = a.m[i] * b.m[i];
        let (x, y) = (a.x[i] * w, b.x[i] * w);
        acc[0][0] += w;
        acc[1][0] += x;
        acc[2][0] += y;
        acc[3][0] += x * x;
        acc[4][0] += y * y;
        acc[5][0] += x * y;
    }
    let sum = |k: usize| acc[k].iter().sum::<f64>();
    let (n, sx, sy, sxx, syy, sxy) = (sum(0), sum(1), sum(2), sum(3), sum(4), sum(5));
    if n < 2.0 {
        return f64::NAN;
    }
    let cov = sxy - sx * sy / n;
    let (vx, vy) = (sxx - sx * sx / n, syy - sy * sy / n);
    if vx <= 0.0 || vy <= 0.0 {
        return f64::NAN;
    }
    cov / (vx * vy).sqrt()
}

/// Pearson correlation on pairwise-complete rows (NaN with fewer than 2 pairs or zero variance).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    pearson_centred(&Centred::new(a), &Centred::new(b))
}

/// Pearson correlation matrix on pairwise-complete rows (pandas `DataFrame.corr()`).
pub fn correlation_matrix(cols: &[Vec<f64>]) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    let p = cols.len();
    let centred: Vec<Centred> = cols.iter().map(|c| Centred::new(c)).collect();
    let lower: Vec<Vec<f64>> = (0..p)
        .into_par_iter()
        .map(|i| {
            (0..i)
                .map(|j| pearson_centred(&centred[i], &centred[j]))
                .collect()
        })
        .collect();
    let mut c = vec![vec![f64::NAN; p]; p];
    for i in 0..p {
        c[i][i] = 1.0;
        for j in 0..i {
            c[i][j] = lower[i][j];
            c[j][i] = lower[i][j];
        }
    }
    c
}

/// ‖corr(real) − corr(synth)‖_F over the entries defined in both.
pub fn correlation_distance(real: &[Vec<f64>], synth: &[Vec<f64>]) -> f64 {
    let p = real.len().min(synth.len());
    let (a, b) = (
        correlation_matrix(&real[..p]),
        correlation_matrix(&synth[..p]),
    );
    let mut s = 0.0;
    for i in 0..p {
        for j in 0..i {
            let d = a[i][j] - b[i][j];
            if d.is_finite() {
                s += 2.0 * d * d; // (i, j) and (j, i)
            }
        }
    }
    s.sqrt()
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureFidelity {
    pub column: String,
    pub kl: f64,
    /// KL without the missing bin (see the module note).
    pub kl_present: f64,
    pub ks: f64,
    pub tv: f64,
    pub wasserstein: f64,
    pub real_missing: f64,
    pub synth_missing: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fidelity {
    pub estimator: KlEstimator,
    pub features: Vec<FeatureFidelity>,
    pub avg_kl: f64,
    /// Mean of the defined `kl_present` values.
    pub avg_kl_present: f64,
    pub avg_ks: f64,
    pub avg_tv: f64,
    pub correlation_distance: f64,
    pub n_real: usize,
    pub n_synth: usize,
}

impl Fidelity {
    /// `avg_kl_present`, `None` when no feature has one (no present values on a side).
    pub fn kl_present_defined(&self) -> Option<f64> {
        Some(self.avg_kl_present).filter(|v| v.is_finite())
    }
}

fn mean_finite(x: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = x.filter(|v| v.is_finite()).collect();
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Fidelity over the columns both frames share (the synthetic frame's order).
pub fn fidelity(real: &Frame, synth: &Frame, est: &KlEstimator) -> Fidelity {
    use rayon::prelude::*;
    let pairs: Vec<(&String, &[f64], &Vec<f64>)> = synth
        .names
        .iter()
        .zip(&synth.columns)
        .filter_map(|(name, s)| real.column(name).map(|r| (name, r, s)))
        .collect();
    let features: Vec<FeatureFidelity> = pairs
        .par_iter()
        .map(|&(name, r, s)| {
            let (rp, sp) = (Prepared::new(r), Prepared::new(s));
            let (p, q) = histograms_prepared(&rp, &sp, is_categorical(name), est);
            let miss = |x: &[f64]| {
                if x.is_empty() {
                    f64::NAN
                } else {
                    x.iter().filter(|v| v.is_nan()).count() as f64 / x.len() as f64
                }
            };
            FeatureFidelity {
                column: name.clone(),
                kl: kl(&p, &q, est.epsilon),
                kl_present: kl_present(&p, &q, est.epsilon),
                ks: ks_sorted(&rp.sorted, &sp.sorted),
                tv: total_variation(&p, &q),
                wasserstein: wasserstein_sorted(&rp.sorted, &sp.sorted),
                real_missing: miss(r),
                synth_missing: miss(s),
            }
        })
        .collect();
    let rc: Vec<Vec<f64>> = pairs.iter().map(|p| p.1.to_vec()).collect();
    let sc: Vec<Vec<f64>> = pairs.iter().map(|p| p.2.clone()).collect();
    Fidelity {
        estimator: *est,
        avg_kl: mean_finite(features.iter().map(|f| f.kl)),
        avg_kl_present: mean_finite(features.iter().map(|f| f.kl_present)),
        avg_ks: mean_finite(features.iter().map(|f| f.ks)),
        avg_tv: mean_finite(features.iter().map(|f| f.tv)),
        correlation_distance: correlation_distance(&rc, &sc),
        features,
        n_real: real.n_rows(),
        n_synth: synth.n_rows(),
    }
}

/// The KL a perfect generator would score at a cell's size: real member rows, `n` of them drawn
/// without replacement (with replacement when `n` exceeds the members), against the same
/// holdout, over `draws` seeded draws. Decile KL is not comparable across sample sizes (an empty
/// bin alone costs ~1.15 nats at ε = 1e-6, so 16 real rows already score ~2), so every KL is read
/// against this matched-n reference; "excess KL" is KL minus its median.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct KlReference {
    /// Median of the draws' average KL.
    pub value: f64,
    /// 2.5% and 97.5% quantiles of the draws.
    pub lo: f64,
    pub hi: f64,
    /// Rows per draw (the cell's valid rows).
    pub n: usize,
    pub draws: usize,
}

/// Draws of the matched-n reference in the report (seeded, so rebuilds are identical).
pub const KL_REFERENCE_DRAWS: usize = 50;

/// [`KlReference`] for `n` rows of `members` (same columns as the cell) against `holdout`;
/// `None` without rows on either side.
pub fn kl_reference(
    members: &Frame,
    holdout: &Frame,
    n: usize,
    draws: usize,
    seed: u64,
    est: &KlEstimator,
) -> Option<KlReference> {
    use rand::{Rng, SeedableRng};
    let m = members.n_rows();
    if n == 0 || m == 0 || holdout.n_rows() == 0 || draws == 0 {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut kls: Vec<f64> = (0..draws)
        .map(|_| {
            let idx: Vec<usize> = if n <= m {
                rand::seq::index::sample(&mut rng, m, n).into_vec()
            } else {
                (0..n).map(|_| rng.gen_range(0..m)).collect()
            };
            fidelity(holdout, &members.take(&idx), est).avg_kl
        })
        .filter(|v| v.is_finite())
        .collect();
    if kls.is_empty() {
        return None;
    }
    kls.sort_by(f64::total_cmp);
    Some(KlReference {
        value: quantile_sorted(&kls, 0.5),
        lo: quantile_sorted(&kls, 0.025),
        hi: quantile_sorted(&kls, 0.975),
        n,
        draws: kls.len(),
    })
}
