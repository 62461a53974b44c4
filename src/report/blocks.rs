//! First stage of the report: a notebook's cells and captured outputs become typed blocks.
//! Figures and tables arrive typed (their JSON part, [`FIGURE_MIME`] / [`TABLE_MIME`], rides in
//! the same cell's outputs as the SVG or HTML the kernel shows), so nothing is read back out of
//! rendered SVG or HTML.

use crate::discussion::MARKDOWN_MIME;
use crate::error::{Error, Result};
use crate::notebook::{Execution, Notebook, Status};
use crate::plot::{FigureMeta, FIGURE_MIME};
use crate::results::ResultRecord;
use crate::study::{Table, RESULT_MIME, TABLE_MIME};
use serde::Serialize;
use std::path::Path;

/// One piece of a chapter page. `kind` (the serde tag) is what the templates switch on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    /// A markdown cell or a discussion: `md` as written (references resolved for the book);
    /// `html` rendered once every figure and table has its number (references may point ahead).
    Markdown {
        cell: usize,
        md: String,
        html: String,
    },
    /// HTML a cell showed that is not a typed table: passed through as it is.
    Html { cell: usize, html: String },
    /// A code cell's source, without `:dep` lines and `// kernel:` notes.
    Code { cell: usize, code: String },
    /// Printed text or a plain-text output.
    Text { cell: usize, text: String },
    Figure {
        cell: usize,
        /// Across the report, from 1; set by [`super::numbering`].
        number: usize,
        svg: String,
        #[serde(flatten)]
        meta: FigureMeta,
    },
    Table {
        cell: usize,
        /// Across the report, from 1; set by [`super::numbering`].
        number: usize,
        table: Table,
        /// The numbered table as HTML, rendered with the markdown.
        html: String,
    },
    /// Where a chapter failed.
    Error { cell: usize, text: String },
}

/// The blocks of one chapter; the results records its cells emitted go to `results`.
pub fn chapter_blocks(
    nb_path: &Path,
    nb: &Notebook,
    e: &Execution,
    results: &mut Vec<ResultRecord>,
) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    for (cell, c) in nb.cells.iter().enumerate() {
        if c.cell_type == "markdown" {
            // the chapter title is the page heading already
            let md: String = c
                .source
                .lines()
                .filter(|l| !l.starts_with("# "))
                .collect::<Vec<_>>()
                .join("\n");
            blocks.push(Block::Markdown {
                cell,
                md,
                html: String::new(),
            });
            continue;
        }
        if c.cell_type != "code" {
            continue;
        }
        let code: String = c
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
            blocks.push(Block::Code { cell, code });
        }
        if let Some(out) = e.cells.iter().find(|o| o.cell == cell) {
            if !out.stdout.trim().is_empty() {
                blocks.push(Block::Text {
                    cell,
                    text: out.stdout.clone(),
                });
            }
            let rich: Vec<(&str, &str)> = out
                .rich
                .iter()
                .map(|r| (r.mime.as_str(), r.content.as_str()))
                .collect();
            blocks.extend(output_blocks(&rich, cell, results).map_err(|what| {
                Error::Invalid(format!("{}: cell {cell} {what}", nb_path.display()))
            })?);
        }
        if let Status::Failed {
            cell: failed,
            line,
            message,
        } = &e.status
        {
            if *failed == cell {
                let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                blocks.push(Block::Error {
                    cell,
                    text: format!("{at}{message}"),
                });
            }
        }
    }
    Ok(blocks)
}

