//! The study as notebooks use it: real data, the splits, the profile, every model in the LLM
//! cache, and each experiment cell replayed from the cache (never a request: a build reads only
//! committed answers, and a cell that is not generated yet says so).
//!
//! Parts: [`table`] (tables and number formats), [`evaluation`] (what is measured on a cell and
//! its results record), [`scorecard`] (the findings' numbers and verdicts).

mod evaluation;
mod scorecard;
mod table;

pub use evaluation::Evaluation;
pub use table::{fmt, thousands, Table, TABLE_MIME};

use crate::cohort::split::{self, Split};
use crate::cohort::{schema, Cohort, SourceKind};
use crate::error::Result;
use crate::findings::Finding;
use crate::generate::grammar::Decoding;
use crate::generate::plan::MemberPool;
use crate::generate::run::{run_cell, CellResult, NoProgress};
use crate::generate::{Cell, Profile};
use crate::llm::{Cache, ModelFingerprint, Replay};
use crate::metrics::fairness::{fairness, Fairness};
use crate::metrics::fidelity::{fidelity, kl_reference, KlEstimator, KL_REFERENCE_DRAWS};
use crate::metrics::privacy::privacy;
use crate::metrics::utility::{self, UtilityOptions};
use crate::metrics::Frame;
use std::path::{Path, PathBuf};

pub struct Study {
    pub project: PathBuf,
    pub data: PathBuf,
    pub cohort: Cohort,
    pub split: Split,
    pub profile: Profile,
    pub models: Vec<ModelFingerprint>,
    /// GBDT and bootstrap settings of every chapter (`SYNTHEHR_EFFORT`, see
    /// [`UtilityOptions::from_env`]).
    pub utility: UtilityOptions,
}

/// The mime type of machine-readable cell results (collected into `results.json`).
pub const RESULT_MIME: &str = "application/vnd.synthehr.result+json";

/// The six findings as decided on one decoding's cells.
pub type DecodedFindings = (Decoding, Vec<Finding>);

/// An evaluation with the model and cell it measured.
pub type Evaluated = (ModelFingerprint, Cell, Evaluation);

impl Study {
    /// From the environment the build sets: `SYNTHEHR_DATA`, `SYNTHEHR_PROFILE` (default
    /// `local`), `SYNTHEHR_EFFORT`; the project is found at run time ([`crate::project::root`]).
    pub fn load() -> Result<Study> {
        let project = crate::project::root()?;
        let data = crate::data::data_dir(None);
        let profile = std::env::var("SYNTHEHR_PROFILE").unwrap_or_else(|_| "local".into());
        let mut study = Study::open(&project, &data, &profile)?;
        study.utility = UtilityOptions::from_env()?;
        Ok(study)
    }

    /// The utility options of this study's chapters (a copy to adjust).
    pub fn utility_options(&self) -> UtilityOptions {
        self.utility.clone()
    }

    pub fn open(project: &Path, data: &Path, profile: &str) -> Result<Study> {
        let cohort = Cohort::build(SourceKind::EicuDemo, data)?;
        let profile = Profile::find(profile)?;
        let split = split::members_holdout(&cohort.matrix, profile.holdout_fraction, profile.seed)?;
        let mut models = crate::llm::Registry::of_project(project).models()?;
        // the profile's primary model first (chapters and findings 1–5 read `models[0]`), the
        // rest by label: a second model in the cache must not take its place by sorting first
        let primary = profile.primary_model.as_deref();
        models.sort_by_key(|m| (primary != Some(m.model.as_str()), m.label()));
        Ok(Study {
            project: project.to_path_buf(),
            data: data.to_path_buf(),
            cohort,
            split,
            profile,
            models,
            utility: UtilityOptions::default(),
        })
    }

    /// Real rows (members or holdout) as a frame of the given columns.
    pub fn real(&self, rows: &[usize], columns: &[&str]) -> Result<Frame> {
        Frame::from_matrix(&self.cohort.matrix, rows, columns)
    }

    pub fn members(&self, columns: &[&str]) -> Result<Frame> {
        self.real(&self.split.train, columns)
    }

    pub fn holdout(&self, columns: &[&str]) -> Result<Frame> {
        self.real(&self.split.test, columns)
    }

    /// Replay one cell of the profile for a model from the committed cache.
    pub fn replay(&self, model: &ModelFingerprint, cell: &Cell) -> Result<CellResult> {
        // the cache alone: no HTTP client, and replay answers at once, so no async runtime
        let answers = Replay::new(
            Cache::new(crate::project::llm_cache(&self.project)),
            model.clone(),
        );
        let pool = MemberPool::for_cell(&self.cohort.matrix, &self.split.train, cell)?;
        futures::executor::block_on(run_cell(&answers, &self.profile, cell, &pool, &NoProgress))
    }

