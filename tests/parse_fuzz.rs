//! The parser never panics on arbitrary model output, and what it accepts is always valid.
//! (proptest; the corpus of real answers lives in tests/corpus/.)

use proptest::prelude::*;
use synthehr::cohort::schema;
use synthehr::generate::parse::parse;

fn cols() -> Vec<&'static str> {
    schema::top_k(5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let text = String::from_utf8_lossy(&bytes);
        let p = parse(&text, &cols());
        prop_assert!(p.rows.len() <= p.candidate_lines);
    }

    #[test]
    fn csv_like_noise_yields_only_valid_rows(lines in prop::collection::vec(
        prop::collection::vec(prop_oneof![
            Just(String::new()), Just("NA".to_string()), Just("-".to_string()), Just("\"3.5\"".to_string()),
            (-1000.0f64..1000.0).prop_map(|v| format!("{v:.2}")), Just("0".to_string()), Just("1".to_string()),
            "[a-z ]{0,6}", Just("1e308".to_string()), Just("inf".to_string()),
        ], 0..9), 0..30)) {
        let mut text = String::from("```csv\n");
        text.push_str(&cols().join(","));
        text.push('\n');
        for l in &lines {
            text.push_str(&l.join(","));
            text.push('\n');
        }
        let p = parse(&text, &cols());
        let c = cols();
        for row in &p.rows {
            prop_assert_eq!(row.len(), c.len());
            prop_assert!(!row[c.len() - 1].is_nan(), "label present");
            for (v, name) in row.iter().zip(&c) {
                prop_assert!(v.is_nan() || schema::column(name).unwrap().in_range(*v), "{} = {} accepted", name, v);
            }
        }
        let rejected: usize = p.rejects.values().sum();
        prop_assert_eq!(rejected + p.rows.len(), p.candidate_lines);
    }
}

/// Real answers of the local model (model output, not patient rows), kept small.
#[test]
fn corpus_of_real_answers_parses_as_recorded() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expect: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let columns: Vec<&str> = expect["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let p = parse(&text, &columns);
        assert_eq!(
            p.rows.len() as u64,
            expect["valid"].as_u64().unwrap(),
            "{}",
            path.display()
        );
        assert_eq!(
            p.candidate_lines as u64,
            expect["candidates"].as_u64().unwrap(),
            "{}",
            path.display()
        );
        n += 1;
    }
    assert!(n >= 3, "corpus has {n} answers");
}

/// Regenerates the corpus expectations after a deliberate parser change:
/// `cargo test --release --test parse_fuzz -- --ignored write_corpus_expectations`
#[test]
#[ignore]
fn write_corpus_expectations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let k: usize = name.rsplit("-f").next().unwrap().parse().unwrap();
        let columns = schema::top_k(k);
        let p = parse(&text, &columns);
        let j = serde_json::json!({"columns": columns, "valid": p.rows.len(), "candidates": p.candidate_lines,
            "rejects": p.rejects.iter().map(|(r, n)| (r.name(), n)).collect::<std::collections::BTreeMap<_, _>>()});
        std::fs::write(
            path.with_extension("json"),
            serde_json::to_string_pretty(&j).unwrap() + "\n",
        )
        .unwrap();
    }
}
