//! The eicu-demo cohort on the real demo data: an independent pandas check, the CLI's outputs and
//! the matrix source round trip.

mod common;

use std::process::Command;
use std::sync::OnceLock;
use synthehr::cohort::{schema, Cohort, SourceKind};

fn demo() -> &'static Cohort {
    static C: OnceLock<Cohort> = OnceLock::new();
    C.get_or_init(|| {
        Cohort::build(SourceKind::EicuDemo, &common::real_data()).expect("demo cohort builds")
    })
}

#[test]
fn counts_match_the_pandas_reference_exactly() {
    let out = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/cohort_reference.py"
        ))
        .arg(common::real_data())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = demo().summary();
    assert_eq!(r["rows"], s.rows);
    assert_eq!(r["deaths"], s.deaths);
    assert_eq!(r["female"], s.female);
    assert_eq!(r["male"], s.male);
    assert_eq!(r["hospitals"], s.hospitals);
    // per hospital (chapter 1): stays and deaths, largest first; bands and regions add up
    let hospitals = synthehr::cohort::summary::by_hospital(demo());
    assert_eq!(hospitals.len(), s.hospitals);
    for h in &hospitals {
        let id = h.name.split(' ').next().unwrap();
        assert_eq!(
            r["per_hospital"][id],
            serde_json::json!([h.stays, h.deaths]),
            "hospital {}",
            h.name
        );
    }
    assert!(hospitals.windows(2).all(|w| w[0].stays >= w[1].stays));
    for groups in [
        synthehr::cohort::summary::by_hospital_size(demo()),
        synthehr::cohort::summary::by_region(demo()),
    ] {
        assert_eq!(groups.iter().map(|g| g.stays).sum::<usize>(), s.rows);
        assert_eq!(groups.iter().map(|g| g.deaths).sum::<usize>(), s.deaths);
    }
    let bands = synthehr::cohort::summary::by_hospital_size(demo());
    assert_eq!(
        bands.iter().map(|g| g.hospitals).sum::<usize>(),
        s.hospitals
    );
    assert!(
        s.rows > 1000,
        "the demo cohort has over a thousand stays, got {}",
        s.rows
    );
}

#[test]
fn matrix_has_the_83_paper_columns_in_order() {
    let names: Vec<&str> = demo().matrix.names().iter().map(String::as_str).collect();
    assert_eq!(names, schema::column_names());
    // identifiers really are the stay ids, one row per stay
    let ids = demo().matrix.column("patientunitstayid").unwrap();
    let meta: Vec<f64> = demo().matrix.meta().iter().map(|m| m.stay as f64).collect();
    assert_eq!(ids, meta.as_slice());
    // plausible values on real data: vitals in range where present
    let hr = demo().matrix.column("heartrate_max").unwrap();
    let present = hr.iter().filter(|v| !v.is_nan()).count();
    assert!(present > demo().matrix.n_rows() / 2);
}

#[test]
fn matrix_source_round_trips_with_the_same_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let summary = demo().write(dir.path()).unwrap();
    for file in ["design_matrix.csv", "design_matrix.parquet"] {
        let back = Cohort::build(SourceKind::Matrix, &dir.path().join(file)).unwrap();
        assert_eq!(back.matrix.fingerprint(), summary.fingerprint, "{file}");
    }
}

#[test]
fn cli_data_build_writes_the_three_files_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_synthehr"))
        .args(["data", "build", "--source", "eicu-demo", "--out"])
        .arg(dir.path())
        .env("SYNTHEHR_DATA", common::real_data())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("rows (ICU stays)") && stdout.contains("fingerprint"),
        "{stdout}"
    );
    for f in ["design_matrix.parquet", "design_matrix.csv", "cohort.json"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("cohort.json")).unwrap()).unwrap();
    for k in [
        "rows",
        "columns",
        "deaths",
        "death_rate",
        "female",
        "male",
        "missing_cells",
        "hospitals",
        "regions",
        "fingerprint",
    ] {
        assert!(j.get(k).is_some(), "cohort.json lacks {k}");
    }
    assert_eq!(j["columns"], 83);
    let header = std::fs::read_to_string(dir.path().join("design_matrix.csv")).unwrap();
    assert_eq!(
        header.lines().next().unwrap(),
        schema::column_names().join(",")
    );
}

#[test]
fn cli_reports_missing_data_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_synthehr"))
        .args(["data", "build", "--data"])
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error:") && err.contains("nowhere"), "{err}");
}

#[test]
fn a_matrix_with_an_impossible_label_or_no_rows_is_refused_and_a_bad_flag_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    demo().write(dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("design_matrix.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let edit = |row: usize, column: &str, value: &str| -> String {
        let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
        let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
        cells[col(column)] = value.to_string();
        lines[row] = cells.join(",");
        lines.join("\n") + "\n"
    };
    let path = dir.path().join("edited.csv");
    let build = |text: &str| {
        std::fs::write(&path, text).unwrap();
        Cohort::build(SourceKind::Matrix, &path)
    };
    let e = build(&edit(3, "death", "7")).unwrap_err().to_string();
    assert!(
        e.contains("edited.csv") && e.contains("death must be 0 or 1") && e.contains("data row 3"),
        "{e}"
    );
    let e = build(&edit(2, "death", "")).unwrap_err().to_string();
    assert!(e.contains("value empty"), "{e}");
    let e = build(&format!("{}\n", header.join(",")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no rows"), "{e}");
    // a binary feature out of its domain: that cell becomes missing, counted; the row stays
    let c = build(&edit(4, "is_female", "3")).unwrap();
    assert_eq!(c.matrix.n_rows(), demo().matrix.n_rows());
    assert!(c.matrix.column("is_female").unwrap()[3].is_nan());
    assert_eq!(c.issues.counts.get("matrix.is_female"), Some(&1));
}
