use super::*;

const COLS: [&str; 3] = ["age", "heartrate_max", "death"];

#[test]
fn fences_prose_header_case_and_order() {
    let text = "Sure! Here are the rows:\n```csv\nDeath, Heartrate_Max ,AGE\n0,110,65\n1,,80\n```\nHope this helps.";
    let p = parse(text, &COLS);
    assert!(p.header_found);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0], vec![65.0, 110.0, 0.0]);
    assert!(p.rows[1][1].is_nan());
    assert_eq!(p.rows[1][2], 1.0);
}

#[test]
fn reasons_for_rejection() {
    let text = "age,heartrate_max,death\n70,100,0,\n70,abc,0\n150,100,0\n60,90,\n60,90\n\"61\",\"91\",\"1\"\nage,heartrate_max,death\n62,NA,null\n63,-,0";
    let p = parse(text, &COLS);
    assert_eq!(p.rows.len(), 3, "{p:?}"); // trailing comma ok, quoted ok, '-' is missing
    assert_eq!(p.rejects[&Reject::UnparseableNumber], 1);
    assert_eq!(p.rejects[&Reject::OutOfRange], 1);
    assert_eq!(p.out_of_range["age"], 1);
    assert_eq!(p.rejects[&Reject::MissingLabel], 2);
    assert_eq!(p.rejects[&Reject::WrongFieldCount], 1);
}

#[test]
fn inconsistent_window_summaries_are_kept_and_counted() {
    let cols = ["tempc_min", "tempc_max", "tempc_last", "age", "death"];
    assert!(!inconsistent(&[36.0, 38.0, 37.0, 60.0, 0.0], &cols));
    assert!(inconsistent(&[37.5, 38.0, 37.0, 60.0, 0.0], &cols)); // min > last
    assert!(inconsistent(&[36.0, 36.5, 37.0, 60.0, 0.0], &cols)); // max < last
    assert!(inconsistent(&[39.0, 38.0, f64::NAN, 60.0, 0.0], &cols)); // min > max
    assert!(!inconsistent(&[f64::NAN, 38.0, 37.0, 60.0, 0.0], &cols)); // missing: no claim
    let p = parse("36,38,37,60,0\n37.5,38,37,61,1\n", &cols);
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.inconsistent, vec![1]);
    let mut cell = CellRows::default();
    cell.add(0, p, &HashSet::new());
    assert_eq!(cell.rows.len(), 2);
    assert_eq!(cell.inconsistent, 1);
    assert!((cell.inconsistent_rate() - 0.5).abs() < 1e-12);
}

#[test]
fn structured_json_answers_parse_like_csv() {
    let text = r#"{"rows": [
        {"age": 70, "heartrate_max": 101.5, "death": 0},
        {"age": 80, "heartrate_max": null, "death": 1},
        {"age": 60, "death": 0},
        {"age": 61, "heartrate_max": 90, "death": 0, "note": 1},
        {"age": 150, "heartrate_max": 90, "death": 0},
        {"age": "62", "heartrate_max": 91, "death": 1}
    ]}"#;
    let p = parse(text, &COLS);
    assert!(p.header_found);
    assert_eq!(p.candidate_lines, 6);
    assert_eq!(p.rows.len(), 3, "{p:?}");
    assert_eq!(p.rows[0], vec![70.0, 101.5, 0.0]);
    assert!(p.rows[1][1].is_nan());
    assert_eq!(p.rows[2], vec![62.0, 91.0, 1.0]);
    assert_eq!(p.rejects[&Reject::WrongFieldCount], 2); // missing key, extra key
    assert_eq!(p.rejects[&Reject::OutOfRange], 1);
    // not the structured shape: read as text
    assert!(json_rows_as_csv("{\"data\": 1}", &COLS).is_none());
    assert!(json_rows_as_csv("age,heartrate_max,death", &COLS).is_none());
}

