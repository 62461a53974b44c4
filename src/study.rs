//! The study as notebooks use it: real data, the splits, the profile, every model in the LLM
//! cache, and each experiment cell replayed from the cache (never a request: a build reads only
//! committed answers, and a cell that is not generated yet says so).

use crate::cohort::split::{self, Split};
use crate::cohort::{schema, Cohort, SourceKind};
use crate::error::{Error, Result};
use crate::findings::{scorecard, Finding, GroupPoint, ModelNumbers};
use crate::generate::grammar::Decoding;
use crate::generate::plan::MemberPool;
use crate::generate::run::{run_cell, CellResult, CellStatus, NoProgress};
use crate::generate::{Cell, Profile, Strategy};
use crate::llm::{Cache, CacheMode, ClientConfig, LlmClient, ModelFingerprint, RetryPolicy};
use crate::metrics::fairness::{fairness, Fairness};
use crate::metrics::fidelity::{
    fidelity, kl_reference, Fidelity, KlEstimator, KlReference, KL_REFERENCE_DRAWS,
};
use crate::metrics::privacy::{privacy, Privacy};
use crate::metrics::stats::Estimate;
use crate::metrics::utility::{self, UtilityOptions, UtilityResult};
use crate::metrics::Frame;
use crate::notebook::display::{html, table_html, with_label, EvcxrDisplay};
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
    runtime: tokio::runtime::Runtime,
}

/// The mime type of machine-readable cell results (collected into `results.json`).
pub const RESULT_MIME: &str = "application/vnd.synthehr.result+json";

/// The six findings as decided on one decoding's cells.
pub type DecodedFindings = (Decoding, Vec<Finding>);

/// A table of results that shows itself as HTML in the kernel and the report.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Name for cross-references (`@tbl:LABEL` in markdown); empty for none.
    pub label: String,
}

impl EvcxrDisplay for Table {
    fn evcxr_display(&self) {
        let t = table_html(&self.header, &self.rows, &self.caption);
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!("tbl:{}", self.label)
        };
        html(&with_label(&t, "table", &label));
    }
}

impl EvcxrDisplay for crate::cohort::CohortSummary {
    fn evcxr_display(&self) {
        let pct = |n: usize| {
            format!(
                "{} ({:.1}%)",
                thousands(n as u64),
                100.0 * n as f64 / self.rows.max(1) as f64
            )
        };
        let mut rows = vec![
            vec![
                "ICU stays (rows)".into(),
                thousands(self.rows as u64),
                "88,857".into(),
            ],
            vec!["columns".into(), self.columns.to_string(), "83".into()],
            vec!["deaths".into(), pct(self.deaths), "8.67%".into()],
            vec!["female".into(), pct(self.female), "40,459".into()],
            vec!["male (not female)".into(), pct(self.male), "48,398".into()],
            vec![
                "missing cells".into(),
                format!(
                    "{} ({:.1}%)",
                    thousands(self.missing_cells as u64),
                    100.0 * self.missing_rate
                ),
                "~25.7%".into(),
            ],
            vec![
                "hospitals".into(),
                self.hospitals.to_string(),
                "not stated".into(),
            ],
        ];
        for (r, n) in &self.regions {
            rows.push(vec![format!("region: {r}"), pct(*n), String::new()]);
        }
        html(&table_html(
            &[
                "".into(),
                "this run (eICU demo)".into(),
                "paper (eICU)".into(),
            ],
            &rows,
            &format!(
                "Cohort summary; data fingerprint {}",
                &self.fingerprint[..16]
            ),
        ));
    }
}

