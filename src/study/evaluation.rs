//! Everything the chapters measure on one replayed cell, its formatted values, and its results
//! record (registered explicitly by the caller).

use super::{fmt, Evaluated, Study, RESULT_MIME};
use crate::generate::run::{CellResult, CellStatus};
use crate::generate::Cell;
use crate::llm::ModelFingerprint;
use crate::metrics::fidelity::{Fidelity, KlReference};
use crate::metrics::privacy::Privacy;
use crate::metrics::stats::Estimate;
use crate::metrics::utility::UtilityResult;
use crate::show::{self, MISSING};

/// Everything the chapters measure on one replayed cell.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub result: CellResult,
    /// Fidelity against the real holdout (rows no generator saw); `None` below 10 valid rows.
    pub fidelity: Option<Fidelity>,
    /// Train on synthetic, test on the real holdout.
    pub tstr: Option<UtilityResult>,
    /// Train and test inside the synthetic rows.
    pub within: Option<UtilityResult>,
    /// Membership inference: members = real rows shown in the cell, non-members = holdout.
    pub privacy: Option<Privacy>,
    /// TSTR scores on the holdout rows (for per-group AUROC).
    pub tstr_scores: Option<Vec<f64>>,
    /// Real-vs-real KL of member rows at this cell's valid-row count: what the KL is read
    /// against (`metrics::fidelity::kl_reference`).
    pub kl_reference: Option<KlReference>,
}

impl Evaluation {
    /// "0.1234 [0.1, 0.2]" or why it is undefined.
    pub fn tstr_auroc(&self) -> String {
        match &self.tstr {
            Some(u) => u.auroc_shown(),
            None => format!("too few valid rows ({})", self.result.valid_rows),
        }
    }
    pub fn tstr_auprc(&self) -> String {
        show::opt(self.tstr.as_ref().and_then(|u| u.auprc.as_ref()))
    }
    /// Death prevalence of the holdout the TSTR scores were computed on: the AUPRC of a model
    /// that knows nothing ("0.087 (84 of 965)").
    pub fn tstr_prevalence(&self) -> String {
        self.tstr
            .as_ref()
            .and_then(|u| u.auprc.as_ref().or(u.auroc.as_ref()))
            .filter(|e| e.positives + e.negatives > 0)
            .map(|e| {
                let n = e.positives + e.negatives;
                format!(
                    "{:.3} ({} of {n})",
                    e.positives as f64 / n as f64,
                    e.positives
                )
            })
            .unwrap_or_else(|| MISSING.into())
    }
    pub fn within_auroc(&self) -> String {
        match &self.within {
            Some(u) => u.auroc_shown(),
            None => MISSING.into(),
        }
    }
    pub fn avg_kl(&self) -> String {
        fmt(self.fidelity.as_ref().map(|f| f.avg_kl), 4)
    }
    /// The matched-n real-vs-real reference: "0.4123 [0.3801, 0.4502]".
    pub fn kl_reference(&self) -> String {
        self.kl_reference
            .map(|r| format!("{} [{}, {}]", fmt(r.value, 4), fmt(r.lo, 4), fmt(r.hi, 4)))
            .unwrap_or_else(|| MISSING.into())
    }
    /// KL minus its matched-n reference (what sample size alone does not explain).
    pub fn excess_kl(&self) -> Option<f64> {
        Some(self.fidelity.as_ref()?.avg_kl - self.kl_reference?.value)
    }
    /// Average KL on present values only (the missing bin dropped).
    pub fn avg_kl_present(&self) -> String {
        fmt(self.fidelity.as_ref().map(|f| f.avg_kl_present), 4)
    }
    /// This evaluation reduced to what the findings scorecard needs.
    pub fn point(&self) -> crate::findings::Point {
        let mia = self.mia();
        crate::findings::Point {
            generated: matches!(
                self.result.status,
                CellStatus::Complete | CellStatus::BudgetReached | CellStatus::GaveUp
            ),
            started: self.result.calls > 0,
            valid_rows: self.result.valid_rows,
            rows_asked: self.result.cell.rows,
            avg_kl: self.fidelity.as_ref().map(|f| f.avg_kl),
            avg_kl_present: self.fidelity.as_ref().and_then(|f| f.kl_present_defined()),
            tstr_auroc: self.tstr.as_ref().and_then(|u| u.auroc_value()),
            mia_interval: mia.as_ref().map(|m| (m.lo, m.hi)),
            mia_auroc: mia.map(|m| m.value),
        }
    }

