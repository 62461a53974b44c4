//! The report's case-study contract on real cells replayed from the committed cache (real eICU
//! demo data): every KL a results record carries has its matched-n reference; no AUROC/AUPRC is
//! given for a model trained on fewer deaths or survivors than declared; the privacy table shows
//! the pre-filter copy rate and TPR at 1% FPR; the scorecard decides on the constrained cells
//! and every chapter ends with a discussion rendered from the run.

mod common;

use std::path::Path;
use synthehr::metrics::utility::MIN_CLASS_ROWS;
use synthehr::study::Study;

fn study() -> Study {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut study =
        Study::open(project, &common::real_data(), "local").expect("the local profile opens");
    // the light setting: this checks what the records carry, not the study's numbers
    study.utility = synthehr::metrics::utility::UtilityOptions::check();
    study
}

#[test]
fn records_carry_kl_references_and_no_metric_of_an_untrainable_model() {
    let study = study();
    let opt = study.utility_options();
    let model = study
        .models
        .first()
        .expect("a model in the committed cache")
        .clone();
    // the profile's primary model comes first however the others sort (0.5B < 1.5B by label)
    assert_eq!(
        Some(model.model.as_str()),
        study.profile.primary_model.as_deref(),
        "{:?}",
        study.models.iter().map(|m| m.label()).collect::<Vec<_>>()
    );
    let mut checked = (0, 0);
    for cell in study.profile.cells() {
        // every role the scorecard reads, and at least one cell of each decoding
        if !matches!(cell.role(), "strategies" | "dimensionality") {
            continue;
        }
        let e = study.evaluate(&model, &cell, &opt).unwrap();
        let r = study.result_record(&model, &cell, &e);
        if r.avg_kl.is_some() {
            let reference = r
                .kl_reference
                .unwrap_or_else(|| panic!("{}: KL without its reference", cell.id()));
            assert!(reference.lo <= reference.value && reference.value <= reference.hi);
            assert!(r.excess_kl.is_some());
            checked.0 += 1;
        }
        if let Some(u) = &e.tstr {
            let negatives = u.n_train - u.train_positives;
            if u.train_positives < MIN_CLASS_ROWS || negatives < MIN_CLASS_ROWS {
                assert!(
                    r.tstr_auroc.is_none() && r.tstr_auprc.is_none(),
                    "{}: metric of an untrainable model",
                    cell.id()
                );
                assert!(u
                    .undefined
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("cannot train"));
                checked.1 += 1;
            }
        }
    }
    assert!(checked.0 > 0, "no cell with a KL was checked");
    eprintln!(
        "{} KLs with references, {} untrainable cells without metrics",
        checked.0, checked.1
    );
}

#[test]
fn the_scorecard_decides_on_constrained_cells_and_shows_the_free_verdict_beside() {
    let study = study();
    assert_eq!(
        study.scorecard_decodings(),
        vec![
            synthehr::generate::grammar::Decoding::Constrained,
            synthehr::generate::grammar::Decoding::Free
        ]
    );
    let opt = study.utility_options();
    let (findings, table, _) = study.scorecard(&opt).unwrap();
    assert_eq!(findings.len(), 2);
    assert!(findings.iter().all(|(_, f)| f.len() == 6));
    assert_eq!(table.header[1], "verdict (constrained decoding)");
    assert_eq!(table.header[2], "verdict (free decoding)");
    let names = ["holds", "partly holds", "does not hold", "not tested"];
    for row in &table.rows {
        assert!(
            names.contains(&row[1].as_str()) && names.contains(&row[2].as_str()),
            "{row:?}"
        );
    }
    // finding 3 reads the constrained dimensionality cells (generated at 5 and 10 features)
    let html = synthehr::notebook::display::table_html(&table.header, &table.rows, "");
    assert!(html.contains("class=\"badge badge-"), "verdicts are badges");
}

#[test]
fn finding_4_reads_every_sample_size_the_profile_lists() {
    // the 500-row sample-size cell is the dimensionality stage's (the same calls): the kept cell
    // carries that stage's role, and finding 4 read 1,000 and 2,000 rows only
    let study = study();
    let model = study.models.first().expect("a model in the cache").clone();
    let m = study
        .finding_numbers(
            &model,
            &study.utility_options(),
            synthehr::generate::grammar::Decoding::Constrained,
        )
        .unwrap();
    let mut sizes: Vec<usize> = m.rows.iter().map(|(n, _)| *n).collect();
    sizes.sort();
    assert_eq!(sizes, vec![500, 1000, 2000]);
}

