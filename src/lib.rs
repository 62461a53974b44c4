//! synthehr — a reproducible case study of LLM-generated synthetic ICU records (eICU): fidelity,
//! utility across hospitals, fairness and privacy, reproducing Lin, Yu & Lee (CHIL 2025).
//!
//! The notebook-facing API is the [`prelude`]; the `synthehr` binary is a thin CLI over [`app`].

#[cfg(feature = "tool")]
pub mod app;
pub mod cohort;
pub mod data;
pub mod discussion;
pub mod error;
pub mod findings;
pub mod fsutil;
pub mod generate;
pub mod llm;
pub mod metrics;
pub mod notebook;
pub mod paper;
pub mod plot;
pub mod project;
pub mod regions;
#[cfg(feature = "tool")]
pub mod report;
pub mod results;
pub mod show;
pub mod study;

pub use error::{Error, Result};

/// What a notebook needs, in one import: `use synthehr::prelude::*;`.
pub mod prelude {
    pub use crate::cohort::schema::{self, column_names, top_k};
    pub use crate::cohort::split::{self, Split};
    pub use crate::cohort::{Cohort, CohortSummary, DesignMatrix, SourceKind};
    pub use crate::data::data_dir;
    pub use crate::discussion::{self, Discussion};
    pub use crate::error::{Error, Result};
    pub use crate::generate::baselines::Baseline;
    pub use crate::generate::grammar::Decoding;
    pub use crate::generate::parse::Reject;
    pub use crate::generate::{Cell, Profile, Strategy};
    pub use crate::metrics::fidelity::{fidelity, KlEstimator, KlReference};
    pub use crate::metrics::stats::Estimate;
    pub use crate::metrics::utility::{self, UtilityOptions};
    pub use crate::metrics::Frame;
    pub use crate::notebook::display::{html, svg, EvcxrDisplay};
    pub use crate::paper::{self, Paper};
    pub use crate::plot::{self, figure, Caption, Figure, Series};
    pub use crate::show::{self, MISSING};
    pub use crate::study::{fmt, thousands, Study, Table};
}
