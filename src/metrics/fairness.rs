//! Fairness: fidelity and utility inside each demographic group (the paper's Table 2 plus
//! per-group AUROC), with the worst group and the max–min gap.
//!
//! Groups: rows with race_black / race_hispanic / race_asian / race_other / is_female = 1, and
//! for is_female also = 0 (male). A group is skipped, with the reason, when the synthetic table
//! lacks its column.

use super::fidelity::{fidelity, KlEstimator};
use super::stats::{self, Estimate};
use super::Frame;
use crate::cohort::schema::{GROUP_COLUMNS, LABEL};
use crate::show;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct GroupResult {
    pub group: String,
    pub n_real: usize,
    pub n_synth: usize,
    pub avg_kl: Option<f64>,
    /// Average KL on present values only (see `fidelity::kl_present`).
    pub avg_kl_present: Option<f64>,
    pub auroc: Option<Estimate>,
    pub note: Option<String>,
}

impl GroupResult {
    /// "0.1234 (0.1000)": the group's KL with its present-values KL, or why it has none.
    pub fn kl_shown(&self) -> String {
        match self.avg_kl {
            Some(v) => format!(
                "{} ({})",
                show::num(v, 4),
                show::num(self.avg_kl_present, 4)
            ),
            None => show::opt(self.note.as_ref()),
        }
    }
}

/// The worst group and its value: "race_black (0.4123)".
pub fn worst_shown(w: &Option<(String, f64)>) -> String {
    show::opt(
        w.as_ref()
            .map(|(g, v)| format!("{g} ({})", show::num(*v, 4))),
    )
}

#[derive(Debug, Clone, Serialize)]
pub struct Fairness {
    pub groups: Vec<GroupResult>,
    pub worst_kl: Option<(String, f64)>,
    pub kl_gap: Option<f64>,
    pub worst_auroc: Option<(String, f64)>,
    pub auroc_gap: Option<f64>,
}

/// (label, column, value) of each group.
pub fn groups() -> Vec<(String, &'static str, f64)> {
    let mut g: Vec<(String, &'static str, f64)> = GROUP_COLUMNS
        .iter()
        .map(|c| (c.to_string(), *c, 1.0))
        .collect();
    g.push(("male (is_female = 0)".into(), "is_female", 0.0));
    g
}

fn mask(frame: &Frame, col: &str, value: f64) -> Option<Vec<bool>> {
    frame
        .column(col)
        .map(|c| c.iter().map(|v| *v == value).collect())
}

/// Per-group fidelity of `synth` against `real`, and per-group AUROC of `scores` (a model's
/// scores on the rows of `test`), each with the worst group and the gap.
pub fn fairness(
    real: &Frame,
    synth: &Frame,
    test: Option<(&Frame, &[f64])>,
    est: &KlEstimator,
    resamples: usize,
    seed: u64,
) -> Fairness {
    let mut out = Vec::new();
    for (label, col, value) in groups() {
        let mut g = GroupResult {
            group: label,
            n_real: 0,
            n_synth: 0,
            avg_kl: None,
            avg_kl_present: None,
            auroc: None,
            note: None,
        };
        match (mask(real, col, value), mask(synth, col, value)) {
            (Some(rm), Some(sm)) => {
                let (r, s) = (real.filter(&rm), synth.filter(&sm));
                g.n_real = r.n_rows();
                g.n_synth = s.n_rows();
                if g.n_synth == 0 || g.n_real == 0 {
                    g.note = Some("no rows of this group on one side".into());
                } else if g.n_synth < super::MIN_ROWS {
                    g.note = Some(format!(
                        "{} synthetic row(s) of this group (under {})",
                        g.n_synth,
                        super::MIN_ROWS
                    ));
                } else {
                    let f = fidelity(&r, &s, est);
                    g.avg_kl = Some(f.avg_kl);
                    g.avg_kl_present = f.kl_present_defined();
                }
            }
            _ => g.note = Some(format!("the synthetic table has no {col} column")),
        }
        if let Some((t, scores)) = test {
            if let (Some(tm), Some(y)) = (mask(t, col, value), t.column(LABEL)) {
                let yy: Vec<f64> = y
                    .iter()
                    .zip(&tm)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| *v)
                    .collect();
                let ss: Vec<f64> = scores
                    .iter()
                    .zip(&tm)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| *v)
                    .collect();
                // as many deaths and survivors as a model needs to train: over one or two
                // deaths an AUROC is 0 or 1 by chance, and would be named the worst group
                let auroc = match super::utility::too_few_of_a_class(&yy) {
                    Some((deaths, survivors)) => Err(format!(
                        "not shown: {deaths} death(s) and {survivors} survivor(s) among this \
                         group's test rows (at least {} of each needed)",
                        super::utility::MIN_CLASS_ROWS
                    )),
                    None => stats::bootstrap(&yy, &ss, stats::auroc, resamples, seed)
                        .map_err(|u| u.to_string()),
                };
                match auroc {
                    Ok(e) => g.auroc = Some(e),
                    Err(u) => {
                        let n = g.note.take().map(|n| format!("{n}; ")).unwrap_or_default();
                        g.note = Some(format!("{n}AUROC {u}"));
                    }
                }
            }
        }
        out.push(g);
    }
    let worst_and_gap =
        |vals: Vec<(String, f64)>, worst_is_max: bool| -> (Option<(String, f64)>, Option<f64>) {
            if vals.is_empty() {
                return (None, None);
            }
            let max = vals
                .iter()
                .cloned()
                .fold(None::<(String, f64)>, |a, b| match a {
                    Some(a) if a.1 >= b.1 => Some(a),
                    _ => Some(b),
                });
            let min = vals
                .iter()
                .cloned()
                .fold(None::<(String, f64)>, |a, b| match a {
                    Some(a) if a.1 <= b.1 => Some(a),
                    _ => Some(b),
                });
            let gap = match (&max, &min) {
                (Some(a), Some(b)) => Some(a.1 - b.1),
                _ => None,
            };
            (if worst_is_max { max } else { min }, gap)
        };
    let kls: Vec<(String, f64)> = out
        .iter()
        .filter_map(|g| {
            g.avg_kl
                .filter(|v| v.is_finite())
                .map(|v| (g.group.clone(), v))
        })
        .collect();
    let aucs: Vec<(String, f64)> = out
        .iter()
        .filter_map(|g| g.auroc.as_ref().map(|e| (g.group.clone(), e.value)))
        .collect();
    let (worst_kl, kl_gap) = worst_and_gap(kls, true);
    let (worst_auroc, auroc_gap) = worst_and_gap(aucs, false);
    Fairness {
        groups: out,
        worst_kl,
        kl_gap,
        worst_auroc,
        auroc_gap,
    }
}
