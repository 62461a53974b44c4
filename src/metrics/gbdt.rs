//! Gradient-boosted trees for the utility metrics: forust-ml (pure Rust, XGBoost's algorithm,
//! native missing-value handling), chosen by measurement against Python xgboost (see
//! `tools/gbdt-choice` and the crate docs' table in `utility`).
//!
//! Default hyperparameters are Johnson et al.'s (depth 9, learning rate 0.01, 1,000 trees,
//! subsample 0.8, colsample 0.7); the paper does not state its own.

use crate::error::{Error, Result};
use forust_ml::gradientbooster::GradientBooster;
use forust_ml::objective::ObjectiveType;
use forust_ml::sampler::SampleMethod;
use forust_ml::Matrix;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct GbdtParams {
    pub trees: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    pub subsample: f32,
    pub colsample: f64,
    pub seed: u64,
    /// Worker threads (1 keeps results independent of the machine's core count).
    pub threads: usize,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            trees: 1000,
            learning_rate: 0.01,
            max_depth: 9,
            subsample: 0.8,
            colsample: 0.7,
            seed: 0,
            threads: 1,
        }
    }
}

/// A fitted model.
pub struct Gbdt {
    model: GradientBooster,
    pub n_features: usize,
}

fn column_major(x: &[Vec<f64>]) -> (Vec<f64>, usize) {
    let rows = x.first().map(|c| c.len()).unwrap_or(0);
    (x.iter().flatten().copied().collect(), rows)
}

impl Gbdt {
    /// Fit on feature columns `x` (column-major, NaN = missing) and 0/1 labels `y`.
    pub fn fit(x: &[Vec<f64>], y: &[f64], p: &GbdtParams) -> Result<Gbdt> {
        let (data, rows) = column_major(x);
        if rows != y.len() || rows == 0 {
            return Err(Error::Invalid(format!(
                "GBDT: {rows} rows of features for {} labels",
                y.len()
            )));
        }
        let m = Matrix::new(&data, rows, x.len());
        let mut model = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(p.trees)
            .set_learning_rate(p.learning_rate)
            .set_max_depth(p.max_depth)
            .set_subsample(p.subsample)
            .set_colsample_bytree(p.colsample)
            .set_sample_method(if p.subsample < 1.0 {
                SampleMethod::Random
            } else {
                SampleMethod::None
            })
            .set_seed(p.seed)
            .set_num_threads(Some(p.threads))
            .set_parallel(p.threads > 1);
        let w = vec![1.0; rows];
        model
            .fit(&m, y, &w, None)
            .map_err(|e| Error::Invalid(format!("GBDT fit failed: {e}")))?;
        Ok(Gbdt {
            model,
            n_features: x.len(),
        })
    }

    /// Scores (log-odds) for rows of `x` (same feature order as in `fit`).
    pub fn predict(&self, x: &[Vec<f64>]) -> Vec<f64> {
        let (data, rows) = column_major(x);
        if rows == 0 {
            return Vec::new();
        }
        self.model
            .predict(&Matrix::new(&data, rows, x.len()), false)
    }
}
