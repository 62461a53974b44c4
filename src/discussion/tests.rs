use super::*;

#[test]
fn markdown_has_a_heading_and_skips_empty_parts() {
    let d = Discussion {
        holds: vec!["a".into()],
        differs: vec![],
        settle: vec!["c".into()],
    };
    let md = d.markdown();
    assert!(md.starts_with("## Discussion"));
    assert!(md.contains("**What this run shows.**\n\n- a\n"));
    assert!(!md.contains("differs"));
    assert!(md.contains("- c\n"));
}

#[test]
fn findings_summary_counts_verdicts_and_lists_what_is_needed() {
    let all = scorecard(&[]);
    let d = findings(&[(Decoding::Constrained, all.clone()), (Decoding::Free, all)]);
    assert!(
        d.holds[0].starts_with("On the constrained cells (the scorecard's verdicts)")
            && d.holds[0].contains("6 are not tested (findings 1, 2, 3, 4, 5, 6)"),
        "{:?}",
        d.holds
    );
    assert!(d.holds[1].starts_with("On the free cells:"));
    assert_eq!(d.settle.len(), 6);
}

#[test]
fn across_regions_reports_loss_and_small_regions() {
    let u = |auroc: Option<f64>| crate::metrics::utility::UtilityResult {
        protocol: "x".into(),
        auroc: auroc.map(|v| crate::metrics::stats::Estimate {
            value: v,
            lo: v,
            hi: v,
            resamples: 0,
            positives: 0,
            negatives: 0,
        }),
        auprc: None,
        undefined: None,
        n_train: 0,
        train_positives: 0,
        n_test: 0,
        test_positives: 0,
        features: 0,
    };
    let r = |region: &str, deaths, trtr, tstr| RegionResult {
        region: region.into(),
        train: 100,
        test: 50,
        test_deaths: deaths,
        trtr: u(trtr),
        tstr: u(tstr),
        llm: None,
    };
    let d = across_regions(&[
        r("West", 20, Some(0.8), Some(0.7)),
        r("South", 3, Some(0.6), None),
    ]);
    assert!(d.holds[0].contains("1 of 2"), "{}", d.holds[0]);
    assert!(d.holds[0].contains("below TRTR by 0.100"), "{}", d.holds[0]);
    assert!(d.differs[0].contains("South (3 deaths)"));
    assert!(
        d.settle[0].contains("across-regions stage"),
        "{:?}",
        d.settle
    );

    // the LLM's cells beside the copula: one trained, one not generated yet
    use crate::generate::run::{CellResult, CellStatus};
    use crate::generate::{Cell, Strategy};
    let llm = |region: &str, valid_rows: usize, tstr: Option<f64>| {
        let cell = Cell {
            stage: "across-regions-constrained".into(),
            strategy: Strategy::Group,
            features: 10,
            rows: 500,
            replicate: 0,
            examples_per_call: 20,
            rows_per_call: 20,
            decoding: Decoding::Constrained,
            grammar: 3,
            layout: Default::default(),
            repetition: Default::default(),
            role: None,
            held_out_region: Some(region.into()),
        };
        let status = if tstr.is_some() {
            CellStatus::Complete
        } else {
            CellStatus::Incomplete {
                missing: vec!["k".into(); 20],
            }
        };
        crate::regions::LlmRegion {
            model: crate::llm::ModelFingerprint::api(
                crate::llm::ProviderKind::OpenaiCompatible,
                "m",
                None,
            ),
            evaluation: crate::study::Evaluation {
                result: CellResult {
                    cell: cell.clone(),
                    status,
                    calls: 3,
                    valid_rows,
                    valid_rate: 1.0,
                    rows: Default::default(),
                    columns: vec![],
                    shown_stay_ids: Default::default(),
                    prompt_tokens: 0,
                    completion_tokens: 0,
                    keys: vec![],
                },
                fidelity: None,
                tstr: tstr.map(|v| u(Some(v))),
                within: None,
                privacy: None,
                tstr_scores: None,
                kl_reference: None,
            },
            cell,
            trtr: u(Some(0.75)),
        }
    };
    let d = across_regions(&[
        RegionResult {
            llm: Some(llm("West", 500, Some(0.6))),
            ..r("West", 20, Some(0.8), Some(0.7))
        },
        RegionResult {
            llm: Some(llm("South", 40, None)),
            ..r("South", 30, Some(0.8), Some(0.7))
        },
    ]);
    let text = d.holds.join(" ");
    assert!(
        text.contains("In 1 of 2 held-out regions the LLM's rows")
            && text.contains("10 features")
            && text.contains("below TRTR at the same features by 0.150")
            && text.contains("West: TRTR 0.750 vs TSTR 0.600"),
        "{text}"
    );
    assert!(
        d.settle[0].contains("South (not generated yet (at least 20 more calls))"),
        "{:?}",
        d.settle
    );
    // an open cell whose few rows hold no death has a TSTR result without an AUROC: open too
    let mut midwest = llm("Midwest", 52, None);
    midwest.evaluation.tstr = Some(u(None));
    let d = across_regions(&[RegionResult {
        llm: Some(midwest),
        ..r("Midwest", 36, Some(0.8), Some(0.7))
    }]);
    assert!(
        d.settle
            .first()
            .is_some_and(|s| s.contains("Midwest (not generated yet")),
        "{:?}",
        d.settle
    );
}

