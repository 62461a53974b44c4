//! The report: notebooks' markdown (pulldown-cmark) and captured outputs assembled with the
//! minijinja templates of `report_templates/` into a self-contained HTML site (inline CSS and
//! SVG, relative links, works from `file://`). Figures (SVG outputs) and tables (HTML table
//! outputs) are numbered across the report.
//!
//! Why ~700 lines in one file: `render` still turns captured outputs into blocks by their mime
//! type and reads captions and labels back out of the rendered SVG/HTML; the typed-block
//! pipeline (outputs → blocks → numbering → renderers, issue 18) will split it along those
//! stages rather than at an arbitrary line count.

pub mod downloads;
pub mod overview;

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::notebook::display::label_of;
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
pub struct Block {
    pub kind: &'static str,
    /// Markdown source (markdown blocks), for the mdBook edition.
    pub md: String,
    pub cell: usize,
    pub html: String,
    pub text: String,
    pub code: String,
    pub number: usize,
    pub caption: String,
    /// Cross-reference name (`fig:NAME` / `tbl:NAME`) of a figure or table, or empty.
    pub label: String,
}

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

fn markdown(src: &str) -> String {
    let opts = pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_FOOTNOTES;
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, pulldown_cmark::Parser::new_ext(src, opts));
    out
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

/// Text of an SVG's first <text> element (plotters writes the caption first).
fn svg_caption(svg: &str) -> String {
    svg.split("<text")
        .nth(1)
        .and_then(|t| t.split_once('>'))
        .map(|(_, r)| r.split('<').next().unwrap_or("").trim().to_string())
        .unwrap_or_default()
}

