//! The report's downloads from the committed LLM cache and the real demo data: a synthetic table
//! per model and generated cell, and every cell's prompts — with no real row in any of them.

mod common;

use std::path::Path;
use synthehr::generate::plan::{plan_call, rows_csv, MemberPool};
use synthehr::study::Study;

#[test]
fn synthetic_tables_and_prompts_without_real_rows() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let study = Study::open(project, &common::real_data(), "local").unwrap();
    let out = tempfile::tempdir().unwrap();
    let written = synthehr::report::downloads::write(&study, out.path()).unwrap();

    let cells = study.profile.cells();
    let prompts: Vec<_> = written
        .iter()
        .filter(|d| d.path.starts_with("downloads/prompts/"))
        .collect();
    assert_eq!(prompts.len(), cells.len(), "one prompt file per cell");
    for cell in &cells {
        // a cell that held a region out drew its examples from the other regions
        let pool = MemberPool::for_cell(&study.cohort.matrix, &study.split.train, cell).unwrap();
        let text = std::fs::read_to_string(
            out.path()
                .join(format!("downloads/prompts/{}.txt", cell.id())),
        )
        .unwrap();
        assert!(
            text.contains("withheld from published prompts"),
            "{}",
            cell.id()
        );
        // none of the example rows the model really got appears
        let call = plan_call(&study.profile, cell, &pool, 0).unwrap();
        let real = rows_csv(&study.cohort.matrix, &call.example_rows, &cell.columns());
        for line in real.lines().skip(1) {
            assert!(
                !text.contains(line),
                "{}: a real row is in the prompt",
                cell.id()
            );
        }
        // and the rest of the prompt is what the model got
        let sent = &call.request.messages[1].content;
        let instructions = sent.split(real.trim_end()).last().unwrap_or("");
        assert!(text.contains(instructions.trim()), "{}", cell.id());
    }

    // a table for each cell with answers in the cache; none of its rows is a real member row
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    let tables: Vec<_> = written
        .iter()
        .filter(|d| d.path.starts_with("downloads/synthetic/"))
        .collect();
    assert!(!tables.is_empty(), "the committed cache has answers");
    for t in tables {
        let csv = std::fs::read_to_string(out.path().join(&t.path)).unwrap();
        assert!(csv.starts_with("lactate_last_early,"), "{}", t.path);
        let f = synthehr::metrics::Frame::read_csv(&out.path().join(&t.path)).unwrap();
        let names: Vec<&str> = f.names.iter().map(String::as_str).collect();
        for i in 0..f.n_rows() {
            let row: Vec<f64> = f.columns.iter().map(|c| c[i]).collect();
            let copied = study.split.train.iter().any(|&r| {
                let real = synthehr::generate::plan::shown_row(&study.cohort.matrix, r, &names);
                real.iter().zip(&row).all(|(a, b)| same(*a, *b))
            });
            assert!(!copied, "{}: row {i} is a real member row", t.path);
        }
        assert!(out.path().join(t.path.replace(".csv", ".json")).is_file());
    }
}
