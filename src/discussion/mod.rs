//! Each chapter's closing discussion: what holds, what differs from the paper and the likely
//! reason, and what would settle it — every number rendered from this run's evaluations, so the
//! text stays true as the cache grows. Shown as `text/markdown` (the report resolves its
//! `@tbl:`/`@fig:` references like a markdown cell's).

use crate::findings::{
    needed_to_decide, paper_evidence, scorecard, Finding, ModelNumbers, Point, Verdict,
};
use crate::generate::grammar::Decoding;
use crate::generate::Cell;
use crate::metrics::fairness::Fairness;
use crate::metrics::stats::Estimate;
use crate::notebook::display::{emit, EvcxrDisplay};
use crate::paper::Paper;
use crate::regions::{LlmRegion, RegionResult};
use crate::study::{thousands, Evaluation, Study};
use crate::Result;

/// The three parts of a chapter's discussion, each a list of sentences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discussion {
    pub holds: Vec<String>,
    pub differs: Vec<String>,
    pub settle: Vec<String>,
}

/// The mime type the report reads as a markdown block.
pub const MARKDOWN_MIME: &str = "text/markdown";

impl Discussion {
    pub fn markdown(&self) -> String {
        let mut s = String::from("## Discussion\n");
        for (title, part) in [
            ("What this run shows", &self.holds),
            ("What differs from the paper, and why", &self.differs),
            ("What would settle it", &self.settle),
        ] {
            if part.is_empty() {
                continue;
            }
            s.push_str(&format!("\n**{title}.**\n\n"));
            for p in part {
                s.push_str(&format!("- {p}\n"));
            }
        }
        s
    }
}

impl EvcxrDisplay for Discussion {
    fn evcxr_display(&self) {
        emit(MARKDOWN_MIME, &self.markdown());
    }
}

fn f3(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x:.3}"))
        .unwrap_or_else(|| "undefined".into())
}

fn auroc(u: &Option<crate::metrics::utility::UtilityResult>) -> Option<f64> {
    u.as_ref()?.auroc_value()
}

/// A chapter's evaluated cells grouped by decoding.
type ByDecoding<'a> = Vec<(Decoding, Vec<(&'a Cell, &'a Evaluation)>)>;

/// Evaluations grouped by decoding, constrained first (the scorecard's order).
fn by_decoding<'a>(evals: &[(&'a Cell, &'a Evaluation)]) -> ByDecoding<'a> {
    [Decoding::Constrained, Decoding::Free]
        .into_iter()
        .map(|d| {
            (
                d,
                evals
                    .iter()
                    .filter(|(c, _)| c.decoding == d)
                    .copied()
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

fn finding(numbers: ModelNumbers, number: usize) -> Finding {
    scorecard(&[numbers]).swap_remove(number - 1)
}

/// Decide findings `numbers` on the chapter's cells of each decoding (the deciding decoding
/// first, as in the scorecard), adding each verdict to `d` and, for the deciding decoding, what
/// would settle it. Returns the cells by decoding for the chapter's own sentences.
fn decide<'a>(
    study: &Study,
    evals: &[(&'a Cell, &'a Evaluation)],
    numbers: &[usize],
    d: &mut Discussion,
) -> Result<ByDecoding<'a>> {
    let model = study.models.first().map(|m| m.label()).unwrap_or_default();
    let groups = by_decoding(evals);
    for (i, (dec, cells)) in groups.iter().enumerate() {
        let all = scorecard(&[study.numbers_of(&model, cells)?]);
        for n in numbers {
            d.holds.push(verdict_sentence(&all[n - 1], *dec));
            if i == 0 {
                d.settle.extend(settle_sentence(&all[n - 1], *dec));
            }
        }
    }
    Ok(groups)
}

/// "Finding 3 partly holds on the constrained cells", plus what the rule read.
fn verdict_sentence(f: &Finding, decoding: Decoding) -> String {
    let rule = f
        .evidence
        .split_once(". ")
        .map_or(f.evidence.as_str(), |(_, rest)| rest);
    match f.verdict {
        Verdict::NotTested => format!(
            "Finding {} ({}) is not tested on the {} cells: {}.",
            f.number,
            lower_first(f.claim),
            decoding.name(),
            f.evidence.trim_end_matches('.')
        ),
        v => format!(
            "Finding {} ({}) **{}** on the {} cells: {}",
            f.number,
            lower_first(f.claim),
            v.name(),
            decoding.name(),
            rule
        ),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "12/200 valid rows, KL 1.234 (real rows at that n: 0.987), TSTR AUROC 0.612" for one cell.
fn cell_numbers(c: &Cell, e: &Evaluation) -> String {
    let kl = match (&e.fidelity, e.kl_reference) {
        (Some(f), Some(r)) => format!(", KL {:.3} (real rows at that n: {:.3})", f.avg_kl, r.value),
        (Some(f), None) => format!(", KL {:.3}", f.avg_kl),
        _ => String::new(),
    };
    let state = crate::results::CellState::of(&e.result.status);
    let status = match state {
        crate::results::CellState::Complete => String::new(),
        s => format!(", {}", s.text()),
    };
    format!(
        "{}/{} valid rows{status}{kl}, TSTR AUROC {}",
        e.result.valid_rows,
        c.rows,
        f3(auroc(&e.tstr))
    )
}

/// The settle sentence of a finding: what the grid still needs, or how to narrow it.
fn settle_sentence(f: &Finding, decoding: Decoding) -> Option<String> {
    let need = needed_to_decide(f);
    (!need.is_empty()).then(|| {
        format!(
            "Finding {} ({} decoding): {need}.",
            f.number,
            decoding.name()
        )
    })
}

/// Within-synthetic AUROC far above TSTR: the synthetic label follows relations real patients
/// do not show.
fn label_gap(cells: &[(&Cell, &Evaluation)]) -> Option<String> {
    let gaps: Vec<(String, f64, f64)> = cells
        .iter()
        .filter_map(|(c, e)| {
            let (w, t) = (auroc(&e.within)?, auroc(&e.tstr)?);
            (w - t > 0.2).then(|| {
                (
                    format!("{} at {} features", c.strategy.name(), c.features),
                    w,
                    t,
                )
            })
        })
        .collect();
    (!gaps.is_empty()).then(|| {
        format!(
            "Inside the synthetic rows death is easy to predict ({}), yet a model trained on them does much worse on real patients: the model's death label follows relations that real data does not show.",
            gaps.iter()
                .map(|(n, w, t)| format!("{n}: within {w:.3}, TSTR {t:.3}"))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

mod by_chapter;
pub use by_chapter::*;

#[cfg(test)]
mod tests;
