//! The scorecard of the paper's six findings (PAPER.md): each is decided from this run's numbers
//! by a stated rule — holds, partly holds, does not hold, or not tested when a cell it needs is
//! not generated yet (or, for finding 6, when the cache holds one model).

use crate::paper::Paper;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    PartlyHolds,
    DoesNotHold,
    NotTested,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::PartlyHolds => "partly holds",
            Verdict::DoesNotHold => "does not hold",
            Verdict::NotTested => "not tested",
        }
    }

    /// Two sub-claims → one verdict.
    fn of(a: bool, b: bool) -> Verdict {
        match (a, b) {
            (true, true) => Verdict::Holds,
            (false, false) => Verdict::DoesNotHold,
            _ => Verdict::PartlyHolds,
        }
    }
}

/// One measured experiment cell, reduced to what the findings need. `generated` is false while
/// the cell's calls are not all in the cache; undefined metrics (too few rows, one class) are
/// `None`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Point {
    pub generated: bool,
    /// At least one of the cell's calls is in the cache (it may not have ended yet).
    pub started: bool,
    /// Valid rows so far and rows the cell asks for (how far an open cell got).
    pub valid_rows: usize,
    pub rows_asked: usize,
    pub avg_kl: Option<f64>,
    /// Average KL on present values only (the missing bin dropped).
    pub avg_kl_present: Option<f64>,
    pub tstr_auroc: Option<f64>,
    pub mia_auroc: Option<f64>,
    /// The attack AUROC's 95% bootstrap interval.
    pub mia_interval: Option<(f64, f64)>,
}

/// Per demographic group: average KL under the group strategy and under naive, at 83 columns.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupPoint {
    pub group: String,
    pub group_kl: Option<f64>,
    pub naive_kl: Option<f64>,
    pub group_kl_present: Option<f64>,
    pub naive_kl_present: Option<f64>,
}

impl GroupPoint {
    /// Every demographic group's KL (declared and present values) under the group and the naive
    /// strategy, from their fairness results; a strategy without one leaves its side undefined.
    pub fn all(
        group: Option<&crate::metrics::fairness::Fairness>,
        naive: Option<&crate::metrics::fairness::Fairness>,
    ) -> Vec<GroupPoint> {
        fn of<'a>(
            f: Option<&'a crate::metrics::fairness::Fairness>,
            name: &str,
        ) -> Option<&'a crate::metrics::fairness::GroupResult> {
            f.and_then(|f| f.groups.iter().find(|g| g.group == name))
        }
        crate::metrics::fairness::groups()
            .into_iter()
            .map(|(name, _, _)| {
                let (g, n) = (of(group, &name), of(naive, &name));
                GroupPoint {
                    group_kl: g.and_then(|g| g.avg_kl),
                    naive_kl: n.and_then(|n| n.avg_kl),
                    group_kl_present: g.and_then(|g| g.avg_kl_present),
                    naive_kl_present: n.and_then(|n| n.avg_kl_present),
                    group: name,
                }
            })
            .collect()
    }
}

/// Which KL a rule reads: the declared estimator (missing values are a bin) or present values
/// only. Verdicts use the declared one; the scorecard says when the other would decide
/// differently, because a model that never leaves a field empty is dominated by the missing bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kl {
    Declared,
    Present,
}

impl Kl {
    fn of(self, p: &Point) -> Option<f64> {
        match self {
            Kl::Declared => p.avg_kl,
            Kl::Present => p.avg_kl_present,
        }
    }
    fn group(self, g: &GroupPoint) -> (Option<f64>, Option<f64>) {
        match self {
            Kl::Declared => (g.group_kl, g.naive_kl),
            Kl::Present => (g.group_kl_present, g.naive_kl_present),
        }
    }
}

/// "KL 2.0200 (present values 0.2100)" — both KLs of a point.
fn kls(p: &Point) -> String {
    format!(
        "KL {} (present values {})",
        f4(p.avg_kl),
        f4(p.avg_kl_present)
    )
}

/// The numbers of one model that decide the findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelNumbers {
    pub model: String,
    /// Table 1 analog: (strategy, point) at all columns.
    pub strategies: Vec<(String, Point)>,
    /// Table 2 analog.
    pub groups: Vec<GroupPoint>,
    /// Table 3 analog: (feature count, point) for the group strategy.
    pub features: Vec<(usize, Point)>,
    /// Table 4 analog: (rows asked, point).
    pub rows: Vec<(usize, Point)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub number: usize,
    pub claim: &'static str,
    pub verdict: Verdict,
    /// The rule and the numbers that decided it. (The chapter that shows them declares the
    /// finding in its notebook's metadata: `notebook::chapters`.)
    pub evidence: String,
}

impl Finding {
    /// A finding before its rule has run: not tested, no evidence yet.
    fn untested(number: usize, claim: &'static str) -> Finding {
        Finding {
            number,
            claim,
            verdict: Verdict::NotTested,
            evidence: String::new(),
        }
    }
}

/// TSTR AUROC below this is "no useful utility" (finding 1).
pub const USEFUL_AUROC: f64 = 0.7;

fn f4(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}"))
        .unwrap_or_else(|| "undefined".into())
}

/// For "partly holds": which of the rule's two parts held, as a sentence (empty otherwise).
fn which_part(a: bool, a_name: &str, b: bool, b_name: &str) -> String {
    match (a, b) {
        (true, false) => format!(" Held: {a_name}; did not: {b_name}."),
        (false, true) => format!(" Held: {b_name}; did not: {a_name}."),
        _ => String::new(),
    }
}

