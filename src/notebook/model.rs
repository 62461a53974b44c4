//! The `.ipynb` model (nbformat 4), read and written with serde. Unknown fields are kept so a
//! notebook written back is the notebook the author edited.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// `source` is a string or a list of lines in nbformat; we normalise to one string.
fn source_de<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
        _ => String::new(),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub cell_type: String,
    #[serde(deserialize_with = "source_de")]
    pub source: String,
    #[serde(default)]
    pub metadata: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_count: Option<Value>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notebook {
    pub cells: Vec<Cell>,
    #[serde(default)]
    pub metadata: Value,
    pub nbformat: u32,
    pub nbformat_minor: u32,
}

impl Notebook {
    pub fn read(path: &Path) -> Result<Notebook> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let nb: Notebook = serde_json::from_slice(&bytes)
            .map_err(|e| Error::bad_file(path, format!("not a valid notebook: {e}")))?;
        if nb.nbformat != 4 {
            return Err(Error::bad_file(
                path,
                format!("nbformat {} (expected 4)", nb.nbformat),
            ));
        }
        Ok(nb)
    }

    /// Code cells with their index among all cells.
    pub fn code_cells(&self) -> impl Iterator<Item = (usize, &Cell)> {
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.cell_type == "code")
    }

    /// The kernel this notebook names (`rust` for evcxr).
    pub fn kernel(&self) -> Option<&str> {
        self.metadata
            .get("kernelspec")
            .and_then(|k| k.get("name"))
            .and_then(|n| n.as_str())
    }
}
