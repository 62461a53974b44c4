//! From a profile cell and the member pool to concrete requests: which real rows each call shows,
//! its seed, and the rendered prompt. A call depends only on its stream (strategy, features,
//! examples, rows per call, replicate) and index, never on the row target, so smaller runs are
//! prefixes of larger ones.

use super::grammar;
use super::profile::{Cell, Profile};
use super::strategy::{self, Group, PromptInput, Strategy, GROUPS};
use crate::cohort::matrix::{canonical, DesignMatrix};
use crate::cohort::split;
use crate::error::{Error, Result};
use crate::fsutil::sha256_hex;
use crate::llm::ConstraintForm;
use crate::llm::{ChatRequest, Message, Provenance, Sampling};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The real rows a generator may see, restricted to nothing else.
pub struct MemberPool<'a> {
    pub matrix: &'a DesignMatrix,
    /// Row indices of the member pool.
    pub rows: Vec<usize>,
}

impl<'a> MemberPool<'a> {
    /// The real rows a cell's generator may see: the member pool (`members`), or for a cell
    /// that holds a region out, every patient of the other regions — the training side of
    /// chapter 7's leave-region-out split, so its TSTR and TRTR learn from the same patients.
    pub fn for_cell(
        matrix: &'a DesignMatrix,
        members: &[usize],
        cell: &Cell,
    ) -> Result<MemberPool<'a>> {
        let rows = match &cell.held_out_region {
            None => members.to_vec(),
            Some(region) => {
                split::leave_region_out(matrix, region)
                    .map_err(|e| match e {
                        // Only add which cell asked; the split's own words name the regions.
                        Error::Invalid(why) => Error::Invalid(format!(
                            "cell {} (stage {}): {why}",
                            cell.id(),
                            cell.stage
                        )),
                        other => other,
                    })?
                    .train
            }
        };
        Ok(MemberPool { matrix, rows })
    }

    pub fn death_rate(&self) -> f64 {
        let d = self.matrix.column("death").unwrap_or(&[]);
        let n = self.rows.len().max(1);
        self.rows
            .iter()
            .filter(|&&i| d.get(i) == Some(&1.0))
            .count() as f64
            / n as f64
    }
}

/// A planned call.
pub struct Call {
    pub index: usize,
    pub seed: u64,
    pub group: Option<Group>,
    /// Member-pool row indices shown as examples.
    pub example_rows: Vec<usize>,
    pub request: ChatRequest,
    pub provenance: Provenance,
}

/// Per-call seed from the profile seed, the stream and the call index.
pub fn call_seed(profile_seed: u64, stream: &str, index: usize) -> u64 {
    let h = sha256_hex(format!("{profile_seed}/{stream}/{index}").as_bytes());
    u64::from_str_radix(&h[..15], 16).unwrap_or(0)
}

/// A value as shown to the model: derived values (hourly means, unit conversions, days from
/// minutes) are rounded to their clinical precision — 3 decimals for pH, 2 otherwise — so the
/// examples read like a real export and do not waste tokens on float noise.
pub fn shown_value(column: &str, v: f64) -> f64 {
    let scale = if column.starts_with("bg_ph") {
        1e3
    } else {
        1e2
    };
    (v * scale).round() / scale
}

/// The shown values of one row for the given columns (NaN = missing).
pub fn shown_row(m: &DesignMatrix, row: usize, columns: &[&str]) -> Vec<f64> {
    columns
        .iter()
        .map(|c| match m.index_of(c) {
            Some(i) => shown_value(c, m.value(row, i)),
            None => f64::NAN,
        })
        .collect()
}

/// CSV text of rows for the given columns: header, then values as shown to the model, missing
/// as empty fields.
pub fn rows_csv(m: &DesignMatrix, rows: &[usize], columns: &[&str]) -> String {
    let mut s = columns.join(",");
    s.push('\n');
    for &r in rows {
        let line: Vec<String> = shown_row(m, r, columns)
            .into_iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    canonical(v)
                }
            })
            .collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

/// Draw the examples of one call: for the group strategy, members of the call's group first.
fn draw_examples(
    pool: &MemberPool,
    group: Option<Group>,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let m = pool.matrix;
    let mut candidates: Vec<usize> = match group {
        Some(g) => {
            let race = m.column(g.race).unwrap_or(&[]);
            let fem = m.column("is_female").unwrap_or(&[]);
            pool.rows
                .iter()
                .copied()
                .filter(|&i| {
                    g.contains(
                        race.get(i).copied().unwrap_or(0.0),
                        fem.get(i).copied().unwrap_or(0.0),
                    )
                })
                .collect()
        }
        None => pool.rows.clone(),
    };
    candidates.shuffle(rng);
    candidates.truncate(k);
    if candidates.len() < k {
        // a small group: fill up with other members
        let mut rest: Vec<usize> = pool
            .rows
            .iter()
            .copied()
            .filter(|i| !candidates.contains(i))
            .collect();
        rest.shuffle(rng);
        candidates.extend(rest.into_iter().take(k - candidates.len()));
    }
    candidates.sort_unstable();
    candidates
}

