//! `synthehr data fetch`: download the eICU demo tables (PhysioNet, eICU-CRD Demo 2.0.1) and
//! YAIB's hourly eICU demo data (GitHub, pinned commit) into the data directory, verify each file
//! after parsing, and write the ODbL attribution beside them.
//!
//! Verification: YAIB's parquet files are pinned by sha256 of their bytes and their row count.
//! PhysioNet's CSVs are pinned by row count and a *content hash after parsing*: sha256 over the
//! sorted rows of a few identifying columns, each value normalised (numbers in shortest
//! round-trip form), so float formatting cannot break it. Tables this machine has never seen
//! (`lab`, `vitalPeriodic`) are checked for their columns only and reported as unpinned.
//!
//! A file only ever appears under its final name once verified: downloads go to `NAME.part`,
//! which is removed on any failure. Re-running skips files that are present and verify.

use super::matrix::canonical;
use super::table::Table;
use crate::error::{Error, Result};
use crate::fsutil::sha256_hex;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const PHYSIONET_URL: &str = "https://physionet.org/files/eicu-crd-demo/2.0.1/";
pub const YAIB_URL: &str =
    "https://raw.githubusercontent.com/rvandewater/YAIB/498950203522f81d67fa94748db23d8eb99ec1ab/demo_data/los/eicu_demo/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    PhysioNet,
    Yaib,
}

#[derive(Debug, Clone)]
pub enum Check {
    /// A CSV table: row count and content hash over `key_columns` (both optional), plus the
    /// columns that must exist.
    Csv {
        rows: Option<usize>,
        key_columns: &'static [&'static str],
        content_sha256: Option<&'static str>,
        required: &'static [&'static str],
    },
    /// A file pinned by its bytes.
    Bytes { size: u64, sha256: &'static str },
}

#[derive(Debug, Clone)]
pub struct Remote {
    pub origin: Origin,
    /// File name at the origin.
    pub name: &'static str,
    /// Where it goes under the data directory.
    pub dest: &'static str,
    pub check: Check,
}

/// The files `data fetch` downloads, with their pins (computed from the demo copy this project
/// is developed on; see tests/fetch.rs).
pub fn manifest() -> Vec<Remote> {
    use Check::*;
    use Origin::*;
    vec![
        Remote {
            origin: PhysioNet,
            name: "patient.csv.gz",
            dest: "eicu-demo/patient.csv.gz",
            check: Csv {
                rows: Some(2520),
                key_columns: &[
                    "patientunitstayid",
                    "uniquepid",
                    "gender",
                    "hospitalid",
                    "hospitaldischargestatus",
                    "unitdischargestatus",
                ],
                content_sha256: Some(PIN_PATIENT),
                required: &[],
            },
        },
        Remote {
            origin: PhysioNet,
            name: "hospital.csv.gz",
            dest: "eicu-demo/hospital.csv.gz",
            check: Csv {
                rows: Some(186),
                key_columns: &["hospitalid", "numbedscategory", "teachingstatus", "region"],
                content_sha256: Some(PIN_HOSPITAL),
                required: &[],
            },
        },
        Remote {
            origin: PhysioNet,
            name: "apachePatientResult.csv.gz",
            dest: "eicu-demo/apachePatientResult.csv.gz",
            check: Csv {
                rows: Some(3676),
                key_columns: &[
                    "patientunitstayid",
                    "apacheversion",
                    "actualhospitalmortality",
                ],
                content_sha256: Some(PIN_APACHE_RESULT),
                required: &["predictedhospitalmortality", "actualventdays"],
            },
        },
        Remote {
            origin: PhysioNet,
            name: "apachePredVar.csv.gz",
            dest: "eicu-demo/apachePredVar.csv.gz",
            check: Csv {
                rows: Some(2205),
                key_columns: &["patientunitstayid", "electivesurgery"],
                content_sha256: Some(PIN_APACHE_PRED),
                required: &[],
            },
        },
        Remote {
            origin: PhysioNet,
            name: "lab.csv.gz",
            dest: "eicu-demo/lab.csv.gz",
            check: Csv {
                rows: None,
                key_columns: &[],
                content_sha256: None,
                required: &[
                    "patientunitstayid",
                    "labresultoffset",
                    "labname",
                    "labresult",
                ],
            },
        },
        Remote {
            origin: PhysioNet,
            name: "vitalPeriodic.csv.gz",
            dest: "eicu-demo/vitalPeriodic.csv.gz",
            check: Csv {
                rows: None,
                key_columns: &[],
                content_sha256: None,
                required: &["patientunitstayid", "observationoffset", "heartrate"],
            },
        },
        Remote {
            origin: Yaib,
            name: "dyn.parquet",
            dest: "yaib-eicu-demo/los/dyn.parquet",
            check: Bytes {
                size: 1_313_278,
                sha256: "347e5058469581bbc03fc3715c02cad103b1420086021a1a44266b618204397c",
            },
        },
        Remote {
            origin: Yaib,
            name: "sta.parquet",
            dest: "yaib-eicu-demo/los/sta.parquet",
            check: Bytes {
                size: 28_953,
                sha256: "dfa01d72a78bafbeb363f9c7657cf895f9884ed46643ebfee810ca59e14bdfd5",
            },
        },
        Remote {
            origin: Yaib,
            name: "outc.parquet",
            dest: "yaib-eicu-demo/los/outc.parquet",
            check: Bytes {
                size: 46_371,
                sha256: "002956d9d597a67fbc98d122da204218488cb177da18e2668034168fec673dd2",
            },
        },
    ]
}

