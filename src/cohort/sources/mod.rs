//! Data sources. Each produces the base-table stay facts and the canonical long table (or, for
//! `matrix`, a ready design matrix).

pub mod base;
pub mod matrix_file;
pub mod raw;
pub mod yaib;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// PhysioNet eICU demo base tables + YAIB hourly labs/vitals (the default).
    EicuDemo,
    /// PhysioNet layout with `lab`, `vitalPeriodic` (full eICU or a complete demo download).
    EicuRaw,
    /// A ready CSV or Parquet with the 83 columns.
    Matrix,
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::EicuDemo => "eicu-demo",
            SourceKind::EicuRaw => "eicu-raw",
            SourceKind::Matrix => "matrix",
        }
    }
}

/// Where the eicu-demo files live under a data directory: `DIR/eicu-demo/` (base tables) and
/// `DIR/yaib-eicu-demo/los/dyn.parquet`. `DIR` may also be the `eicu-demo` folder itself when
/// the YAIB folder sits beside it.
pub struct DemoLayout {
    pub base: PathBuf,
    pub dyn_parquet: PathBuf,
}

impl DemoLayout {
    pub fn find(dir: &Path) -> Result<Self> {
        let candidates = [dir.to_path_buf(), dir.join("..")];
        for root in candidates {
            let base = root.join("eicu-demo");
            let dyn_parquet = root.join("yaib-eicu-demo").join("los").join("dyn.parquet");
            if base.is_dir() && dyn_parquet.is_file() {
                return Ok(DemoLayout { base, dyn_parquet });
            }
        }
        Err(Error::MissingTable {
            table: "eicu-demo base tables and YAIB dyn.parquet".into(),
            path: dir.join("eicu-demo (and yaib-eicu-demo/los/dyn.parquet)"),
        })
    }
}
