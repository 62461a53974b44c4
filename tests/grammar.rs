//! Constrained decoding on the real demo data: the grammar built from the schema accepts every
//! member-pool row as the prompt renders it and rejects malformed lines — checked by llama.cpp's
//! own grammar checker (`test-gbnf-validator`, built by `scripts/local-llm.sh setup`); the
//! generator's rules and the row-consistency rule against the real data.

mod common;

use std::path::PathBuf;
use synthehr::cohort::schema;
use synthehr::generate::grammar::{gbnf, rules, versioned_rules, Decoding};
use synthehr::generate::parse::{inconsistent, parse};
use synthehr::generate::plan::{plan_call, rows_csv, shown_row, MemberPool};
use synthehr::generate::{Cell, Profile, Strategy};

fn pool() -> MemberPool<'static> {
    let (c, s) = common::demo();
    MemberPool {
        matrix: &c.matrix,
        rows: s.train.clone(),
    }
}

/// llama.cpp's checker: `SYNTHEHR_GBNF_VALIDATOR`, else where `scripts/local-llm.sh setup`
/// builds it.
fn validator() -> Option<PathBuf> {
    let p = std::env::var_os("SYNTHEHR_GBNF_VALIDATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            synthehr::llm::fingerprint::llm_dir().join("llama.cpp-build/bin/test-gbnf-validator")
        });
    p.is_file().then_some(p)
}

/// Whether llama.cpp's checker accepts `text` under `grammar` (panics if the grammar itself
/// does not parse).
fn accepts(tool: &PathBuf, grammar: &str, text: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g.gbnf");
    let t = dir.path().join("t.txt");
    std::fs::write(&g, grammar).unwrap();
    std::fs::write(&t, text).unwrap();
    let out = std::process::Command::new(tool)
        .arg(&g)
        .arg(&t)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the checker refused the grammar: {stdout}\n{grammar}"
    );
    stdout.contains("Input string is valid")
}

/// The line with a minus sign before the first present value of a column whose range has no
/// negatives (age where the subset has it).
fn negate_nonnegative(line: &str, cols: &[&str]) -> String {
    let mut f: Vec<String> = line.split(',').map(str::to_string).collect();
    let i = cols
        .iter()
        .position(|c| *c == "age")
        .filter(|&i| !f[i].is_empty())
        .or_else(|| {
            (0..cols.len()).find(|&i| {
                !f[i].is_empty()
                    && schema::column(cols[i])
                        .and_then(|c| c.range)
                        .is_some_and(|(lo, _)| lo >= 0.0)
            })
        })
        .unwrap();
    f[i] = format!("-{}", f[i]);
    f.join(",")
}

#[test]
fn llama_cpp_accepts_every_member_row_and_rejects_malformed_lines() {
    let Some(tool) = validator() else {
        eprintln!(
            "SKIPPED: llama.cpp's test-gbnf-validator is not built (scripts/local-llm.sh setup \
             builds it; or set SYNTHEHR_GBNF_VALIDATOR)"
        );
        return;
    };
    let p = pool();
    for (k, version) in [
        (5, 1),
        (10, 1),
        (20, 1),
        (82, 1),
        (10, 2),
        (82, 2),
        (15, 3),
        (82, 3),
    ] {
        let cols = schema::top_k(k);
        let r = versioned_rules(&cols, &p, version);
        // every member row, as the prompt shows it, in blocks of 25 records (grammars 2 and 3
        // bound values by the plausible range, so there: every member row inside the ranges)
        let rows: Vec<usize> = p
            .rows
            .iter()
            .copied()
            .filter(|&i| {
                version == 1
                    || shown_row(p.matrix, i, &cols)
                        .iter()
                        .zip(&cols)
                        .all(|(v, c)| {
                            v.is_nan() || schema::column(c).is_none_or(|col| col.in_range(*v))
                        })
            })
            .collect();
        assert!(
            rows.len() > p.rows.len() / 4,
            "k = {k}: {} rows",
            rows.len()
        );
        for block in rows.chunks(25) {
            let text = rows_csv(p.matrix, block, &cols);
            assert!(
                accepts(&tool, &gbnf(&r, block.len()), &text),
                "k = {k}: a member row is rejected:\n{text}"
            );
        }
        let good = rows_csv(p.matrix, &p.rows[..2], &cols);
        let g = gbnf(&r, 2);
        let header = cols.join(",");
        let first = good.lines().nth(1).unwrap();
        let mut bad = vec![
            (
                "missing field",
                first.rsplit_once(',').unwrap().0.to_string(),
            ),
            ("extra field", format!("{first},0")),
            ("prose", "Here is another patient.".to_string()),
            (
                "NaN",
                first.replacen(first.split(',').next().unwrap(), "NaN", 1),
            ),
            (
                "negative value where the range has none",
                negate_nonnegative(first, &cols),
            ),
        ];
        if version >= 3 {
            // a value above its range, with as many digits as the range's maximum
            let i = (0..cols.len())
                .find(|&i| {
                    schema::column(cols[i])
                        .and_then(|c| c.range)
                        .is_some_and(|(_, hi)| (100.0..999.0).contains(&hi))
                })
                .unwrap();
            let mut f: Vec<&str> = first.split(',').collect();
            f[i] = "999";
            bad.push(("above the range", f.join(",")));
        }
        for (what, line) in bad {
            let text = format!("{header}\n{first}\n{line}\n");
            assert!(!accepts(&tool, &g, &text), "k = {k}: {what} accepted");
        }
        // wrong record count, fence, missing header
        assert!(
            !accepts(&tool, &gbnf(&r, 3), &good),
            "k = {k}: 2 of 3 records"
        );
        assert!(!accepts(&tool, &g, &format!("```csv\n{good}```\n")));
        assert!(!accepts(&tool, &g, good.split_once('\n').unwrap().1));
    }
    // the label is never empty, even though the grammar allows empty fields elsewhere
    let cols = schema::top_k(5);
    let g = gbnf(&rules(&cols, &p), 1);
    let row = rows_csv(p.matrix, &p.rows[..1], &cols);
    let no_label = format!("{}\n", row.trim_end().rsplit_once(',').unwrap().0) + ",";
    assert!(!accepts(
        &tool,
        &g,
        &format!("{}\n{no_label}\n", cols.join(","))
    ));
}

