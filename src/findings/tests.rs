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
        started: true,
        valid_rows: 200,
        rows_asked: 200,
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
    pending.strategies[2].1.valid_rows = 80;
    pending.strategies[3].1.generated = false;
    pending.strategies[3].1.started = false;
    let f = &scorecard(&[pending])[0];
    assert_eq!(f.verdict, Verdict::NotTested);
    // the open cells are named with how far they got
    assert!(
        f.evidence.contains("conditional: 80 of 200 valid rows")
            && f.evidence.contains("group: not started")
            && !f.evidence.contains("naive:"),
        "{}",
        f.evidence
    );
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
    pending.features[3].1.valid_rows = 336;
    pending.features[3].1.rows_asked = 500;
    let s = scorecard(&[pending]);
    for n in [2, 4] {
        assert_eq!(s[n].verdict, Verdict::NotTested);
        assert!(
            s[n].evidence.contains("20 features: 336 of 500 valid rows"),
            "{}",
            s[n].evidence
        );
    }
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

/// A model whose 5/10/15/20-feature cells all ended, with its lowest KL at 10 features.
fn peaked_at_10(name: &str) -> ModelNumbers {
    ModelNumbers {
        model: name.into(),
        features: [5, 10, 15, 20]
            .iter()
            .map(|k| (*k, p(if *k == 10 { 0.1 } else { 0.3 }, 0.6)))
            .collect(),
        ..Default::default()
    }
}

#[test]
fn finding6_waits_for_every_cell_of_a_model_and_counts_a_collapse_as_a_difference() {
    let m = peaked_at_10;
    // a second model part-way through its cells: its best so far must not decide
    let mut partial = m("small");
    for (_, pt) in partial.features.iter_mut().skip(1) {
        pt.generated = false;
    }
    let f = &scorecard(&[m("big"), partial])[5];
    assert_eq!(f.verdict, Verdict::NotTested, "{}", f.evidence);
    assert!(
        f.evidence.contains("small") && f.evidence.contains("10, 15, 20"),
        "{}",
        f.evidence
    );
    // a model that gave up (no KL: too few valid rows) where the other has a KL differs, even
    // though its lowest defined KL sits at the same feature count
    let mut collapsed = m("small");
    for (k, pt) in collapsed.features.iter_mut() {
        if *k != 10 {
            pt.avg_kl = None;
            pt.tstr_auroc = None;
        }
    }
    let f = &scorecard(&[m("big"), collapsed])[5];
    assert_eq!(f.verdict, Verdict::DoesNotHold, "{}", f.evidence);
    assert!(f.evidence.contains("5, 15, 20"), "{}", f.evidence);
    // the main model has recorded calls in every cell but ended none, beside a model whose
    // cells all ended: the verdict waits for the main model's cells, and says so
    let mut started = m("big");
    for (_, pt) in started.features.iter_mut() {
        pt.generated = false;
    }
    let f = &scorecard(&[started, m("small")])[5];
    assert_eq!(f.verdict, Verdict::NotTested, "{}", f.evidence);
    assert!(
        f.evidence.contains("not ended yet") && f.evidence.contains("big at 5, 10, 15, 20"),
        "{}",
        f.evidence
    );
    // a model with no dimensionality call at all is not compared
    let mut none = m("none");
    for (_, pt) in none.features.iter_mut() {
        pt.generated = false;
        pt.started = false;
    }
    let f = &scorecard(&[m("big"), none])[5];
    assert_eq!(f.verdict, Verdict::NotTested, "{}", f.evidence);
    assert!(f.evidence.contains("needs two models"), "{}", f.evidence);
}

#[test]
fn finding6_compares_the_dimensionality_counts_not_the_83_column_point() {
    // the main model's 83-column group cell (the strategies stage's, also a point of finding
    // 5's curve) is still open, and the smaller models are not asked for it: finding 6
    // compares the models on the dimensionality stage's 5/10/15/20 features and decides
    let m = peaked_at_10;
    let mut big = m("big");
    let mut open = p(0.2, 0.6);
    open.generated = false;
    big.features.push((82, open));
    let f = &scorecard(&[big, m("small"), m("smaller")])[5];
    assert_eq!(f.verdict, Verdict::Holds, "{}", f.evidence);
    assert!(!f.evidence.contains("82"), "{}", f.evidence);
}

#[test]
fn paper_evidence_quotes_the_reference_file() {
    assert!(paper_evidence(1).starts_with("KL 0.5797 / 0.5212 / 0.3051 / 0.2963"));
    assert!(paper_evidence(5).contains("20: ≈0.90"));
}
