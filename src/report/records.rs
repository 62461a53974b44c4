//! The results file: the results records the chapters emitted, one per (model, cell), as
//! `results.json` (with the paper's numbers beside) and a flat `results.csv`.

use super::RunInfo;
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::results::ResultRecord;
use std::path::Path;

/// One record per (model, cell): the last evaluation of a cell wins.
pub fn dedup(results: Vec<ResultRecord>) -> Vec<ResultRecord> {
    let mut cells = std::collections::BTreeMap::new();
    for r in results {
        cells.insert(r.cell_key(), r);
    }
    cells.into_values().collect()
}

/// The paper's numbers (PAPER.md) for the results file, from the one reference data file.
fn paper_numbers() -> serde_json::Value {
    serde_json::from_str(crate::paper::REFERENCE_JSON).unwrap_or(serde_json::Value::Null)
}

/// `results.json` (schema in the README) and a flat `results.csv` from the deduplicated records,
/// one entry per experiment cell and model.
pub fn write_results(cells: &[ResultRecord], info: &RunInfo, out: &Path) -> Result<()> {
    let doc = serde_json::json!({
        "schema": 3,
        "data_fingerprint": info.fingerprint,
        "profile": info.profile,
        "models": info.models,
        "cells": cells,
        "paper": paper_numbers(),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join("results.json"), text.as_bytes())?;
    let cols = [
        "model",
        "stage",
        "strategy",
        "features",
        "rows",
        "replicate",
        "held_out_region",
        "status",
        "calls",
        "valid_rows",
        "valid_rate",
        "avg_kl",
        "avg_kl_present",
        "within_auroc",
        "tstr_auroc",
        "tstr_auprc",
        "mia_auroc",
        "mia_advantage",
        "mia_risk",
        "prompt_tokens",
        "completion_tokens",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cols)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for rec in cells {
        // the flat view of the typed record: intervals by their value
        let c = serde_json::to_value(rec).map_err(|e| Error::Invalid(e.to_string()))?;
        let row: Vec<String> = cols
            .iter()
            .map(|k| match &c[*k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => {
                    o.get("value").map(|v| v.to_string()).unwrap_or_default()
                }
                other => other.to_string(),
            })
            .collect();
        w.write_record(&row)
            .map_err(|e| Error::Invalid(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join("results.csv"), &bytes)
}
