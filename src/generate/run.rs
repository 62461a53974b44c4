//! Running a profile's cells through the LLM client (cache first), with bounded concurrency,
//! the per-cell stop rule, progress with tokens/s and ETA, and each cell's synthetic table and
//! rejection counts written under the output directory.

use super::parse::{self, row_key, CellRows};
use super::plan::{plan_call_as, shown_row, Call, MemberPool};
use super::profile::{Cell, Profile};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::llm::answers::{Answered, Answers};
use crate::llm::CacheMode;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CellStatus {
    /// Enough valid rows.
    Complete,
    /// The call budget ran out first (reported, not hidden).
    BudgetReached,
    /// The valid-row rate stayed below the profile's minimum.
    GaveUp,
    /// Replay found calls missing from the cache.
    Incomplete { missing: Vec<String> },
    /// Replay found a cache file it cannot use: never shown as "not generated yet".
    Corrupt { file: PathBuf, why: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    pub cell: Cell,
    pub status: CellStatus,
    pub calls: usize,
    pub valid_rows: usize,
    pub valid_rate: f64,
    pub rows: CellRows,
    pub columns: Vec<String>,
    /// Member rows shown in the calls used (by stay id): the privacy attack's members.
    pub shown_stay_ids: BTreeSet<i64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Cache keys of the calls used.
    pub keys: Vec<String>,
}

impl CellResult {
    /// Share of the record lines the model wrote that copied a shown row, before the copy
    /// filter: a line removed at record time stays in the answer as a marker the parser counts
    /// as a copy, so copies over all record lines (`None` when the model wrote none).
    pub fn copied_line_rate(&self) -> Option<f64> {
        let copies = self
            .rows
            .rejects
            .get(&parse::Reject::CopyOfShownRow)
            .copied()
            .unwrap_or(0);
        let lines = self.rows.candidate_lines;
        (lines > 0).then(|| copies as f64 / lines as f64)
    }
}

/// One finished call, as progress reports it.
#[derive(Debug, Clone, Copy)]
pub struct CallDone {
    /// Asked of the provider in this run (false: read from the cache).
    pub fresh: bool,
    /// This call's completion tokens and the time its request took when recorded.
    pub completion_tokens: u64,
    pub latency_ms: u64,
    /// Completion tokens generated (not replayed) so far in this run.
    pub fresh_total: u64,
}

/// Observer of progress (the CLI draws a bar; tests pass a no-op).
pub trait Progress: Sync {
    fn call_done(&self, _cell: &Cell, _call: &CallDone) {}
}
pub struct NoProgress;
impl Progress for NoProgress {}

/// A cell that stops at call `first` (not in the cache, or not requested) with `valid` rows:
/// that call and the calls after it its missing rows need if every row were valid (a lower
/// bound, within the budget), with their keys, so the missing work can be listed.
fn incomplete<A: Answers>(
    profile: &Profile,
    cell: &Cell,
    pool: &MemberPool<'_>,
    client: &A,
    (first, valid): (usize, usize),
    why: &Error,
) -> Result<CellStatus> {
    let needed = cell
        .rows
        .saturating_sub(valid)
        .div_ceil(cell.rows_per_call.max(1))
        .min(profile.call_budget(cell).saturating_sub(first))
        .max(1);
    let mut missing = vec![format!("call {first} ({why})")];
    for j in first + 1..first + needed {
        let c = plan_call_as(profile, cell, pool, j, client.constraint_form())?;
        missing.push(format!(
            "call {j}: key {}",
            client.key(&c.request, cell.replicate)
        ));
    }
    Ok(CellStatus::Incomplete { missing })
}

/// Run one cell.
pub async fn run_cell<A: Answers>(
    client: &A,
    profile: &Profile,
    cell: &Cell,
    pool: &MemberPool<'_>,
    progress: &dyn Progress,
) -> Result<CellResult> {
    let columns = cell.columns();
    let budget = profile.call_budget(cell);
    let mut rows = CellRows::default();
    let mut shown_rows: HashSet<Vec<u64>> = HashSet::new();
    let mut shown_ids = BTreeSet::new();
    let (mut prompt_tokens, mut completion_tokens) = (0, 0);
    let mut keys = Vec::new();
    // calls out, finished calls waiting for an earlier one, and how many of those out another
    // cell or generator process was already asking when this one planned them
    let mut running = FuturesUnordered::new();
    let mut finished: BTreeMap<usize, (Call, Result<Answered>)> = BTreeMap::new();
    let mut asked_elsewhere = 0usize;
    let mut next = 0usize;
    let mut status = None;
    let concurrency = client.concurrency();
    let per_call = cell.rows_per_call.max(1);
    let enough = |r: &CellRows| r.rows.len() >= cell.rows;

    while status.is_none() {
        // Keep this run's slots busy: a call that ended behind a slower one frees its slot, and
        // a call someone else is asking only waits for that answer, so neither counts. Never
        // plan past the budget, nor past what the calls out would fill if every row were valid.
        while running.len() - asked_elsewhere < concurrency
            && next < budget
            && rows.rows.len() + (next - rows.calls) * per_call < cell.rows
        {
            let call: Call = plan_call_as(profile, cell, pool, next, client.constraint_form())?;
            next += 1;
            let elsewhere = client.asked_elsewhere(&call.request, cell.replicate);
            asked_elsewhere += usize::from(elsewhere);
            let columns = columns.clone();
            running.push(async move {
                // the rows this call shows, as shown: a line of the answer equal to one of them
                // is removed before the answer is cached
                let shown = parse::Shown::new(
                    &call
                        .example_rows
                        .iter()
                        .map(|&r| shown_row(pool.matrix, r, &columns))
                        .collect::<Vec<_>>(),
                );
                let redact = |text: &str| parse::redact_copies(text, &columns, &shown);
                let entry = client
                    .answer(
                        &call.request,
                        cell.replicate,
                        call.provenance.clone(),
                        Some(&redact),
                    )
                    .await;
                // reported as it ends, not in call order: a long call ahead of it in the queue
                // must not hide finished (and cached) work for hours
                if let Ok(a) = &entry {
                    progress.call_done(
                        cell,
                        &CallDone {
                            fresh: a.fresh,
                            completion_tokens: a.entry.usage().completion_tokens,
                            latency_ms: a.entry.latency_ms,
                            fresh_total: client.fresh_completion_tokens(),
                        },
                    );
                }
                (call, entry, elsewhere)
            });
            if client.mode() == CacheMode::Replay {
                break; // replay is instant; keep strict call order
            }
        }
        let Some((call, entry, elsewhere)) = running.next().await else {
            status = Some(CellStatus::BudgetReached);
            break;
        };
        asked_elsewhere -= usize::from(elsewhere);
        finished.insert(call.index, (call, entry));
        // the rows count in call order (so a cell's rows do not depend on timing): the next
        // call to count is the one after the `rows.calls` counted so far
        while status.is_none() {
            let Some((call, entry)) = finished.remove(&rows.calls) else {
                break;
            };
            let Answered { entry, .. } = match entry {
                Ok(a) => a,
                Err(Error::CorruptEntry { file, why }) if client.mode() == CacheMode::Replay => {
                    status = Some(CellStatus::Corrupt { file, why });
                    break;
                }
                // not in the cache (replay) or not asked (the run's call cap): the rest is missing
                Err(why)
                    if matches!(why, Error::CallCap { .. })
                        || (matches!(why, Error::ReplayMiss { .. })
                            && client.mode() == CacheMode::Replay) =>
                {
                    let at = (call.index, rows.rows.len());
                    status = Some(incomplete(profile, cell, pool, client, at, &why)?);
                    break;
                }
                Err(e) => return Err(e),
            };
            prompt_tokens += entry.usage().prompt_tokens;
            completion_tokens += entry.usage().completion_tokens;
            keys.push(entry.key.clone());
            for &r in &call.example_rows {
                shown_ids.insert(pool.matrix.meta()[r].stay);
                let vals = shown_row(pool.matrix, r, &columns);
                shown_rows.insert(row_key(&vals));
            }
            rows.add(
                call.index,
                parse::parse(&entry.response.text, &columns),
                &shown_rows,
            );
            if enough(&rows) {
                status = Some(CellStatus::Complete);
            } else if rows.calls >= budget {
                status = Some(CellStatus::BudgetReached);
            } else if rows.calls >= profile.min_calls && rows.valid_rate() < profile.min_valid_rate
            {
                status = Some(CellStatus::GaveUp);
            }
        }
    }
    // the first n valid rows form the cell (so smaller runs are prefixes of larger ones)
    rows.rows.truncate(cell.rows);
    rows.row_call.truncate(cell.rows);
    Ok(CellResult {
        cell: cell.clone(),
        status: status.unwrap_or(CellStatus::BudgetReached),
        calls: rows.calls,
        valid_rows: rows.rows.len(),
        valid_rate: rows.valid_rate(),
        columns: columns.iter().map(|s| s.to_string()).collect(),
        rows,
        shown_stay_ids: shown_ids,
        prompt_tokens,
        completion_tokens,
        keys,
    })
}

/// Write `<dir>/<cell id>.csv` (the synthetic rows) and `<cell id>.json` (everything else).
pub fn write_cell(dir: &Path, result: &CellResult) -> Result<PathBuf> {
    let names: Vec<&str> = result.columns.iter().map(String::as_str).collect();
    let csv = crate::metrics::Frame::from_rows(&names, &result.rows.rows).to_csv();
    let path = dir.join(format!("{}.csv", result.cell.id()));
    write_atomic(&path, csv.as_bytes())?;
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "cell": result.cell,
        "status": result.status,
        "calls": result.calls,
        "valid_rows": result.valid_rows,
        "valid_rate": result.valid_rate,
        "candidate_lines": result.rows.candidate_lines,
        "rejects": result.rows.rejects_by_name(),
        "out_of_range": result.rows.out_of_range,
        "columns": result.columns.len(),
        "columns_varied_per_call": result.rows.columns_varied_per_call(),
        "shown_stay_ids": result.shown_stay_ids,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "keys": result.keys,
    }))
    .map_err(|e| Error::Invalid(e.to_string()))?;
    write_atomic(&dir.join(format!("{}.json", result.cell.id())), &json)?;
    Ok(path)
}