    /// Replay a cell and measure everything on it (the chapters' shared computation). Returns
    /// the values only: the caller registers what goes into `results.json` ([`Self::record`]).
    pub fn evaluate(
        &self,
        model: &ModelFingerprint,
        cell: &Cell,
        opt: &UtilityOptions,
    ) -> Result<Evaluation> {
        if let Some(region) = &cell.held_out_region {
            // its generator saw holdout patients of the other regions and never the member
            // pool's of this one: the member/holdout metrics would mean nothing
            return Err(crate::Error::Invalid(format!(
                "cell {} was generated without region {region}: chapter 7 tests it on that \
                 region's patients (regions::leave_one_region_out), not on the member/holdout split",
                cell.id()
            )));
        }
        let result = self.replay(model, cell)?;
        let mut e = Evaluation {
            result,
            fidelity: None,
            tstr: None,
            within: None,
            privacy: None,
            tstr_scores: None,
            kl_reference: None,
        };
        if e.result.valid_rows < crate::metrics::MIN_ROWS {
            return Ok(e);
        }
        let cols: Vec<&str> = e.result.columns.iter().map(String::as_str).collect();
        let holdout = self.holdout(&cols)?;
        let synth = Study::frame(&e.result);
        e.fidelity = Some(fidelity(&holdout, &synth, &KlEstimator::default()));
        e.kl_reference = kl_reference(
            &self.members(&cols)?,
            &holdout,
            synth.n_rows(),
            opt.resamples.min(KL_REFERENCE_DRAWS),
            opt.seed ^ synth.n_rows() as u64,
            &KlEstimator::default(),
        );
        let feats = utility::features_of(&synth, &[]);
        let (tstr, scores) = utility::train_test_scores("tstr", &synth, &holdout, &feats, opt);
        e.tstr = Some(tstr);
        e.tstr_scores = scores;
        e.within = Some(utility::within(&synth, &feats, opt));
        let shown: Vec<usize> = self
            .split
            .train
            .iter()
            .copied()
            .filter(|&i| {
                e.result
                    .shown_stay_ids
                    .contains(&self.cohort.matrix.meta()[i].stay)
            })
            .collect();
        if !shown.is_empty() {
            e.privacy = Some(privacy(
                &self.real(&shown, &cols)?,
                &holdout,
                &synth,
                &opt.gbdt,
                opt.resamples,
                opt.seed,
            ));
        }
        Ok(e)
    }

    /// The synthetic rows of a replayed cell as a frame.
    pub fn frame(result: &CellResult) -> Frame {
        let names: Vec<&str> = result.columns.iter().map(String::as_str).collect();
        Frame::from_rows(&names, &result.rows.rows)
    }

    /// Provenance line for a figure or table.
    pub fn provenance(&self, model: Option<&ModelFingerprint>) -> String {
        format!(
            "data {} (eICU demo, ODbL); profile {}; model {}",
            &self.cohort.matrix.fingerprint()[..12],
            self.profile.name,
            crate::show::opt(model.map(|m| m.name()))
        )
    }

    /// Status text of a replayed cell.
    pub fn status(r: &CellResult) -> String {
        crate::results::CellState::of(&r.status).text()
    }

    /// The columns of a feature count (top-k + death).
    pub fn columns(k: usize) -> Vec<&'static str> {
        schema::top_k(k)
    }

    /// Fidelity and TSTR AUROC inside each demographic group of the holdout (Table 2 analog).
    pub fn fairness_of(&self, e: &Evaluation) -> Result<Fairness> {
        let cols: Vec<&str> = e.result.columns.iter().map(String::as_str).collect();
        let holdout = self.holdout(&cols)?;
        let synth = Study::frame(&e.result);
        Ok(fairness(
            &holdout,
            &synth,
            e.tstr_scores.as_deref().map(|s| (&holdout, s)),
            &KlEstimator::default(),
            500,
            1,
        ))
    }

    /// Token usage and cost per model and cell (replayed calls only; cost from
    /// `profiles/prices.toml`, "n/a" for local models).
    pub fn usage_table(&self) -> Result<Table> {
        let prices =
            crate::llm::pricing::Prices::load(&self.project.join("profiles").join("prices.toml"))?;
        let cache = Cache::new(crate::project::llm_cache(&self.project));
        let mut rows = Vec::new();
        let mut unstarted = 0;
        for model in &self.models {
            let row = |what: String, calls: usize, usage: &crate::llm::Usage| {
                let cost = prices
                    .cost(model.provider, &model.model, usage)
                    .map(|c| format!("${c:.2}"))
                    .unwrap_or_else(|| "n/a (local)".into());
                vec![
                    model.label(),
                    what,
                    calls.to_string(),
                    thousands(usage.prompt_tokens),
                    thousands(usage.completion_tokens),
                    cost,
                ]
            };
            // sample-size cells are prefixes of one stream: the total counts each call once
            let mut distinct = std::collections::BTreeSet::new();
            for cell in self.profile.cells() {
                let r = self.replay(model, &cell)?;
                if r.calls == 0 {
                    unstarted += 1;
                    continue;
                }
                distinct.extend(r.keys.iter().cloned());
                let usage = crate::llm::Usage {
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                };
                rows.push(row(cell.id(), r.calls, &usage));
            }
            if distinct.is_empty() {
                continue;
            }
            let mut total = crate::llm::Usage::default();
            for key in &distinct {
                if let crate::llm::Lookup::Hit(e) = cache.get(key) {
                    total.prompt_tokens += e.usage().prompt_tokens;
                    total.completion_tokens += e.usage().completion_tokens;
                }
            }
            rows.push(row("total (each call once)".into(), distinct.len(), &total));
        }
        Ok(Table {
            caption: format!(
                "Token usage and cost per cell, profile {} (calls replayed from the cache; \
                 {unstarted} model × cell pair(s) without a recorded call left out)",
                self.profile.name
            ),
            header: [
                "model",
                "cell",
                "calls",
                "prompt tokens",
                "completion tokens",
                "cost",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            rows,
            label: "usage".into(),
        })
    }
}
