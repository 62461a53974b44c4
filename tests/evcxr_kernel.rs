//! Every notebook through evcxr's own engine (the `CommandContext` the Jupyter kernel runs,
//! driven by `tools/evcxr-check`), compared cell by cell with the headless engine: each cell
//! succeeds in both, prints the same lines, and shows the same outputs — as the kernel shows
//! them, the last output of each MIME type. A cell that emits two outputs of a displayed type
//! fails here too, since Jupyter would show only the last.
//!
//! Needs the `evcxr-check` binary: `.ci/run` builds it (`cargo build --release --locked
//! --manifest-path tools/evcxr-check/Cargo.toml`) and points `SYNTHEHR_EVCXR_CHECK` at it.
//! Without that variable the test says so and does nothing (it is slow: evcxr compiles this crate
//! and its dependencies once at opt level 0, then each cell).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use synthehr::notebook::exec::{kernel_view, CellOutput};
use synthehr::notebook::{Engine, Inputs, Status};

const DISPLAYED: [&str; 3] = ["text/html", "image/svg+xml", "text/plain"];

fn notebooks(project: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(project.join("notebooks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    v.sort();
    v
}

/// The code cells' indices among all cells (evcxr-check numbers code cells only).
fn code_cell_indices(path: &Path) -> Vec<usize> {
    let nb = synthehr::notebook::Notebook::read(path).unwrap();
    nb.code_cells().map(|(i, _)| i).collect()
}

/// Where two outputs first differ, with a little context on each side.
fn first_difference(a: Option<&String>, b: Option<&String>) -> String {
    let (Some(a), Some(b)) = (a, b) else {
        return format!(
            "headless has it: {}, evcxr has it: {}",
            a.is_some(),
            b.is_some()
        );
    };
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map(|((i, _), _)| i)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &str| {
        let start = s.floor_char_boundary(at.saturating_sub(60));
        let end = s.ceil_char_boundary((at + 60).min(s.len()));
        s[start..end].to_string()
    };
    format!(
        "first difference at byte {at} (lengths {} / {}): headless …{:?}… vs evcxr …{:?}…",
        a.len(),
        b.len(),
        around(a),
        around(b)
    )
}

#[test]
fn every_notebook_matches_in_the_evcxr_kernel() {
    let Some(tool) = std::env::var_os("SYNTHEHR_EVCXR_CHECK").map(PathBuf::from) else {
        eprintln!("SKIPPED: set SYNTHEHR_EVCXR_CHECK to the evcxr-check binary (.ci/run does)");
        return;
    };
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = common::real_data();
    let profile = "local";
    let (cohort, _) = common::demo();
    let inputs = Inputs {
        data_fingerprint: cohort.matrix.fingerprint(),
        profile: profile.into(),
        env: vec![
            ("SYNTHEHR_DATA".into(), data.display().to_string()),
            ("SYNTHEHR_PROFILE".into(), profile.into()),
            // the comparison checks that both engines show the same outputs, not the study's
            // numbers: both run the light setting (30 trees, 30 resamples)
            ("SYNTHEHR_EFFORT".into(), "check".into()),
        ],
    };
    let nbs = notebooks(project);
    // CI runs the evcxr engine beside its main build (.ci/run) and hands over its outputs;
    // otherwise run it here
    let ran_here;
    let out: PathBuf = match std::env::var_os("SYNTHEHR_EVCXR_OUT") {
        Some(dir) => {
            eprintln!(
                "evcxr outputs from {} (SYNTHEHR_EVCXR_OUT)",
                dir.to_string_lossy()
            );
            PathBuf::from(dir)
        }
        None => {
            ran_here = tempfile::tempdir().unwrap();
            let t = std::time::Instant::now();
            let status = std::process::Command::new(&tool)
                .arg("--out")
                .arg(ran_here.path())
                .arg("--lock")
                .arg(project.join("Cargo.lock"))
                .args(&nbs)
                .env("SYNTHEHR_DATA", &data)
                .env("SYNTHEHR_PROFILE", profile)
                .env("SYNTHEHR_EFFORT", "check")
                // evcxr's generated crates are not lint targets (see .ci/run)
                .env_remove("RUSTC_WORKSPACE_WRAPPER")
                .env_remove("CLIPPY_ARGS")
                .status()
                .expect("run evcxr-check");
            assert!(status.success(), "evcxr-check failed: {status}");
            eprintln!(
                "evcxr engine: {} notebooks in {:.0} s",
                nbs.len(),
                t.elapsed().as_secs_f64()
            );
            ran_here.path().to_path_buf()
        }
    };

    let engine = Engine::for_project(project);
    let mut problems = Vec::new();
    for nb in &nbs {
        let stem = nb.file_stem().unwrap().to_string_lossy().to_string();
        let headless = engine.run(nb, &inputs).unwrap();
        let kpath = out.join(format!("{stem}.json"));
        let kbytes = std::fs::read(&kpath)
            .unwrap_or_else(|e| panic!("no evcxr output for {stem} at {}: {e}", kpath.display()));
        let kernel: serde_json::Value = serde_json::from_slice(&kbytes).unwrap();
        let kcells = kernel["cells"].as_array().unwrap();
        let indices = code_cell_indices(nb);
        if headless.status != Status::Ok {
            problems.push(format!("{stem}: headless engine {:?}", headless.status));
        }
        let kernel_ms: u64 = kcells.iter().filter_map(|c| c["ms"].as_u64()).sum();
        eprintln!(
            "{stem}: evcxr {:.1} s (context {:.1} s) · headless {:.1} s{}",
            kernel_ms as f64 / 1e3,
            kernel["context_ms"].as_f64().unwrap_or(0.0) / 1e3,
            (headless.build_ms + headless.run_ms) / 1e3,
            if headless.from_cache {
                " (replayed)"
            } else {
                ""
            }
        );
        for (k, &ci) in indices.iter().enumerate() {
            let Some(kc) = kcells.get(k) else {
                problems.push(format!(
                    "{stem} cell {ci}: not run by evcxr (an earlier cell failed)"
                ));
                break;
            };
            if kc["ok"] != true {
                problems.push(format!("{stem} cell {ci}: evcxr error: {}", kc["error"]));
                continue;
            }
            let empty = CellOutput::default();
            let hc = headless
                .cells
                .iter()
                .find(|c| c.cell == ci)
                .unwrap_or(&empty);
            for mime in DISPLAYED {
                let n = hc.rich.iter().filter(|r| r.mime == mime).count();
                if n > 1 {
                    problems.push(format!(
                        "{stem} cell {ci}: {n} {mime} outputs; the kernel shows only the last"
                    ));
                }
            }
            let mine: BTreeMap<String, String> = kernel_view(hc);
            let theirs: BTreeMap<String, String> =
                serde_json::from_value(kc["outputs"].clone()).unwrap();
            if mine != theirs {
                let diff: Vec<String> = mine
                    .keys()
                    .chain(theirs.keys())
                    .filter(|m| mine.get(*m) != theirs.get(*m))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .map(|m| format!("{m}: {}", first_difference(mine.get(m), theirs.get(m))))
                    .collect();
                problems.push(format!(
                    "{stem} cell {ci}: outputs differ: {}",
                    diff.join("; ")
                ));
            }
            let printed: Vec<&str> = hc.stdout.lines().collect();
            let kprinted: Vec<&str> = kc["stdout"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|l| l.as_str())
                .collect();
            if printed != kprinted {
                problems.push(format!(
                    "{stem} cell {ci}: stdout differs: headless {printed:?} vs evcxr {kprinted:?}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
