//! The numbers behind the paper's findings, and the scorecard decided on them.

use super::{DecodedFindings, Evaluated, Evaluation, Study, Table};
use crate::error::Result;
use crate::findings::{scorecard, GroupPoint, ModelNumbers};
use crate::generate::grammar::Decoding;
use crate::generate::{Cell, Strategy};
use crate::llm::ModelFingerprint;
use crate::metrics::fairness::Fairness;
use crate::metrics::utility::UtilityOptions;
use crate::notebook::chapters;

impl Study {
    /// The numbers behind the paper's findings for one model and one decoding: every cell whose
    /// stage plays a study role ([`Cell::role`]: strategies, dimensionality, sample size) under
    /// that decoding, evaluated and reduced by [`Self::numbers_of`].
    pub fn finding_numbers(
        &self,
        model: &ModelFingerprint,
        opt: &UtilityOptions,
        decoding: Decoding,
    ) -> Result<ModelNumbers> {
        Ok(self.finding_evaluations(model, opt, decoding)?.0)
    }

    /// [`Self::finding_numbers`] with the evaluations it read.
    fn finding_evaluations(
        &self,
        model: &ModelFingerprint,
        opt: &UtilityOptions,
        decoding: Decoding,
    ) -> Result<(ModelNumbers, Vec<Evaluated>)> {
        let mut evals = Vec::new();
        for cell in self.profile.cells() {
            if cell.decoding == decoding && cell.decides_findings() {
                let e = self.evaluate(model, &cell, opt)?;
                evals.push((model.clone(), cell, e));
            }
        }
        let pairs: Vec<(&Cell, &Evaluation)> = evals.iter().map(|(_, c, e)| (c, e)).collect();
        Ok((self.numbers_of(&model.label(), &pairs)?, evals))
    }

    /// What the findings' rules read from evaluated cells (of one model): the strategy cells
    /// at 83 columns (and per-group KL of their group and naive cells), the group strategy by
    /// feature count, and the sample-size stages' cells by rows asked (a sample-size cell that
    /// another stage already holds is read from that stage's evaluation).
    pub fn numbers_of(&self, model: &str, evals: &[(&Cell, &Evaluation)]) -> Result<ModelNumbers> {
        let mut m = ModelNumbers {
            model: model.to_string(),
            ..Default::default()
        };
        let mut per_group: Vec<(String, Fairness)> = Vec::new();
        for (cell, e) in evals {
            match cell.role() {
                "strategies" => {
                    if matches!(cell.strategy, Strategy::Group | Strategy::Naive)
                        && e.fidelity.is_some()
                    {
                        per_group.push((cell.strategy.name().to_string(), self.fairness_of(e)?));
                    }
                    if cell.strategy == Strategy::Group {
                        m.features.push((cell.features, e.point()));
                    }
                    m.strategies
                        .push((cell.strategy.name().to_string(), e.point()));
                }
                "dimensionality" => m.features.push((cell.features, e.point())),
                _ => {}
            }
        }
        let decodings: Vec<Decoding> = evals.iter().map(|(c, _)| c.decoding).collect();
        // by the stage's role: a cell it shares with another stage is kept as that stage's
        // (`stage_cells`), with that stage's role
        for st in &self.profile.stages {
            if st.role_name() != "sample-size" {
                continue;
            }
            for cell in self.profile.stage_cells(&st.name) {
                if !decodings.contains(&cell.decoding) {
                    continue;
                }
                if let Some((_, e)) = evals.iter().find(|(c, _)| c.same_calls(&cell)) {
                    if !m.rows.iter().any(|(n, _)| *n == cell.rows) {
                        m.rows.push((cell.rows, e.point()));
                    }
                }
            }
        }
        let of = |strategy: &str| per_group.iter().find(|p| p.0 == strategy).map(|p| &p.1);
        m.groups = GroupPoint::all(of("group"), of("naive"));
        Ok(m)
    }

    /// The decodings whose cells play a study role in the profile, the one that decides the
    /// scorecard first: constrained where the profile has such cells (every call yields
    /// well-formed rows, so the findings are about the prompts, not the model's formatting).
    pub fn scorecard_decodings(&self) -> Vec<Decoding> {
        let cells = self.profile.cells();
        let has = |d: Decoding| {
            cells
                .iter()
                .any(|c| c.decoding == d && c.decides_findings())
        };
        [Decoding::Constrained, Decoding::Free]
            .into_iter()
            .filter(|d| has(*d))
            .collect()
    }

    /// The scorecard of the paper's six findings over every model in the cache (findings 1–5
    /// from the first model; 6 compares models), decided on the first of
    /// [`Self::scorecard_decodings`]; the table gives the other decoding's verdict beside it.
    /// Returns the findings per decoding (the deciding one first), the table and the
    /// evaluations they were decided on (for the caller to [`Self::record_all`]).
    pub fn scorecard(
        &self,
        opt: &UtilityOptions,
    ) -> Result<(Vec<DecodedFindings>, Table, Vec<Evaluated>)> {
        let chapters = chapters::chapters(&self.project.join("notebooks"))?;
        let decodings = self.scorecard_decodings();
        let mut by_decoding = Vec::new();
        let mut evaluated = Vec::new();
        for d in &decodings {
            let mut numbers = Vec::new();
            for m in &self.models {
                let (n, evals) = self.finding_evaluations(m, opt, *d)?;
                numbers.push(n);
                evaluated.extend(evals);
            }
            by_decoding.push(scorecard(&numbers));
        }
        let findings = by_decoding
            .first()
            .cloned()
            .unwrap_or_else(|| scorecard(&[]));
        let primary = decodings.first().copied().unwrap_or_default();
        let mut header = vec![
            "finding".to_string(),
            format!("verdict ({} decoding)", primary.name()),
        ];
        for d in decodings.iter().skip(1) {
            header.push(format!("verdict ({} decoding)", d.name()));
        }
        header.extend(
            [
                "decided by (this run)",
                "needed to decide",
                "paper",
                "chapter",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let table = Table {
            caption: format!(
                "Scorecard of the paper's six findings, decided on the {} cells ({})",
                primary.name(),
                self.provenance(self.models.first())
            ),
            header,
            rows: findings
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let mut row = vec![
                        format!("{}. {}", f.number, f.claim),
                        f.verdict.name().into(),
                    ];
                    for other in by_decoding.iter().skip(1) {
                        row.push(other.get(i).map(|o| o.verdict.name()).unwrap_or("").into());
                    }
                    row.extend([
                        f.evidence.clone(),
                        crate::findings::needed_to_decide(f).to_string(),
                        crate::findings::paper_evidence(f.number),
                        chapters::of_finding(&chapters, f.number)
                            .map(|c| c.number.to_string())
                            .unwrap_or_default(),
                    ]);
                    row
                })
                .collect(),
            label: "scorecard".into(),
        };
        Ok((
            decodings.into_iter().zip(by_decoding).collect(),
            table,
            evaluated,
        ))
    }
}
