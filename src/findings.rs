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

fn all_generated<'a>(points: impl IntoIterator<Item = &'a Point>) -> bool {
    points.into_iter().all(|p| p.generated)
}

fn finding1(m: &ModelNumbers, kl: Kl) -> Finding {
    let claim = "At 83 features no strategy gives useful utility; KL falls naive > schema > conditional > group";
    let order = ["naive", "schema", "conditional", "group"];
    let pts: Vec<Option<&Point>> = order
        .iter()
        .map(|s| m.strategies.iter().find(|(n, _)| n == s).map(|(_, p)| p))
        .collect();
    let mut f = Finding::untested(1, claim);
    let Some(pts) = pts.into_iter().collect::<Option<Vec<_>>>() else {
        f.evidence = "a strategy cell is missing from the profile".into();
        return f;
    };
    if !all_generated(pts.iter().copied()) {
        f.evidence = "not all four strategy cells are generated yet".into();
        return f;
    }
    // an undefined AUROC (too few rows or one class to train) is no useful utility either
    let useless = pts
        .iter()
        .all(|p| p.tstr_auroc.is_none_or(|a| a < USEFUL_AUROC));
    let kl_values: Option<Vec<f64>> = pts.iter().map(|p| kl.of(p)).collect();
    let falling = kl_values
        .as_ref()
        .is_some_and(|k| k.windows(2).all(|w| w[0] > w[1]));
    f.verdict = Verdict::of(useless, falling);
    f.evidence = format!(
        "rule: every TSTR AUROC < {USEFUL_AUROC} and KL strictly falling in that order. {}",
        order
            .iter()
            .zip(&pts)
            .map(|(s, p)| format!("{s}: {}, AUROC {}", kls(p), f4(p.tstr_auroc)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if kl_values.is_some() {
        f.evidence.push_str(&which_part(
            useless,
            "no useful utility",
            falling,
            "the KL order",
        ));
    }
    undecidable_without_kl(f, kl_values.is_none())
}

/// A finding whose KL part has an undefined KL (a cell with fewer than 10 valid rows) is not
/// tested, whatever its other part says: "partly holds" would claim more than was measured.
fn undecidable_without_kl(mut f: Finding, kl_missing: bool) -> Finding {
    if kl_missing {
        f.verdict = Verdict::NotTested;
        f.evidence = format!(
            "KL is undefined in a cell it needs (fewer than 10 valid rows), so it cannot be decided; {}",
            f.evidence
        );
    }
    f
}

fn finding2(m: &ModelNumbers, strategies_generated: bool, kl: Kl) -> Finding {
    let mut f = Finding::untested(
        2,
        "Group conditioning lowers KL for every demographic group without creating disparities",
    );
    let both: Vec<(&str, f64, f64)> = m
        .groups
        .iter()
        .filter_map(|g| {
            let (group, naive) = kl.group(g);
            Some((g.group.as_str(), group?, naive?))
        })
        .collect();
    if !strategies_generated {
        f.evidence = "the group and naive cells at 83 columns are not generated yet".into();
        return f;
    }
    if both.is_empty() {
        f.evidence = format!(
            "no group has a KL under both strategies (a group needs {} valid synthetic rows in each cell)",
            crate::metrics::MIN_ROWS
        );
        return f;
    }
    let lower = both.iter().all(|(_, g, n)| g < n);
    let gap = |v: Vec<f64>| {
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    let gap_group = gap(both.iter().map(|b| b.1).collect());
    let gap_naive = gap(both.iter().map(|b| b.2).collect());
    let no_disparity = gap_group <= gap_naive;
    f.verdict = Verdict::of(lower, no_disparity);
    f.evidence = format!(
        "rule: group KL < naive KL in every group, and the spread of group KL across groups no wider than naive's. {}; spread {gap_group:.4} vs {gap_naive:.4}{}",
        both.iter()
            .map(|(n, g, v)| format!("{n}: {g:.4} vs {v:.4}"))
            .collect::<Vec<_>>()
            .join("; "),
        if both.len() < m.groups.len() {
            format!(
                " ({} of {} groups have KL under both)",
                both.len(),
                m.groups.len()
            )
        } else {
            String::new()
        }
    );
    f.evidence.push_str(&which_part(
        lower,
        "lower KL in every group",
        no_disparity,
        "no wider spread across groups",
    ));
    f
}

fn at(points: &[(usize, Point)], k: usize) -> Option<&Point> {
    points.iter().find(|(n, _)| *n == k).map(|(_, p)| p)
}

fn finding3(m: &ModelNumbers, kl: Kl) -> Finding {
    let mut f = Finding::untested(
        3,
        "Fidelity and utility are good at 5–10 features and collapse at 15–20 (sweet spot ≈ 10)",
    );
    let pts: Option<Vec<&Point>> = [5, 10, 15, 20]
        .iter()
        .map(|k| at(&m.features, *k))
        .collect();
    let Some(pts) = pts.filter(|p| all_generated(p.iter().copied())) else {
        f.evidence = "the 5/10/15/20-feature cells are not all generated yet".into();
        return f;
    };
    // a generated cell with too few valid rows for a KL is collapsed (worst KL), never good:
    // the model could not write usable rows at that feature count
    let kl_or_worst = |p: &Point| kl.of(p).unwrap_or(f64::INFINITY);
    let small_kl = kl_or_worst(pts[0]).max(kl_or_worst(pts[1]));
    let large_kl = kl_or_worst(pts[2]).min(kl_or_worst(pts[3]));
    let kl_holds = small_kl < large_kl;
    // undefined utility counts as collapsed (0.5), never as good
    let auc = |p: &Point| p.tstr_auroc.unwrap_or(0.5);
    let auc_holds = auc(pts[0]).min(auc(pts[1])) > auc(pts[2]).max(auc(pts[3]));
    f.verdict = Verdict::of(kl_holds, auc_holds);
    f.evidence = format!(
        "rule: max KL at 5/10 < min KL at 15/20, and min TSTR AUROC at 5/10 > max at 15/20; a cell with too few valid rows for a metric counts as collapsed. {}",
        [5, 10, 15, 20]
            .iter()
            .zip(&pts)
            .map(|(k, p)| format!("{k}: {}, AUROC {}", kls(p), f4(p.tstr_auroc)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    f.evidence.push_str(&which_part(
        kl_holds,
        "the KL part",
        auc_holds,
        "the AUROC part",
    ));
    f
}

fn finding4(m: &ModelNumbers, kl: Kl) -> Finding {
    let mut f = Finding::untested(4, "More rows lower KL and raise AUROC");
    let mut pts: Vec<(usize, &Point)> = m.rows.iter().map(|(n, p)| (*n, p)).collect();
    pts.sort_by_key(|p| p.0);
    if pts.len() < 2 {
        f.evidence = "the profile has fewer than two sample sizes".into();
        return f;
    }
    if !all_generated(pts.iter().map(|p| p.1)) {
        f.evidence = "the sample-size cells are not all generated yet".into();
        return f;
    }
    let kl_falls = pts
        .windows(2)
        .all(|w| matches!((kl.of(w[0].1), kl.of(w[1].1)), (Some(a), Some(b)) if b <= a));
    let auc_rises = pts
        .windows(2)
        .all(|w| matches!((w[0].1.tstr_auroc, w[1].1.tstr_auroc), (Some(a), Some(b)) if b >= a));
    f.verdict = Verdict::of(kl_falls, auc_rises);
    f.evidence = format!(
        "rule: KL non-increasing and TSTR AUROC non-decreasing as rows grow. {}",
        pts.iter()
            .map(|(n, p)| format!("{n} rows: {}, AUROC {}", kls(p), f4(p.tstr_auroc)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let kl_missing = pts.iter().any(|p| kl.of(p.1).is_none());
    if !kl_missing {
        f.evidence
            .push_str(&which_part(kl_falls, "KL falls", auc_rises, "AUROC rises"));
    }
    undecidable_without_kl(f, kl_missing)
}

fn finding5(m: &ModelNumbers) -> Finding {
    let mut f = Finding::untested(
        5,
        "Membership-inference risk rises with the number of features",
    );
    if !all_generated(m.features.iter().map(|(_, p)| p)) {
        f.evidence = "not every feature-count cell is generated yet".into();
        return f;
    }
    // (features, AUROC, interval); without an interval the point stands for it
    let mut pts: Vec<(usize, f64, (f64, f64))> = m
        .features
        .iter()
        .filter_map(|(k, p)| {
            let a = p.mia_auroc?;
            Some((*k, a, p.mia_interval.unwrap_or((a, a))))
        })
        .collect();
    pts.sort_by_key(|p| p.0);
    if pts.len() < 2 {
        f.evidence = "fewer than two feature counts have an attack AUROC".into();
        return f;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    // a rise inside the bootstrap noise is no rise
    let rises = last.1 > first.1 && last.2 .0 > first.2 .1;
    let monotone = pts.windows(2).all(|w| w[1].1 >= w[0].1);
    f.verdict = match (rises, monotone) {
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::PartlyHolds,
        _ => Verdict::DoesNotHold,
    };
    f.evidence = format!(
        "rule: DCR attack AUROC at the most features above the fewest, the 95% intervals apart (partly if not monotone). {}",
        pts.iter()
            .map(|(k, a, (lo, hi))| format!("{k}: {a:.4} [{lo:.4}, {hi:.4}]"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if rises && !monotone {
        f.evidence.push_str(
            " Held: a rise from the fewest to the most features; did not: a rise at every step.",
        );
    }
    f
}

fn finding6(models: &[ModelNumbers]) -> Finding {
    let mut f = Finding::untested(6, "Different LLMs behave alike");
    // the feature count with the lowest KL, per model
    let best: Vec<(String, Option<usize>)> = models
        .iter()
        .map(|m| {
            let b = m
                .features
                .iter()
                .filter(|(_, p)| p.generated)
                .filter_map(|(k, p)| Some((*k, p.avg_kl?)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|b| b.0);
            (m.model.clone(), b)
        })
        .collect();
    let known: Vec<(&str, usize)> = best
        .iter()
        .filter_map(|(m, b)| Some((m.as_str(), (*b)?)))
        .collect();
    if known.len() < 2 {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        f.evidence = format!(
            "needs two models with dimensionality cells; the cache has {} model{}, {} with them",
            models.len(),
            s(models.len()),
            known.len()
        );
        return f;
    }
    let same = known.iter().all(|k| k.1 == known[0].1);
    f.verdict = if same {
        Verdict::Holds
    } else {
        Verdict::DoesNotHold
    };
    f.evidence = format!(
        "rule: every model has its lowest KL at the same feature count. {}",
        known
            .iter()
            .map(|(m, k)| format!("{m}: {k}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    f
}

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
        6 => "a second model's cells on the same grid (Qwen2.5-Coder-0.5B is set up, not yet generated)",
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
mod tests {
    use super::*;

    #[test]
    fn an_undecided_finding_says_what_would_decide_it_and_a_decided_one_does_not() {
        for n in 1..=6 {
            let mut f = Finding::untested(n, "claim");
            assert!(!needed_to_decide(&f).is_empty(), "finding {n}");
            f.verdict = Verdict::PartlyHolds;
            assert!(!needed_to_decide(&f).is_empty(), "finding {n}");
            for decided in [Verdict::Holds, Verdict::DoesNotHold] {
                f.verdict = decided;
                assert_eq!(needed_to_decide(&f), "", "finding {n}");
            }
        }
    }

    fn p(kl: f64, auc: f64) -> Point {
        Point {
            generated: true,
            avg_kl: Some(kl),
            avg_kl_present: Some(kl),
            tstr_auroc: Some(auc),
            mia_auroc: None,
            mia_interval: None,
        }
    }

    fn strategies(kls: [f64; 4], auc: f64) -> Vec<(String, Point)> {
        ["naive", "schema", "conditional", "group"]
            .iter()
            .zip(kls)
            .map(|(s, k)| (s.to_string(), p(k, auc)))
            .collect()
    }

    #[test]
    fn finding1_rules() {
        let m = ModelNumbers {
            strategies: strategies([0.6, 0.5, 0.3, 0.2], 0.55),
            ..Default::default()
        };
        assert_eq!(
            scorecard(std::slice::from_ref(&m))[0].verdict,
            Verdict::Holds
        );
        let useful = ModelNumbers {
            strategies: strategies([0.6, 0.5, 0.3, 0.2], 0.8),
            ..Default::default()
        };
        let partly = &scorecard(&[useful])[0];
        assert_eq!(partly.verdict, Verdict::PartlyHolds);
        // "partly" says which part held
        assert!(
            partly
                .evidence
                .contains("Held: the KL order; did not: no useful utility."),
            "{}",
            partly.evidence
        );
        let unordered = ModelNumbers {
            strategies: strategies([0.2, 0.5, 0.3, 0.6], 0.8),
            ..Default::default()
        };
        assert_eq!(scorecard(&[unordered])[0].verdict, Verdict::DoesNotHold);
        let mut pending = m.clone();
        pending.strategies[2].1.generated = false;
        assert_eq!(scorecard(&[pending])[0].verdict, Verdict::NotTested);
        // generated, but too few rows for a KL: the ordering is not tested, not "partly"
        let mut few = m;
        few.strategies[0].1.avg_kl = None;
        let f = &scorecard(&[few])[0];
        assert_eq!(f.verdict, Verdict::NotTested);
        assert!(f.evidence.contains("naive: KL undefined"), "{}", f.evidence);
        assert!(!f.evidence.contains("Held:"), "{}", f.evidence);
    }

    #[test]
    fn the_scorecard_says_when_present_value_kl_decides_otherwise() {
        let mut m = ModelNumbers {
            strategies: strategies([0.6, 0.5, 0.3, 0.2], 0.55),
            ..Default::default()
        };
        let f = &scorecard(std::slice::from_ref(&m))[0];
        assert!(f.evidence.ends_with("the same verdict."), "{}", f.evidence);
        // the missing bin reverses the declared order; present values keep it
        m.strategies[3].1.avg_kl = Some(2.0);
        let f = &scorecard(&[m])[0];
        assert_eq!(f.verdict, Verdict::PartlyHolds);
        assert!(
            f.evidence
                .contains("group: KL 2.0000 (present values 0.2000)")
                && f.evidence.ends_with("it would be 'holds'."),
            "{}",
            f.evidence
        );
    }

    #[test]
    fn finding2_needs_every_group_lower_and_no_wider_spread() {
        let g = |n: &str, a: f64, b: f64| GroupPoint {
            group: n.into(),
            group_kl: Some(a),
            naive_kl: Some(b),
            group_kl_present: Some(a),
            naive_kl_present: Some(b),
        };
        let mut m = ModelNumbers {
            strategies: strategies([0.6, 0.5, 0.3, 0.2], 0.5),
            groups: vec![g("race_black", 0.30, 0.50), g("is_female", 0.35, 0.60)],
            ..Default::default()
        };
        assert_eq!(
            scorecard(std::slice::from_ref(&m))[1].verdict,
            Verdict::Holds
        );
        m.groups[1] = g("is_female", 0.55, 0.52);
        // not lower everywhere, and spread 0.25 vs 0.02
        assert_eq!(scorecard(&[m])[1].verdict, Verdict::DoesNotHold);
    }

    #[test]
    fn finding3_4_5_rules() {
        let m = ModelNumbers {
            features: vec![
                (
                    5,
                    Point {
                        mia_auroc: Some(0.45),
                        ..p(0.17, 0.82)
                    },
                ),
                (
                    10,
                    Point {
                        mia_auroc: Some(0.44),
                        ..p(0.15, 0.81)
                    },
                ),
                (
                    15,
                    Point {
                        mia_auroc: Some(0.85),
                        ..p(0.23, 0.69)
                    },
                ),
                (
                    20,
                    Point {
                        mia_auroc: Some(0.90),
                        ..p(0.25, 0.53)
                    },
                ),
            ],
            rows: vec![
                (1000, p(0.155, 0.81)),
                (200, p(0.2, 0.7)),
                (500, p(0.18, 0.75)),
            ],
            ..Default::default()
        };
        let s = scorecard(std::slice::from_ref(&m));
        assert_eq!(s[2].verdict, Verdict::Holds);
        // 20 features gave up with too few rows for any metric: collapsed, still holds;
        // the same at 10 features breaks the "good at 5-10" half
        let mut gave_up = m.clone();
        gave_up.features[3].1 = Point {
            generated: true,
            ..Point::default()
        };
        assert_eq!(scorecard(&[gave_up.clone()])[2].verdict, Verdict::Holds);
        gave_up.features.swap(1, 3);
        gave_up.features[1].0 = 10;
        gave_up.features[3].0 = 20;
        assert_eq!(scorecard(&[gave_up])[2].verdict, Verdict::DoesNotHold);
        assert_eq!(s[3].verdict, Verdict::Holds, "{}", s[3].evidence);
        // 0.45 → 0.44 dips, then rises: partly
        assert_eq!(s[4].verdict, Verdict::PartlyHolds);
        assert!(s[4].evidence.contains("20: 0.9000"));
        // a rise inside overlapping intervals is no rise
        let mut noisy = m.clone();
        noisy.features[0].1.mia_interval = Some((0.40, 0.95));
        assert_eq!(scorecard(&[noisy])[4].verdict, Verdict::DoesNotHold);
        // decided only when every feature-count cell is generated
        let mut pending = m.clone();
        pending.features[3].1.generated = false;
        assert_eq!(scorecard(&[pending])[4].verdict, Verdict::NotTested);
        let mut flat = m;
        flat.features[3].1.tstr_auroc = None; // undefined counts as collapsed
        flat.rows[0].1.avg_kl = Some(0.3);
        let s = scorecard(&[flat]);
        assert_eq!(s[2].verdict, Verdict::Holds);
        assert_eq!(s[3].verdict, Verdict::PartlyHolds);
    }

    #[test]
    fn finding6_needs_two_models() {
        let m = |name: &str, best: usize| ModelNumbers {
            model: name.into(),
            features: [5, 10, 15]
                .iter()
                .map(|k| (*k, p(if *k == best { 0.1 } else { 0.3 }, 0.6)))
                .collect(),
            ..Default::default()
        };
        assert_eq!(scorecard(&[m("a", 10)])[5].verdict, Verdict::NotTested);
        assert_eq!(
            scorecard(&[m("a", 10), m("b", 10)])[5].verdict,
            Verdict::Holds
        );
        assert_eq!(
            scorecard(&[m("a", 10), m("b", 5)])[5].verdict,
            Verdict::DoesNotHold
        );
        assert_eq!(scorecard(&[])[0].verdict, Verdict::NotTested);
    }

    #[test]
    fn paper_evidence_quotes_the_reference_file() {
        assert!(paper_evidence(1).starts_with("KL 0.5797 / 0.5212 / 0.3051 / 0.2963"));
        assert!(paper_evidence(5).contains("20: ≈0.90"));
    }
}