fn render_call(
    cell: &Cell,
    pool: &MemberPool,
    examples_csv: &str,
    n_examples: usize,
    group: Option<Group>,
) -> Result<(String, String)> {
    let death_rate = format!("{:.1}%", 100.0 * pool.death_rate());
    strategy::render(&PromptInput {
        strategy: cell.strategy,
        columns: &cell.columns(),
        examples_csv,
        n_examples,
        n_rows: cell.rows_per_call,
        group,
        death_rate: &death_rate,
        layout: cell.layout,
    })
}

/// Call `index` of a cell's prompt as published with the report: exactly what the model got,
/// except that the example rows (real patients) are replaced by a line saying they are withheld.
pub fn prompt_without_rows(
    profile: &Profile,
    cell: &Cell,
    pool: &MemberPool,
    index: usize,
) -> Result<(String, String)> {
    let call = plan_call(profile, cell, pool, index)?;
    let from = match &cell.held_out_region {
        None => "the member pool".to_string(),
        Some(r) => format!("regions other than {r}"),
    };
    let placeholder = format!(
        "{}\n[{} example rows of real patients from {from}, withheld from published prompts]\n",
        cell.columns().join(","),
        call.example_rows.len()
    );
    render_call(
        cell,
        pool,
        &placeholder,
        call.example_rows.len(),
        call.group,
    )
}

pub fn plan_call(profile: &Profile, cell: &Cell, pool: &MemberPool, index: usize) -> Result<Call> {
    plan_call_as(profile, cell, pool, index, ConstraintForm::Gbnf)
}

/// As [`plan_call`], with a constrained cell's rules sent in `form`: a GBNF grammar for a local
/// llama-server, or the same rules as a JSON schema for an API (structured outputs).
pub fn plan_call_as(
    profile: &Profile,
    cell: &Cell,
    pool: &MemberPool,
    index: usize,
    form: ConstraintForm,
) -> Result<Call> {
    let stream = cell.stream_id();
    let seed = call_seed(profile.seed, &cell.seed_stream(), index);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let group = (cell.strategy == Strategy::Group).then(|| GROUPS[index % GROUPS.len()]);
    let example_rows = draw_examples(pool, group, cell.examples_per_call, &mut rng);
    let columns = cell.columns();
    let examples_csv = rows_csv(pool.matrix, &example_rows, &columns);
    let (system, user) = render_call(cell, pool, &examples_csv, example_rows.len(), group)?;
    let rules =
        (!cell.decoding.is_free()).then(|| grammar::versioned_rules(&columns, pool, cell.grammar));
    let sent_as = |f: ConstraintForm| rules.as_ref().filter(|_| form == f);
    if !cell.repetition.is_none() && form != ConstraintForm::Gbnf {
        return Err(Error::Invalid(format!(
            "cell {}: the {} sampler is llama-server's; an API has no equivalent (serve the model \
             with scripts/local-llm.sh, or drop `repetition` from the stage)",
            cell.id(),
            cell.repetition.name()
        )));
    }
    let request = ChatRequest {
        messages: vec![Message::system(system), Message::user(user)],
        sampling: Sampling {
            temperature: profile.temperature,
            top_p: profile.top_p,
            max_tokens: profile.max_tokens(cell),
            seed: Some(seed),
            grammar: sent_as(ConstraintForm::Gbnf).map(|r| grammar::gbnf(r, cell.rows_per_call)),
            json_schema: sent_as(ConstraintForm::JsonSchema)
                .map(|r| grammar::json_schema(r, cell.rows_per_call)),
            dry: cell.repetition.sampler(),
            ..Sampling::default()
        },
    };
    let mut about = json!({
        "profile": profile.name,
        "stream": stream,
        "strategy": cell.strategy.name(),
        "features": cell.features,
        "call": index,
        "group": group.map(|g| g.label()),
    });
    if let (Some(region), Some(o)) = (&cell.held_out_region, about.as_object_mut()) {
        o.insert("held_out_region".into(), json!(region));
    }
    let provenance = Provenance {
        template_id: strategy::template_id(cell.strategy, cell.layout),
        template_hash: strategy::template_hash(cell.strategy, cell.layout),
        example_row_ids: example_rows
            .iter()
            .map(|&r| pool.matrix.meta()[r].stay)
            .collect(),
        cell: about,
    };
    Ok(Call {
        index,
        seed,
        group,
        example_rows,
        request,
        provenance,
    })
}
