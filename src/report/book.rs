//! The mdBook edition: its source (`SUMMARY.md`, an overview, one page per chapter with the same
//! numbered figures and tables as the HTML report) and its build through mdBook's library.

use super::blocks::Block;
use super::{Chapter, RunInfo, CSS};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::notebook::display::escape;
use std::path::{Path, PathBuf};

/// The mdBook source: `SUMMARY.md`, an overview and one page per chapter, with the same numbered
/// figures and tables (raw HTML inside markdown, which mdBook passes through).
pub fn write_source(
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
        let mut page = format!("# {}\n\n", ch.title);
        for b in blocks {
            match b {
                Block::Markdown { md, .. } => page.push_str(&format!("{md}\n\n")),
                Block::Html { html, .. } => page.push_str(&format!("{html}\n\n")),
                Block::Code { cell, code } => page.push_str(&format!("<details><summary>code (cell {cell})</summary>\n\n```rust\n{code}\n```\n\n</details>\n\n")),
                Block::Text { text, .. } => page.push_str(&format!("```text\n{}\n```\n\n", text.trim_end())),
                Block::Figure { number: n, svg, meta, .. } => page.push_str(&format!(
                    "<figure id=\"fig-{n}\">\n{svg}\n<figcaption>Figure {n}. {}<br><small>{}</small></figcaption>\n</figure>\n\n",
                    escape(&meta.caption),
                    escape(&meta.provenance),
                )),
                Block::Table { number, html, .. } => page.push_str(&format!("<div class=\"table\" id=\"tbl-{number}\">\n{html}\n</div>\n\n")),
                Block::Error { cell, text } => page.push_str(&format!("> **Cell {cell} failed:**\n\n```text\n{text}\n```\n\n")),
            }
        }
        write_atomic(&dir.join(&file), page.as_bytes())?;
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
