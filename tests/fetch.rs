//! `data fetch`: the pins match the real demo files, and downloads from a loopback server are
//! verified, resumable by file, and leave nothing half-written on a truncated file or a wrong hash.

mod common;

use common::stub::{self, Reply};
use std::io::Write;
use synthehr::cohort::fetch::{self, Check, Fetched, Origin, Origins, Remote};

#[test]
fn pins_match_the_real_demo_files() {
    let data = common::real_data();
    let mut checked = 0;
    for f in fetch::manifest() {
        let path = data.join(f.dest);
        if !path.exists() {
            // lab and vitalPeriodic are absent from this demo snapshot (data/README.md)
            assert!(
                matches!(
                    f.check,
                    Check::Csv {
                        content_sha256: None,
                        ..
                    }
                ),
                "{} missing",
                f.dest
            );
            continue;
        }
        fetch::verify(&path, &f.check).unwrap_or_else(|e| panic!("{}: {e}", f.dest));
        checked += 1;
    }
    assert_eq!(checked, 7);
}

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

const TABLE: &str = "patientunitstayid,gender\n1,Female\n2,Male\n3,Female\n";

fn manifest(csv_hash: &'static str, bytes_sha: &'static str) -> Vec<Remote> {
    vec![
        Remote {
            origin: Origin::PhysioNet,
            name: "patient.csv.gz",
            dest: "eicu-demo/patient.csv.gz",
            check: Check::Csv {
                rows: Some(3),
                key_columns: &["patientunitstayid", "gender"],
                content_sha256: Some(csv_hash),
                required: &[],
            },
        },
        Remote {
            origin: Origin::Yaib,
            name: "blob.bin",
            dest: "yaib-eicu-demo/los/blob.bin",
            check: Check::Bytes {
                size: 5,
                sha256: bytes_sha,
            },
        },
    ]
}

fn pins() -> (&'static str, &'static str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv.gz");
    std::fs::write(&p, gz(TABLE)).unwrap();
    let (_, h) = fetch::csv_content(&p, &["patientunitstayid", "gender"], &[]).unwrap();
    let b = synthehr::fsutil::sha256_hex(b"hello");
    (Box::leak(h.into_boxed_str()), Box::leak(b.into_boxed_str()))
}

fn origins(url: &str) -> Origins {
    Origins {
        physionet: format!("{url}/physionet/"),
        yaib: format!("{url}/yaib/"),
    }
}

fn no_partial_files(dir: &std::path::Path) {
    for e in walk(dir) {
        let name = e.to_string_lossy().to_string();
        assert!(!name.ends_with(".part"), "left behind: {name}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn downloads_verifies_and_skips_what_is_present() {
    let (h, b) = pins();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(stub::start(vec![
        Reply::bytes(gz(TABLE)),
        Reply::bytes(b"hello".to_vec()),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let got = fetch::fetch(&manifest(h, b), &origins(&s.url), dir.path()).unwrap();
    assert!(got.iter().all(|(_, f)| *f == Fetched::Downloaded));
    assert!(dir.path().join("eicu-demo/patient.csv.gz").is_file());
    assert!(std::fs::read_to_string(dir.path().join("ATTRIBUTION.md"))
        .unwrap()
        .contains("ODbL"));
    // a second run downloads nothing
    let again = fetch::fetch(&manifest(h, b), &origins(&s.url), dir.path()).unwrap();
    assert!(again.iter().all(|(_, f)| *f == Fetched::AlreadyPresent));
    assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    no_partial_files(dir.path());
}

#[test]
fn a_truncated_file_is_an_error_and_nothing_is_kept() {
    let (h, b) = pins();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = gz(TABLE);
    let n = body.len();
    let s = rt.block_on(stub::start(vec![
        Reply::bytes(body[..n / 2].to_vec()).declaring(n)
    ]));
    let dir = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&manifest(h, b), &origins(&s.url), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("eicu-demo/patient.csv.gz")
            && (err.contains("truncated") || err.contains("connection lost")),
        "{err}"
    );
    assert!(!dir.path().join("eicu-demo/patient.csv.gz").exists());
    no_partial_files(dir.path());
}

#[test]
fn a_wrong_hash_is_an_error_and_nothing_is_kept() {
    let (h, b) = pins();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(stub::start(vec![
        Reply::bytes(gz(TABLE)),
        Reply::bytes(b"hellO".to_vec()),
    ]));
    let dir = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&manifest(h, b), &origins(&s.url), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("blob.bin") && err.contains("does not match"),
        "{err}"
    );
    assert!(
        dir.path().join("eicu-demo/patient.csv.gz").is_file(),
        "the good file stays"
    );
    assert!(!dir.path().join("yaib-eicu-demo/los/blob.bin").exists());
    no_partial_files(dir.path());
    // a wrong row count is named too
    let s2 = rt.block_on(stub::start(vec![Reply::bytes(gz(
        "patientunitstayid,gender\n1,Female\n",
    ))]));
    let dir2 = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&manifest(h, b), &origins(&s2.url), dir2.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("1 rows, expected 3"), "{err}");
}

/// An unreachable source says why (reqwest's own message stops at "error sending request").
#[test]
fn an_unreachable_source_names_the_cause() {
    let (h, b) = pins();
    let dir = tempfile::tempdir().unwrap();
    let err = fetch::fetch(&manifest(h, b), &origins("http://127.0.0.1:9"), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("patient.csv.gz") && err.to_lowercase().contains("connection refused"),
        "{err}"
    );
    assert!(
        !err.contains("download failed: download failed"),
        "said twice: {err}"
    );
    no_partial_files(dir.path());
}
