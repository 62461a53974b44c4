//! Real data → the paper's 83-column design matrix, with its summary and fingerprint.

pub mod features;
#[cfg(feature = "tool")]
pub mod fetch;
pub mod long;
pub mod matrix;
pub mod parquet;
pub mod schema;
pub mod selection;
pub mod sources;
pub mod split;
pub mod summary;
pub mod table;

pub use matrix::{DesignMatrix, RowMeta};
pub use selection::Attrition;
pub use sources::SourceKind;
pub use summary::CohortSummary;

use crate::error::Result;
use long::LongTable;
use std::path::Path;
use table::ParseIssues;

/// A built cohort: the design matrix plus how it was made.
#[derive(Debug, Clone)]
pub struct Cohort {
    pub source: SourceKind,
    pub matrix: DesignMatrix,
    /// Cohort-rule attrition (not for the `matrix` source).
    pub attrition: Option<Attrition>,
    pub issues: ParseIssues,
}

impl Cohort {
    /// Build from a source. `path` is the data directory (`eicu-demo`: the folder holding
    /// `eicu-demo/` and `yaib-eicu-demo/`; `eicu-raw`: the folder of PhysioNet tables) or, for
    /// `matrix`, the CSV/Parquet file.
    pub fn build(source: SourceKind, path: &Path) -> Result<Cohort> {
        let mut issues = ParseIssues::default();
        let mut long = LongTable::default();
        let stays = match source {
            SourceKind::Matrix => {
                let matrix = sources::matrix_file::read(path, &mut issues)?;
                return Ok(Cohort {
                    source,
                    matrix,
                    attrition: None,
                    issues,
                });
            }
            SourceKind::EicuDemo => {
                let layout = sources::DemoLayout::find(path)?;
                sources::yaib::read_dyn(&layout.dyn_parquet, &mut long)?;
                sources::base::read_stays(&layout.base, &mut issues)?
            }
            SourceKind::EicuRaw => {
                sources::raw::read_lab(path, &mut long, &mut issues)?;
                sources::raw::read_vital_periodic(path, &mut long, &mut issues)?;
                sources::raw::read_vital_aperiodic(path, &mut long, &mut issues)?;
                sources::raw::read_urine(path, &mut long, &mut issues)?;
                sources::base::read_stays(path, &mut issues)?
            }
        };
        long.sort();
        let with_hr = features::stays_with_heart_rate(&long);
        let (selected, attrition) = selection::select(&stays, &with_hr);
        let matrix = features::design_matrix(&selected, &long);
        Ok(Cohort {
            source,
            matrix,
            attrition: Some(attrition),
            issues,
        })
    }

    pub fn summary(&self) -> CohortSummary {
        CohortSummary::of(self)
    }

    /// Write `design_matrix.parquet`, `design_matrix.csv` and `cohort.json` into `out`.
    pub fn write(&self, out: &Path) -> Result<CohortSummary> {
        std::fs::create_dir_all(out).map_err(|e| crate::error::Error::io(out, e))?;
        self.matrix
            .write_parquet(&out.join("design_matrix.parquet"))?;
        self.matrix.write_csv(&out.join("design_matrix.csv"))?;
        let summary = self.summary();
        let json = serde_json::to_vec_pretty(&summary)
            .map_err(|e| crate::error::Error::Invalid(e.to_string()))?;
        crate::fsutil::write_atomic(&out.join("cohort.json"), &json)?;
        Ok(summary)
    }
}
