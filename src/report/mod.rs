//! The report, a pipeline like mdBook's: each notebook's cells and captured outputs become typed
//! blocks ([`blocks`]); figures and tables are numbered across the report and references
//! resolve ([`numbering`]); then the renderers write the self-contained HTML site (minijinja
//! templates of `report_templates/`, inline CSS and SVG, relative links, works from `file://`),
//! the mdBook source ([`book`]) and the results file ([`records`]).

pub mod blocks;
pub mod book;
pub mod downloads;
pub mod numbering;
pub mod overview;
pub mod records;

pub use blocks::Block;
pub use book::build_book;
pub use numbering::resolve_refs;

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::notebook::{Execution, Notebook, Status};
use crate::results::ResultRecord;
use minijinja::{context, Environment};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The rules the HTML report inlines and the book loads (`additional-css` in book.toml).
const CSS: &str = include_str!("../../report_templates/report.css");

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../report_templates/layout.html"),
    ),
    (
        "chapter.html",
        include_str!("../../report_templates/chapter.html"),
    ),
    (
        "execution.html",
        include_str!("../../report_templates/execution.html"),
    ),
    (
        "index.html",
        include_str!("../../report_templates/index.html"),
    ),
];

#[derive(Debug, Clone, Serialize)]
pub struct Chapter {
    pub number: usize,
    pub title: String,
    pub file: String,
    pub notebook: String,
    pub status: String,
    pub build_s: String,
    pub run_s: String,
    pub cache: String,
    pub llm_keys: usize,
    /// Per code cell: (cell index, wall time in seconds as text).
    pub cell_times: Vec<(usize, String)>,
}

/// What the index page states about the run.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub fingerprint: String,
    pub profile: String,
    pub models: String,
    /// Files written under the report directory by [`downloads::write`].
    pub downloads: Vec<downloads::Download>,
    /// How this run's setting differs from the paper's ([`overview::deviations`]).
    pub deviations: Vec<overview::Deviation>,
}

fn title_of(nb: &Notebook, fallback: &str) -> String {
    nb.cells
        .iter()
        .filter(|c| c.cell_type == "markdown")
        .find_map(|c| {
            c.source
                .lines()
                .find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_string()))
        })
        .unwrap_or_else(|| fallback.to_string())
}