#[test]
fn a_json_answer_that_copies_a_shown_row_is_stored_redacted() {
    let shown = Shown::new(&[vec![70.0, 100.0, 0.0]]);
    let text = r#"{"rows":[{"age":70,"heartrate_max":100,"death":0},{"age":71,"heartrate_max":99,"death":1}]}"#;
    let (red, n) = redact_copies(text, &COLS, &shown);
    assert_eq!(n, 1);
    assert!(
        !red.contains("70,100,0") && red.contains(REDACTED_COPY),
        "{red}"
    );
    let p = parse(&red, &COLS);
    assert_eq!(p.rows, vec![vec![71.0, 99.0, 1.0]]);
    assert_eq!(p.rejects[&Reject::CopyOfShownRow], 1);
    let clean = r#"{"rows":[{"age":71,"heartrate_max":99,"death":1}]}"#;
    assert_eq!(redact_copies(clean, &COLS, &shown), (clean.to_string(), 0));
}

#[test]
fn without_header_columns_are_positional() {
    let p = parse("70,100,0\n71,101,1", &COLS);
    assert!(!p.header_found);
    assert_eq!(p.rows.len(), 2);
}

#[test]
fn runaway_line_is_one_rejected_record() {
    let line = vec!["1"; 853].join(",");
    let p = parse(&format!("age,heartrate_max,death\n{line}"), &COLS);
    assert_eq!(p.rows.len(), 0);
    assert_eq!(p.rejects[&Reject::WrongFieldCount], 1);
}

#[test]
fn copies_of_shown_rows_are_redacted_and_still_counted() {
    let shown = Shown::new(&[vec![70.0, 100.0, 0.0]]);
    let text = "age,heartrate_max,death\n70,100.0,0\n71,101,1\n";
    let (red, n) = redact_copies(text, &COLS, &shown);
    assert_eq!(n, 1);
    assert!(
        !red.contains("70,100.0,0") && red.contains(REDACTED_COPY),
        "{red}"
    );
    let p = parse(&red, &COLS);
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rejects[&Reject::CopyOfShownRow], 1);
    assert_eq!(p.candidate_lines, 2);
}

#[test]
fn near_copies_are_redacted_too() {
    let cols = [
        "age",
        "heartrate_max",
        "sysbp_min",
        "bun_last_early",
        "death",
    ];
    let shown = Shown::new(&[vec![70.0, 100.5, 92.0, 31.0, 0.0]]);
    let text = "70,100.5,92,31\n70,100.5,92,33,0\n70,100.5,7,92,31,0\n65,101,92,31,0\n,,,,0\n";
    let (red, n) = redact_copies(text, &cols, &shown);
    // dropped field, one changed value, one inserted value: all near copies
    assert_eq!(n, 3, "{red}");
    assert!(red.ends_with("65,101,92,31,0\n,,,,0\n"), "{red}");
    // a mostly blank shown row does not make every blank line a copy
    let blank = Shown::new(&[vec![f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0]]);
    assert_eq!(redact_copies("71,,,,0\n", &cols, &blank).1, 1);
    assert_eq!(redact_copies("71,88,95,40,0\n", &cols, &blank).1, 0);
}

#[test]
fn duplicates_and_copies_are_rejected_across_calls() {
    let shown: HashSet<Vec<u64>> = [row_key(&[70.0, 100.0, 0.0])].into_iter().collect();
    let mut cell = CellRows::default();
    cell.add(0, parse("70,100,0\n71,101,1", &COLS), &shown);
    cell.add(1, parse("71,101,1\n72,102,0", &COLS), &shown);
    assert_eq!(cell.rows.len(), 2);
    assert_eq!(cell.row_call, vec![0, 1]);
    assert_eq!(cell.rejects[&Reject::CopyOfShownRow], 1);
    assert_eq!(cell.rejects[&Reject::Duplicate], 1);
    assert!((cell.valid_rate() - 0.5).abs() < 1e-12);
}

#[test]
fn columns_varied_per_call_counts_the_fields_an_answer_changes() {
    let mut cell = CellRows::default();
    // call 0: one template with only heartrate_max varied; a missing value counts as a value
    cell.add(
        0,
        parse("65,110,0\n65,111,0\n65,,0\n", &COLS),
        &HashSet::new(),
    );
    // call 1: one row only (no claim); call 2: every column varied
    cell.add(1, parse("70,90,1\n", &COLS), &HashSet::new());
    cell.add(2, parse("50,90,0\n51,91,1\n", &COLS), &HashSet::new());
    assert_eq!(cell.columns_varied_per_call(), vec![1, 3]);
    assert!(CellRows::default().columns_varied_per_call().is_empty());
}
