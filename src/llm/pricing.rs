//! Token prices from `profiles/prices.toml` (data, not code).

use super::provider::{ProviderKind, Usage};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub provider: ProviderKind,
    pub model: String,
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Prices {
    #[serde(default)]
    pub price: Vec<Price>,
}

impl Prices {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        toml::from_str(&text).map_err(|e| Error::bad_file(path, e.to_string()))
    }

    /// Cost in USD, or `None` when the model has no listed price (local models).
    pub fn cost(&self, provider: ProviderKind, model: &str, usage: &Usage) -> Option<f64> {
        let p = self
            .price
            .iter()
            .find(|p| p.provider == provider && p.model == model)?;
        Some(
            usage.prompt_tokens as f64 * p.input_per_mtok / 1e6
                + usage.completion_tokens as f64 * p.output_per_mtok / 1e6,
        )
    }
}