#[test]
fn grammar_3_is_compared_with_grammar_2_on_the_same_cells_only() {
    use crate::generate::{Cell, Strategy};
    let cell = |features: usize, decoding: Decoding, grammar: u32| Cell {
        stage: "s".into(),
        strategy: Strategy::Group,
        features,
        rows: 500,
        replicate: 0,
        examples_per_call: 20,
        rows_per_call: 20,
        decoding,
        grammar,
        layout: Default::default(),
        repetition: Default::default(),
        role: None,
        held_out_region: None,
    };
    let (g2, g3) = (
        cell(15, Decoding::Constrained, 2),
        cell(15, Decoding::Constrained, 3),
    );
    let (free, g3_20) = (
        cell(15, Decoding::Free, 1),
        cell(20, Decoding::Constrained, 3),
    );
    let s = grammar_pairs(&[
        (&free, 20, 0.1),
        (&g2, 17, 0.271),
        (&g3, 4, 0.8),
        (&g3_20, 3, 0.5),
    ])
    .unwrap();
    assert!(
        s.contains("27% → 80% at 15 features (17 and 4 calls)"),
        "{s}"
    );
    assert!(!s.contains("20 features"), "no grammar-2 twin at 20: {s}");
    // a grammar-3 cell without calls, or without a twin, says nothing
    assert_eq!(grammar_pairs(&[(&g2, 17, 0.271), (&g3, 0, 0.0)]), None);
    assert_eq!(grammar_pairs(&[(&g3_20, 3, 0.5)]), None);
}

#[test]
fn chapter_3_decides_finding_2_on_ended_cells_only_as_the_scorecard_does() {
    // the group cell at 80 of 200 rows: chapter 3 said "partly holds" while the scorecard said
    // "not tested"
    let f = crate::metrics::fairness::Fairness {
        groups: crate::metrics::fairness::groups()
            .into_iter()
            .map(|(group, _, _)| crate::metrics::fairness::GroupResult {
                group,
                n_real: 100,
                n_synth: 40,
                avg_kl: Some(1.0),
                avg_kl_present: Some(1.0),
                auroc: None,
                note: None,
            })
            .collect(),
        worst_kl: None,
        kl_gap: None,
        worst_auroc: None,
        auroc_gap: None,
    };
    let point = |generated: bool, valid_rows: usize| crate::findings::Point {
        generated,
        started: true,
        valid_rows,
        rows_asked: 200,
        ..Default::default()
    };
    let (open, ended) = (point(false, 80), point(true, 200));
    let d = fairness_for(
        "m",
        &[
            ("group", Decoding::Constrained, &f, &open),
            ("naive", Decoding::Constrained, &f, &ended),
        ],
    );
    assert!(
        d.holds[0].contains("not tested") && d.holds[0].contains("group: 80 of 200 valid rows"),
        "{:?}",
        d.holds
    );
    let d = fairness_for(
        "m",
        &[
            ("group", Decoding::Constrained, &f, &ended),
            ("naive", Decoding::Constrained, &f, &ended),
        ],
    );
    assert!(!d.holds[0].contains("not tested"), "{:?}", d.holds);
}