/// Everything the chapters measure on one replayed cell.
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
            Some(u) => u
                .auroc
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| u.undefined.clone().unwrap_or_default()),
            None => format!("too few valid rows ({})", self.result.valid_rows),
        }
    }
    pub fn tstr_auprc(&self) -> String {
        self.tstr
            .as_ref()
            .and_then(|u| u.auprc.as_ref())
            .map(|e| e.to_string())
            .unwrap_or_else(|| "—".into())
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
            .unwrap_or_else(|| "—".into())
    }
    pub fn within_auroc(&self) -> String {
        match &self.within {
            Some(u) => u
                .auroc
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_else(|| u.undefined.clone().unwrap_or_default()),
            None => "—".into(),
        }
    }
    pub fn avg_kl(&self) -> String {
        self.fidelity
            .as_ref()
            .map(|f| fmt(f.avg_kl, 4))
            .unwrap_or_else(|| "—".into())
    }
    /// The matched-n real-vs-real reference: "0.4123 [0.3801, 0.4502]".
    pub fn kl_reference(&self) -> String {
        self.kl_reference
            .map(|r| format!("{} [{}, {}]", fmt(r.value, 4), fmt(r.lo, 4), fmt(r.hi, 4)))
            .unwrap_or_else(|| "—".into())
    }
    /// KL minus its matched-n reference (what sample size alone does not explain).
    pub fn excess_kl(&self) -> Option<f64> {
        Some(self.fidelity.as_ref()?.avg_kl - self.kl_reference?.value)
    }
    /// Average KL on present values only (the missing bin dropped).
    pub fn avg_kl_present(&self) -> String {
        self.fidelity
            .as_ref()
            .map(|f| fmt(f.avg_kl_present, 4))
            .unwrap_or_else(|| "—".into())
    }
    /// This evaluation reduced to what the findings scorecard needs.
    pub fn point(&self) -> crate::findings::Point {
        let mia = self.mia();
        crate::findings::Point {
            generated: matches!(
                self.result.status,
                CellStatus::Complete | CellStatus::BudgetReached | CellStatus::GaveUp
            ),
            avg_kl: self.fidelity.as_ref().map(|f| f.avg_kl),
            avg_kl_present: self.fidelity.as_ref().and_then(|f| f.kl_present_defined()),
            tstr_auroc: self
                .tstr
                .as_ref()
                .and_then(|u| u.auroc.as_ref())
                .map(|a| a.value),
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

/// A count with thousands separators: 28494 → "28,494".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Format a number for a table (blank when undefined).
pub fn fmt(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "—".into()
    }
}

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
        let mut models = Vec::new();
        if let Ok(rd) = std::fs::read_dir(project.join("cache").join("models")) {
            for e in rd.flatten() {
                if let Some(fp) = std::fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<ModelFingerprint>(&b).ok())
                {
                    models.push(fp);
                }
            }
        }
        models.sort_by_key(|m| m.label());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Invalid(format!("tokio: {e}")))?;
        Ok(Study {
            project: project.to_path_buf(),
            data: data.to_path_buf(),
            cohort,
            split,
            profile,
            models,
            utility: UtilityOptions::default(),
            runtime,
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
        let client = LlmClient::new(
            ClientConfig {
                provider: model.provider,
                base_url: "http://127.0.0.1:9/offline".into(),
                model: model.model.clone(),
                fingerprint: model.clone(),
                concurrency: 1,
                timeout: std::time::Duration::from_secs(1),
                retry: RetryPolicy::default(),
                mode: CacheMode::Replay,
                // as recorded: a local GGUF server took the grammar, an API the JSON schema
                constraint: Some(if model.gguf_sha256.is_some() {
                    crate::llm::client::ConstraintForm::Gbnf
                } else {
                    crate::llm::client::ConstraintForm::JsonSchema
                }),
            },
            Cache::new(self.project.join("cache").join("llm")),
        )?;
        let pool = MemberPool {
            matrix: &self.cohort.matrix,
            rows: self.split.train.clone(),
        };
        self.runtime
            .block_on(run_cell(&client, &self.profile, cell, &pool, &NoProgress))
    }

    /// Replay a cell and measure everything on it (the chapters' shared computation).
    pub fn evaluate(
        &self,
        model: &ModelFingerprint,
        cell: &Cell,
        opt: &UtilityOptions,
    ) -> Result<Evaluation> {
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
            self.record(model, cell, &e);
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
        self.record(model, cell, &e);
        Ok(e)
    }

    /// Emit an evaluation as a machine-readable output (`RESULT_MIME`); the build collects
    /// these from every chapter into `results.json` (the report does not display them).
    pub fn record(&self, model: &ModelFingerprint, cell: &Cell, e: &Evaluation) {
        let rec = self.result_record(model, cell, e);
        if let Ok(json) = serde_json::to_string(&rec) {
            crate::notebook::display::emit(RESULT_MIME, &json);
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
            model.map(|m| m.name()).unwrap_or_else(|| "—".into())
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

    /// The numbers behind the paper's findings for one model and one decoding: every cell whose
    /// stage plays a study role ([`Cell::role`]: strategies, dimensionality, sample size) under
    /// that decoding, evaluated and reduced by [`Self::numbers_of`].
    pub fn finding_numbers(
        &self,
        model: &ModelFingerprint,
        opt: &UtilityOptions,
        decoding: Decoding,
    ) -> Result<ModelNumbers> {
        let mut evals = Vec::new();
        for cell in self.profile.cells() {
            if cell.decoding == decoding && cell.decides_findings() {
                let e = self.evaluate(model, &cell, opt)?;
                evals.push((cell, e));
            }
        }
        let pairs: Vec<(&Cell, &Evaluation)> = evals.iter().map(|(c, e)| (c, e)).collect();
        self.numbers_of(&model.label(), &pairs)
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
        for st in &self.profile.stages {
            for cell in self.profile.stage_cells(&st.name) {
                if cell.role() != "sample-size" || !decodings.contains(&cell.decoding) {
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

    /// Token usage and cost per model and cell (replayed calls only; cost from
    /// `profiles/prices.toml`, "n/a" for local models).
    pub fn usage_table(&self) -> Result<Table> {
        let prices =
            crate::llm::pricing::Prices::load(&self.project.join("profiles").join("prices.toml"))?;
        let mut rows = Vec::new();
        for model in &self.models {
            for cell in self.profile.cells() {
                let r = self.replay(model, &cell)?;
                let usage = crate::llm::Usage {
                    prompt_tokens: r.prompt_tokens,
                    completion_tokens: r.completion_tokens,
                };
                let cost = prices
                    .cost(model.provider, &model.model, &usage)
                    .map(|c| format!("${c:.2}"))
                    .unwrap_or_else(|| "n/a (local)".into());
                rows.push(vec![
                    model.label(),
                    cell.id(),
                    r.calls.to_string(),
                    thousands(r.prompt_tokens),
                    thousands(r.completion_tokens),
                    cost,
                ]);
            }
        }
        Ok(Table {
            caption: format!(
                "Token usage and cost per cell, profile {} (calls replayed from the cache)",
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
    /// Returns the findings per decoding (the deciding one first) and the table.
    pub fn scorecard(&self, opt: &UtilityOptions) -> Result<(Vec<DecodedFindings>, Table)> {
        let decodings = self.scorecard_decodings();
        let mut by_decoding = Vec::new();
        for d in &decodings {
            let numbers = self
                .models
                .iter()
                .map(|m| self.finding_numbers(m, opt, *d))
                .collect::<Result<Vec<_>>>()?;
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
                        f.chapter.to_string(),
                    ]);
                    row
                })
                .collect(),
            label: "scorecard".into(),
        };
        Ok((decodings.into_iter().zip(by_decoding).collect(), table))
    }
}