#[test]
fn rules_follow_the_schema_and_the_member_pool() {
    let p = pool();
    let cols = schema::top_k(82);
    let r = rules(&cols, &p);
    assert_eq!(r.len(), 83);
    let by = |n: &str| r.iter().find(|x| x.name == n).unwrap();
    assert!(by("death").binary && !by("death").nullable);
    assert!(by("age").integer && !by("age").negative);
    assert_eq!(by("bg_ph_last_early").decimals, 3);
    assert!(by("patientunitstayid").integer && by("hospitalid").integer);
    for x in &r {
        let col = schema::column(&x.name).unwrap();
        if let Some((lo, _)) = col.range {
            assert_eq!(x.negative, lo < 0.0, "{}", x.name);
        }
        // empty only where the real member pool has missing values
        let missing = match p.matrix.column(&x.name) {
            Some(v) => p.rows.iter().any(|&i| v[i].is_nan()),
            None => true, // a column this source never fills
        };
        assert_eq!(x.nullable, missing && x.name != "death", "{}", x.name);
    }
}

#[test]
fn a_constrained_cell_sends_its_grammar_with_the_free_twins_examples_and_seed() {
    let p = pool();
    let prof = Profile::find("local").unwrap();
    let free = Cell {
        stage: "t".into(),
        strategy: Strategy::Group,
        features: 10,
        rows: 100,
        replicate: 0,
        examples_per_call: 20,
        rows_per_call: 20,
        decoding: Decoding::Free,
        grammar: 1,
        layout: Default::default(),
        repetition: Default::default(),
        role: None,
        held_out_region: None,
    };
    let cons = Cell {
        decoding: Decoding::Constrained,
        ..free.clone()
    };
    assert_eq!(cons.id(), "group-f10-n100-rep0-constrained");
    assert_eq!(free.id(), "group-f10-n100-rep0");
    assert!(!cons.same_calls(&free));
    let a = plan_call(&prof, &free, &p, 2).unwrap();
    let b = plan_call(&prof, &cons, &p, 2).unwrap();
    assert!(a.request.sampling.grammar.is_none());
    let g = b.request.sampling.grammar.as_deref().unwrap();
    assert!(g.starts_with("root ::= header record{20}\n"), "{g}");
    assert!(g.contains(&schema::top_k(10).join(",")));
    assert_eq!(a.example_rows, b.example_rows);
    assert_eq!(a.seed, b.seed);
    assert_eq!(a.request.messages, b.request.messages);
}

#[test]
fn the_real_data_never_breaks_a_measurements_order() {
    let (cohort, _) = common::demo();
    let m = &cohort.matrix;
    let cols = schema::column_names();
    let n = m.column("death").unwrap().len();
    for r in 0..n {
        let row: Vec<f64> = cols.iter().map(|c| m.column(c).unwrap()[r]).collect();
        assert!(!inconsistent(&row, &cols), "real row {r} is inconsistent");
    }
    // the prompt's own rendering of real rows parses back without inconsistencies
    let p = pool();
    let cols = schema::top_k(20);
    let parsed = parse(&rows_csv(m, &p.rows, &cols), &cols);
    assert!(parsed.rows.len() > p.rows.len() / 2);
    assert!(parsed.inconsistent.is_empty());
}