const PIN_PATIENT: &str = "b0cad4c49d6fce9f8add180220269e16fa7a6e366ee6101e8e43c14188dd24d4";
const PIN_HOSPITAL: &str = "d3291f771685a642fae6234eaeec7832a28e68922f42ace03f3ad5a0af3d76d1";
const PIN_APACHE_RESULT: &str = "e2a7bcaa7d270c7275291702e419e860578a9a7e53c36bfd620fedd92afced9d";
const PIN_APACHE_PRED: &str = "98565e06c857c4c39d8985a86544eae5eddda08bfb5985a0c6cfc50899ddf684";

/// Rows and the content hash of `key_columns` of a CSV table.
pub fn csv_content(
    path: &Path,
    key_columns: &[&str],
    required: &[&str],
) -> Result<(usize, String)> {
    let t = Table::open(path)?;
    for c in required {
        t.col(c)?;
    }
    let idx: Vec<usize> = key_columns
        .iter()
        .map(|c| t.col(c))
        .collect::<Result<_>>()?;
    let mut lines = Vec::new();
    let mut rows = 0usize;
    t.for_each(|r| {
        rows += 1;
        if !idx.is_empty() {
            let vals: Vec<String> = idx
                .iter()
                .map(|&i| {
                    let s = r.get(i).unwrap_or("").trim();
                    match s.parse::<f64>() {
                        Ok(v) if v.is_finite() => canonical(v),
                        _ => s.to_string(),
                    }
                })
                .collect();
            lines.push(vals.join("\t"));
        }
        Ok(())
    })?;
    lines.sort();
    Ok((rows, sha256_hex(lines.join("\n").as_bytes())))
}

