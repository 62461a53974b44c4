//! `synthehr run` and `synthehr build`: notebooks through the headless engine, then the report.

use super::*;

/// `synthehr run NOTEBOOK`: execute one notebook (or replay it) and print its outputs.
pub fn run_notebook(path: &Path, data: &Path, profile: &str, write: bool) -> Result<()> {
    use crate::notebook::{Engine, Inputs, Status};
    let project = &crate::project::root()?;
    let engine = Engine::for_project(project);
    let fingerprint = Cohort::build(SourceKind::EicuDemo, data)
        .map(|c| c.matrix.fingerprint())
        .unwrap_or_else(|e| format!("unavailable: {e}"));
    let inputs = Inputs {
        data_fingerprint: fingerprint,
        profile: profile.to_string(),
        env: vec![
            ("SYNTHEHR_DATA".into(), data.display().to_string()),
            ("SYNTHEHR_PROFILE".into(), profile.to_string()),
        ],
    };
    let pb = spinner(&format!("running {}", path.display()));
    let e = engine.run(path, &inputs)?;
    pb.finish_and_clear();
    for n in &e.notes {
        eprintln!("note: {n}");
    }
    for c in &e.cells {
        println!("── cell {} ({:.0} ms)", c.cell, c.ms.max(0.0));
        print!("{}", c.stdout);
        for r in &c.rich {
            println!("[{} output, {} bytes]", r.mime, r.content.len());
        }
        if !c.stderr.is_empty() {
            eprint!("{}", c.stderr);
        }
    }
    println!(
        "{}: {} (build {:.1} s, run {:.1} s{})",
        e.notebook,
        match &e.status {
            Status::Ok => "ok".to_string(),
            Status::Failed { .. } => "FAILED".to_string(),
        },
        e.build_ms / 1e3,
        e.run_ms / 1e3,
        if e.from_cache {
            ", replayed from the execution cache"
        } else {
            ""
        }
    );
    if write {
        crate::notebook::exec::write_outputs(path, &e)?;
        println!("outputs written into {}", path.display());
    }
    match e.status {
        Status::Ok => Ok(()),
        Status::Failed {
            cell,
            line,
            message,
        } => Err(crate::Error::Invalid(format!(
            "{}: cell {cell}{}: {message}",
            path.display(),
            line.map(|l| format!(", line {l}")).unwrap_or_default()
        ))),
    }
}

/// `synthehr build`: run every chapter notebook (or replay it) and render the report.
pub fn build(
    data: &Path,
    profile: &str,
    offline: bool,
    keep_going: bool,
    out: &Path,
) -> Result<()> {
    use crate::notebook::{Engine, Inputs, Notebook, Status};
    let project = &crate::project::root()?;
    if crate::cohort::sources::DemoLayout::find(data).is_err() {
        if offline {
            return Err(crate::Error::Invalid(format!(
                "no eICU demo data at {} and --offline forbids downloading it: set SYNTHEHR_DATA or run `synthehr data fetch`",
                data.display()
            )));
        }
        eprintln!("no data at {}: downloading it once", data.display());
        let o = crate::cohort::fetch::Origins::default();
        crate::cohort::fetch::fetch(&crate::cohort::fetch::manifest(), &o, data)?;
    }
    let cohort = Cohort::build(SourceKind::EicuDemo, data)?;
    let fingerprint = cohort.matrix.fingerprint();
    let engine = Engine::for_project(project);
    let inputs = Inputs {
        data_fingerprint: fingerprint.clone(),
        profile: profile.to_string(),
        env: vec![
            ("SYNTHEHR_DATA".into(), data.display().to_string()),
            ("SYNTHEHR_PROFILE".into(), profile.to_string()),
        ],
    };
    let notebooks = crate::notebook::chapters::chapter_paths(&project.join("notebooks"))?;
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    for (i, path) in notebooks.iter().enumerate() {
        let pb = spinner(&format!(
            "[{}/{}] {}",
            i + 1,
            notebooks.len(),
            path.display()
        ));
        let e = engine.run(path, &inputs)?;
        pb.finish_and_clear();
        let status = match &e.status {
            Status::Ok => "ok".to_string(),
            Status::Failed {
                cell,
                line,
                message,
            } => {
                failed.push(path.display().to_string());
                let first = message.lines().next().unwrap_or("");
                format!(
                    "FAILED in cell {cell}{}: {first}",
                    line.map(|l| format!(", line {l}")).unwrap_or_default()
                )
            }
        };
        eprintln!(
            "[{}/{}] {}: {status} ({})",
            i + 1,
            notebooks.len(),
            path.display(),
            if e.from_cache {
                "execution cache hit".to_string()
            } else {
                format!(
                    "build {:.1} s, run {:.1} s",
                    e.build_ms / 1e3,
                    e.run_ms / 1e3
                )
            }
        );
        runs.push((path.clone(), Notebook::read(path)?, e));
        if !failed.is_empty() && !keep_going {
            break;
        }
    }
    let models: Vec<String> = crate::llm::Registry::of_project(project)
        .models()?
        .iter()
        .map(|m| m.description())
        .collect();
    let study = crate::study::Study::open(project, data, profile)?;
    let downloads = crate::report::downloads::write(&study, out)?;
    let info = crate::report::RunInfo {
        deviations: crate::report::overview::deviations(&study),
        downloads,
        fingerprint,
        profile: profile.to_string(),
        models: if models.is_empty() {
            "none in the cache".into()
        } else {
            models.join("; ")
        },
    };
    let rendered = crate::report::render(&runs, &info, out)?;
    let index = rendered.index;
    println!("{}", crate::results::cells_line(&rendered.results));
    println!("report: {}", index.display());
    if out == Path::new("target/report") || out == project.join("target/report") {
        let book = crate::report::build_book(project)?;
        println!("book: {}", book.display());
    }
    let corrupt = crate::results::corrupt_files(&rendered.results);
    if !corrupt.is_empty() && !keep_going {
        return Err(crate::Error::Cache(format!(
            "{} corrupt cache entr{} replayed as corrupt cells (the report marks them): {}; \
             restore a committed entry with `git checkout -- FILE`, or remove it with \
             `synthehr cache prune --yes` and record it again with `synthehr generate` \
             (--keep-going accepts the build as it is)",
            corrupt.len(),
            if corrupt.len() == 1 { "y" } else { "ies" },
            corrupt.join(", ")
        )));
    }
    if failed.is_empty() || keep_going {
        Ok(())
    } else {
        Err(crate::Error::Invalid(format!("notebook failed: {} (the report shows the failing cell; --keep-going renders the rest)", failed.join(", "))))
    }
}
