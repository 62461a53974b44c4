//! A chart as the notebooks show it and the report numbers it: the SVG for the eye, and beside
//! it, typed, what the report needs (caption, provenance, label) — so the report never reads
//! them back out of the drawing.

use crate::notebook::display::{emit_all, escape, with_label, EvcxrDisplay};
use serde::{Deserialize, Serialize};

/// The MIME type of a figure's typed part. Jupyter ignores it; the report pairs it with the SVG
/// that follows it in the same cell's outputs.
pub const FIGURE_MIME: &str = "application/vnd.synthehr.figure+json";

/// What the report needs of a figure, besides its drawing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FigureMeta {
    pub caption: String,
    /// Data fingerprint, model, profile: where the numbers came from.
    pub provenance: String,
    /// The name `@fig:LABEL` refers to; empty for none.
    #[serde(default)]
    pub label: String,
}

/// A drawn chart and its typed caption.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    pub svg: String,
    pub meta: FigureMeta,
}

impl Figure {
    /// The SVG as plotters drew it, with the provenance line in its `<desc>` (so a figure copied
    /// out of the report or a notebook keeps where it came from).
    pub(crate) fn new(svg: String, caption: &super::Caption) -> Figure {
        let desc = format!("<desc>{}</desc></svg>", escape(&caption.provenance));
        Figure {
            svg: svg.replacen("</svg>", &desc, 1),
            meta: FigureMeta {
                caption: caption.title.clone(),
                provenance: caption.provenance.clone(),
                label: String::new(),
            },
        }
    }

    /// The figure as `@fig:LABEL` refers to it (the label also rides on the SVG root, where a
    /// notebook's own links can find it).
    pub fn labelled(mut self, label: &str) -> Figure {
        self.svg = with_label(&self.svg, "svg", &format!("fig:{label}"));
        self.meta.label = label.to_string();
        self
    }

    /// What showing the figure emits, in order: the typed part, then the SVG the kernel shows.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        // serialising plain strings cannot fail
        let meta = serde_json::to_string(&self.meta).unwrap_or_default();
        vec![(FIGURE_MIME, meta), ("image/svg+xml", self.svg.clone())]
    }
}

impl EvcxrDisplay for Figure {
    fn evcxr_display(&self) {
        emit_all(&self.outputs());
    }
}

/// Show `fig` as the figure `@fig:LABEL` refers to.
pub fn figure(label: &str, fig: &Figure) {
    fig.clone().labelled(label).evcxr_display();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_carries_its_caption_typed_and_its_provenance_in_the_svg() {
        let cap = super::super::Caption {
            title: "KL & rows".into(),
            provenance: "data <abc>".into(),
        };
        let f = Figure::new("<svg x=\"1\"><text>t</text></svg>".into(), &cap).labelled("kl");
        assert_eq!(
            f.svg,
            "<svg data-label=\"fig:kl\" x=\"1\"><text>t</text><desc>data &lt;abc&gt;</desc></svg>"
        );
        let out = f.outputs();
        assert_eq!(out[0].0, FIGURE_MIME);
        assert_eq!(out[1], ("image/svg+xml", f.svg.clone()));
        let meta: FigureMeta = serde_json::from_str(&out[0].1).unwrap();
        assert_eq!(
            meta,
            FigureMeta {
                caption: "KL & rows".into(),
                provenance: "data <abc>".into(),
                label: "kl".into()
            }
        );
    }
}