    /// The distance-to-closest-record attack (the paper's kind of membership inference).
    pub fn dcr_attack(&self) -> Option<&crate::metrics::privacy::Attack> {
        self.privacy
            .as_ref()?
            .attacks
            .iter()
            .find(|a| a.name == "dcr")
    }

    /// The DCR attack's AUROC.
    pub fn mia(&self) -> Option<Estimate> {
        self.dcr_attack()?.auroc.clone()
    }
}

impl Study {
    /// Register an evaluation for `results.json`: emitted as a machine-readable output
    /// (`RESULT_MIME`) that the build collects from every chapter (the report does not display
    /// it; the same cell recorded by two chapters is one record).
    pub fn record(&self, model: &ModelFingerprint, cell: &Cell, e: &Evaluation) {
        let rec = self.result_record(model, cell, e);
        if let Ok(json) = serde_json::to_string(&rec) {
            crate::notebook::display::emit(RESULT_MIME, &json);
        }
    }

    /// [`Self::record`] for each evaluation of a list (as [`Self::scorecard`] returns them).
    pub fn record_all(&self, evaluated: &[Evaluated]) {
        for (model, cell, e) in evaluated {
            self.record(model, cell, e);
        }
    }

    /// The typed results record of an evaluation.
    pub fn result_record(
        &self,
        model: &ModelFingerprint,
        cell: &Cell,
        e: &Evaluation,
    ) -> crate::results::ResultRecord {
        use crate::results::{CellState, Interval, ResultRecord};
        let est = |x: Option<&Estimate>| x.map(Interval::from);
        let attack = e
            .privacy
            .as_ref()
            .and_then(|p| p.attacks.iter().find(|a| a.name == "dcr"));
        let r = &e.result;
        let state = CellState::of(&r.status);
        ResultRecord {
            model: model.label(),
            profile: self.profile.name.clone(),
            data_fingerprint: self.cohort.matrix.fingerprint(),
            stage: cell.stage.clone(),
            strategy: cell.strategy.name().into(),
            features: cell.features,
            rows: cell.rows,
            replicate: cell.replicate,
            decoding: cell.decoding.name().into(),
            held_out_region: cell.held_out_region.clone(),
            status: state.text(),
            state,
            calls: r.calls,
            valid_rows: r.valid_rows,
            valid_rate: r.valid_rate,
            inconsistent_rows: r.rows.inconsistent,
            inconsistent_rate: r.rows.inconsistent_rate(),
            rejections: r.rows.rejects_by_name(),
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            avg_kl: e.fidelity.as_ref().map(|f| f.avg_kl),
            avg_kl_present: e.fidelity.as_ref().and_then(|f| f.kl_present_defined()),
            kl_reference: e.kl_reference,
            excess_kl: e.excess_kl(),
            kl_estimator: e
                .fidelity
                .as_ref()
                .and_then(|f| serde_json::to_value(f.estimator).ok()),
            within_auroc: est(e.within.as_ref().and_then(|u| u.auroc.as_ref())),
            tstr_auroc: est(e.tstr.as_ref().and_then(|u| u.auroc.as_ref())),
            tstr_auprc: est(e.tstr.as_ref().and_then(|u| u.auprc.as_ref())),
            mia_auroc: est(attack.and_then(|a| a.auroc.as_ref())),
            mia_advantage: est(attack.and_then(|a| a.advantage.as_ref())),
            mia_risk: est(attack.and_then(|a| a.risk.as_ref())),
            mia_tpr_at_1pct_fpr: est(attack.and_then(|a| a.tpr_at_1pct_fpr.as_ref())),
            copied_line_rate: r.copied_line_rate(),
        }
    }
}