/// Text of an SVG's <desc> element (the figure's provenance line), unescaped (the templates
/// escape it again).
fn svg_desc(svg: &str) -> String {
    svg.split_once("<desc>")
        .and_then(|(_, r)| r.split_once("</desc>"))
        .map(|(d, _)| {
            d.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
        })
        .unwrap_or_default()
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
    let (mut fig, mut tbl) = (0, 0);
    let mut book_pages: Vec<(Chapter, Vec<Block>)> = Vec::new();
    let mut results: Vec<ResultRecord> = Vec::new();
    let layout = env
        .get_template("layout.html")
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for ((nb_path, nb, e), ch) in runs.iter().zip(&chapters) {
        let mut blocks = Vec::new();
        let blank = |kind: &'static str, cell: usize| Block {
            kind,
            md: String::new(),
            cell,
            html: String::new(),
            text: String::new(),
            code: String::new(),
            number: 0,
            caption: String::new(),
            label: String::new(),
        };
        for (ci, cell) in nb.cells.iter().enumerate() {
            if cell.cell_type == "markdown" {
                // the chapter title is the page heading already
                let src: String = cell
                    .source
                    .lines()
                    .filter(|l| !l.starts_with("# "))
                    .collect::<Vec<_>>()
                    .join("\n");
                // rendered after every figure and table is numbered (references may point ahead)
                blocks.push(Block {
                    md: src,
                    ..blank("markdown", ci)
                });
                continue;
            }
            if cell.cell_type != "code" {
                continue;
            }
            let code: String = cell
                .source
                .lines()
                // `:dep` lines and `// kernel:` notes (evcxr workarounds) are not the analysis
                .filter(|l| {
                    let t = l.trim_start();
                    !t.starts_with(':') && !t.starts_with("// kernel:")
                })
                .collect::<Vec<_>>()
                .join("\n");
            if !code.trim().is_empty() {
                blocks.push(Block {
                    code,
                    ..blank("code", ci)
                });
            }
            if let Some(out) = e.cells.iter().find(|c| c.cell == ci) {
                if !out.stdout.trim().is_empty() {
                    blocks.push(Block {
                        text: out.stdout.clone(),
                        ..blank("text", ci)
                    });
                }
                for r in &out.rich {
                    if r.mime == crate::study::RESULT_MIME {
                        let rec =
                            serde_json::from_str::<ResultRecord>(&r.content).map_err(|e| {
                                Error::Invalid(format!(
                                    "{}: cell {ci} emitted a malformed results record ({e})",
                                    nb_path.display()
                                ))
                            })?;
                        results.push(rec);
                        continue;
                    }
                    if r.mime == "image/svg+xml" {
                        fig += 1;
                        blocks.push(Block {
                            html: r.content.clone(),
                            number: fig,
                            caption: svg_caption(&r.content),
                            // the provenance line plot::finish put in the SVG's <desc>
                            text: svg_desc(&r.content),
                            label: label_of(&r.content).unwrap_or_default(),
                            ..blank("figure", ci)
                        });
                    } else if r.mime == "text/html" && r.content.contains("<table") {
                        tbl += 1;
                        // the number goes into the table's own caption when it has one
                        let html = if r.content.contains("<caption>") {
                            r.content
                                .replacen("<caption>", &format!("<caption>Table {tbl}. "), 1)
                        } else {
                            format!("<span class=\"numbered\">Table {tbl}.</span>{}", r.content)
                        };
                        blocks.push(Block {
                            html,
                            number: tbl,
                            label: label_of(&r.content).unwrap_or_default(),
                            ..blank("table", ci)
                        });
                    } else if r.mime == crate::discussion::MARKDOWN_MIME {
                        // a discussion: references resolve as in a markdown cell
                        blocks.push(Block {
                            md: r.content.clone(),
                            ..blank("markdown", ci)
                        });
                    } else if r.mime == "text/html" {
                        blocks.push(Block {
                            html: r.content.clone(),
                            ..blank("markdown", ci)
                        });
                    } else {
                        blocks.push(Block {
                            text: r.content.clone(),
                            ..blank("text", ci)
                        });
                    }
                }
            }
            if let Status::Failed {
                cell: fc,
                line,
                message,
            } = &e.status
            {
                if *fc == ci {
                    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                    blocks.push(Block {
                        text: format!("{at}{message}"),
                        ..blank("error", ci)
                    });
                }
            }
        }
        book_pages.push((ch.clone(), blocks));
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
    let targets = ref_targets(&book_pages)?;
    // with a failed chapter (rendered under --keep-going, the build still failing) its figures
    // and tables are missing: references to them say so instead of stopping the render
    let any_failed = runs.iter().any(|(_, _, e)| e.status != Status::Ok);
    let mut scorecard = String::new();
    for (ch, blocks) in book_pages.iter_mut() {
        for b in blocks.iter_mut() {
            if b.kind == "markdown" && !b.md.is_empty() {
                let at = format!("{}, cell {}", ch.notebook, b.cell);
                b.html = markdown(&resolve_refs(&b.md, &targets, "html", &at, any_failed)?);
                b.md = resolve_refs(&b.md, &targets, "md", &at, any_failed)?;
            }
            if b.label == "tbl:scorecard" {
                // the landing page shows it unnumbered: "Table 21" means nothing there
                scorecard = b.html.replacen(&format!("Table {}. ", b.number), "", 1);
            }
        }
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
    let results = dedup(results);
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
    write_book_source(
        &book_pages,
        info,
        &summary,
        &scorecard,
        &out.with_file_name("book-src"),
    )?;
    write_results(&results, info, out)?;
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

fn dedup(results: Vec<ResultRecord>) -> Vec<ResultRecord> {
    let mut cells = std::collections::BTreeMap::new();
    for r in results {
        cells.insert(r.cell_key(), r);
    }
    cells.into_values().collect()
}

/// Where each labelled figure and table is: label → (kind, number, chapter file stem).
type Targets = std::collections::BTreeMap<String, (&'static str, usize, String)>;

fn ref_targets(pages: &[(Chapter, Vec<Block>)]) -> Result<Targets> {
    let mut targets = Targets::new();
    for (ch, blocks) in pages {
        for b in blocks.iter().filter(|b| !b.label.is_empty()) {
            let stem = ch.file.trim_end_matches(".html").to_string();
            let kind = if b.kind == "figure" {
                "Figure"
            } else {
                "Table"
            };
            if let Some((k, n, f)) = targets.insert(b.label.clone(), (kind, b.number, stem)) {
                return Err(Error::Invalid(format!(
                    "{}: label {} is used twice (also {k} {n} in {f})",
                    ch.notebook, b.label
                )));
            }
        }
    }
    Ok(targets)
}

/// Replace `@fig:NAME` and `@tbl:NAME` in markdown with a link to the numbered figure or table
/// (`ext` is the page extension: `html` for the site, `md` for the mdBook source). A reference
/// to a label that no output carries is an error naming where it is, never a silent "??" —
/// unless `failed_chapters` (a chapter failed, so its outputs are missing): then the reference
/// is marked as not produced.
pub fn resolve_refs(
    md: &str,
    targets: &Targets,
    ext: &str,
    at: &str,
    failed_chapters: bool,
) -> Result<String> {
    let mut out = String::with_capacity(md.len());
    let mut rest = md;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let kind = ["fig:", "tbl:"].into_iter().find(|k| after.starts_with(k));
        let name_len = after
            .get(4..)
            .map(|n| {
                n.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(n.len())
            })
            .unwrap_or(0);
        match kind {
            Some(k) if name_len > 0 => {
                let label = &after[..k.len() + name_len];
                match targets.get(label) {
                    Some((kind, n, stem)) => {
                        let anchor = if *kind == "Figure" { "fig" } else { "tbl" };
                        out.push_str(&format!("[{kind} {n}]({stem}.{ext}#{anchor}-{n})"));
                    }
                    None if failed_chapters => {
                        out.push_str(&format!("*({label} not produced: its chapter failed)*"))
                    }
                    None => {
                        return Err(Error::Invalid(format!(
                            "{at}: reference @{label} has no figure or table with that label"
                        )))
                    }
                }
                rest = &after[label.len()..];
            }
            _ => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The paper's numbers (PAPER.md) for the results file, from the one reference data file.
fn paper_numbers() -> serde_json::Value {
    serde_json::from_str(crate::paper::REFERENCE_JSON).unwrap_or(serde_json::Value::Null)
}

/// `results.json` (schema in the README) and a flat `results.csv` from the deduplicated records,
/// one entry per experiment cell and model.
fn write_results(cells: &[ResultRecord], info: &RunInfo, out: &Path) -> Result<()> {
    let doc = serde_json::json!({
        "schema": 3,
        "data_fingerprint": info.fingerprint,
        "profile": info.profile,
        "models": info.models,
        "cells": cells,
        "paper": paper_numbers(),
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join("results.json"), text.as_bytes())?;
    let cols = [
        "model",
        "stage",
        "strategy",
        "features",
        "rows",
        "replicate",
        "status",
        "calls",
        "valid_rows",
        "valid_rate",
        "avg_kl",
        "avg_kl_present",
        "within_auroc",
        "tstr_auroc",
        "tstr_auprc",
        "mia_auroc",
        "mia_advantage",
        "mia_risk",
        "prompt_tokens",
        "completion_tokens",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cols)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for rec in cells {
        // the flat view of the typed record: intervals by their value
        let c = serde_json::to_value(rec).map_err(|e| Error::Invalid(e.to_string()))?;
        let row: Vec<String> = cols
            .iter()
            .map(|k| match &c[*k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => {
                    o.get("value").map(|v| v.to_string()).unwrap_or_default()
                }
                other => other.to_string(),
            })
            .collect();
        w.write_record(&row)
            .map_err(|e| Error::Invalid(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&out.join("results.csv"), &bytes)
}

/// The mdBook source: `SUMMARY.md`, an overview and one page per chapter, with the same numbered
/// figures and tables (raw HTML inside markdown, which mdBook passes through).
fn write_book_source(
    pages: &[(Chapter, Vec<Block>)],
    info: &RunInfo,
    abstract_: &[String],
    scorecard: &str,
    dir: &Path,
) -> Result<()> {
    let mut summary = String::from("# Summary\n\n[Overview](index.md)\n\n");
    // the book's overview opens as the HTML index does: abstract, then the deviations box
    let cell = |t: &str| t.replace('|', "\\|");
    let mut overview = format!(
        "# Overview\n\n## Abstract\n\n{}\n\n## Deviations from the paper\n\n| | this run | the paper |\n|---|---|---|\n",
        abstract_.join("\n\n")
    );
    for d in &info.deviations {
        overview.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&d.what),
            cell(&d.ours),
            cell(&d.paper)
        ));
    }
    if !scorecard.is_empty() {
        overview.push_str(&format!(
            "\n## Findings\n\nThe paper's six findings, each decided by a stated rule on this run's numbers (from the findings chapter).\n\n<div class=\"table\">\n{scorecard}\n</div>\n"
        ));
    }
    overview.push_str(&format!(
        "\n## Chapters\n\nData fingerprint `{}`; profile `{}`; models: {}. How each notebook ran: [the execution report](execution.md).\n\n",
        info.fingerprint, info.profile, info.models
    ));
    let mut execution = String::from("# Appendix: execution report\n\nPer notebook: whether it ran or was replayed from the execution cache, and each cell's wall time from its last run.\n\n| notebook | status | build (s) | run (s) | execution cache | cell times (s) |\n|---|---|---|---|---|---|\n");
    for (ch, blocks) in pages {
        let file = ch.file.replace(".html", ".md");
        summary.push_str(&format!("- [{}]({file})\n", ch.title));
        overview.push_str(&format!(
            "{}. [{}]({file}){}\n",
            ch.number,
            ch.title,
            if ch.status == "ok" {
                String::new()
            } else {
                format!(" — **{}**", ch.status)
            }
        ));
        execution.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            ch.notebook,
            ch.status,
            ch.build_s,
            ch.run_s,
            ch.cache,
            ch.cell_times
                .iter()
                .map(|(c, t)| format!("{c}: {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut md = format!("# {}\n\n", ch.title);
        for b in blocks {
            match b.kind {
                "markdown" if !b.md.is_empty() => md.push_str(&format!("{}\n\n", b.md)),
                "markdown" => md.push_str(&format!("{}\n\n", b.html)),
                "code" => md.push_str(&format!("<details><summary>code (cell {})</summary>\n\n```rust\n{}\n```\n\n</details>\n\n", b.cell, b.code)),
                "text" => md.push_str(&format!("```text\n{}\n```\n\n", b.text.trim_end())),
                "figure" => md.push_str(&format!(
                    "<figure id=\"fig-{n}\">\n{}\n<figcaption>Figure {n}. {}<br><small>{}</small></figcaption>\n</figure>\n\n",
                    b.html,
                    crate::notebook::display::escape(&b.caption),
                    crate::notebook::display::escape(&b.text),
                    n = b.number
                )),
                "table" => md.push_str(&format!("<div class=\"table\" id=\"tbl-{}\">\n{}\n</div>\n\n", b.number, b.html)),
                "error" => md.push_str(&format!("> **Cell {} failed:**\n\n```text\n{}\n```\n\n", b.cell, b.text)),
                _ => {}
            }
        }
        write_atomic(&dir.join(&file), md.as_bytes())?;
    }
    // the downloads live beside the HTML report (target/report), the book in target/book
    overview.push_str(&format!(
        "\n## Downloads\n\n- [results.json](../report/results.json) and [results.csv](../report/results.csv): every experiment cell and model, with the paper's numbers beside\n- the synthetic tables and the prompts ({} files): [the HTML report's downloads](../report/index.html#downloads)\n",
        info.downloads.len()
    ));
    summary.push_str("\n[Appendix: execution report](execution.md)\n");
    write_atomic(&dir.join("report.css"), CSS.as_bytes())?;
    write_atomic(&dir.join("execution.md"), execution.as_bytes())?;
    overview.push_str(&format!("\n{}\n", crate::cohort::summary::ATTRIBUTION));
    write_atomic(&dir.join("index.md"), overview.as_bytes())?;
    write_atomic(&dir.join("SUMMARY.md"), summary.as_bytes())
}

/// Build the mdBook edition from `book.toml` in `project` (source written by [`render`]).
pub fn build_book(project: &Path) -> Result<PathBuf> {
    let mut book = mdbook_driver::MDBook::load(project)
        .map_err(|e| Error::Invalid(format!("mdBook: {e:#}")))?;
    let dest = project.join(&book.config.build.build_dir);
    // built beside the old book and swapped in whole: an interrupted build never leaves a
    // book without its index.html
    let parent = dest.parent().unwrap_or(project).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".book-building-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    book.config.build.build_dir = staging.path().to_path_buf();
    book.build()
        .map_err(|e| Error::Invalid(format!("mdBook: {e:#}")))?;
    if !staging.path().join("index.html").is_file() {
        return Err(Error::Invalid(
            "mdBook built no index.html; the previous book is left as it was".into(),
        ));
    }
    let old = parent.join(format!(".book-old-{}", std::process::id()));
    if dest.exists() {
        std::fs::rename(&dest, &old).map_err(|e| Error::io(&dest, e))?;
    }
    let built = staging.keep();
    std::fs::rename(&built, &dest).map_err(|e| Error::io(&dest, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(dest.join("index.html"))
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
