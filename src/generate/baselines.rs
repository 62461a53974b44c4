//! Classical (non-LLM) generators, offline and seeded, run over the same grid as the LLMs to
//! show what a simple generator achieves.
//!
//! - `marginals`: every column resampled independently from the member pool (keeps each
//!   marginal and its missing rate, destroys every relationship).
//! - `copula`: a Gaussian copula with missingness indicators. Each column's observed values are
//!   mapped to normal scores by rank; each column's missing indicator becomes one more latent
//!   variable; the latent correlation matrix is estimated on members, samples are drawn from it,
//!   and mapped back through each column's empirical quantiles (so only observed values occur,
//!   which keeps binaries binary) and its missingness threshold.
//!
//! The Cholesky factorisation and the normal quantile are written here (about 40 lines) rather
//! than pulling a linear-algebra crate for one 166 × 166 factorisation.

use crate::cohort::matrix::DesignMatrix;
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    Marginals,
    Copula,
}

impl Baseline {
    pub const ALL: [Baseline; 2] = [Baseline::Marginals, Baseline::Copula];
    pub fn name(&self) -> &'static str {
        match self {
            Baseline::Marginals => "marginals",
            Baseline::Copula => "copula",
        }
    }
}

/// Generate `n` rows of `columns` from the member rows `members` of `m`.
pub fn generate(
    b: Baseline,
    m: &DesignMatrix,
    members: &[usize],
    columns: &[&str],
    n: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>> {
    if members.is_empty() {
        return Err(Error::Invalid(
            "baseline needs a non-empty member pool".into(),
        ));
    }
    let cols: Vec<Vec<f64>> = columns
        .iter()
        .map(|c| {
            m.column(c)
                .map(|col| members.iter().map(|&i| col[i]).collect())
                .ok_or_else(|| Error::Invalid(format!("no column {c}")))
        })
        .collect::<Result<_>>()?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(match b {
        Baseline::Marginals => (0..n)
            .map(|_| cols.iter().map(|c| c[rng.gen_range(0..c.len())]).collect())
            .collect(),
        Baseline::Copula => copula(&cols, n, &mut rng),
    })
}

/// Normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
pub fn norm_ppf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -norm_ppf(1.0 - p)
    }
}

/// Standard normal CDF via erfc (Numerical Recipes' erfc approximation, |error| < 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let erfc = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// Normal scores by average rank: Φ⁻¹(rank / (n + 1)).
fn normal_scores(x: &[f64]) -> Vec<f64> {
    let n = x.len() as f64;
    crate::metrics::stats::average_ranks(x)
        .into_iter()
        .map(|r| norm_ppf(r / (n + 1.0)))
        .collect()
}

/// Lower Cholesky factor of a symmetric positive semi-definite matrix (with jitter).
fn cholesky(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                l[i][j] = (a[i][i] + 1e-6 - s).max(1e-12).sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    l
}

fn copula(cols: &[Vec<f64>], n_out: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    let n = cols[0].len();
    let p = cols.len();
    // latent variables: p value scores (missing → 0, the latent mean) + p missingness scores
    let mut latent: Vec<Vec<f64>> = Vec::with_capacity(2 * p);
    let mut sorted_obs: Vec<Vec<f64>> = Vec::with_capacity(p);
    let mut miss_rate = Vec::with_capacity(p);
    for c in cols {
        let obs_idx: Vec<usize> = (0..n).filter(|&i| !c[i].is_nan()).collect();
        let obs: Vec<f64> = obs_idx.iter().map(|&i| c[i]).collect();
        let scores = normal_scores(&obs);
        let mut z = vec![0.0; n];
        for (k, &i) in obs_idx.iter().enumerate() {
            z[i] = scores[k];
        }
        latent.push(z);
        let mut s = obs.clone();
        s.sort_by(f64::total_cmp);
        sorted_obs.push(s);
        miss_rate.push(1.0 - obs.len() as f64 / n.max(1) as f64);
    }
    for c in cols {
        let ind: Vec<f64> = c
            .iter()
            .map(|v| if v.is_nan() { 1.0 } else { 0.0 })
            .collect();
        latent.push(normal_scores(&ind));
    }
    // correlation of latent scores (a constant score row/col gets 0 off-diagonal)
    let q = latent.len();
    let mean: Vec<f64> = latent
        .iter()
        .map(|z| z.iter().sum::<f64>() / n as f64)
        .collect();
    let sd: Vec<f64> = latent
        .iter()
        .zip(&mean)
        .map(|(z, m)| (z.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt())
        .collect();
    let mut corr = vec![vec![0.0; q]; q];
    for a in 0..q {
        corr[a][a] = 1.0;
        for b in 0..a {
            let r = if sd[a] > 0.0 && sd[b] > 0.0 {
                latent[a]
                    .iter()
                    .zip(&latent[b])
                    .map(|(x, y)| (x - mean[a]) * (y - mean[b]))
                    .sum::<f64>()
                    / (n as f64 * sd[a] * sd[b])
            } else {
                0.0
            };
            corr[a][b] = r;
            corr[b][a] = r;
        }
    }
    let l = cholesky(&corr);
    (0..n_out)
        .map(|_| {
            let e: Vec<f64> = (0..q).map(|_| rng.sample(StandardNormal)).collect();
            let z: Vec<f64> = (0..q)
                .map(|i| (0..=i).map(|k| l[i][k] * e[k]).sum())
                .collect();
            (0..p)
                .map(|j| {
                    // missing when the indicator's latent falls in its top `miss_rate` mass
                    let missing = miss_rate[j] > 0.0 && norm_cdf(z[p + j]) > 1.0 - miss_rate[j];
                    let obs = &sorted_obs[j];
                    if missing || obs.is_empty() {
                        return f64::NAN;
                    }
                    let u = norm_cdf(z[j]);
                    let k = ((u * obs.len() as f64).floor() as usize).min(obs.len() - 1);
                    obs[k]
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_and_cdf_agree() {
        for p in [0.001, 0.02, 0.3, 0.5, 0.9, 0.999] {
            assert!((norm_cdf(norm_ppf(p)) - p).abs() < 1e-6, "{p}");
        }
        assert!((norm_ppf(0.975) - 1.959963985).abs() < 1e-8);
    }
}
