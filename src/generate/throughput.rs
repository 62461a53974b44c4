//! The throughput benchmark: a fixed set of real requests against a running server, per workload
//! (strategy × features × rows per call × decoding × prompt layout), measured as the server sees
//! it (prompt tokens evaluated after prefix reuse, tokens generated) and as the study pays for it:
//! **valid rows per CPU-hour** of the server process. Answers are parsed exactly as a cell's are
//! but never cached: they measure a server setting, not study data.

use super::grammar::Decoding;
use super::parse::{self, row_key, CellRows};
use super::plan::{plan_call_as, shown_row, MemberPool};
use super::profile::{Cell, Profile};
use super::repetition::Repetition;
use super::strategy::{Layout, Strategy};
use crate::error::{Error, Result};
use crate::llm::LlmClient;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

/// One workload: `STRATEGY/fFEATURES/rROWS/DECODING[/prefix][/dry][/eEXAMPLES][/gGRAMMAR]`,
/// e.g. `group/f82/r5/constrained/prefix`. Examples per call default to the grid's (20 up to 20
/// features, 5 above), grammar to 2.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub cell: Cell,
}

impl std::str::FromStr for Workload {
    type Err = Error;
    fn from_str(spec: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::Invalid(format!(
                "workload '{spec}': {why} (expected STRATEGY/fFEATURES/rROWS/free|constrained\
                 [/prefix][/dry][/eEXAMPLES][/gGRAMMAR], e.g. group/f10/r20/constrained)"
            ))
        };
        let parts: Vec<&str> = spec.split('/').collect();
        if parts.len() < 4 {
            return Err(bad("too few parts"));
        }
        let strategy: Strategy = parts[0].parse().map_err(|_| bad("unknown strategy"))?;
        let number = |p: &str, tag: char| -> Result<usize> {
            p.strip_prefix(tag)
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(&format!("'{p}' is not {tag} and a positive number")))
        };
        let features = number(parts[1], 'f')?;
        if features > crate::cohort::schema::top_k(usize::MAX).len() - 1 {
            return Err(bad("more features than the schema has"));
        }
        let rows_per_call = number(parts[2], 'r')?;
        let decoding = match parts[3] {
            "free" => Decoding::Free,
            "constrained" => Decoding::Constrained,
            _ => return Err(bad("decoding must be free or constrained")),
        };
        let mut cell = Cell {
            stage: "throughput".into(),
            strategy,
            features,
            rows: rows_per_call,
            replicate: 0,
            examples_per_call: default_examples(features),
            rows_per_call,
            decoding,
            grammar: DEFAULT_GRAMMAR,
            layout: Layout::ExamplesFirst,
            repetition: Repetition::None,
            role: None,
            held_out_region: None,
        };
        for p in &parts[4..] {
            match *p {
                "prefix" => cell.layout = Layout::PrefixFirst,
                "dry" => cell.repetition = Repetition::Dry,
                p if p.starts_with('e') => cell.examples_per_call = number(p, 'e')?,
                p if p.starts_with('g') => {
                    cell.grammar = number(p, 'g')? as u32;
                    if !super::grammar::is_version(cell.grammar) {
                        return Err(bad("no such grammar version"));
                    }
                }
                _ => return Err(bad(&format!("unknown option '{p}'"))),
            }
        }
        Ok(Workload { cell })
    }
}

/// The grammar a constrained workload uses unless it says `/gN` (what the first measurements used).
const DEFAULT_GRAMMAR: u32 = 2;

/// Examples per call unless a workload says `/eN`: the grid's (20 up to 20 features, else 5).
fn default_examples(features: usize) -> usize {
    if features <= 20 {
        20
    } else {
        5
    }
}

impl Workload {
    /// The spec again, in canonical form.
    pub fn name(&self) -> String {
        let c = &self.cell;
        let mut s = format!(
            "{}/f{}/r{}/{}",
            c.strategy.name(),
            c.features,
            c.rows_per_call,
            c.decoding.name()
        );
        // options at their defaults stay out, so names measured before them still match
        if c.examples_per_call != default_examples(c.features) {
            s.push_str(&format!("/e{}", c.examples_per_call));
        }
        if !c.decoding.is_free() && c.grammar != DEFAULT_GRAMMAR {
            s.push_str(&format!("/g{}", c.grammar));
        }
        if !c.layout.is_examples_first() {
            s.push_str("/prefix");
        }
        if !c.repetition.is_none() {
            s.push_str("/dry");
        }
        s
    }
}

/// One workload measured at one server setting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Measured {
    pub workload: String,
    pub features: usize,
    pub rows_per_call: usize,
    pub decoding: String,
    pub layout: String,
    pub threads: u32,
    pub slots: u32,
    pub calls: usize,
    pub wall_s: f64,
    /// CPU seconds the server process used during the workload (user + system).
    pub cpu_s: Option<f64>,
    pub prompt_tokens: u64,
    /// Prompt tokens the server evaluated (the rest came from its slot's cached prefix).
    pub prompt_evaluated: Option<u64>,
    pub completion_tokens: u64,
    pub rows_asked: usize,
    pub valid_rows: usize,
    /// Record lines rejected, by reason (measurements from before this field have none).
    #[serde(default)]
    pub rejects: std::collections::BTreeMap<String, usize>,
}

