//! Metrics: fidelity, utility (GBDT + AUROC/AUPRC), fairness and privacy. Each is pinned to a
//! named reference (scipy, scikit-learn) by golden vectors from `tests/reference/make_golden.py`.

/// Fewer synthetic rows than this and a distribution metric (KL, and so a finding built on it)
/// is undefined rather than noise: the study's rule for whole cells and for groups inside them.
pub const MIN_ROWS: usize = 10;

pub mod fairness;
pub mod fidelity;
pub mod gbdt;
pub mod privacy;
pub mod stats;
pub mod utility;

use crate::cohort::DesignMatrix;
use crate::error::{Error, Result};

/// Bit pattern of a row, for exact comparisons (all NaNs compare equal).
pub fn row_key(row: &[f64]) -> Vec<u64> {
    row.iter()
        .map(|v| {
            if v.is_nan() {
                u64::MAX
            } else {
                (v + 0.0).to_bits()
            }
        })
        .collect()
}

/// Named columns of `f64` (NaN = missing), column-major: real or synthetic rows alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

impl Frame {
    pub fn new(names: Vec<String>, columns: Vec<Vec<f64>>) -> Result<Frame> {
        if names.len() != columns.len() {
            return Err(Error::Invalid(format!(
                "{} names for {} columns",
                names.len(),
                columns.len()
            )));
        }
        if let Some(c) = columns.iter().find(|c| c.len() != columns[0].len()) {
            return Err(Error::Invalid(format!(
                "columns of unequal length ({} vs {})",
                c.len(),
                columns[0].len()
            )));
        }
        Ok(Frame { names, columns })
    }

    /// From rows (each in `names` order).
    pub fn from_rows(names: &[&str], rows: &[Vec<f64>]) -> Frame {
        let columns = (0..names.len())
            .map(|j| {
                rows.iter()
                    .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        Frame {
            names: names.iter().map(|s| s.to_string()).collect(),
            columns,
        }
    }

    /// The given rows and columns of a design matrix.
    pub fn from_matrix(m: &DesignMatrix, rows: &[usize], names: &[&str]) -> Result<Frame> {
        let mut columns = Vec::with_capacity(names.len());
        for n in names {
            let c = m
                .column(n)
                .ok_or_else(|| Error::Invalid(format!("design matrix has no column '{n}'")))?;
            columns.push(rows.iter().map(|&i| c[i]).collect());
        }
        Ok(Frame {
            names: names.iter().map(|s| s.to_string()).collect(),
            columns,
        })
    }

    pub fn n_rows(&self) -> usize {
        self.columns.first().map(|c| c.len()).unwrap_or(0)
    }

    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.columns[i].as_slice())
    }

    /// Rows where `keep` holds.
    pub fn filter(&self, keep: &[bool]) -> Frame {
        Frame {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| {
                    c.iter()
                        .zip(keep)
                        .filter(|(_, k)| **k)
                        .map(|(v, _)| *v)
                        .collect()
                })
                .collect(),
        }
    }

    /// Rows at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Frame {
        Frame {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| idx.iter().map(|&i| c[i]).collect())
                .collect(),
        }
    }

    /// Only the named columns, in that order.
    pub fn select(&self, names: &[&str]) -> Result<Frame> {
        let mut columns = Vec::with_capacity(names.len());
        for n in names {
            columns.push(
                self.column(n)
                    .ok_or_else(|| Error::Invalid(format!("no column '{n}'")))?
                    .to_vec(),
            );
        }
        Ok(Frame {
            names: names.iter().map(|s| s.to_string()).collect(),
            columns,
        })
    }

    /// CSV text: header, then rows with values in shortest round-trip form, missing as empty.
    pub fn to_csv(&self) -> String {
        let mut out = self.names.join(",");
        out.push('\n');
        for i in 0..self.n_rows() {
            let row: Vec<String> = self
                .columns
                .iter()
                .map(|c| {
                    if c[i].is_nan() {
                        String::new()
                    } else {
                        crate::cohort::matrix::canonical(c[i])
                    }
                })
                .collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// Read a CSV with a header (a synthetic table written by `generate`).
    pub fn read_csv(path: &std::path::Path) -> Result<Frame> {
        let t = crate::cohort::table::Table::open(path)?;
        let names: Vec<String> = t.header().to_vec();
        let mut columns = vec![Vec::new(); names.len()];
        let mut issues = crate::cohort::table::ParseIssues::default();
        t.for_each(|r| {
            for (j, col) in columns.iter_mut().enumerate() {
                col.push(
                    issues
                        .num("synthetic", "value", r.get(j))
                        .unwrap_or(f64::NAN),
                );
            }
            Ok(())
        })?;
        Frame::new(names, columns)
    }
}
