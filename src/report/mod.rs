//! The report: notebooks' markdown (pulldown-cmark) and captured outputs assembled with the
//! minijinja templates of `report_templates/` into a self-contained HTML site (inline CSS and
//! SVG, relative links, works from `file://`). Figures (SVG outputs) and tables (HTML table
//! outputs) are numbered across the report.

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::notebook::{Execution, Notebook, Status};
use minijinja::{context, Environment};
use serde::Serialize;
use std::path::{Path, PathBuf};

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
}

/// What the index page states about the run.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub fingerprint: String,
    pub profile: String,
    pub models: String,
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

/// Render the site into `out` from notebooks and their executions (same order).
pub fn render(
    runs: &[(PathBuf, Notebook, Execution)],
    info: &RunInfo,
    out: &Path,
) -> Result<PathBuf> {
    let mut env = Environment::new();
    for (n, t) in TEMPLATES {
        env.add_template(n, t)
            .map_err(|e| Error::Invalid(format!("report template {n}: {e}")))?;
    }
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
            }
        })
        .collect();
    let (mut fig, mut tbl) = (0, 0);
    let mut book_pages: Vec<(Chapter, Vec<Block>)> = Vec::new();
    let mut results: Vec<serde_json::Value> = Vec::new();
    let layout = env
        .get_template("layout.html")
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for ((_, nb, e), ch) in runs.iter().zip(&chapters) {
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
                blocks.push(Block {
                    html: markdown(&src),
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
                .filter(|l| !l.trim_start().starts_with(':'))
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
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.content) {
                            results.push(v);
                        }
                        continue;
                    }
                    if r.mime == "image/svg+xml" {
                        fig += 1;
                        blocks.push(Block {
                            html: r.content.clone(),
                            number: fig,
                            caption: svg_caption(&r.content),
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
                            ..blank("table", ci)
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
        book_pages.push((ch.clone(), blocks.clone()));
        let body = env
            .get_template("chapter.html")
            .and_then(|t| {
                t.render(context! {
                    number => ch.number, title => ch.title, notebook => ch.notebook, status => ch.status,
                    timing => format!("build {} s, run {} s, execution cache: {}", ch.build_s, ch.run_s, ch.cache),
                    blocks => blocks,
                })
            })
            .map_err(|e| Error::Invalid(format!("rendering {}: {e}", ch.file)))?;
        let page = layout.render(context! { title => ch.title, chapters => chapters, body => minijinja::Value::from_safe_string(body) }).map_err(|e| Error::Invalid(e.to_string()))?;
        write_atomic(&out.join(&ch.file), page.as_bytes())?;
    }
    let index = env
        .get_template("index.html")
        .and_then(|t| {
            t.render(context! {
                chapters => chapters, fingerprint => info.fingerprint, profile => info.profile, models => info.models,
                built => crate::llm::cache::now_rfc3339(), licence => crate::cohort::summary::ATTRIBUTION,
            })
        })
        .map_err(|e| Error::Invalid(format!("rendering index: {e}")))?;
    let page = layout.render(context! { title => "Overview", chapters => chapters, body => minijinja::Value::from_safe_string(index) }).map_err(|e| Error::Invalid(e.to_string()))?;
    let path = out.join("index.html");
    write_atomic(&path, page.as_bytes())?;
    write_book_source(&book_pages, info, &out.with_file_name("book-src"))?;
    write_results(&results, info, out)?;
    Ok(path)
}

/// The paper's numbers (PAPER.md) for the results file.
fn paper_numbers() -> serde_json::Value {
    serde_json::json!({
        "table1_strategies_83_features_1k_rows": {
            "naive": {"avg_kl": 0.5797, "within_auroc": 0.4558, "tstr_auroc": 0.5382, "tstr_auprc": 0.5398},
            "schema": {"avg_kl": 0.5212, "within_auroc": 0.4319, "tstr_auroc": 0.6205, "tstr_auprc": 0.5774},
            "conditional": {"avg_kl": 0.3051, "within_auroc": 0.5051, "tstr_auroc": 0.4769, "tstr_auprc": 0.4858},
            "group": {"avg_kl": 0.2963, "within_auroc": 0.5136, "tstr_auroc": 0.5052, "tstr_auprc": 0.5070}
        },
        "table3_group_by_features_1k_rows": {
            "5": {"avg_kl": 0.1690, "within_auroc": 0.7791, "tstr_auroc": 0.8224},
            "10": {"avg_kl": 0.1552, "within_auroc": 0.8710, "tstr_auroc": 0.8133},
            "15": {"avg_kl": 0.2293, "within_auroc": 0.4924, "tstr_auroc": 0.6885},
            "20": {"avg_kl": 0.2466, "within_auroc": 0.4833, "tstr_auroc": 0.5335}
        },
        "table4_group_10_features_by_rows": {
            "1000": {"avg_kl": 0.1552, "within_auroc": 0.8710, "tstr_auroc": 0.8133, "tstr_auprc": 0.5809},
            "5000": {"avg_kl": 0.0952, "within_auroc": 0.8780, "tstr_auroc": 0.9015, "tstr_auprc": 0.7586},
            "10000": {"avg_kl": 0.0821, "within_auroc": 0.9437, "tstr_auroc": 0.9157, "tstr_auprc": 0.7969}
        }
    })
}

/// `results.json` (schema in the README) and a flat `results.csv`, one entry per experiment
/// cell and model (the last evaluation of a cell wins when several chapters evaluate it).
fn write_results(results: &[serde_json::Value], info: &RunInfo, out: &Path) -> Result<()> {
    let key = |v: &serde_json::Value| {
        format!(
            "{}|{}|{}|{}|{}|{}",
            v["model"], v["stage"], v["strategy"], v["features"], v["rows"], v["replicate"]
        )
    };
    let mut cells: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
    for v in results {
        cells.insert(key(v), v.clone());
    }
    let cells: Vec<serde_json::Value> = cells.into_values().collect();
    let doc = serde_json::json!({
        "schema": 1,
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
    for c in &cells {
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
fn write_book_source(pages: &[(Chapter, Vec<Block>)], info: &RunInfo, dir: &Path) -> Result<()> {
    let mut summary = String::from("# Summary\n\n[Overview](index.md)\n\n");
    let mut overview = format!(
        "# Overview\n\nData fingerprint `{}`; profile `{}`; models: {}.\n\n| chapter | status | build (s) | run (s) | execution cache |\n|---|---|---|---|---|\n",
        info.fingerprint, info.profile, info.models
    );
    for (ch, blocks) in pages {
        let file = ch.file.replace(".html", ".md");
        summary.push_str(&format!("- [{}]({file})\n", ch.title));
        overview.push_str(&format!(
            "| [{}]({file}) | {} | {} | {} | {} |\n",
            ch.title, ch.status, ch.build_s, ch.run_s, ch.cache
        ));
        let mut md = format!("# {}\n\n", ch.title);
        for b in blocks {
            match b.kind {
                "markdown" if !b.md.is_empty() => md.push_str(&format!("{}\n\n", b.md)),
                "markdown" => md.push_str(&format!("{}\n\n", b.html)),
                "code" => md.push_str(&format!("<details><summary>code (cell {})</summary>\n\n```rust\n{}\n```\n\n</details>\n\n", b.cell, b.code)),
                "text" => md.push_str(&format!("```text\n{}\n```\n\n", b.text.trim_end())),
                "figure" => md.push_str(&format!(
                    "<figure id=\"fig-{n}\">\n{}\n<figcaption>Figure {n}. {}</figcaption>\n</figure>\n\n",
                    b.html,
                    crate::notebook::display::escape(&b.caption),
                    n = b.number
                )),
                "table" => md.push_str(&format!("<div class=\"table\" id=\"tbl-{}\">\n{}\n</div>\n\n", b.number, b.html)),
                "error" => md.push_str(&format!("> **Cell {} failed:**\n\n```text\n{}\n```\n\n", b.cell, b.text)),
                _ => {}
            }
        }
        write_atomic(&dir.join(&file), md.as_bytes())?;
    }
    overview.push_str(&format!("\n{}\n", crate::cohort::summary::ATTRIBUTION));
    write_atomic(&dir.join("index.md"), overview.as_bytes())?;
    write_atomic(&dir.join("SUMMARY.md"), summary.as_bytes())
}

/// Build the mdBook edition from `book.toml` in `project` (source written by [`render`]).
pub fn build_book(project: &Path) -> Result<PathBuf> {
    let book = mdbook_driver::MDBook::load(project)
        .map_err(|e| Error::Invalid(format!("mdBook: {e:#}")))?;
    book.build()
        .map_err(|e| Error::Invalid(format!("mdBook: {e:#}")))?;
    Ok(project.join("target").join("book").join("index.html"))
}