impl Measured {
    /// Generated tokens per wall second, all slots together.
    pub fn tokens_per_s(&self) -> f64 {
        self.completion_tokens as f64 / self.wall_s.max(1e-9)
    }
    pub fn valid_rows_per_cpu_hour(&self) -> Option<f64> {
        self.cpu_s
            .filter(|&c| c > 0.0)
            .map(|c| self.valid_rows as f64 * 3600.0 / c)
    }
    /// Generated tokens per valid row (None without valid rows).
    pub fn tokens_per_valid_row(&self) -> Option<f64> {
        (self.valid_rows > 0).then(|| self.completion_tokens as f64 / self.valid_rows as f64)
    }
}

/// CPU seconds (user + system, all threads) a process has used, from `/proc/PID/stat`; `None`
/// where that is not readable. Linux reports them in USER_HZ ticks, fixed at 100 by its ABI.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name may hold spaces and parentheses: fields start after the last ')'
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

/// The pid a `scripts/local-llm.sh serve` wrote beside its server-info file
/// (`server.json` → `server.pid`, `server-8081.json` → `server-8081.pid`).
pub fn server_pid(server_info: &Path) -> Option<u32> {
    let pid_file = server_info.with_extension("pid");
    std::fs::read_to_string(pid_file).ok()?.trim().parse().ok()
}

/// Steady state before measuring: a generator that has run a while holds, in every slot, the
/// part of the prompt all calls of its cell share (the prefix-first layout's point). Each slot
/// first evaluates that shared prefix once (1 token generated), outside the measurement.
async fn warm_up(client: &LlmClient, planned: &[super::plan::Call], slots: usize) -> Result<()> {
    let user = |i: usize| {
        planned
            .get(i)
            .and_then(|c| c.request.messages.last())
            .map(|m| m.content.as_str())
            .unwrap_or("")
    };
    let (a, b) = (user(0), user(1));
    let shared = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len(), |((i, _), _)| i);
    let Some(first) = planned.first() else {
        return Ok(());
    };
    let mut req = first.request.clone();
    if let Some(m) = req.messages.last_mut() {
        m.content = a[..shared].to_string();
    }
    req.sampling.max_tokens = 1;
    req.sampling.grammar = None;
    req.sampling.json_schema = None;
    let mut pending: FuturesUnordered<_> = (0..slots).map(|_| client.call_uncached(&req)).collect();
    while let Some(r) = pending.next().await {
        r?;
    }
    Ok(())
}

