//! `synthehr cache stats` and `synthehr cache verify`.

use super::cache::{check_entry, Cache, Entry};
use super::pricing::Prices;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelStats {
    pub entries: usize,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub latency_ms: u64,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub entries: usize,
    pub bytes: u64,
    pub unreadable: usize,
    pub per_model: BTreeMap<String, ModelStats>,
    /// Entries per profile and stage/cell label, from each entry's provenance.
    pub per_cell: BTreeMap<String, usize>,
}

/// Read every valid entry (skipping unreadable files, which `verify` reports).
pub fn entries(cache: &Cache) -> (Vec<Entry>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    // a writer's half-written temp file is no unreadable entry
    for f in cache.files().into_iter().filter(|f| !in_flight(f)) {
        match std::fs::read(&f)
            .ok()
            .and_then(|b| check_entry(&b, None).ok())
        {
            Some(e) => out.push(e),
            None => bad += 1,
        }
    }
    (out, bad)
}

/// A writer's temp file (renamed into place when the answer is complete).
fn in_flight(f: &std::path::Path) -> bool {
    f.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".tmp"))
}

pub fn stats(cache: &Cache, prices: &Prices) -> Stats {
    let mut s = Stats::default();
    for f in cache.files() {
        s.bytes += std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
    }
    let (all, bad) = entries(cache);
    s.unreadable = bad;
    s.entries = all.len();
    for e in &all {
        let m = s.per_model.entry(e.model.label()).or_default();
        m.entries += 1;
        m.prompt_tokens += e.usage().prompt_tokens;
        m.completion_tokens += e.usage().completion_tokens;
        m.latency_ms += e.latency_ms;
        if let Some(c) = prices.cost(e.model.provider, &e.model.model, e.usage()) {
            *m.cost_usd.get_or_insert(0.0) += c;
        }
        let cell = &e.provenance.cell;
        let label = ["profile", "strategy", "features"]
            .iter()
            .filter_map(|k| {
                cell.get(*k)
                    .map(|v| format!("{k}={}", v.to_string().trim_matches('"')))
            })
            .collect::<Vec<_>>()
            .join(" ");
        *s.per_cell
            .entry(if label.is_empty() {
                "(no cell)".into()
            } else {
                label
            })
            .or_default() += 1;
    }
    s
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} entries, {:.1} KiB, {} unreadable",
            self.entries,
            self.bytes as f64 / 1024.0,
            self.unreadable
        )?;
        if self.unreadable > 0 {
            // stats skips them; verify says which and why
            write!(f, " (`synthehr cache verify` names them)")?;
        }
        writeln!(f)?;
        for (m, s) in &self.per_model {
            writeln!(
                f,
                "  {m}: {} entries, {} prompt + {} completion tokens, {:.2} h of request time, cost {}",
                s.entries,
                s.prompt_tokens,
                s.completion_tokens,
                s.latency_ms as f64 / 3.6e6,
                s.cost_usd.map(|c| format!("${c:.2}")).unwrap_or_else(|| "n/a (local)".into())
            )?;
        }
        for (c, n) in &self.per_cell {
            writeln!(f, "    {c}: {n}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub checked: usize,
    pub valid: usize,
    /// (file, why)
    pub corrupt: Vec<(PathBuf, String)>,
    /// Files that are not entries where they stand: temp files, wrong shard, other names.
    pub orphaned: Vec<PathBuf>,
    /// Keys whose inputs (model, prompt hash, sampling, replicate) equal another key's.
    pub duplicates: Vec<(String, String)>,
    /// A writer's temp files (`.tmp*`, renamed into place when complete): neither entries nor
    /// orphans, never pruned.
    pub in_flight: Vec<PathBuf>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.corrupt.is_empty() && self.orphaned.is_empty() && self.duplicates.is_empty()
    }
}

pub fn verify(cache: &Cache) -> VerifyReport {
    let mut r = VerifyReport::default();
    let mut seen: HashMap<String, String> = HashMap::new();
    // a file beside the shards is nobody's entry
    if let Ok(rd) = std::fs::read_dir(cache.root()) {
        for e in rd.flatten() {
            if e.path().is_file() && e.file_name() != super::cache::LOCK_FILE {
                r.checked += 1;
                r.orphaned.push(e.path());
            }
        }
    }
    for f in cache.files() {
        if in_flight(&f) {
            r.in_flight.push(f);
            continue;
        }
        r.checked += 1;
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let shard = f
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(key) = name
            .strip_suffix(".json")
            .filter(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            r.orphaned.push(f);
            continue;
        };
        if !key.starts_with(&shard) {
            r.orphaned.push(f);
            continue;
        }
        let bytes = match std::fs::read(&f) {
            Ok(b) => b,
            Err(e) => {
                r.corrupt.push((f, e.to_string()));
                continue;
            }
        };
        match check_entry(&bytes, Some(key)) {
            Ok(e) => {
                r.valid += 1;
                let inputs = format!(
                    "{}|{}|{}|{}",
                    serde_json::to_string(&e.model).unwrap_or_default(),
                    e.prompt_hash,
                    serde_json::to_string(&e.sampling).unwrap_or_default(),
                    e.replicate
                );
                if let Some(other) = seen.insert(inputs, e.key.clone()) {
                    r.duplicates.push((other, e.key));
                }
            }
            Err(why) => r.corrupt.push((f, why)),
        }
    }
    r
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "checked {} file(s): {} valid", self.checked, self.valid)?;
        for (p, why) in &self.corrupt {
            writeln!(f, "  CORRUPT {}: {why}", p.display())?;
        }
        for p in &self.orphaned {
            writeln!(
                f,
                "  ORPHANED {} (not an entry file in its shard)",
                p.display()
            )?;
        }
        for (a, b) in &self.duplicates {
            writeln!(f, "  DUPLICATE {a} and {b} have the same inputs")?;
        }
        if !self.in_flight.is_empty() {
            writeln!(
                f,
                "  {} file(s) being written by a running generator (left alone)",
                self.in_flight.len()
            )?;
        }
        write!(
            f,
            "{}",
            if self.is_ok() {
                "cache OK"
            } else {
                "cache has problems"
            }
        )
    }
}