/// The blocks of one cell's rich outputs (mime, content), in order. A figure's typed part comes
/// just before its SVG; a table's typed form just before the HTML the kernel shows of it, which
/// the report leaves out (it renders the table itself, numbered). Errors say what was wrong.
fn output_blocks(
    rich: &[(&str, &str)],
    cell: usize,
    results: &mut Vec<ResultRecord>,
) -> std::result::Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut caption: Option<FigureMeta> = None;
    let mut kernel_view_of_table: Option<String> = None;
    for &(mime, content) in rich {
        if caption.is_some() && mime != "image/svg+xml" {
            return Err(format!(
                "emitted a figure caption not followed by its SVG (but by {mime})"
            ));
        }
        let shown_table = kernel_view_of_table.take();
        if mime == RESULT_MIME {
            let rec = serde_json::from_str::<ResultRecord>(content)
                .map_err(|e| format!("emitted a malformed results record ({e})"))?;
            results.push(rec);
        } else if mime == FIGURE_MIME {
            caption = Some(
                serde_json::from_str(content)
                    .map_err(|e| format!("emitted a malformed figure caption ({e})"))?,
            );
        } else if mime == "image/svg+xml" {
            blocks.push(Block::Figure {
                cell,
                number: 0,
                svg: content.to_string(),
                // an SVG shown without the plot module's caption is still a figure
                meta: caption.take().unwrap_or_default(),
            });
        } else if mime == TABLE_MIME {
            let table: Table = serde_json::from_str(content)
                .map_err(|e| format!("emitted a malformed table ({e})"))?;
            kernel_view_of_table = Some(table.html());
            blocks.push(Block::Table {
                cell,
                number: 0,
                table,
                html: String::new(),
            });
        } else if mime == "text/html" && shown_table.as_deref() == Some(content) {
            // the kernel's view of the table just above
        } else if mime == MARKDOWN_MIME {
            // a discussion: references resolve as in a markdown cell
            blocks.push(Block::Markdown {
                cell,
                md: content.to_string(),
                html: String::new(),
            });
        } else if mime == "text/html" {
            blocks.push(Block::Html {
                cell,
                html: content.to_string(),
            });
        } else {
            blocks.push(Block::Text {
                cell,
                text: content.to_string(),
            });
        }
    }
    if caption.is_some() {
        return Err("emitted a figure caption without its SVG".into());
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{Caption, Figure};

    fn blocks_of(out: &[(&'static str, String)]) -> std::result::Result<Vec<Block>, String> {
        let rich: Vec<(&str, &str)> = out.iter().map(|(m, c)| (*m, c.as_str())).collect();
        output_blocks(&rich, 3, &mut Vec::new())
    }

    fn figure() -> Figure {
        let cap = Caption {
            title: "KL <by> features".into(),
            provenance: "data abc".into(),
        };
        crate::plot::bars(&["a".into()], &[(0.5, None)], "AUROC", &cap)
            .unwrap()
            .labelled("kl")
    }

    #[test]
    fn figures_and_tables_arrive_typed_and_the_kernels_table_html_is_not_repeated() {
        let f = figure();
        let t = Table::new("KL", ["a"])
            .labelled("t")
            .with_rows([vec!["1".into()]]);
        let mut out = f.outputs();
        out.extend(t.outputs());
        out.push(("text/html", "<p>other</p>".into()));
        let b = blocks_of(&out).unwrap();
        assert_eq!(b.len(), 3, "{b:?}");
        let Block::Figure { svg, meta, .. } = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(
            (svg, &meta.caption),
            (&f.svg, &"KL <by> features".to_string())
        );
        assert_eq!(
            (meta.label.as_str(), meta.provenance.as_str()),
            ("kl", "data abc")
        );
        assert!(matches!(&b[1], Block::Table { table, .. } if *table == t));
        assert!(matches!(&b[2], Block::Html { html, .. } if html == "<p>other</p>"));
    }

    #[test]
    fn a_caption_without_its_svg_or_malformed_json_is_an_error_saying_what() {
        let f = figure();
        let lone = vec![f.outputs()[0].clone()];
        assert!(blocks_of(&lone).unwrap_err().contains("without its SVG"));
        let out = vec![f.outputs()[0].clone(), ("text/html", "<p/>".into())];
        assert!(blocks_of(&out)
            .unwrap_err()
            .contains("not followed by its SVG"));
        let bad = vec![(TABLE_MIME, "{".to_string())];
        assert!(blocks_of(&bad).unwrap_err().contains("malformed table"));
        let bad = vec![(FIGURE_MIME, "[]".to_string())];
        assert!(blocks_of(&bad)
            .unwrap_err()
            .contains("malformed figure caption"));
    }

    #[test]
    fn an_svg_without_a_caption_is_an_uncaptioned_figure() {
        let b = blocks_of(&[("image/svg+xml", "<svg/>".into())]).unwrap();
        assert!(matches!(&b[0], Block::Figure { meta, .. } if *meta == FigureMeta::default()));
    }
}