/// Send `calls` calls of the workload at once (the client keeps `slots` in flight) and measure.
pub async fn measure(
    client: &LlmClient,
    profile: &Profile,
    pool: &MemberPool<'_>,
    workload: &Workload,
    calls: usize,
    server: Option<u32>,
    on_call: &(dyn Fn(usize, usize) + Sync),
) -> Result<Measured> {
    let cell = &workload.cell;
    let columns = cell.columns();
    let form = client.config().constraint_form();
    let planned = (0..calls)
        .map(|i| plan_call_as(profile, cell, pool, i, form))
        .collect::<Result<Vec<_>>>()?;
    let fp = &client.config().fingerprint;
    warm_up(client, &planned, fp.slots.unwrap_or(4) as usize).await?;
    let cpu_before = server.and_then(process_cpu_seconds);
    let started = Instant::now();
    let mut pending: FuturesUnordered<_> = planned
        .iter()
        .map(|call| async move { (call, client.call_uncached(&call.request).await) })
        .collect();
    let mut rows = CellRows::default();
    let mut shown: HashSet<Vec<u64>> = HashSet::new();
    let (mut prompt, mut completion, mut evaluated) = (0, 0, Some(0));
    let mut done = 0;
    while let Some((call, answer)) = pending.next().await {
        let answer = answer?;
        done += 1;
        on_call(done, calls);
        prompt += answer.usage.prompt_tokens;
        completion += answer.usage.completion_tokens;
        evaluated = evaluated
            .zip(answer.timings.as_ref())
            .map(|(e, t)| e + t.prompt_n);
        for &r in &call.example_rows {
            shown.insert(row_key(&shown_row(pool.matrix, r, &columns)));
        }
        rows.add(call.index, parse::parse(&answer.text, &columns), &shown);
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = cpu_before
        .zip(server.and_then(process_cpu_seconds))
        .map(|(a, b)| b - a);
    Ok(Measured {
        workload: workload.name(),
        features: cell.features,
        rows_per_call: cell.rows_per_call,
        decoding: cell.decoding.name().into(),
        layout: cell.layout.name().into(),
        threads: fp.threads.unwrap_or(0),
        slots: fp.slots.unwrap_or(0),
        calls,
        wall_s,
        cpu_s,
        prompt_tokens: prompt,
        prompt_evaluated: evaluated,
        completion_tokens: completion,
        rows_asked: calls * cell.rows_per_call,
        valid_rows: rows.rows.len(),
        rejects: rows.rejects_by_name(),
    })
}

/// The README table: one row per measurement, and each row's valid rows per CPU-hour as a
/// multiple of the baseline — today's setting (free decoding, examples first) at the same
/// feature count, threads and slots 1 and 4 (the setting of every Qwen 1.5B cache entry).
pub fn table(ms: &[Measured]) -> String {
    let baseline = |m: &Measured| {
        ms.iter()
            .filter(|b| {
                b.features == m.features
                    && b.decoding == "free"
                    && b.layout == "examples-first"
                    && (b.threads, b.slots) == (1, 4)
            })
            .filter_map(Measured::valid_rows_per_cpu_hour)
            .next()
    };
    let mut out = String::from(
        "| workload | threads × slots | calls | generated tok/s | prompt tokens / call (evaluated) \
         | valid rows / asked | tokens / valid row | valid rows / CPU-hour | × baseline |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    use crate::show::{num, opt};
    for m in ms {
        let per_call = |t: u64| t as f64 / m.calls.max(1) as f64;
        let evaluated = m
            .prompt_evaluated
            .map_or(String::new(), |e| format!(" ({:.0})", per_call(e)));
        let rate = m.valid_rows_per_cpu_hour();
        let ratio = rate.zip(baseline(m)).map(|(r, b)| r / b);
        out.push_str(&format!(
            "| {} | {} × {} | {} | {:.2} | {:.0}{evaluated} | {} / {} | {} | {} | {} |\n",
            m.workload,
            m.threads,
            m.slots,
            m.calls,
            m.tokens_per_s(),
            per_call(m.prompt_tokens),
            m.valid_rows,
            m.rows_asked,
            num(m.tokens_per_valid_row(), 0),
            num(rate, 0),
            opt(ratio.map(|r| format!("{r:.2}×"))),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_specs_parse_and_print_back() {
        let w: Workload = "group/f82/r5/constrained/prefix".parse().unwrap();
        assert_eq!(w.cell.features, 82);
        assert_eq!(w.cell.examples_per_call, 5);
        assert_eq!(w.cell.layout, Layout::PrefixFirst);
        assert_eq!(w.name(), "group/f82/r5/constrained/prefix");
        let w: Workload = "naive/f10/r50/free/e10".parse().unwrap();
        assert_eq!(
            (w.cell.examples_per_call, w.cell.decoding),
            (10, Decoding::Free)
        );
        // a name is what a rerun skips by: every option that changes the requests is in it
        assert_eq!(w.name(), "naive/f10/r50/free/e10");
        let w: Workload = "group/f82/r5/constrained/g3/prefix".parse().unwrap();
        assert_eq!(w.cell.grammar, 3);
        assert_eq!(w.name(), "group/f82/r5/constrained/g3/prefix");
        for bad in [
            "group/f10/r20",
            "group/10/r20/free",
            "group/f0/r20/free",
            "group/f10/r20/greedy",
            "bogus/f10/r20/free",
            "group/f500/r20/free",
            "group/f10/r20/free/sideways",
            "group/f10/r20/constrained/g9",
            "group/f10/r20/constrained/g0",
        ] {
            let e = bad.parse::<Workload>().unwrap_err().to_string();
            assert!(e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn cpu_seconds_of_this_process_are_read_and_grow() {
        let me = std::process::id();
        let a = process_cpu_seconds(me).expect("/proc/self/stat readable");
        // spin until the reading grows by 0.1 s of CPU: a wall-clock spin gets only a share of
        // a busy machine's CPU (niced beside an LLM server it got 0.02 s in 0.3 s)
        let (mut x, mut b) = (0u64, a);
        let t = Instant::now();
        while b - a < 0.1 && t.elapsed().as_secs() < 60 {
            for _ in 0..1_000_000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            b = process_cpu_seconds(me).unwrap();
        }
        std::hint::black_box(x);
        assert!(b - a >= 0.1, "{a} → {b} after 60 s of spinning");
        assert_eq!(process_cpu_seconds(u32::MAX), None);
    }

    #[test]
    fn the_table_compares_with_the_baseline_at_the_same_feature_count() {
        let m = |workload: &str, decoding: &str, valid: usize, cpu: f64| Measured {
            workload: workload.into(),
            features: 10,
            rows_per_call: 20,
            decoding: decoding.into(),
            layout: "examples-first".into(),
            threads: 1,
            slots: 4,
            calls: 4,
            wall_s: 100.0,
            cpu_s: Some(cpu),
            prompt_tokens: 4000,
            prompt_evaluated: Some(1000),
            completion_tokens: 3000,
            rows_asked: 80,
            valid_rows: valid,
            rejects: Default::default(),
        };
        let t = table(&[
            m("group/f10/r20/free", "free", 30, 100.0),
            m("group/f10/r20/constrained", "constrained", 75, 125.0),
        ]);
        // 30 rows / 100 s = 1080 per CPU-hour; 75 / 125 s = 2160, twice as many
        assert!(t.contains("| 1080 | 1.00× |"), "{t}");
        assert!(t.contains("| 2160 | 2.00× |"), "{t}");
        assert!(t.contains("| 1000 (250) |"), "{t}");
    }
}