/// The cells of a list that have not ended, with how far each got, as a parenthesis to
/// append to "not generated yet" (empty when all ended).
fn open_cells<'a, L: std::fmt::Display>(
    points: impl IntoIterator<Item = (L, &'a Point)>,
) -> String {
    let open: Vec<String> = points
        .into_iter()
        .filter(|(_, p)| !p.generated)
        .map(|(label, p)| {
            if p.started {
                format!("{label}: {} of {} valid rows", p.valid_rows, p.rows_asked)
            } else {
                format!("{label}: not started")
            }
        })
        .collect();
    if open.is_empty() {
        String::new()
    } else {
        format!(" (open: {})", open.join("; "))
    }
}

/// [`open_cells`] of the dimensionality cells ("15 features: 472 of 500 valid rows").
fn open_feature_cells(m: &ModelNumbers) -> String {
    open_cells(m.features.iter().map(|(k, p)| (format!("{k} features"), p)))
}

fn all_generated<'a>(points: impl IntoIterator<Item = &'a Point>) -> bool {
    points.into_iter().all(|p| p.generated)
}

mod rules;
use rules::{finding1, finding2, finding3, finding4, finding5, finding6};

/// Decide the six findings. Findings 1–5 use the first model (the profile's main model);
/// finding 6 compares all of them.
pub fn scorecard(models: &[ModelNumbers]) -> Vec<Finding> {
    let empty = ModelNumbers::default();
    let m = models.first().unwrap_or(&empty);
    let strategies_generated = ["naive", "group"]
        .iter()
        .all(|s| m.strategies.iter().any(|(n, p)| n == s && p.generated));
    let both =
        |rule: &dyn Fn(Kl) -> Finding| with_present_check(rule(Kl::Declared), rule(Kl::Present));
    vec![
        both(&|kl| finding1(m, kl)),
        both(&|kl| finding2(m, strategies_generated, kl)),
        both(&|kl| finding3(m, kl)),
        both(&|kl| finding4(m, kl)),
        finding5(m),
        finding6(models),
    ]
}

/// The declared-KL finding, with a sentence saying how KL on present values alone decides.
fn with_present_check(mut declared: Finding, present: Finding) -> Finding {
    if declared.verdict == Verdict::NotTested && present.verdict == Verdict::NotTested {
        return declared;
    }
    let note = if present.verdict == declared.verdict {
        " With KL on present values only (missing bin dropped): the same verdict.".to_string()
    } else {
        format!(
            " With KL on present values only (missing bin dropped) it would be '{}'.",
            present.verdict.name()
        )
    };
    if !declared.evidence.ends_with('.') {
        declared.evidence.push('.');
    }
    declared.evidence.push_str(&note);
    declared
}

/// The paper's own numbers behind each finding, for the scorecard's "paper" column.
/// What data would decide a finding that this run leaves "not tested" or "partly holds" (empty
/// once it holds or does not): the scorecard's "needed to decide" column.
pub fn needed_to_decide(f: &Finding) -> &'static str {
    if matches!(f.verdict, Verdict::Holds | Verdict::DoesNotHold) {
        return "";
    }
    match f.number {
        1 => "≥ 10 valid rows in each of the four 83-column strategy cells (the constrained strategies stage asks 200 each)",
        2 => "≥ 10 valid synthetic rows in every demographic group under both the naive and the group strategy at 83 columns",
        3 => "KL and a trainable TSTR model at 5, 10, 15 and 20 features (the constrained dimensionality stage asks 500 rows each)",
        4 => "TSTR defined at two or more sample sizes at 10 features, with intervals that separate",
        5 => "attack AUROC at two or more feature counts, with intervals that separate",
        6 => "a second model's dimensionality cells ended (complete, at budget or gave up) beside the main model's, on the same grid (Qwen2.5-Coder-0.5B)",
        _ => "",
    }
}

pub fn paper_evidence(number: usize) -> String {
    let p = Paper::get();
    let kl = |c: Option<&crate::paper::PaperCell>| crate::paper::show_f(c.and_then(|c| c.avg_kl));
    let auroc = |c: Option<&crate::paper::PaperCell>| {
        crate::paper::show_f(c.and_then(|c| c.tstr_auroc.map(|r| r.value)))
    };
    match number {
        1 => format!(
            "KL {} / {} / {} / {}; TSTR AUROC ≤ {:.4}",
            kl(p.strategy("naive")),
            kl(p.strategy("schema")),
            kl(p.strategy("conditional")),
            kl(p.strategy("group")),
            p.table1
                .values()
                .filter_map(|c| c.tstr_auroc.map(|r| r.value))
                .fold(0.0, f64::max)
        ),
        2 => p
            .table2
            .iter()
            .map(|(g, v)| format!("{g} {:.4}/{:.4}", v.group, v.naive))
            .collect::<Vec<_>>()
            .join("; "),
        3 => [5, 10, 15, 20]
            .iter()
            .map(|k| {
                format!(
                    "{k}: KL {}, TSTR AUROC {}",
                    kl(p.features(*k)),
                    auroc(p.features(*k))
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        4 => [1000, 5000, 10000]
            .iter()
            .map(|n| {
                format!(
                    "{n} rows: KL {}, TSTR AUROC {}",
                    kl(p.rows(*n)),
                    auroc(p.rows(*n))
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        5 => [5, 10, 15, 20, 83]
            .iter()
            .filter_map(|k| {
                p.mia(*k).map(|m| {
                    format!(
                        "{k}: {}{:.2}",
                        if m.approximate { "≈" } else { "" },
                        m.mia_auroc
                    )
                })
            })
            .collect::<Vec<_>>()
            .join("; "),
        6 => "GPT (o1), Gemini and Claude peak at 10 features (appendix)".into(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
