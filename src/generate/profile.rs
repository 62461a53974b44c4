//! Experiment grids as data (`profiles/*.toml`): stages of (strategies × feature counts × row
//! targets), how many real examples and requested rows go into each call, sampling settings,
//! replicates and the call budget.

use super::grammar::Decoding;
use super::repetition::Repetition;
use super::strategy::{Layout, Strategy};
use crate::cohort::schema;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of splits, example draws and per-call sampling seeds.
    pub seed: u64,
    /// Share of patients held out from the member pool.
    pub holdout_fraction: f64,
    pub temperature: f64,
    pub top_p: f64,
    #[serde(default = "one")]
    pub replicates: u32,
    /// Calls allowed per cell = ceil(rows / rows_per_call × budget_factor).
    pub budget_factor: f64,
    /// Give up on a cell when, after `min_calls` calls, the valid-row rate is below this.
    pub min_valid_rate: f64,
    pub min_calls: usize,
    /// Output tokens allowed per requested value (caps max_tokens from rows × columns).
    pub tokens_per_value: f64,
    /// Requests in flight (match the server's slots).
    #[serde(default = "four")]
    pub concurrency: usize,
    /// The model whose cells decide findings 1–5 and every chapter's tables (the model id sent
    /// to the provider, e.g. `qwen2.5-coder-1.5b-instruct`); other models in the cache are
    /// compared with it (finding 6). Without it, the first model by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_model: Option<String>,
    #[serde(rename = "stage")]
    pub stages: Vec<Stage>,
}

fn one() -> u32 {
    1
}
fn four() -> usize {
    4
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    pub strategies: Vec<Strategy>,
    /// Feature counts (top-k of the paper's order; 82 = all).
    pub features: Vec<usize>,
    /// Valid rows wanted per cell.
    pub rows: Vec<usize>,
    pub examples_per_call: usize,
    pub rows_per_call: usize,
    /// `free` (default) or `constrained` by a grammar built from the schema.
    #[serde(default)]
    pub decoding: Decoding,
    /// Grammar version of constrained cells (`generate::grammar`): 1 (default; what the first
    /// constrained calls were recorded with), 2 (integer parts bounded below by the range) or 3
    /// (every value bounded by its range exactly).
    #[serde(default = "one")]
    pub grammar: u32,
    /// Prompt layout: `examples-first` (default) or `prefix-first` (`strategy::Layout`).
    #[serde(default)]
    pub layout: Layout,
    /// Sampling against repetition: `none` (default) or `dry` (`generate::repetition`).
    #[serde(default)]
    pub repetition: Repetition,
    /// The study question the stage's cells answer for the findings ([`Role`]). Default: from
    /// the name, without a `-constrained` suffix. Set it when a newer stage takes a role over
    /// (`role = "none"` on the one it replaces): one stage per role and decoding decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Regions held out, one cell each (chapter 7, beyond the paper): a cell's examples come
    /// from the other regions' patients only, so its rows can be tested on real patients of a
    /// region its generator never saw. Empty (default): examples from the member pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_out_regions: Vec<String>,
}

impl Stage {
    /// The stage's study role ([`Stage::role`], else from its name).
    pub fn role_name(&self) -> &str {
        role_of(&self.name, self.role)
    }

    /// One entry per cell: each held-out region, or `None` (the member pool) when it lists none.
    fn regions(&self) -> Vec<Option<String>> {
        if self.held_out_regions.is_empty() {
            vec![None]
        } else {
            self.held_out_regions.iter().cloned().map(Some).collect()
        }
    }
}

/// What the findings' rules read a stage's cells for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Findings 1 and 2 (and the 83-column point of the dimensionality curve).
    Strategies,
    /// Findings 3 and 5.
    Dimensionality,
    /// Finding 4.
    SampleSize,
    /// Shown in its chapter, decides nothing.
    None,
}

impl Role {
    pub fn name(&self) -> &'static str {
        match self {
            Role::Strategies => "strategies",
            Role::Dimensionality => "dimensionality",
            Role::SampleSize => "sample-size",
            Role::None => "none",
        }
    }
}

/// The roles whose cells the findings' rules read.
const DECIDING: [&str; 3] = ["strategies", "dimensionality", "sample-size"];

