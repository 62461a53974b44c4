//! The design matrix: named columns of `f64` (NaN = missing) plus per-row metadata used for
//! splits (patient, hospital, region). It carries a fingerprint that feeds every downstream key.

use crate::error::{Error, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowMeta {
    pub stay: i64,
    /// `uniquepid`; splits never put one patient on both sides.
    pub patient: String,
    pub hospital: i64,
    pub region: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DesignMatrix {
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
    meta: Vec<RowMeta>,
}

/// Canonical text of a value: shortest round-trip float (Rust's `Display`), `NA` for missing.
pub fn canonical(v: f64) -> String {
    if v.is_nan() {
        "NA".to_string()
    } else if v == 0.0 {
        "0".to_string() // -0 and 0 are the same value
    } else {
        format!("{v}")
    }
}

impl DesignMatrix {
    pub fn new(names: Vec<String>, columns: Vec<Vec<f64>>, meta: Vec<RowMeta>) -> Self {
        debug_assert_eq!(names.len(), columns.len());
        DesignMatrix {
            names,
            columns,
            meta,
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
    pub fn n_rows(&self) -> usize {
        self.meta.len()
    }
    pub fn n_cols(&self) -> usize {
        self.names.len()
    }
    pub fn meta(&self) -> &[RowMeta] {
        &self.meta
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.index_of(name).map(|i| self.columns[i].as_slice())
    }
    pub fn columns(&self) -> &[Vec<f64>] {
        &self.columns
    }
    pub fn value(&self, row: usize, col: usize) -> f64 {
        self.columns[col][row]
    }

    pub fn missing_cells(&self) -> usize {
        self.columns
            .iter()
            .map(|c| c.iter().filter(|v| v.is_nan()).count())
            .sum()
    }

    /// sha256 over the canonical CSV: header, then rows in order, values via [`canonical`].
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.names.join(",").as_bytes());
        h.update(b"\n");
        let mut line = String::new();
        for r in 0..self.n_rows() {
            line.clear();
            for (c, col) in self.columns.iter().enumerate() {
                if c > 0 {
                    line.push(',');
                }
                line.push_str(&canonical(col[r]));
            }
            line.push('\n');
            h.update(line.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// CSV with the column names as header; missing values as empty fields.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let mut w = csv::Writer::from_path(path)
            .map_err(|e| Error::bad_file(path, format!("cannot write: {e}")))?;
        let err = |e: csv::Error| Error::bad_file(path, format!("cannot write: {e}"));
        w.write_record(&self.names).map_err(err)?;
        let mut rec: Vec<String> = Vec::with_capacity(self.n_cols());
        for r in 0..self.n_rows() {
            rec.clear();
            rec.extend(self.columns.iter().map(|c| {
                if c[r].is_nan() {
                    String::new()
                } else {
                    canonical(c[r])
                }
            }));
            w.write_record(&rec).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    }

    /// Write the matrix as parquet (missing values as nulls).
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        super::parquet::write(path, &self.names, &self.columns)
    }
}
