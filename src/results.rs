//! The results record: one per (model, experiment cell) a chapter evaluates, built where the cell
//! is evaluated ([`crate::study::Study::record`]), emitted as a machine-readable cell output and
//! collected by the build into `results.json` / `results.csv` and the build's closing line —
//! typed end to end, so nothing downstream parses status text back.

use crate::generate::run::CellStatus;
use crate::metrics::fidelity::KlReference;
use crate::metrics::stats::Estimate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a cell stands after replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CellState {
    #[default]
    Complete,
    BudgetReached,
    GaveUp,
    /// Calls the cache does not hold yet.
    NotGenerated {
        missing_calls: usize,
    },
    /// A cache file replay cannot use: fails `build --offline` unless `--keep-going`.
    Corrupt {
        file: String,
        why: String,
    },
}

impl CellState {
    pub fn of(s: &CellStatus) -> Self {
        match s {
            CellStatus::Complete => CellState::Complete,
            CellStatus::BudgetReached => CellState::BudgetReached,
            CellStatus::GaveUp => CellState::GaveUp,
            CellStatus::Incomplete { missing } => CellState::NotGenerated {
                missing_calls: missing.len(),
            },
            CellStatus::Corrupt { file, why } => CellState::Corrupt {
                file: file.display().to_string(),
                why: why.clone(),
            },
        }
    }

    /// Complete, at its call budget or gave up: its numbers no longer move as calls land.
    pub fn ended(&self) -> bool {
        !matches!(
            self,
            CellState::NotGenerated { .. } | CellState::Corrupt { .. }
        )
    }

    /// The state's name in tables and the build's summary line.
    pub fn name(&self) -> &'static str {
        match self {
            CellState::Complete => "complete",
            CellState::BudgetReached => "call budget reached",
            CellState::GaveUp => "gave up",
            CellState::NotGenerated { .. } => "not generated yet",
            CellState::Corrupt { .. } => "corrupt cache entry",
        }
    }

    /// The state with its detail, as the report shows it.
    pub fn text(&self) -> String {
        match self {
            CellState::GaveUp => "gave up (valid-row rate near zero)".into(),
            CellState::NotGenerated { missing_calls } => {
                // A lower bound: the calls still needed if every row of them were valid.
                format!("not generated yet (at least {missing_calls} more calls)")
            }
            CellState::Corrupt { file, .. } => format!("corrupt cache entry ({file})"),
            other => other.name().into(),
        }
    }
}

/// A metric with its bootstrap interval and the class counts it was computed on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    pub positives: usize,
    pub negatives: usize,
}

impl From<&Estimate> for Interval {
    fn from(e: &Estimate) -> Self {
        Interval {
            value: e.value,
            lo: e.lo,
            hi: e.hi,
            positives: e.positives,
            negatives: e.negatives,
        }
    }
}

/// (model, stage, strategy, features, rows, replicate, decoding, held-out region).
pub type CellKey = (
    String,
    String,
    String,
    usize,
    usize,
    u32,
    String,
    Option<String>,
);

/// One evaluated cell of one model (the README documents the fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    pub model: String,
    pub profile: String,
    pub data_fingerprint: String,
    pub stage: String,
    pub strategy: String,
    pub features: usize,
    pub rows: usize,
    pub replicate: u32,
    pub decoding: String,
    /// The region the cell's generator never saw (chapter 7); its `tstr_*` are tested on that
    /// region's real patients, and it has no fidelity or privacy numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_region: Option<String>,
    /// `state` as text, for readers of the file.
    pub status: String,
    pub state: CellState,
    pub calls: usize,
    pub valid_rows: usize,
    pub valid_rate: f64,
    /// Valid rows whose window summaries contradict each other (kept, counted).
    pub inconsistent_rows: usize,
    pub inconsistent_rate: f64,
    pub rejections: BTreeMap<String, usize>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub avg_kl: Option<f64>,
    pub avg_kl_present: Option<f64>,
    /// Real-vs-real KL of member rows at this cell's valid-row count (median and 95% interval
    /// over seeded draws): KL depends on sample size, so it is read against this.
    pub kl_reference: Option<KlReference>,
    /// `avg_kl` − `kl_reference.value`.
    pub excess_kl: Option<f64>,
    pub kl_estimator: Option<serde_json::Value>,
    pub within_auroc: Option<Interval>,
    pub tstr_auroc: Option<Interval>,
    pub tstr_auprc: Option<Interval>,
    pub mia_auroc: Option<Interval>,
    pub mia_advantage: Option<Interval>,
    pub mia_risk: Option<Interval>,
    /// Members the DCR attack flags at a 1% false-positive rate.
    pub mia_tpr_at_1pct_fpr: Option<Interval>,
    /// Share of the answers' record lines that copied a row shown in the prompt, before the
    /// copy filter removed them (the filtered release is what the attack sees).
    pub copied_line_rate: Option<f64>,
}

impl ResultRecord {
    /// What identifies the cell: the last record of a cell wins when several chapters
    /// evaluate it.
    pub fn cell_key(&self) -> CellKey {
        (
            self.model.clone(),
            self.stage.clone(),
            self.strategy.clone(),
            self.features,
            self.rows,
            self.replicate,
            self.decoding.clone(),
            self.held_out_region.clone(),
        )
    }
}

/// One line on the LLM cells of a build: cells per state and the calls still missing — what a
/// reviewer checks after an offline build.
pub fn cells_line(records: &[ResultRecord]) -> String {
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    let mut missing = 0;
    for r in records {
        *by_state.entry(r.state.name()).or_default() += 1;
        if let CellState::NotGenerated { missing_calls } = r.state {
            missing += missing_calls;
        }
    }
    let parts: Vec<String> = by_state.iter().map(|(s, n)| format!("{s} {n}")).collect();
    format!(
        "LLM cells: {} ({}){}; replayed from the cache, no request sent",
        records.len(),
        parts.join(", "),
        if missing > 0 {
            format!(", {missing} call(s) not in the cache yet")
        } else {
            String::new()
        }
    )
}

/// The corrupt cache files the records name (each once).
pub fn corrupt_files(records: &[ResultRecord]) -> Vec<String> {
    let mut files: Vec<String> = records
        .iter()
        .filter_map(|r| match &r.state {
            CellState::Corrupt { file, .. } => Some(file.clone()),
            _ => None,
        })
        .collect();
    files.sort();
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_states_and_missing_calls_from_typed_records() {
        let rec = |state: CellState| ResultRecord {
            status: state.text(),
            state,
            ..Default::default()
        };
        let records = vec![
            rec(CellState::Complete),
            rec(CellState::BudgetReached),
            rec(CellState::BudgetReached),
            rec(CellState::GaveUp),
            rec(CellState::NotGenerated { missing_calls: 3 }),
            rec(CellState::NotGenerated { missing_calls: 19 }),
            rec(CellState::Corrupt {
                file: "cache/llm/ab/ab12.json".into(),
                why: "truncated".into(),
            }),
        ];
        assert_eq!(
            cells_line(&records),
            "LLM cells: 7 (call budget reached 2, complete 1, corrupt cache entry 1, gave up 1, \
             not generated yet 2), 22 call(s) not in the cache yet; replayed from the cache, \
             no request sent"
        );
        assert_eq!(corrupt_files(&records), vec!["cache/llm/ab/ab12.json"]);
        // the record survives its JSON round trip, state and all
        let json = serde_json::to_string(&records[6]).unwrap();
        assert!(json.contains(r#""state":{"kind":"corrupt","file":"cache/llm/ab/ab12.json""#));
        let back: ResultRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records[6]);
    }
}
