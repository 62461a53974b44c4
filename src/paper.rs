//! The paper's reported numbers (Lin, Yu & Lee, CHIL 2025; PAPER.md), read from one data file,
//! `report_templates/paper_reference.json`, so every chapter, `results.json` and the scorecard
//! quote the same values, always labelled as the paper's.

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The data file, compiled in (a tested constant, not user input).
pub const REFERENCE_JSON: &str = include_str!("../report_templates/paper_reference.json");

/// The paper's feature count with every feature (its 83 columns less the label); the cohort's
/// schema has the same (checked in `cohort::schema`'s tests, the layer above this one).
pub const ALL_FEATURES: usize = 82;

/// A reported value with its confidence interval when the paper gives one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reported {
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

impl<'de> Deserialize<'de> for Reported {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v: Vec<f64> = Vec::deserialize(d)?;
        match v.as_slice() {
            [value] => Ok(Reported {
                value: *value,
                ci: None,
            }),
            [value, lo, hi] => Ok(Reported {
                value: *value,
                ci: Some((*lo, *hi)),
            }),
            _ => Err(serde::de::Error::custom(
                "a reported value is [value] or [value, lo, hi]",
            )),
        }
    }
}

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ci {
            Some((lo, hi)) => write!(f, "{:.4} [{lo:.4}, {hi:.4}]", self.value),
            None => write!(f, "{:.4}", self.value),
        }
    }
}

/// One experiment cell as the paper reports it (fields it does not report are `None`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PaperCell {
    pub avg_kl: Option<f64>,
    pub within_auroc: Option<Reported>,
    pub within_auprc: Option<Reported>,
    pub tstr_auroc: Option<Reported>,
    pub tstr_auprc: Option<Reported>,
}

/// Table 2: average KL inside one demographic group.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct GroupKl {
    pub group: f64,
    pub naive: f64,
}

/// Figure 2: the membership-inference attack at one feature count.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct MiaPoint {
    pub mia_auroc: f64,
    pub mia_advantage: Option<f64>,
    /// Read off the paper's bars rather than stated in its text.
    pub approximate: bool,
}

impl MiaPoint {
    /// The attack AUROC as a table shows it: "≈0.6000" when read off the bars.
    pub fn shown_auroc(&self) -> String {
        let about = if self.approximate { "≈" } else { "" };
        format!("{about}{:.4}", self.mia_auroc)
    }
}

/// Table 2's group / naive KL as a table shows it: "0.1234 / 0.2345".
impl std::fmt::Display for GroupKl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} / {:.4}", self.group, self.naive)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Table5 {
    pub lowest: BTreeMap<String, f64>,
    pub highest: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Figure2 {
    pub note: String,
    #[serde(flatten)]
    pub points: BTreeMap<String, MiaPoint>,
}

/// Everything the paper reports that the report compares with.
#[derive(Debug, Clone, Deserialize)]
pub struct Paper {
    pub source: String,
    pub model: String,
    pub rows: usize,
    pub table1: BTreeMap<String, PaperCell>,
    pub table2: BTreeMap<String, GroupKl>,
    pub table3: BTreeMap<String, PaperCell>,
    pub table4: BTreeMap<String, PaperCell>,
    pub table5: Table5,
    pub figure2: Figure2,
}

static PAPER: OnceLock<Paper> = OnceLock::new();

impl Paper {
    /// The paper's numbers. The file is compiled in and a unit test parses it, so a parse
    /// failure here is a build defect, not bad input.
    pub fn get() -> &'static Paper {
        PAPER.get_or_init(|| {
            serde_json::from_str(REFERENCE_JSON)
                .expect("report_templates/paper_reference.json parses (unit-tested)")
        })
    }

    /// Table 1: a strategy at all 83 columns.
    pub fn strategy(&self, name: &str) -> Option<&PaperCell> {
        self.table1.get(name)
    }

    /// Table 3: the group strategy at `k` features.
    pub fn features(&self, k: usize) -> Option<&PaperCell> {
        self.table3.get(&k.to_string())
    }

    /// Table 4: the group strategy at 10 features and `n` rows.
    pub fn rows(&self, n: usize) -> Option<&PaperCell> {
        self.table4.get(&n.to_string())
    }

    /// Table 4's rows in numeric order of the row count (the file's keys are text, in which
    /// "10000" sorts before "5000").
    pub fn table4_by_rows(&self) -> Vec<(usize, &PaperCell)> {
        let mut v: Vec<(usize, &PaperCell)> = self
            .table4
            .iter()
            .filter_map(|(k, p)| Some((k.parse().ok()?, p)))
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }

    /// Table 2: average KL inside a demographic group, group-based and naive.
    pub fn group_kl(&self, group: &str) -> Option<GroupKl> {
        self.table2.get(group).copied()
    }

    /// Figure 2: attack AUROC at `k` features. Its last bar is labelled by columns, 83: all
    /// [`ALL_FEATURES`] features and the label.
    pub fn mia(&self, k: usize) -> Option<MiaPoint> {
        let key = if k == ALL_FEATURES { k + 1 } else { k };
        self.figure2.points.get(&key.to_string()).copied()
    }

    /// Table 5: the paper's per-feature KL at 83 columns, lowest and highest five.
    pub fn feature_kl(&self, column: &str) -> Option<f64> {
        self.table5
            .lowest
            .get(column)
            .or_else(|| self.table5.highest.get(column))
            .copied()
    }
}

/// A paper value for a table cell: the number, or "—" where the paper reports none.
pub fn show<T: std::fmt::Display>(v: Option<T>) -> String {
    crate::show::opt(v)
}

/// A bare KL (or other 4-digit) value from the paper for a table cell.
pub fn show_f(v: Option<f64>) -> String {
    crate::show::num(v, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table4_rows_come_in_numeric_order() {
        let rows: Vec<usize> = Paper::get().table4_by_rows().iter().map(|r| r.0).collect();
        assert_eq!(rows, vec![1000, 5000, 10000]);
    }

    #[test]
    fn reference_parses_and_matches_paper_md() {
        let p = Paper::get();
        assert_eq!(p.table1.len(), 4);
        assert_eq!(p.strategy("naive").and_then(|c| c.avg_kl), Some(0.5797));
        let across = p.strategy("schema").and_then(|c| c.tstr_auroc);
        assert_eq!(
            across.map(|r| r.to_string()).as_deref(),
            Some("0.6205 [0.5623, 0.6848]")
        );
        assert_eq!(p.features(10).and_then(|c| c.avg_kl), Some(0.1552));
        assert_eq!(
            p.rows(10_000).and_then(|c| c.tstr_auroc).map(|r| r.value),
            Some(0.9157)
        );
        assert_eq!(p.group_kl("race_asian").map(|g| g.naive), Some(0.5668));
        assert!(p.mia(20).is_some_and(|m| m.approximate));
        assert!(p.mia(20).is_some_and(|m| m.shown_auroc().starts_with('≈')));
        assert_eq!(p.mia(5).and_then(|m| m.mia_advantage), Some(0.0011));
        // all 82 features (83 columns with the label): the figure's last bar
        assert_eq!(p.mia(ALL_FEATURES).map(|m| m.mia_auroc), Some(1.0));
        assert_eq!(p.feature_kl("bilirubin_last_early"), Some(0.8353));
        assert_eq!(show_f(None), "—");
    }

    #[test]
    fn reported_rejects_two_numbers() {
        assert!(serde_json::from_str::<Reported>("[0.1, 0.2]").is_err());
    }
}