/// Check a file against its pin; `Err` says what does not match.
pub fn verify(path: &Path, check: &Check) -> Result<()> {
    match check {
        Check::Bytes { size, sha256 } => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            if bytes.len() as u64 != *size {
                return Err(Error::bad_file(
                    path,
                    format!("{} bytes, expected {size} (truncated?)", bytes.len()),
                ));
            }
            let got = sha256_hex(&bytes);
            if got != *sha256 {
                return Err(Error::bad_file(
                    path,
                    format!("sha256 {got} does not match the pinned {sha256}"),
                ));
            }
            Ok(())
        }
        Check::Csv {
            rows,
            key_columns,
            content_sha256,
            required,
        } => {
            let (n, hash) = csv_content(path, key_columns, required)?;
            if let Some(want) = rows {
                if n != *want {
                    return Err(Error::bad_file(path, format!("{n} rows, expected {want}")));
                }
            }
            if let Some(want) = content_sha256 {
                if hash != *want {
                    return Err(Error::bad_file(
                        path,
                        format!("content hash {hash} does not match the pinned {want}"),
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Where to download from (overridable for mirrors and tests).
#[derive(Debug, Clone)]
pub struct Origins {
    pub physionet: String,
    pub yaib: String,
}

impl Default for Origins {
    fn default() -> Self {
        Origins {
            physionet: PHYSIONET_URL.into(),
            yaib: YAIB_URL.into(),
        }
    }
}

pub const ATTRIBUTION_FILE: &str = "ATTRIBUTION.md";

/// What happened to each file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    AlreadyPresent,
    Downloaded,
}

async fn download(
    client: &reqwest::Client,
    url: &str,
    part: &Path,
    pb: &ProgressBar,
) -> Result<()> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| Error::Download(crate::error::with_causes(&e)))?;
    if !resp.status().is_success() {
        return Err(Error::Download(format!("HTTP {}", resp.status())));
    }
    let expected = resp.content_length();
    pb.set_length(expected.unwrap_or(0));
    pb.set_position(0);
    let mut file = std::fs::File::create(part).map_err(|e| Error::io(part, e))?;
    let mut got: u64 = 0;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::Download(format!(
                "connection lost after {got} bytes: {}",
                crate::error::with_causes(&e)
            ))
        })?;
        file.write_all(&chunk).map_err(|e| Error::io(part, e))?;
        got += chunk.len() as u64;
        pb.set_position(got);
    }
    file.sync_all().map_err(|e| Error::io(part, e))?;
    if let Some(n) = expected {
        if got != n {
            return Err(Error::Download(format!("truncated: {got} of {n} bytes")));
        }
    }
    Ok(())
}

/// Download every file of `files` missing from `dest`, verify, and write the attribution.
pub fn fetch(files: &[Remote], origins: &Origins, dest: &Path) -> Result<Vec<(PathBuf, Fetched)>> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| Error::Download(format!("tokio: {e}")))?;
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Download(e.to_string()))?;
    let mut out = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let path = dest.join(f.dest);
        if path.is_file() && verify(&path, &f.check).is_ok() {
            eprintln!(
                "[{}/{}] {} present and verified",
                i + 1,
                files.len(),
                f.dest
            );
            out.push((path, Fetched::AlreadyPresent));
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let base = match f.origin {
            Origin::PhysioNet => &origins.physionet,
            Origin::Yaib => &origins.yaib,
        };
        let url = format!("{}/{}", base.trim_end_matches('/'), f.name);
        let part = path.with_extension(format!(
            "{}.part",
            path.extension().and_then(|e| e.to_str()).unwrap_or("")
        ));
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} [{eta}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.set_message(format!("[{}/{}] {}", i + 1, files.len(), f.dest));
        let result = rt
            .block_on(download(&client, &url, &part, &pb))
            .and_then(|()| verify(&part, &f.check));
        pb.finish_and_clear();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&part);
            // the variant's own "download failed: " once, from the outer error
            let why = match e {
                Error::Download(why) => why,
                other => other.to_string(),
            };
            return Err(Error::Download(format!(
                "{} from {url}: {why} (nothing was kept)",
                f.dest
            )));
        }
        std::fs::rename(&part, &path).map_err(|e| Error::io(&path, e))?;
        if matches!(
            f.check,
            Check::Csv {
                content_sha256: None,
                ..
            }
        ) {
            eprintln!(
                "[{}/{}] {} downloaded (columns checked; no content pin for this table)",
                i + 1,
                files.len(),
                f.dest
            );
        } else {
            eprintln!(
                "[{}/{}] {} downloaded and verified",
                i + 1,
                files.len(),
                f.dest
            );
        }
        out.push((path, Fetched::Downloaded));
    }
    crate::fsutil::write_atomic(&dest.join(ATTRIBUTION_FILE), attribution().as_bytes())?;
    Ok(out)
}

pub fn attribution() -> String {
    format!(
        "# Data attribution\n\n{}\n\n- eicu-demo/: PhysioNet eICU Collaborative Research Database Demo v2.0.1, ODbL v1.0.\n- yaib-eicu-demo/: YAIB (rvandewater/YAIB, commit 498950203522f81d67fa94748db23d8eb99ec1ab), demo_data/los/eicu_demo, ODbL v1.0.\n\nTables derived from these files and published must name the ODbL and this attribution.\n",
        super::summary::ATTRIBUTION
    )
}
