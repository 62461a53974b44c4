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
    let layout = env
        .get_template("layout.html")
        .map_err(|e| Error::Invalid(e.to_string()))?;
    for ((_, nb, e), ch) in runs.iter().zip(&chapters) {
        let mut blocks = Vec::new();
        let blank = |kind: &'static str, cell: usize| Block {
            kind,
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
    Ok(path)
}