/// A stage's role: as it set it, else its name without a `-constrained` suffix.
fn role_of(stage: &str, role: Option<Role>) -> &str {
    match role {
        Some(r) => r.name(),
        None => stage.strip_suffix("-constrained").unwrap_or(stage),
    }
}

/// One experiment cell: what is generated and how many valid rows are wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cell {
    pub stage: String,
    pub strategy: Strategy,
    pub features: usize,
    pub rows: usize,
    pub replicate: u32,
    pub examples_per_call: usize,
    pub rows_per_call: usize,
    #[serde(default)]
    pub decoding: Decoding,
    #[serde(default = "one")]
    pub grammar: u32,
    #[serde(default, skip_serializing_if = "Layout::is_examples_first")]
    pub layout: Layout,
    #[serde(default, skip_serializing_if = "Repetition::is_none")]
    pub repetition: Repetition,
    /// The stage's explicit role, if it set one ([`Stage::role`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The region whose patients the generator never saw ([`Stage::held_out_regions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_region: Option<String>,
}

impl Cell {
    /// `""` for free decoding (ids recorded before decoding was an axis stay as they were),
    /// `"-constrained"` for grammar 1, `"-constrained-g2"` for grammar 2 (and so on).
    /// `"-prefix"` after it for the prefix-first layout (examples-first adds nothing), then
    /// `"-dry"` for the DRY sampler.
    fn decoding_suffix(&self) -> String {
        let layout = if self.layout.is_examples_first() {
            ""
        } else {
            "-prefix"
        };
        let repetition = if self.repetition.is_none() {
            ""
        } else {
            "-dry"
        };
        let layout = format!("{layout}{repetition}");
        match (self.decoding.is_free(), self.grammar) {
            (true, _) => layout,
            (false, 1) => format!("-{}{layout}", self.decoding.name()),
            (false, g) => format!("-{}-g{g}{layout}", self.decoding.name()),
        }
    }
    /// What the call seeds and example draws derive from: a constrained cell shows the same
    /// examples with the same seeds as its free twin, so the two are a paired comparison.
    pub fn seed_stream(&self) -> String {
        format!(
            "{}-f{}-e{}-r{}-rep{}{}",
            self.strategy.name(),
            self.features,
            self.examples_per_call,
            self.rows_per_call,
            self.replicate,
            self.region_suffix()
        )
    }
    /// `""` for the member pool, `"-without-midwest"` for a cell that never saw the Midwest.
    fn region_suffix(&self) -> String {
        match &self.held_out_region {
            None => String::new(),
            Some(r) => {
                let slug: String = r
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '-'
                        }
                    })
                    .collect();
                format!("-without-{slug}")
            }
        }
    }
    /// Cells sharing a call stream (all but the row target equal) reuse answers: the first n
    /// rows of a larger run form the smaller run.
    pub fn stream_id(&self) -> String {
        format!("{}{}", self.seed_stream(), self.decoding_suffix())
    }
    /// A readable id, also the file stem of the cell's outputs.
    pub fn id(&self) -> String {
        format!(
            "{}-f{}-n{}-rep{}{}{}",
            self.strategy.name(),
            self.features,
            self.rows,
            self.replicate,
            self.decoding_suffix(),
            self.region_suffix()
        )
    }
    pub fn columns(&self) -> Vec<&'static str> {
        schema::top_k(self.features)
    }
    pub fn nominal_calls(&self) -> usize {
        self.rows.div_ceil(self.rows_per_call.max(1))
    }
    /// The strategy as tables name it: "group", or "group, constrained" for a constrained cell.
    pub fn strategy_label(&self) -> String {
        if self.decoding.is_free() {
            self.strategy.name().to_string()
        } else {
            format!("{}, {}", self.strategy.name(), self.decoding.name())
        }
    }

    /// The decoding as tables name it: "free", "constrained" (grammar 1, the pilot) or
    /// "constrained, grammar N" — cells of two grammars otherwise look alike in one table —
    /// and ", DRY" after it for the DRY sampler.
    pub fn decoding_label(&self) -> String {
        let base = match (self.decoding.is_free(), self.grammar) {
            (true, _) | (false, 1) => self.decoding.name().to_string(),
            (false, g) => format!("{}, grammar {g}", self.decoding.name()),
        };
        match self.repetition {
            Repetition::None => base,
            Repetition::Dry => format!("{base}, DRY"),
        }
    }

    /// The study role of the cell's stage: as the stage set it, else its name without the
    /// decoding suffix, so that `strategies-constrained` answers the same questions as
    /// `strategies`.
    pub fn role(&self) -> &str {
        role_of(&self.stage, self.role)
    }

    /// Whether the findings' rules read this cell: its stage plays the strategies,
    /// dimensionality or sample-size role.
    pub fn decides_findings(&self) -> bool {
        DECIDING.contains(&self.role())
    }

    /// The same calls and rows, whatever stage lists it.
    pub fn same_calls(&self, other: &Cell) -> bool {
        self.id() == other.id() && self.stream_id() == other.stream_id()
    }
}

