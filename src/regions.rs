//! Across regions (chapter 7, beyond the paper): each region held out in turn; TRTR trains on
//! real patients of the other regions, TSTR on synthetic rows generated from them — the copula
//! baseline refitted per split, and the LLM's cells of the profile's across-regions stage (each
//! generated from the other regions' patients only) — and all are tested on the held-out
//! region's real patients.

use crate::cohort::split;
use crate::generate::baselines::{self, Baseline};
use crate::generate::Cell;
use crate::llm::ModelFingerprint;
use crate::metrics::utility::{self, UtilityOptions, UtilityResult};
use crate::metrics::Frame;
use crate::study::{Evaluation, Study, Table};
use crate::Result;

/// One held-out region: TRTR vs TSTR on its real patients.
#[derive(Debug, Clone)]
pub struct RegionResult {
    pub region: String,
    pub train: usize,
    pub test: usize,
    pub test_deaths: usize,
    pub trtr: UtilityResult,
    pub tstr: UtilityResult,
    /// The LLM's cell that never saw this region, when the profile has one.
    pub llm: Option<LlmRegion>,
}

/// The primary model's rows generated without one region, tested on it.
#[derive(Debug, Clone)]
pub struct LlmRegion {
    pub model: ModelFingerprint,
    pub cell: Cell,
    /// The replayed cell, with `tstr` when it has enough valid rows to train on.
    pub evaluation: Evaluation,
    /// TRTR on the same split at the cell's columns (the LLM saw fewer than all 83).
    pub trtr: UtilityResult,
}

impl LlmRegion {
    pub fn tstr_auroc(&self) -> Option<f64> {
        self.evaluation.tstr.as_ref()?.auroc_value()
    }
    pub fn trtr_auroc(&self) -> Option<f64> {
        self.trtr.auroc_value()
    }
    /// The TSTR AUROC, or where the cell stands when it has none.
    fn tstr_shown(&self) -> String {
        let r = &self.evaluation.result;
        match &self.evaluation.tstr {
            Some(u) => format!("{} ({} rows)", u.auroc_shown(), r.valid_rows),
            None if r.valid_rows < crate::metrics::MIN_ROWS => {
                format!("{}: {} valid rows", Study::status(r), r.valid_rows)
            }
            None => Study::status(r),
        }
    }
}

impl RegionResult {
    pub fn trtr_auroc(&self) -> Option<f64> {
        self.trtr.auroc_value()
    }
    pub fn tstr_auroc(&self) -> Option<f64> {
        self.tstr.auroc_value()
    }
}

/// Leave each region out in turn, with the copula baseline as the synthetic generator (fitted
/// on the other regions' patients only) and, where the profile has a cell that held the region
/// out, the primary model's rows.
pub fn leave_one_region_out(study: &Study, opt: &UtilityOptions) -> Result<Vec<RegionResult>> {
    let cols = Study::columns(82);
    let m = &study.cohort.matrix;
    let cells = study.profile.cells();
    let mut out = Vec::new();
    for region in split::regions(m).keys() {
        let s = split::leave_region_out(m, region)?;
        let train = study.real(&s.train, &cols)?;
        let test = study.real(&s.test, &cols)?;
        let feats = utility::features_of(&train, &[]);
        let trtr = utility::train_test("trtr", &train, &test, &feats, opt);
        let synth = baselines::generate(
            Baseline::Copula,
            m,
            &s.train,
            &cols,
            s.train.len(),
            study.profile.seed,
        )?;
        let tstr =
            utility::train_test("tstr", &Frame::from_rows(&cols, &synth), &test, &feats, opt);
        let cell = cells
            .iter()
            .find(|c| c.held_out_region.as_deref() == Some(region.as_str()));
        let llm = match (cell, study.models.first()) {
            (Some(cell), Some(model)) => Some(llm_region(study, model, cell, &s, opt)?),
            _ => None,
        };
        out.push(RegionResult {
            region: region.clone(),
            train: s.train.len(),
            test: s.test.len(),
            test_deaths: trtr.test_positives,
            trtr,
            tstr,
            llm,
        });
    }
    Ok(out)
}

/// Replay the cell that never saw the split's test region and train on its rows.
fn llm_region(
    study: &Study,
    model: &ModelFingerprint,
    cell: &Cell,
    s: &split::Split,
    opt: &UtilityOptions,
) -> Result<LlmRegion> {
    let result = study.replay(model, cell)?;
    let cols: Vec<&str> = result.columns.iter().map(String::as_str).collect();
    let train = study.real(&s.train, &cols)?;
    let test = study.real(&s.test, &cols)?;
    let feats = utility::features_of(&train, &[]);
    let trtr = utility::train_test("trtr", &train, &test, &feats, opt);
    let tstr = (result.valid_rows >= crate::metrics::MIN_ROWS)
        .then(|| utility::train_test("tstr", &Study::frame(&result), &test, &feats, opt));
    Ok(LlmRegion {
        model: model.clone(),
        cell: cell.clone(),
        evaluation: Evaluation {
            result,
            fidelity: None,
            tstr,
            within: None,
            privacy: None,
            tstr_scores: None,
            kl_reference: None,
        },
        trtr,
    })
}

/// Put the LLM cells' numbers into `results.json` (each with its held-out region).
pub fn record(study: &Study, results: &[RegionResult]) {
    for l in results.iter().filter_map(|r| r.llm.as_ref()) {
        study.record(&l.model, &l.cell, &l.evaluation);
    }
}

/// The chapter's table: the LLM's columns appear when the profile has across-regions cells.
pub fn table(study: &Study, results: &[RegionResult]) -> Table {
    let llm = results.iter().find_map(|r| r.llm.as_ref());
    let mut header: Vec<String> = [
        "held-out region",
        "train / test stays",
        "test deaths",
        "TRTR",
        "TSTR (copula from the other regions)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(l) = llm {
        let k = l.cell.features;
        header.push(format!("TRTR, {k} features"));
        header.push(format!("TSTR, LLM from the other regions ({k} features)"));
    }
    Table {
        caption: format!(
            "Leave-one-region-out AUROC ({})",
            study.provenance(llm.map(|l| &l.model))
        ),
        header,
        rows: results
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.region.clone(),
                    format!("{} / {}", r.train, r.test),
                    r.test_deaths.to_string(),
                    r.trtr.auroc_shown(),
                    r.tstr.auroc_shown(),
                ];
                if llm.is_some() {
                    match &r.llm {
                        Some(l) => row.extend([l.trtr.auroc_shown(), l.tstr_shown()]),
                        None => row.extend(["–".to_string(), "no cell".to_string()]),
                    }
                }
                row
            })
            .collect(),
        label: "loro".into(),
    }
}
