//! Command implementations behind the CLI: they print summaries and progress, the library does
//! the work. Parts: [`generation`] (`generate`, `throughput`, model fingerprints), [`cache`]
//! (`cache stats|verify|prune|redact`), [`build`] (`run`, `build`).

mod build;
mod cache;
mod generation;

pub use build::{build, run_notebook};
pub use cache::{cache_prune, cache_redact, cache_stats, cache_verify};
pub use generation::{fingerprint, generate, throughput, GenerateOptions, ThroughputOptions};

use crate::cohort::{Cohort, SourceKind};
use crate::error::Result;
use crate::generate::baselines::{self, Baseline};
use crate::generate::Profile;
use generation::cohort_and_split;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Duration;

/// Printing into a closed pipe (`synthehr cache stats | head`) ends the process quietly, as
/// Unix tools do, instead of a panic in `println!` (Rust starts with SIGPIPE ignored).
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; it only sets the
    // signal's disposition back to the default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// `synthehr data fetch`.
pub fn data_fetch(dest: &Path, physionet: String, yaib: String) -> Result<()> {
    use crate::cohort::fetch;
    let origins = fetch::Origins { physionet, yaib };
    let got = fetch::fetch(&fetch::manifest(), &origins, dest)?;
    let new = got
        .iter()
        .filter(|(_, f)| *f == fetch::Fetched::Downloaded)
        .count();
    println!(
        "{} file(s) in {} ({new} downloaded, {} already present); attribution in {}",
        got.len(),
        dest.display(),
        got.len() - new,
        dest.join(fetch::ATTRIBUTION_FILE).display()
    );
    Ok(())
}

/// `synthehr data build`: build the design matrix and write it with its summary.
pub fn data_build(source: SourceKind, data: &Path, out: &Path) -> Result<()> {
    let pb = spinner(&format!(
        "building the {} cohort from {}",
        source.name(),
        data.display()
    ));
    let cohort = Cohort::build(source, data)?;
    pb.set_message(format!("writing {}", out.display()));
    let summary = cohort.write(out)?;
    pb.finish_and_clear();
    for w in cohort.issues.warnings() {
        eprintln!("{w}");
    }
    println!("{summary}");
    println!(
        "wrote {}, {} and {}",
        out.join("design_matrix.parquet").display(),
        out.join("design_matrix.csv").display(),
        out.join("cohort.json").display()
    );
    Ok(())
}

/// `synthehr baselines`: the classical generators over a profile's grid, offline.
pub fn baselines(profile: &str, data: &Path, out: &Path) -> Result<()> {
    let profile = Profile::find(profile)?;
    let (cohort, s) = cohort_and_split(data, &profile)?;
    let started = std::time::Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut n_tables = 0;
    for cell in profile.cells() {
        if !seen.insert((cell.features, cell.rows, cell.replicate)) {
            continue;
        }
        for b in Baseline::ALL {
            let cols = cell.columns();
            let seed = crate::generate::plan::call_seed(
                profile.seed,
                &format!(
                    "baseline-{}-f{}-rep{}",
                    b.name(),
                    cell.features,
                    cell.replicate
                ),
                0,
            );
            let rows = baselines::generate(b, &cohort.matrix, &s.train, &cols, cell.rows, seed)?;
            let dir = out
                .join(format!("baseline-{}", b.name()))
                .join(&profile.name);
            let csv = crate::metrics::Frame::from_rows(&cols, &rows).to_csv();
            crate::fsutil::write_atomic(
                &dir.join(format!(
                    "f{}-n{}-rep{}.csv",
                    cell.features, cell.rows, cell.replicate
                )),
                csv.as_bytes(),
            )?;
            n_tables += 1;
        }
    }
    println!(
        "{n_tables} baseline tables for profile {} in {:.2} s under {}",
        profile.name,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