impl Profile {
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let p: Profile = toml::from_str(&text).map_err(|e| Error::bad_file(path, e.to_string()))?;
        p.validate().map_err(|m| Error::bad_file(path, m))?;
        Ok(p)
    }

    /// Find `profiles/NAME.toml` (or take a path).
    pub fn find(name_or_path: &str) -> Result<Profile> {
        let p = Path::new(name_or_path);
        if p.is_file() {
            return Profile::load(p);
        }
        let dirs: Vec<PathBuf> = std::iter::once(PathBuf::from("profiles"))
            .chain(crate::project::root().ok().map(|r| r.join("profiles")))
            .collect();
        for d in &dirs {
            let c = d.join(format!("{name_or_path}.toml"));
            if c.is_file() {
                return Profile::load(&c);
            }
        }
        // the profiles there are (prices.toml beside them is the API price table)
        let mut names: Vec<String> = dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .filter_map(|e| {
                let p = e.ok()?.path();
                let stem = p.file_stem()?.to_str()?.to_string();
                (p.extension()? == "toml" && stem != "prices").then_some(stem)
            })
            .collect();
        names.sort();
        names.dedup();
        Err(Error::Invalid(format!(
            "no profile '{name_or_path}' (looked in profiles/); the profiles: {}",
            if names.is_empty() {
                "none found".to_string()
            } else {
                names.join(", ")
            }
        )))
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !(0.0..1.0).contains(&self.holdout_fraction) || self.holdout_fraction <= 0.0 {
            return Err("holdout_fraction must be in (0, 1)".into());
        }
        // sampling settings every provider accepts; anything else would be sent and fail late
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(format!("temperature {} is not in [0, 2]", self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(format!("top_p {} is not in (0, 1]", self.top_p));
        }
        if self.replicates == 0 {
            return Err("replicates must be at least 1".into());
        }
        if !(self.budget_factor >= 1.0 && self.budget_factor.is_finite()) {
            return Err(format!(
                "budget_factor {} must be at least 1 (calls allowed per nominal call)",
                self.budget_factor
            ));
        }
        if !(0.0..=1.0).contains(&self.min_valid_rate) {
            return Err(format!(
                "min_valid_rate {} is not in [0, 1]",
                self.min_valid_rate
            ));
        }
        if !(self.tokens_per_value > 0.0 && self.tokens_per_value.is_finite()) {
            return Err(format!(
                "tokens_per_value {} must be > 0",
                self.tokens_per_value
            ));
        }
        if self.concurrency == 0 {
            return Err("concurrency must be at least 1".into());
        }
        if self.stages.is_empty() {
            return Err("no [[stage]]: the profile asks for nothing".into());
        }
        for (i, s) in self.stages.iter().enumerate() {
            // cells, results and `--stage` are keyed by stage name
            if self.stages[..i].iter().any(|o| o.name == s.name) {
                return Err(format!(
                    "two stages are named {}: give each its own",
                    s.name
                ));
            }
            if s.strategies.is_empty() || s.features.is_empty() || s.rows.is_empty() {
                return Err(format!(
                    "stage {}: strategies, features and rows must each list at least one value",
                    s.name
                ));
            }
            if s.rows.contains(&0) {
                return Err(format!(
                    "stage {}: a row target of 0 asks for nothing",
                    s.name
                ));
            }
            if s.rows_per_call == 0 || s.examples_per_call == 0 {
                return Err(format!(
                    "stage {}: rows_per_call and examples_per_call must be > 0",
                    s.name
                ));
            }
            if !super::grammar::is_version(s.grammar) {
                return Err(format!(
                    "stage {}: grammar {} is not a grammar version (1 to {})",
                    s.name,
                    s.grammar,
                    super::grammar::LATEST
                ));
            }
            if let Some(other) = self.stages[..i].iter().find(|o| {
                o.decoding == s.decoding
                    && self.deciding_role(o).is_some()
                    && self.deciding_role(o) == self.deciding_role(s)
            }) {
                return Err(format!(
                    "stages {} and {} both play the {} role under {} decoding: one stage per \
                     role and decoding decides the findings (set role = \"none\" on the other)",
                    other.name,
                    s.name,
                    self.deciding_role(s).unwrap_or_default(),
                    s.decoding.name()
                ));
            }
            if let Some(r) = s.held_out_regions.iter().find(|r| r.trim().is_empty()) {
                return Err(format!(
                    "stage {}: held-out region {r:?} has no name",
                    s.name
                ));
            }
            if let Some(r) = s
                .held_out_regions
                .iter()
                .enumerate()
                .find(|(i, r)| s.held_out_regions[..*i].contains(r))
                .map(|(_, r)| r)
            {
                return Err(format!(
                    "stage {}: held-out region {r} is listed twice",
                    s.name
                ));
            }
            if !s.held_out_regions.is_empty() {
                if let Some(role) = self.deciding_role(s) {
                    return Err(format!(
                        "stage {}: its cells never saw a region's patients, so they cannot play \
                         the {role} role (scored against the member/holdout split); name it \
                         across-regions or set role = \"none\"",
                        s.name
                    ));
                }
            }
            if let Some(k) = s.features.iter().find(|k| **k == 0 || **k > 82) {
                return Err(format!(
                    "stage {}: feature count {k} is not in 1..=82",
                    s.name
                ));
            }
        }
        Ok(())
    }

    /// The role a stage's cells play if it is one the findings read.
    fn deciding_role<'a>(&self, st: &'a Stage) -> Option<&'a str> {
        Some(st.role_name()).filter(|r| DECIDING.contains(r))
    }

    /// Cells in the order they should fill: replicate 0 of every stage first (stages in file
    /// order), then further replicates. Duplicate cells across stages appear once.
    pub fn cells(&self) -> Vec<Cell> {
        let mut out: Vec<Cell> = Vec::new();
        for c in self.every_cell() {
            if !out.iter().any(|o| o.same_calls(&c)) {
                out.push(c);
            }
        }
        out
    }

    /// The cells of the named stages (all when none is named), as `cells()` orders them. A
    /// name the profile does not have is an error listing its stages: a typo would otherwise
    /// run or replay nothing and report success.
    pub fn cells_of(&self, stages: &[String]) -> Result<Vec<Cell>> {
        if let Some(unknown) = stages
            .iter()
            .find(|n| !self.stages.iter().any(|st| &st.name == *n))
        {
            let names: Vec<&str> = self.stages.iter().map(|st| st.name.as_str()).collect();
            return Err(Error::Invalid(format!(
                "no stage '{unknown}' in profile {}; its stages: {}",
                self.name,
                names.join(", ")
            )));
        }
        Ok(self
            .cells()
            .into_iter()
            .filter(|c| stages.is_empty() || stages.contains(&c.stage))
            .collect())
    }

    /// The cells one stage asks for, in order, including those an earlier stage already holds
    /// (then the earlier stage's cell): the sample-size stage's 200-row cell is the
    /// dimensionality stage's 10-feature cell.
    pub fn stage_cells(&self, stage: &str) -> Vec<Cell> {
        let kept = self.cells();
        self.every_cell()
            .into_iter()
            .filter(|c| c.stage == stage)
            .filter_map(|c| kept.iter().find(|k| k.same_calls(&c)).cloned())
            .collect()
    }

    /// Every (stage, strategy, features, rows, replicate) the profile lists, duplicates kept.
    fn every_cell(&self) -> Vec<Cell> {
        let mut out = Vec::new();
        for replicate in 0..self.replicates {
            for st in &self.stages {
                for &strategy in &st.strategies {
                    for &features in &st.features {
                        for &rows in &st.rows {
                            for region in st.regions() {
                                out.push(Cell {
                                    stage: st.name.clone(),
                                    strategy,
                                    features,
                                    rows,
                                    replicate,
                                    examples_per_call: st.examples_per_call,
                                    rows_per_call: st.rows_per_call,
                                    decoding: st.decoding,
                                    grammar: st.grammar,
                                    layout: st.layout,
                                    repetition: st.repetition,
                                    role: st.role,
                                    held_out_region: region,
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    pub fn call_budget(&self, cell: &Cell) -> usize {
        ((cell.nominal_calls() as f64) * self.budget_factor).ceil() as usize
    }

    /// max_tokens for a call: rows × columns × tokens per value, plus room for a header line.
    pub fn max_tokens(&self, cell: &Cell) -> u32 {
        let cols = cell.features + 1;
        let per_row = cols as f64 * self.tokens_per_value + 2.0;
        (cell.rows_per_call as f64 * per_row + cols as f64 * 4.0 + 64.0).ceil() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smoke_text() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/smoke.toml"))
            .unwrap()
    }

    #[test]
    fn impossible_settings_are_refused_with_the_reason() {
        let base = smoke_text();
        let dir = tempfile::tempdir().unwrap();
        for (from, to, says) in [
            ("rows = [10]", "rows = [0]", "row target of 0"),
            ("replicates = 1", "replicates = 0", "replicates"),
            ("temperature = 0.7", "temperature = -3", "temperature"),
            ("top_p = 0.95", "top_p = 7", "top_p"),
            (
                "budget_factor = 1.0",
                "budget_factor = -1.0",
                "budget_factor",
            ),
            (
                "min_valid_rate = 0.05",
                "min_valid_rate = 2.0",
                "min_valid_rate",
            ),
            (
                "tokens_per_value = 5.0",
                "tokens_per_value = 0.0",
                "tokens_per_value",
            ),
            ("concurrency = 4", "concurrency = 0", "concurrency"),
            (
                "[[stage]]\n",
                "[[stage]]\ngrammar = 9\n",
                "grammar 9 is not a grammar version (1 to 3)",
            ),
            ("[[stage]]\n", "[[stage]]\ngrammar = 0\n", "grammar 0"),
            // results are keyed by stage: a second stage of the same name would overwrite
            (
                "[[stage]]\n",
                "[[stage]]\nname = \"smoke\"\nstrategies = [\"naive\"]\nfeatures = [5]\nrows = [10]\nexamples_per_call = 10\nrows_per_call = 10\n\n[[stage]]\n",
                "two stages are named smoke",
            ),
        ] {
            assert!(base.contains(from), "{from}");
            let p = dir.path().join("p.toml");
            std::fs::write(&p, base.replace(from, to)).unwrap();
            let err = Profile::load(&p).unwrap_err().to_string();
            assert!(err.contains(says), "{to}: {err}");
        }
        for name in ["local", "paper", "smoke", "constrained-check"] {
            Profile::find(name).unwrap();
        }
    }

    #[test]
    fn an_unknown_profile_is_refused_naming_the_profiles_there_are() {
        let err = Profile::find("loacl").unwrap_err().to_string();
        assert!(
            err.contains("no profile 'loacl'")
                && err.contains("constrained-check, local, paper, smoke")
                && !err.contains("prices"),
            "{err}"
        );
    }

    #[test]
    fn a_stage_the_profile_does_not_have_is_refused_naming_those_it_has() {
        let p = Profile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/local.toml"))
            .unwrap();
        // no stage named: every cell
        assert_eq!(p.cells_of(&[]).unwrap().len(), p.cells().len());
        let chosen = p.cells_of(&["strategies-constrained".to_string()]).unwrap();
        assert!(!chosen.is_empty());
        assert!(chosen.iter().all(|c| c.stage == "strategies-constrained"));
        // a typo would otherwise run (or replay) nothing and say nothing
        let err = p
            .cells_of(&[
                "strategies-constrained".into(),
                "strategy-constrained".into(),
            ])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no stage 'strategy-constrained' in profile local")
                && err.contains("across-regions-constrained"),
            "{err}"
        );
    }

    #[test]
    fn one_stage_per_role_and_decoding_decides_the_findings() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/local.toml");
        let p = Profile::load(&dir).unwrap();
        let deciding = |stage: &str| {
            p.cells()
                .iter()
                .filter(|c| c.stage == stage)
                .map(|c| (c.role().to_string(), c.decides_findings()))
                .next()
        };
        // grammar 3 took the dimensionality role over from grammar 2 by the stages' `role`;
        // the others take theirs from their names
        for (stage, role, decides) in [
            ("dimensionality-constrained-g3", "dimensionality", true),
            ("dimensionality-constrained", "none", false),
            ("strategies-constrained", "strategies", true),
            ("constrained-pilot", "constrained-pilot", false),
        ] {
            assert_eq!(
                deciding(stage),
                Some((role.to_string(), decides)),
                "{stage}"
            );
        }
        // two constrained dimensionality stages would each decide: refused, naming both
        let text = std::fs::read_to_string(&dir).unwrap();
        let both = text.replacen("role = \"none\"\n", "", 1);
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("p.toml");
        std::fs::write(&f, both).unwrap();
        let err = Profile::load(&f).unwrap_err().to_string();
        assert!(
            err.contains("dimensionality-constrained and dimensionality-constrained-g3")
                && err.contains("dimensionality role"),
            "{err}"
        );
        std::fs::write(&f, text.replace("role = \"none\"", "role = \"leader\"")).unwrap();
        assert!(Profile::load(&f).is_err(), "an unknown role is refused");
    }

    #[test]
    fn a_stage_holding_regions_out_has_a_cell_per_region_that_decides_nothing() {
        let base = smoke_text();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.toml");
        let with = |stage: &str| {
            format!(
                "{base}\n[[stage]]\nname = \"{stage}\"\nstrategies = [\"group\"]\nfeatures = [10]\n\
                 rows = [40]\nexamples_per_call = 8\nrows_per_call = 20\n\
                 held_out_regions = [\"Midwest\", \"South\"]\n"
            )
        };
        std::fs::write(&f, with("across-regions")).unwrap();
        let p = Profile::load(&f).unwrap();
        let cells = p.stage_cells("across-regions");
        let ids: Vec<String> = cells.iter().map(Cell::id).collect();
        assert_eq!(
            ids,
            [
                "group-f10-n40-rep0-without-midwest",
                "group-f10-n40-rep0-without-south"
            ]
        );
        assert!(cells.iter().all(|c| !c.decides_findings()));
        // the cells of the other stages hold no region
        assert!(p
            .cells()
            .iter()
            .filter(|c| c.stage != "across-regions")
            .all(|c| c.held_out_region.is_none()));
        for (text, says) in [
            (
                with("strategies-constrained"),
                "cannot play the strategies role",
            ),
            (
                with("across-regions").replace("\"South\"]", "\"Midwest\"]"),
                "Midwest is listed twice",
            ),
            (
                with("across-regions").replace("\"South\"]", "\" \"]"),
                "has no name",
            ),
        ] {
            std::fs::write(&f, text).unwrap();
            let err = Profile::load(&f).unwrap_err().to_string();
            assert!(err.contains(says), "{says}: {err}");
        }
    }

    #[test]
    fn a_stage_lists_the_cells_an_earlier_stage_holds() {
        let p = Profile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/local.toml"))
            .unwrap();
        // the 200-row sample-size cell is generated once, as the 10-feature dimensionality cell
        assert!(!p
            .cells()
            .iter()
            .any(|c| c.stage == "sample-size" && c.rows == 200));
        let rows: Vec<(String, usize)> = p
            .stage_cells("sample-size")
            .iter()
            .map(|c| (c.stage.clone(), c.rows))
            .collect();
        assert_eq!(
            rows,
            [
                ("dimensionality".to_string(), 200),
                ("sample-size".to_string(), 500),
                ("sample-size".to_string(), 1000)
            ]
        );
        assert_eq!(p.stage_cells("strategies").len(), 4);
        assert!(p.stage_cells("no such stage").is_empty());
    }
}