/// Render the site into `out` from notebooks and their executions (same order).
pub fn render(
    runs: &[(PathBuf, Notebook, Execution)],
    info: &RunInfo,
    out: &Path,
) -> Result<Rendered> {
    remove_stale_temps(out);
    if let Some(parent) = out.parent() {
        remove_stale_temps(parent);
    }
    let mut env = Environment::new();
    for (n, t) in TEMPLATES {
        env.add_template(n, t)
            .map_err(|e| Error::Invalid(format!("report template {n}: {e}")))?;
    }
    env.add_global("css", minijinja::Value::from_safe_string(CSS.into()));
    let chapters: Vec<Chapter> = runs
        .iter()
        .enumerate()
        .map(|(i, (path, nb, e))| {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("chapter")
                .to_string();
            Chapter {
                number: i + 1,
                title: title_of(nb, &stem),
                file: format!("{stem}.html"),
                notebook: path
                    .file_name()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string(),
                status: match &e.status {
                    Status::Ok => "ok".into(),
                    Status::Failed { cell, .. } => format!("FAILED in cell {cell}"),
                },
                build_s: format!("{:.1}", e.build_ms / 1e3),
                run_s: format!("{:.1}", e.run_ms / 1e3),
                cache: if e.from_cache {
                    "hit".into()
                } else {
                    "run".into()
                },
                llm_keys: e.llm_keys.len(),
                cell_times: e
                    .cells
                    .iter()
                    .filter(|c| c.ms >= 0.0)
                    .map(|c| (c.cell, format!("{:.2}", c.ms / 1e3)))
                    .collect(),
            }
        })
        .collect();
    let mut results: Vec<ResultRecord> = Vec::new();
    let mut pages: Vec<(Chapter, Vec<Block>)> = Vec::new();
    for ((nb_path, nb, e), ch) in runs.iter().zip(&chapters) {
        pages.push((
            ch.clone(),
            blocks::chapter_blocks(nb_path, nb, e, &mut results)?,
        ));
    }
    // every KL is read against real rows of the same number: a record without that reference
    // is a bug upstream, and the report refuses to print its KL bare
    if let Some(r) = results
        .iter()
        .find(|r| r.avg_kl.is_some() && r.kl_reference.is_none())
    {
        return Err(Error::Invalid(format!(
            "results record {} {}/{} at {} features, {} rows: an avg KL without its matched-n reference (kl_reference)",
            r.model, r.stage, r.strategy, r.features, r.rows
        )));
    }
    let targets = numbering::number(&mut pages)?;
    // with a failed chapter (rendered under --keep-going, the build still failing) its figures
    // and tables are missing: references to them say so instead of stopping the render
    let any_failed = runs.iter().any(|(_, _, e)| e.status != Status::Ok);
    numbering::render_contents(&mut pages, &targets, any_failed)?;
    // the landing page shows the scorecard unnumbered: "Table 21" means nothing there
    let scorecard = pages
        .iter()
        .flat_map(|(_, blocks)| blocks)
        .find_map(|b| match b {
            Block::Table { table, .. } if table.label == "scorecard" => Some(table.html()),
            _ => None,
        })
        .unwrap_or_default();
    let layout = env
        .get_template("layout.html")
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for (ch, blocks) in &pages {
        let body = env
            .get_template("chapter.html")
            .and_then(|t| {
                t.render(context! {
                    number => ch.number, title => ch.title, notebook => ch.notebook, status => ch.status,
                    blocks => blocks,
                })
            })
            .map_err(|e| Error::Invalid(format!("rendering {}: {e}", ch.file)))?;
        let page = layout.render(context! { title => ch.title, chapters => chapters, body => minijinja::Value::from_safe_string(body) }).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(&out.join(&ch.file), page.as_bytes())?;
    }
    // one record per (model, cell): the last evaluation of a cell wins
    let results = records::dedup(results);
    let summary = overview::abstract_sentences(&results);
    let index = env
        .get_template("index.html")
        .and_then(|t| {
            t.render(context! {
                chapters => chapters, summary => summary, deviations => info.deviations, fingerprint => info.fingerprint, profile => info.profile, models => info.models,
                built => crate::llm::cache::now_rfc3339(), licence => crate::cohort::summary::ATTRIBUTION,
                scorecard => minijinja::Value::from_safe_string(scorecard.clone()),
                synthetic => info.downloads.iter().filter(|d| d.path.starts_with("downloads/synthetic/")).collect::<Vec<_>>(),
                prompts => info.downloads.iter().filter(|d| d.path.starts_with("downloads/prompts/")).collect::<Vec<_>>(),
            })
        })
        .map_err(|e| Error::Invalid(format!("rendering index: {e}")))?;
    let page = layout.render(context! { title => "Overview", chapters => chapters, body => minijinja::Value::from_safe_string(index) }).map_err(|e| Error::Invalid(e.to_string()))?;
    let path = out.join("index.html");
    write_atomic(&path, page.as_bytes())?;
    let execution = env
        .get_template("execution.html")
        .and_then(|t| t.render(context! { chapters => chapters }))
        .and_then(|body| {
            layout.render(context! { title => "Execution report", chapters => chapters, body => minijinja::Value::from_safe_string(body) })
        })
        .map_err(|e| Error::Invalid(format!("rendering the execution report: {e}")))?;
    write_atomic(&out.join("execution.html"), execution.as_bytes())?;
    book::write_source(
        &pages,
        info,
        &summary,
        &scorecard,
        &out.with_file_name("book-src"),
    )?;
    records::write_results(&results, info, out)?;
    Ok(Rendered {
        index: path,
        results,
    })
}

/// What a render produced: the index page and the results records it wrote.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub index: PathBuf,
    /// One per (model, cell): the last evaluation of a cell wins.
    pub results: Vec<ResultRecord>,
}

/// Remove what an interrupted render left in `out`: temp files of [`write_atomic`] (named
/// `.tmp…`) and staging directories of [`build_book`]. Only names this crate creates.
pub fn remove_stale_temps(out: &Path) -> usize {
    let mut removed = 0;
    let Ok(rd) = std::fs::read_dir(out) else {
        return 0;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let path = e.path();
        let gone = if name.starts_with(".tmp") && path.is_file() {
            std::fs::remove_file(&path).is_ok()
        } else if (name.starts_with(".book-building-") || name.starts_with(".book-old-"))
            && path.is_dir()
        {
            std::fs::remove_dir_all(&path).is_ok()
        } else {
            false
        };
        removed += usize::from(gone);
    }
    removed
}
