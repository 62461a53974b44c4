//! Second and third stages of the report: every figure and table gets its number across the
//! report, then references (`@fig:NAME`, `@tbl:NAME`) resolve to links, markdown renders to HTML
//! and tables render with their numbers.

use super::blocks::Block;
use super::Chapter;
use crate::error::{Error, Result};

/// What a numbered output is: its name in text and the prefix of its labels and anchors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Figure,
    Table,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::Figure, Kind::Table];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Figure => "Figure",
            Kind::Table => "Table",
        }
    }

    /// `fig` / `tbl`: the label prefix (`@fig:NAME`) and the page anchor (`#fig-3`).
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Figure => "fig",
            Kind::Table => "tbl",
        }
    }
}

/// Where each labelled figure and table is: `fig:NAME` / `tbl:NAME` → (kind, number, chapter
/// file stem).
pub type Targets = std::collections::BTreeMap<String, (Kind, usize, String)>;

/// Number figures and tables in reading order across all pages; a label used twice is an error
/// naming both places.
pub fn number(pages: &mut [(Chapter, Vec<Block>)]) -> Result<Targets> {
    let (mut figures, mut tables) = (0, 0);
    let mut targets = Targets::new();
    for (ch, blocks) in pages.iter_mut() {
        let stem = ch.file.trim_end_matches(".html").to_string();
        for b in blocks.iter_mut() {
            let (kind, n, name) = match b {
                Block::Figure { number, meta, .. } => {
                    figures += 1;
                    *number = figures;
                    (Kind::Figure, figures, &meta.label)
                }
                Block::Table { number, table, .. } => {
                    tables += 1;
                    *number = tables;
                    (Kind::Table, tables, &table.label)
                }
                _ => continue,
            };
            if name.is_empty() {
                continue;
            }
            let label = format!("{}:{name}", kind.prefix());
            if let Some((k, n, f)) = targets.insert(label.clone(), (kind, n, stem.clone())) {
                return Err(Error::Invalid(format!(
                    "{}: label {label} is used twice (also {} {n} in {f})",
                    ch.notebook,
                    k.name()
                )));
            }
        }
    }
    Ok(targets)
}

/// Resolve references and render: markdown to HTML (and its references for the book's `.md`
/// pages), each table with its number in its caption. With `failed_chapters`, references to
/// outputs that were never produced are marked instead of failing.
pub fn render_contents(
    pages: &mut [(Chapter, Vec<Block>)],
    targets: &Targets,
    failed_chapters: bool,
) -> Result<()> {
    for (ch, blocks) in pages.iter_mut() {
        for b in blocks.iter_mut() {
            match b {
                Block::Markdown { cell, md, html } if !md.is_empty() => {
                    let at = format!("{}, cell {cell}", ch.notebook);
                    *html = markdown(&resolve_refs(md, targets, "html", &at, failed_chapters)?);
                    *md = resolve_refs(md, targets, "md", &at, failed_chapters)?;
                }
                Block::Table {
                    number,
                    table,
                    html,
                    ..
                } => *html = numbered_table(table, *number),
                _ => {}
            }
        }
    }
    Ok(())
}

fn markdown(src: &str) -> String {
    let opts = pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_FOOTNOTES;
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, pulldown_cmark::Parser::new_ext(src, opts));
    out
}

/// The table's HTML with "Table N." in front of its caption (or of the table, without one).
fn numbered_table(t: &crate::study::Table, n: usize) -> String {
    if t.caption.is_empty() {
        format!("<span class=\"numbered\">Table {n}.</span>{}", t.html())
    } else {
        t.html_captioned(&format!("Table {n}. {}", t.caption))
    }
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
        let prefix_len = Kind::ALL
            .iter()
            .map(|k| format!("{}:", k.prefix()))
            .find(|p| after.starts_with(p.as_str()))
            .map(|p| p.len());
        let name_len = prefix_len
            .and_then(|l| after.get(l..))
            .map(|n| {
                n.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .unwrap_or(n.len())
            })
            .unwrap_or(0);
        match prefix_len {
            Some(p) if name_len > 0 => {
                let label = &after[..p + name_len];
                match targets.get(label) {
                    Some((kind, n, stem)) => {
                        let (name, anchor) = (kind.name(), kind.prefix());
                        out.push_str(&format!("[{name} {n}]({stem}.{ext}#{anchor}-{n})"));
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
