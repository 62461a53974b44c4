//! Across regions (chapter 7, beyond the paper): each region held out in turn; TRTR trains on
//! real patients of the other regions, TSTR on synthetic rows generated from them, and both are
//! tested on the held-out region's real patients.

use crate::cohort::split;
use crate::generate::baselines::{self, Baseline};
use crate::metrics::utility::{self, UtilityOptions, UtilityResult};
use crate::metrics::Frame;
use crate::study::{Study, Table};
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
}

impl RegionResult {
    pub fn trtr_auroc(&self) -> Option<f64> {
        self.trtr.auroc.as_ref().map(|a| a.value)
    }
    pub fn tstr_auroc(&self) -> Option<f64> {
        self.tstr.auroc.as_ref().map(|a| a.value)
    }
}

/// Leave each region out in turn, with the copula baseline as the synthetic generator (fitted
/// on the other regions' members only).
pub fn leave_one_region_out(study: &Study, opt: &UtilityOptions) -> Result<Vec<RegionResult>> {
    let cols = Study::columns(82);
    let m = &study.cohort.matrix;
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
        out.push(RegionResult {
            region: region.clone(),
            train: s.train.len(),
            test: s.test.len(),
            test_deaths: trtr.test_positives,
            trtr,
            tstr,
        });
    }
    Ok(out)
}

/// The chapter's table.
pub fn table(study: &Study, results: &[RegionResult]) -> Table {
    let show = |u: &UtilityResult| {
        u.auroc
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_else(|| u.undefined.clone().unwrap_or_default())
    };
    Table {
        caption: format!("Leave-one-region-out AUROC ({})", study.provenance(None)),
        header: [
            "held-out region",
            "train / test stays",
            "test deaths",
            "TRTR",
            "TSTR (copula from the other regions)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: results
            .iter()
            .map(|r| {
                vec![
                    r.region.clone(),
                    format!("{} / {}", r.train, r.test),
                    r.test_deaths.to_string(),
                    show(&r.trtr),
                    show(&r.tstr),
                ]
            })
            .collect(),
        label: "loro".into(),
    }
}
