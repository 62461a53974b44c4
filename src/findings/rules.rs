//! The six rules, one per finding of the paper: each reads one model's numbers (finding 6:
//! every model's) and states its verdict with the numbers that decided it.

use super::*;
use crate::cohort::schema;

pub(super) fn finding1(m: &ModelNumbers, kl: Kl) -> Finding {
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
        f.evidence = format!(
            "not all four strategy cells are generated yet{}",
            open_cells(order.iter().zip(pts.iter().copied()))
        );
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

pub(super) fn finding2(m: &ModelNumbers, strategies_generated: bool, kl: Kl) -> Finding {
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
        f.evidence = format!(
            "the group and naive cells at 83 columns are not generated yet{}",
            open_cells(
                m.strategies
                    .iter()
                    .filter(|(s, _)| s == "naive" || s == "group")
                    .map(|(s, p)| (s, p))
            )
        );
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

pub(super) fn finding3(m: &ModelNumbers, kl: Kl) -> Finding {
    let mut f = Finding::untested(
        3,
        "Fidelity and utility are good at 5–10 features and collapse at 15–20 (sweet spot ≈ 10)",
    );
    let pts: Option<Vec<&Point>> = [5, 10, 15, 20]
        .iter()
        .map(|k| at(&m.features, *k))
        .collect();
    let Some(pts) = pts.filter(|p| all_generated(p.iter().copied())) else {
        f.evidence = format!(
            "the 5/10/15/20-feature cells are not all generated yet{}",
            open_feature_cells(m)
        );
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

pub(super) fn finding4(m: &ModelNumbers, kl: Kl) -> Finding {
    let mut f = Finding::untested(4, "More rows lower KL and raise AUROC");
    let mut pts: Vec<(usize, &Point)> = m.rows.iter().map(|(n, p)| (*n, p)).collect();
    pts.sort_by_key(|p| p.0);
    if pts.len() < 2 {
        f.evidence = "the profile has fewer than two sample sizes".into();
        return f;
    }
    if !all_generated(pts.iter().map(|p| p.1)) {
        f.evidence = format!(
            "the sample-size cells are not all generated yet{}",
            open_cells(pts.iter().map(|(n, p)| (format!("{n} rows"), *p)))
        );
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

pub(super) fn finding5(m: &ModelNumbers) -> Finding {
    let mut f = Finding::untested(
        5,
        "Membership-inference risk rises with the number of features",
    );
    if !all_generated(m.features.iter().map(|(_, p)| p)) {
        f.evidence = format!(
            "not every feature-count cell is generated yet{}",
            open_feature_cells(m)
        );
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

pub(super) fn finding6(models: &[ModelNumbers]) -> Finding {
    let mut f = Finding::untested(6, "Different LLMs behave alike");
    let list = |ks: &[usize]| {
        ks.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // the dimensionality stage's feature counts only: the 83-column point comes from the
    // strategies stage, which the smaller models are not asked for (SmolLM2's 8k context cannot
    // hold an 83-column call)
    let dims: Vec<ModelNumbers> = models
        .iter()
        .map(|m| ModelNumbers {
            features: m
                .features
                .iter()
                .filter(|(k, _)| *k < schema::FEATURES)
                .cloned()
                .collect(),
            ..m.clone()
        })
        .collect();
    // models with any recorded dimensionality call take part; one part-way through its cells
    // waits, since its lowest KL so far could move
    let compared: Vec<&ModelNumbers> = dims
        .iter()
        .filter(|m| m.features.iter().any(|(_, p)| p.started || p.generated))
        .collect();
    if compared.len() < 2 {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        f.evidence = format!(
            "needs two models with dimensionality calls; the cache has {} model{}, {} with them",
            models.len(),
            s(models.len()),
            compared.len()
        );
        return f;
    }
    let pending: Vec<String> = compared
        .iter()
        .filter_map(|m| {
            let open: Vec<usize> = m
                .features
                .iter()
                .filter(|(_, p)| !p.generated)
                .map(|(k, _)| *k)
                .collect();
            (!open.is_empty()).then(|| format!("{} at {} features", m.model, list(&open)))
        })
        .collect();
    if !pending.is_empty() {
        f.evidence = format!(
            "dimensionality cells not ended yet (complete, at budget or gave up): {}",
            pending.join("; ")
        );
        return f;
    }
    // per model: where it gives rows enough for a KL, and its lowest KL among them; a model
    // that collapses (no KL: gave up or too few valid rows) where another does not, differs
    let usable = |m: &ModelNumbers| -> Vec<usize> {
        m.features
            .iter()
            .filter(|(_, p)| p.avg_kl.is_some())
            .map(|(k, _)| *k)
            .collect()
    };
    let best = |m: &ModelNumbers| {
        m.features
            .iter()
            .filter_map(|(k, p)| Some((*k, p.avg_kl?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|b| b.0)
    };
    let all: Vec<usize> = compared
        .iter()
        .flat_map(|m| usable(m))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let collapses: Vec<String> = compared
        .iter()
        .filter_map(|m| {
            let u = usable(m);
            let lost: Vec<usize> = all.iter().copied().filter(|k| !u.contains(k)).collect();
            (!lost.is_empty()).then(|| {
                format!(
                    "{} gives too few valid rows for a KL at {} features",
                    m.model,
                    list(&lost)
                )
            })
        })
        .collect();
    let bests: Vec<(&str, Option<usize>)> = compared
        .iter()
        .map(|m| (m.model.as_str(), best(m)))
        .collect();
    let same = collapses.is_empty() && bests.iter().all(|b| b.1.is_some() && b.1 == bests[0].1);
    f.verdict = if same {
        Verdict::Holds
    } else {
        Verdict::DoesNotHold
    };
    f.evidence = format!(
        "rule: every model gives a KL at the same feature counts and has its lowest KL at the same one. lowest KL at: {}",
        bests
            .iter()
            .map(|(m, k)| format!("{m}: {}", k.map_or("none".into(), |k| k.to_string())))
            .collect::<Vec<_>>()
            .join("; ")
    );
    if !collapses.is_empty() {
        f.evidence.push_str(&format!("; {}", collapses.join("; ")));
    }
    f
}