#[test]
fn notebooks_show_copy_rates_tpr_and_end_with_a_discussion() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let mut chapters = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".ipynb") || name.starts_with("00-") {
            continue;
        }
        let nb: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let cells = nb["cells"].as_array().unwrap();
        let last: String = cells.last().unwrap()["source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(
            last.contains("discussion::"),
            "{name} does not end with a discussion: {last}"
        );
        chapters += 1;
    }
    assert_eq!(chapters, 11);
    let privacy = std::fs::read_to_string(dir.join("04-dimensionality.ipynb")).unwrap();
    assert!(
        privacy.contains("copied lines before the filter") && privacy.contains("TPR at 1% FPR")
    );
    // the paper's Table 4 sorts numerically (1000, 5000, 10000), not as text
    let rows: Vec<usize> = synthehr::paper::Paper::get()
        .table4_by_rows()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(rows, sorted);
}

#[test]
fn the_usage_table_lists_recorded_cells_and_counts_each_shared_call_once_in_the_total() {
    let study = study();
    let t = study.usage_table().unwrap();
    let num = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    assert!(!t.rows.is_empty());
    for model in t
        .rows
        .iter()
        .map(|r| r[0].clone())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let rows: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[0] == model).collect();
        let (total, cells) = rows.split_last().unwrap();
        assert!(
            total[1].starts_with("total"),
            "{model}: ends with its total: {total:?}"
        );
        assert!(
            cells.iter().all(|r| num(&r[2]) > 0),
            "{model}: a cell without a call is listed"
        );
        // the sample-size cells repeat the calls of the smaller ones: the total is at most the sum
        for col in [2, 3, 4] {
            let sum: u64 = cells.iter().map(|r| num(&r[col])).sum();
            assert!(
                num(&total[col]) <= sum && num(&total[col]) > 0,
                "{model} column {col}"
            );
        }
    }
    assert!(t.caption.contains("left out"), "{}", t.caption);
}

#[test]
fn a_cell_that_held_a_region_out_is_tested_on_that_region_only() {
    let study = study();
    let opt = study.utility_options();
    let held: Vec<_> = study
        .profile
        .cells()
        .into_iter()
        .filter(|c| c.held_out_region.is_some())
        .collect();
    assert_eq!(held.len(), 4, "one cell per region of the demo data");
    assert!(held.iter().all(|c| !c.decides_findings()));
    // the member/holdout metrics would mean nothing for it: refused, saying where it is scored
    let model = study.models.first().expect("a model in the cache");
    let err = study
        .evaluate(model, &held[0], &opt)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("generated without region") && err.contains("chapter 7"),
        "{err}"
    );
    // chapter 7 puts each region's cell beside TRTR at its 10 features, trained on the same
    // patients the cell's prompts drew from
    let loro = synthehr::regions::leave_one_region_out(&study, &opt).unwrap();
    assert_eq!(loro.len(), 4);
    for r in &loro {
        let l = r.llm.as_ref().expect("the region's cell");
        assert_eq!(l.cell.held_out_region.as_deref(), Some(r.region.as_str()));
        assert_eq!(l.trtr.features, 10, "{}", r.region);
        assert_eq!(l.trtr.n_train, r.train, "{}", r.region);
        assert_eq!(l.trtr.n_test, r.test, "{}", r.region);
        match &l.evaluation.tstr {
            Some(t) => assert_eq!(t.n_test, r.test),
            None => assert!(l.evaluation.result.valid_rows < synthehr::metrics::MIN_ROWS),
        }
        let rec = study.result_record(&l.model, &l.cell, &l.evaluation);
        assert_eq!(rec.held_out_region.as_deref(), Some(r.region.as_str()));
        assert!(rec.avg_kl.is_none() && rec.mia_auroc.is_none());
    }
    let t = synthehr::regions::table(&study, &loro);
    assert_eq!(t.header.len(), 7, "{:?}", t.header);
    assert!(t.header[6].contains("LLM"), "{:?}", t.header);
}
