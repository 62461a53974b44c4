//! The report's opening: an abstract whose every number is rendered from this run's results
//! records (so it stays true as the cache grows), and the deviations box — what differs from the
//! paper's setting, so no comparison is read without it.

use crate::results::{CellState, ResultRecord};
use crate::study::thousands;
use serde::Serialize;

/// One line of the deviations box: what, ours, the paper's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deviation {
    pub what: String,
    pub ours: String,
    pub paper: String,
}

/// "group at 10 features, constrained": with several models, the model's name too (an extreme
/// of another model is not the primary model's), and the region a cell never saw.
fn cell_name(r: &ResultRecord, several_models: bool) -> String {
    let mut name = format!("{} at {} features", r.strategy, r.features);
    if r.decoding != "free" {
        name.push_str(&format!(", {}", r.decoding));
    }
    if several_models {
        name.push_str(&format!(", {}", model_name(r)));
    }
    if let Some(region) = &r.held_out_region {
        name.push_str(&format!(", without {region}"));
    }
    name
}

/// The model id of a record, without its fingerprint ("qwen2.5-coder-1.5b-instruct").
fn model_name(r: &ResultRecord) -> &str {
    r.model.split(" (").next().unwrap_or(&r.model)
}

/// The abstract: sentences of plain text (HTML-escaped by the template), from the records.
pub fn abstract_sentences(records: &[ResultRecord]) -> Vec<String> {
    if records.is_empty() {
        return vec!["No LLM cell was evaluated in this run.".into()];
    }
    let mut out = Vec::new();
    let models: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.model.as_str()).collect();
    let name = |r: &ResultRecord| cell_name(r, models.len() > 1);
    let generated: Vec<&ResultRecord> = records
        .iter()
        .filter(|r| r.state.ended() || r.valid_rows > 0)
        .collect();
    let valid: u64 = records.iter().map(|r| r.valid_rows as u64).sum();
    let tokens: u64 = records.iter().map(|r| r.completion_tokens).sum();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    out.push(format!(
        "This run replays {} experiment cell{} of {} model{} from the committed cache: {} with \
         answers, {} valid synthetic rows in all from {} generated tokens.",
        records.len(),
        s(records.len()),
        models.len(),
        s(models.len()),
        generated.len(),
        thousands(valid),
        thousands(tokens)
    ));
    // validity, free vs constrained
    let share = |dec: &str| -> Option<(f64, usize)> {
        let cells: Vec<&&ResultRecord> = generated
            .iter()
            .filter(|r| (r.decoding == "free") == (dec == "free") && r.calls > 0)
            .collect();
        (!cells.is_empty()).then(|| {
            let rate = cells.iter().map(|r| r.valid_rate).sum::<f64>() / cells.len() as f64;
            (rate, cells.len())
        })
    };
    if let (Some((free, nf)), Some((con, nc))) = (share("free"), share("constrained")) {
        out.push(format!(
            "On average {:.0}% of the record lines the model{} wrote were valid under free \
             decoding ({nf} cells) and {:.0}% under grammar-constrained decoding ({nc} cells).",
            100.0 * free,
            s(models.len()),
            100.0 * con
        ));
    }
    // the extremes cite ended cells only: an open cell's numbers move as its calls land (the
    // scorecard reads ended cells too)
    let ended: Vec<&ResultRecord> = records.iter().filter(|r| r.state.ended()).collect();
    // fidelity against the matched-n reference
    let with_ref: Vec<&ResultRecord> = ended
        .iter()
        .copied()
        .filter(|r| r.avg_kl.is_some() && r.kl_reference.is_some())
        .collect();
    if let Some(best) = with_ref.iter().min_by(|a, b| {
        a.excess_kl
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.excess_kl.unwrap_or(f64::INFINITY))
    }) {
        let reference = best.kl_reference.map_or(f64::NAN, |r| r.value);
        out.push(format!(
            "Fidelity: of {} cells with enough rows for KL, the closest to real data is {} \
             ({} valid rows): average KL {:.3}, where real rows of the same number score {:.3} — \
             every KL is read against that matched-n reference, since KL grows as rows get fewer.",
            with_ref.len(),
            name(best),
            best.valid_rows,
            best.avg_kl.unwrap_or(f64::NAN),
            reference
        ));
    }
    // utility
    let tstr: Vec<(&ResultRecord, f64)> = ended
        .iter()
        .copied()
        .filter_map(|r| Some((r, r.tstr_auroc.as_ref()?.value)))
        .collect();
    if let (Some(lo), Some(hi)) = (
        tstr.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
        tstr.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
    ) {
        out.push(format!(
            "Utility: a mortality model trained on synthetic rows and tested on real held-out \
             patients reaches AUROC {:.3} at best ({}) and {:.3} at worst ({}), over {} cells \
             where it could be trained.",
            hi.1,
            name(hi.0),
            lo.1,
            name(lo.0),
            tstr.len()
        ));
    }
    // privacy
    let most_copied = ended
        .iter()
        .copied()
        .filter_map(|r| Some((r, r.copied_line_rate?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let mia: Vec<(&ResultRecord, f64)> = ended
        .iter()
        .copied()
        .filter_map(|r| Some((r, r.mia_auroc.as_ref()?.value)))
        .collect();
    if let Some(top) = mia.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        let copied = match most_copied {
            Some((r, rate)) => format!(
                "up to {:.0}% of the record lines in a cell's answers ({}) copied",
                100.0 * rate,
                name(r)
            ),
            None => "record lines that copied".into(),
        };
        out.push(format!(
            "Privacy: {copied} a real row the model had been shown; those lines are filtered \
             out, and on what remains the strongest membership attack reaches AUROC {:.3} ({}).",
            top.1,
            name(top.0)
        ));
    }
    let corrupt = records
        .iter()
        .filter(|r| matches!(r.state, CellState::Corrupt { .. }))
        .count();
    let missing_of = |r: &ResultRecord| match r.state {
        CellState::NotGenerated { missing_calls } => Some(missing_calls),
        _ => None,
    };
    let missing: usize = records.iter().filter_map(missing_of).sum();
    if missing > 0 || corrupt > 0 {
        // per model: a second model often runs only the cells it is compared on, so its cells
        // never begun are not the primary model's unfinished work
        let per_model = if models.len() > 1 {
            let parts: Vec<String> = models
                .iter()
                .filter_map(|m| {
                    let open: Vec<(&ResultRecord, usize)> = records
                        .iter()
                        .filter(|r| r.model == *m)
                        .filter_map(|r| Some((r, missing_of(r)?)))
                        .collect();
                    let first = open.first()?;
                    let calls: usize = open.iter().map(|o| o.1).sum();
                    let never = open.iter().filter(|o| o.0.calls == 0).count();
                    let never = match (never, open.len()) {
                        (0, _) => String::new(),
                        (n, all) if n == all => ", never begun".into(),
                        (n, _) => format!(", {n} never begun"),
                    };
                    Some(format!(
                        "{} {calls} ({} cell{}{never})",
                        model_name(first.0),
                        open.len(),
                        s(open.len())
                    ))
                })
                .collect();
            format!(": {}", parts.join(", "))
        } else {
            String::new()
        };
        out.push(format!(
            "Not yet decided by this run: at least {missing} calls are not in the cache \
             yet{per_model}{}.",
            if corrupt > 0 {
                format!(", and {corrupt} cells replayed a corrupt cache entry")
            } else {
                String::new()
            }
        ));
    }
    out
}

/// The deviations box: every way this run's setting differs from the paper's, with this run's
/// own figures (data size, split, model, rows asked, examples, estimator, GBDT, attack, copy
/// filter, decoding).
pub fn deviations(study: &crate::study::Study) -> Vec<Deviation> {
    use std::collections::BTreeSet;
    let paper = crate::paper::Paper::get();
    let m = &study.cohort.matrix;
    let death = m.column("death").unwrap_or(&[]);
    let deaths_in = |rows: &[usize]| rows.iter().filter(|&&i| death.get(i) == Some(&1.0)).count();
    let all: Vec<usize> = (0..m.n_rows()).collect();
    let cells = study.profile.cells();
    let rows: BTreeSet<usize> = cells.iter().map(|c| c.rows).collect();
    let examples: BTreeSet<usize> = cells.iter().map(|c| c.examples_per_call).collect();
    let per_call: BTreeSet<usize> = cells.iter().map(|c| c.rows_per_call).collect();
    let list = |s: &BTreeSet<usize>| {
        s.iter()
            .map(|n| thousands(*n as u64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let g = &study.utility.gbdt;
    let d = |what: &str, ours: String, paper: &str| Deviation {
        what: what.into(),
        ours,
        paper: paper.into(),
    };
    vec![
        d(
            "Data",
            format!(
                "eICU demo: {} ICU stays, {} deaths ({:.1}%)",
                thousands(m.n_rows() as u64),
                deaths_in(&all),
                100.0 * deaths_in(&all) as f64 / m.n_rows().max(1) as f64
            ),
            "full eICU (the paper's rows per table not stated)",
        ),
        d(
            "Split",
            format!(
                "{} member stays the model may be shown, {} held out ({} deaths) for every real-data test",
                study.split.train.len(),
                study.split.test.len(),
                deaths_in(&study.split.test)
            ),
            "not stated",
        ),
        d(
            "Model",
            if study.models.is_empty() {
                "none recorded yet".into()
            } else {
                study
                    .models
                    .iter()
                    .map(|f| f.model.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            &paper.model,
        ),
        d(
            "Rows per cell",
            format!("{} asked", list(&rows)),
            &format!("{} (1,000 / 5,000 / 10,000 in Table 4)", thousands(paper.rows as u64)),
        ),
        d(
            "Examples and rows per call",
            format!("{} real examples, {} rows asked per call", list(&examples), list(&per_call)),
            "up to ~100 examples; rows per call not stated",
        ),
        d(
            "Decoding",
            "free, as the paper; and grammar-constrained (beyond the paper)".into(),
            "free",
        ),
        d(
            "KL estimator",
            "declared: real-data deciles plus out-of-range and missing bins, ε = 1e-6; read against real rows of the same number".into(),
            "not stated: its KL and ours are not on one scale",
        ),
        d(
            "Mortality model",
            format!(
                "GBDT, {} trees, depth {}, learning rate {}, subsample {}",
                g.trees, g.max_depth, g.learning_rate, g.subsample
            ),
            "XGBoost, settings not stated",
        ),
        d(
            "Membership attack",
            "distance to the closest synthetic record (Gower); members are the rows the model was shown".into(),
            "an attack model, details not stated",
        ),
        d(
            "Copies of shown rows",
            "removed from every answer before it is cached and measured; their pre-filter rate is reported".into(),
            "not stated",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fidelity::KlReference;
    use crate::results::Interval;

    #[test]
    fn the_abstract_is_rendered_from_the_records() {
        let iv = |v: f64| Interval {
            value: v,
            lo: v - 0.05,
            hi: v + 0.05,
            positives: 10,
            negatives: 100,
        };
        let base = ResultRecord {
            model: "m".into(),
            strategy: "group".into(),
            features: 10,
            decoding: "free".into(),
            calls: 10,
            ..Default::default()
        };
        let records = vec![
            ResultRecord {
                valid_rows: 300,
                valid_rate: 0.3,
                completion_tokens: 20_000,
                avg_kl: Some(0.8),
                kl_reference: Some(KlReference {
                    value: 0.03,
                    lo: 0.02,
                    hi: 0.04,
                    n: 300,
                    draws: 50,
                }),
                excess_kl: Some(0.77),
                tstr_auroc: Some(iv(0.47)),
                mia_auroc: Some(iv(0.52)),
                copied_line_rate: Some(0.28),
                ..base.clone()
            },
            ResultRecord {
                features: 5,
                decoding: "constrained".into(),
                valid_rows: 292,
                valid_rate: 0.6,
                completion_tokens: 9_000,
                tstr_auroc: Some(iv(0.54)),
                ..base.clone()
            },
            ResultRecord {
                state: CellState::NotGenerated { missing_calls: 7 },
                calls: 0,
                ..base
            },
        ];
        let text = abstract_sentences(&records).join(" ");
        for needle in [
            "3 experiment cells of 1 model",
            "592 valid synthetic rows",
            "29,000 generated tokens",
            "30% of the record lines",
            "60% under grammar-constrained",
            "group at 10 features (300 valid rows): average KL 0.800, where real rows of the same number score 0.030",
            "AUROC 0.540 at best (group at 5 features, constrained)",
            "0.470 at worst (group at 10 features)",
            "up to 28% of the record lines",
            "AUROC 0.520 (group at 10 features)",
            "7 calls are not in the cache yet",
        ] {
            assert!(text.contains(needle), "{needle:?} not in: {text}");
        }
        assert_eq!(
            abstract_sentences(&[]),
            vec!["No LLM cell was evaluated in this run."]
        );
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn with_several_models_the_abstract_names_the_model_of_each_cell_it_cites() {
        let base = ResultRecord {
            model: "big (gguf 1, 1 thread(s), 4 slot(s))".into(),
            strategy: "group".into(),
            features: 10,
            decoding: "constrained".into(),
            calls: 10,
            valid_rows: 200,
            valid_rate: 0.7,
            ..Default::default()
        };
        let kl = |v: f64| ResultRecord {
            avg_kl: Some(v),
            kl_reference: Some(KlReference {
                value: 0.03,
                lo: 0.02,
                hi: 0.04,
                n: 200,
                draws: 50,
            }),
            excess_kl: Some(v - 0.03),
            copied_line_rate: Some(v / 2.0),
            mia_auroc: Some(Interval {
                value: v / 2.0,
                lo: 0.0,
                hi: 1.0,
                positives: 10,
                negatives: 10,
            }),
            ..base.clone()
        };
        let small = |r: ResultRecord| ResultRecord {
            model: "small (gguf 2, 1 thread(s), 4 slot(s))".into(),
            ..r
        };
        let records = vec![
            kl(0.9),
            small(ResultRecord {
                features: 5,
                ..kl(0.4)
            }),
            ResultRecord {
                held_out_region: Some("Midwest".into()),
                ..kl(0.95)
            },
            ResultRecord {
                state: CellState::NotGenerated { missing_calls: 6 },
                calls: 4,
                ..base.clone()
            },
            ResultRecord {
                state: CellState::NotGenerated { missing_calls: 25 },
                calls: 0,
                ..base.clone()
            },
            small(ResultRecord {
                state: CellState::NotGenerated { missing_calls: 25 },
                calls: 0,
                ..base.clone()
            }),
            // an open cell's numbers move as its calls land: not cited as an extreme
            ResultRecord {
                features: 15,
                state: CellState::NotGenerated { missing_calls: 3 },
                ..kl(0.1)
            },
        ];
        let text = abstract_sentences(&records).join(" ");
        for needle in [
            "the closest to real data is group at 5 features, constrained, small (200 valid rows)",
            "up to 48% of the record lines in a cell's answers (group at 10 features, constrained, big, without Midwest) copied",
            "at least 59 calls are not in the cache yet: big 34 (3 cells, 1 never begun), small 25 (1 cell, never begun)",
        ] {
            assert!(text.contains(needle), "{needle:?} not in: {text}");
        }
        assert!(!text.contains("15 features"), "an open cell cited: {text}");
    }
}
