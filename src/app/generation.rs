//! `synthehr generate` and `synthehr throughput`: the LLM client, progress, the model registry.

use super::*;
use crate::cohort::split;
use crate::generate::plan::MemberPool;
use crate::generate::run::{self, CallDone, CellStatus, Progress};
use crate::generate::{Cell, Profile};
use crate::llm::{
    self, Cache, CacheMode, ClientConfig, LlmClient, ModelFingerprint, ProviderKind, Registry,
    RetryPolicy, ServerInfo,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Options of `synthehr generate`.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub profile: String,
    pub provider: ProviderKind,
    pub base_url: Option<String>,
    pub model: String,
    pub snapshot: Option<String>,
    pub server_info: Option<PathBuf>,
    pub mode: CacheMode,
    pub data: PathBuf,
    pub cache: PathBuf,
    pub out: PathBuf,
    pub timeout_secs: u64,
    pub concurrency: Option<usize>,
    /// Only cells of these stages (empty = all).
    pub stages: Vec<String>,
    /// How constrained cells are sent (default: by the server).
    pub constrain_with: Option<llm::client::ConstraintForm>,
    /// Send at most this many new requests, then stop: the cells not finished are listed as
    /// incomplete and the next run resumes from the cache.
    pub max_new_calls: Option<u64>,
}

/// The model fingerprint: a local server's `server.json` for loopback URLs, else the API id.
///
/// Every fingerprint that answered at least one call is kept in `<cache>/../models/<slug>.json`
/// (by [`generate`], after the run: a failed run registers nothing), so a reviewer without the
/// server or the API (or on another machine) can replay, and the report replays exactly the
/// registered models: when `server.json` is absent the fingerprint of the same model id is taken
/// from there.
pub fn fingerprint(o: &GenerateOptions, base_url: &str) -> Result<ModelFingerprint> {
    let registry = Registry::beside(&o.cache);
    // a loopback URL is a local llama-server unless a snapshot names an API model (a stand-in
    // for an API on loopback)
    if o.provider == ProviderKind::OpenaiCompatible
        && llm::client::is_loopback(base_url)
        && o.snapshot.is_none()
    {
        let path = o
            .server_info
            .clone()
            .unwrap_or_else(llm::fingerprint::default_server_info);
        if path.is_file() || o.mode != CacheMode::Replay {
            let info = ServerInfo::read(&path)?;
            // another server's fingerprint would label every answer with the wrong model
            let url_port = reqwest::Url::parse(base_url)
                .ok()
                .and_then(|u| u.port_or_known_default());
            if let (Some(p), Some(u)) = (info.port, url_port) {
                if p != u {
                    return Err(crate::Error::Llm(format!(
                        "{} describes the server on port {p}, but --base-url {} is port {u}: pass \
                         --server-info for that server (scripts/local-llm.sh writes \
                         server-PORT.json), or --snapshot if it stands in for an API model",
                        path.display(),
                        llm::client::redact_url(base_url)
                    )));
                }
            }
            return Ok(info.fingerprint(&o.model));
        }
        let mut known: Vec<ModelFingerprint> = registry
            .models()?
            .into_iter()
            .filter(|fp| fp.model == o.model && fp.provider == o.provider)
            .collect();
        return match known.len() {
            1 => {
                eprintln!("no local server: replaying with the recorded fingerprint of {}", known[0].label());
                Ok(known.remove(0))
            }
            0 => Err(crate::Error::Llm(format!(
                "no server.json at {} and no recorded fingerprint for model '{}' in {}",
                path.display(),
                o.model,
                registry.dir().display()
            ))),
            _ => Err(crate::Error::Llm(format!(
                "several recorded fingerprints for model '{}' in {}: {}; pass --server-info with the one to replay",
                o.model,
                registry.dir().display(),
                known.iter().map(|k| k.label()).collect::<Vec<_>>().join("; ")
            ))),
        };
    }
    Ok(ModelFingerprint::api(
        o.provider,
        &o.model,
        o.snapshot.as_deref(),
    ))
}

struct Bar {
    pb: ProgressBar,
    started: std::time::Instant,
    /// Calls the grid needs if every row is valid; cells with rejected rows make more calls
    /// (up to their budget), and the bar grows with them.
    nominal: u64,
    /// The model's registry file and fingerprint: written at the first answer, so a run that
    /// is stopped (a session ends without warning) still leaves its recorded answers a model.
    registry: Registry,
    model: ModelFingerprint,
    registered: std::sync::Once,
}

impl Progress for Bar {
    fn call_done(&self, cell: &Cell, call: &CallDone) {
        self.registered.call_once(|| {
            if let Err(e) = self.registry.register(&self.model) {
                say(&self.pb, format!("warning: model not registered yet: {e}"));
            }
        });
        self.pb.inc(1);
        if self.pb.position() > self.pb.length().unwrap_or(0) {
            self.pb.set_length(self.pb.position());
        }
        let msg = call_line(cell, call, self.started.elapsed());
        if self.pb.is_hidden() {
            // not a terminal (nohup, CI): one log line per call instead of a bar
            let (pos, len) = (self.pb.position(), self.pb.length().unwrap_or(0));
            let secs = self.started.elapsed().as_secs_f64();
            let nominal = self.nominal;
            eprintln!("[{pos}/{len} calls ({nominal} if every row were valid), {secs:.0} s] {msg}");
        }
        self.pb.set_message(msg);
    }
}

/// What a finished call says: a replayed one is instant and costs nothing, so only a call
/// answered in this run counts towards the run's token rate.
fn call_line(cell: &Cell, call: &CallDone, elapsed: Duration) -> String {
    if call.fresh {
        let total = call.fresh_total;
        let rate = total as f64 / elapsed.as_secs_f64().max(1e-3);
        format!(
            "{} | answered: {} tokens in {:.0} s; this run {total} new tokens, {rate:.1} tok/s",
            cell.id(),
            call.completion_tokens,
            call.latency_ms as f64 / 1000.0
        )
    } else {
        format!(
            "{} | from the cache ({} tokens)",
            cell.id(),
            call.completion_tokens
        )
    }
}

/// Print above the bar, or plainly when the bar is hidden (indicatif drops `println` then).
fn say(pb: &ProgressBar, msg: String) {
    if pb.is_hidden() {
        println!("{msg}");
    } else {
        pb.println(msg);
    }
}

/// An incomplete cell's line: the first missing calls say why; every key is in the cell's JSON
/// (a 2,000-row cell can miss a hundred calls, one line each).
fn missing_calls(missing: &[String], json: &Path) -> String {
    const SHOWN: usize = 3;
    let mut lines = missing[..missing.len().min(SHOWN)].join("\n    ");
    if missing.len() > SHOWN {
        lines.push_str(&format!(
            "\n    … and {} more (every key in {})",
            missing.len() - SHOWN,
            json.display()
        ));
    }
    format!(
        "INCOMPLETE: at least {} more call(s), not in the cache:\n    {lines}",
        missing.len()
    )
}

/// Build the cohort and its member/holdout split the way every command does.
pub fn cohort_and_split(data: &Path, profile: &Profile) -> Result<(Cohort, split::Split)> {
    let cohort = Cohort::build(SourceKind::EicuDemo, data)?;
    let s = split::members_holdout(&cohort.matrix, profile.holdout_fraction, profile.seed)?;
    Ok((cohort, s))
}

/// The client `generate` and `throughput` talk to the provider with.
fn client_for(
    o: &GenerateOptions,
    profile: &Profile,
    base_url: &str,
    fp: &ModelFingerprint,
) -> Result<LlmClient> {
    let cfg = ClientConfig {
        provider: o.provider,
        base_url: base_url.to_string(),
        model: o.model.clone(),
        fingerprint: fp.clone(),
        concurrency: o.concurrency.unwrap_or(profile.concurrency),
        timeout: Duration::from_secs(o.timeout_secs),
        retry: RetryPolicy::default(),
        mode: o.mode,
        constraint: o.constrain_with,
    };
    LlmClient::new(cfg, Cache::new(&o.cache))
}

/// A local server may silently ignore grammars: fail closed before any constrained request
/// (APIs enforce their JSON schemas themselves, and every answer is parsed and validated
/// anyway). Returns the verdict to record with the model, if the test ran.
fn grammar_selftest(
    rt: &tokio::runtime::Runtime,
    client: &LlmClient,
    constrained: bool,
) -> Result<Option<String>> {
    if !constrained || client.config().constraint_form() != llm::client::ConstraintForm::Gbnf {
        return Ok(None);
    }
    let answer = rt.block_on(client.grammar_selftest())?;
    eprintln!(
        "grammar self-test passed: a prose prompt under a digits-only grammar gave {answer:?}"
    );
    Ok(Some(format!(
        "passed: a prose prompt under a digits-only grammar gave {:?}",
        answer.trim()
    )))
}

/// Options of `synthehr throughput`.
#[derive(Debug, Clone)]
pub struct ThroughputOptions {
    /// Server, model and profile (whose seed and member pool the requests are planned from).
    pub llm: GenerateOptions,
    pub workloads: Vec<String>,
    /// Calls per workload (default: the server's slots, so every slot is busy once).
    pub calls: Option<usize>,
    /// Measurements are appended here (JSON lines), and the table is printed from all of them.
    pub out: PathBuf,
    /// Only print the table of `out`.
    pub table_only: bool,
    /// Measure workloads that `out` holds already for this server setting (default: skip them,
    /// so an interrupted benchmark resumes).
    pub again: bool,
}

/// `synthehr throughput`: the benchmark that chooses the generation settings.
pub fn throughput(o: &ThroughputOptions) -> Result<()> {
    use crate::generate::throughput::{self as tp, Measured, Workload};
    let read_all = || -> Result<Vec<Measured>> {
        let text = match std::fs::read_to_string(&o.out) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(crate::Error::io(&o.out, e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| crate::Error::bad_file(&o.out, format!("line {}: {e}", i + 1)))
            })
            .collect()
    };
    if !o.table_only {
        let workloads = o
            .workloads
            .iter()
            .map(|w| w.parse::<Workload>())
            .collect::<Result<Vec<_>>>()?;
        if workloads.is_empty() {
            return Err(crate::Error::Invalid(
                "no --workload given (e.g. --workload group/f10/r20/constrained)".into(),
            ));
        }
        let before = read_all()?; // refuse a file that is not ours before spending an hour
        let profile = Profile::find(&o.llm.profile)?;
        let base_url = o
            .llm
            .base_url
            .clone()
            .unwrap_or_else(|| o.llm.provider.default_base_url().to_string());
        let fp = fingerprint(&o.llm, &base_url)?;
        let slots = fp.slots.unwrap_or(4) as usize;
        let opts = GenerateOptions {
            concurrency: Some(o.llm.concurrency.unwrap_or(slots)),
            ..o.llm.clone()
        };
        let client = client_for(&opts, &profile, &base_url, &fp)?;
        let (cohort, s) = cohort_and_split(&o.llm.data, &profile)?;
        let pool = MemberPool {
            matrix: &cohort.matrix,
            rows: s.train.clone(),
        };
        let pid = o
            .llm
            .server_info
            .as_deref()
            .and_then(tp::server_pid)
            .or_else(|| tp::server_pid(&llm::fingerprint::default_server_info()));
        if pid.is_none() {
            eprintln!("no server pid file beside the server info: CPU time is not measured");
        }
        let rt =
            tokio::runtime::Runtime::new().map_err(|e| crate::Error::Llm(format!("tokio: {e}")))?;
        grammar_selftest(
            &rt,
            &client,
            workloads.iter().any(|w| !w.cell.decoding.is_free()),
        )?;
        let calls = o.calls.unwrap_or(slots).max(1);
        let threads = fp.threads.unwrap_or(0);
        for w in &workloads {
            let done = before
                .iter()
                .any(|m| m.workload == w.name() && (m.threads, m.slots) == (threads, slots as u32));
            if done && !o.again {
                eprintln!(
                    "{} at {threads} × {slots}: measured already in {} (--again measures it anew)",
                    w.name(),
                    o.out.display()
                );
                continue;
            }
            eprintln!("{} on {}: {calls} calls", w.name(), fp.label());
            let started = std::time::Instant::now();
            let progress = |done: usize, of: usize| {
                eprintln!(
                    "  {done}/{of} calls answered, {:.0} s",
                    started.elapsed().as_secs_f64()
                )
            };
            let m = rt.block_on(tp::measure(
                &client, &profile, &pool, w, calls, pid, &progress,
            ))?;
            let mut line =
                serde_json::to_string(&m).map_err(|e| crate::Error::Invalid(e.to_string()))?;
            line.push('\n');
            crate::fsutil::append(&o.out, line.as_bytes())?;
            print!("{}", tp::table(std::slice::from_ref(&m)));
        }
    }
    print!("{}", tp::table(&read_all()?));
    Ok(())
}

/// `synthehr generate`: run a profile's grid through the cache.
pub fn generate(o: &GenerateOptions) -> Result<()> {
    let profile = Profile::find(&o.profile)?;
    // before the data loads: a mistyped stage fails at once
    let cells = profile.cells_of(&o.stages)?;
    if o.mode == CacheMode::Replay {
        Cache::new(&o.cache).must_exist("replay")?;
    }
    let base_url = o
        .base_url
        .clone()
        .unwrap_or_else(|| o.provider.default_base_url().to_string());
    let fp = fingerprint(o, &base_url)?;
    let (cohort, s) = cohort_and_split(&o.data, &profile)?;
    let client = client_for(o, &profile, &base_url, &fp)?;
    // replay never sends a request, so the cap is inert there
    let client = match o.max_new_calls {
        Some(cap) => client.with_new_call_cap(cap),
        None => client,
    };
    // each cell's real rows (a held-out region's cell sees only the other regions): an unknown
    // region fails here, before any request
    let pools = cells
        .iter()
        .map(|c| MemberPool::for_cell(&cohort.matrix, &s.train, c))
        .collect::<Result<Vec<_>>>()?;
    let out = o
        .out
        .join(crate::fsutil::slug(&fp.label()))
        .join(&profile.name);
    eprintln!(
        "profile {} ({} cells) with {} [{}], cache {} in {:?} mode, data fingerprint {}",
        profile.name,
        cells.len(),
        fp.label(),
        llm::client::redact_url(&base_url),
        o.cache.display(),
        o.mode,
        &cohort.matrix.fingerprint()[..16]
    );
    let total: usize = cells.iter().map(|c| c.nominal_calls()).sum();
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} calls [{elapsed} < {eta}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| crate::Error::Llm(format!("tokio: {e}")))?;
    let constrained = cells.iter().any(|c| !c.decoding.is_free());
    let selftest = if o.mode != CacheMode::Replay {
        grammar_selftest(&rt, &client, constrained)?
    } else {
        None
    };
    let registry = Registry::beside(&o.cache);
    let model = ModelFingerprint {
        grammar_selftest: selftest,
        ..fp.clone()
    };
    let bar = Bar {
        pb,
        nominal: total as u64,
        started: std::time::Instant::now(),
        registry,
        model,
        registered: std::sync::Once::new(),
    };
    // Several cells at once keep every server slot busy at cell boundaries; the client's
    // semaphore bounds the requests in flight, and results come back in grid order.
    let parallel_cells = 2;
    let mut incomplete = 0;
    let outcome = rt.block_on(async {
        use futures::stream::{self, StreamExt};
        let mut done = stream::iter(cells.iter().zip(&pools))
            .map(|(cell, pool)| run::run_cell(&client, &profile, cell, pool, &bar))
            .buffered(parallel_cells);
        // each cell is written as soon as it (and the cells before it) finish
        while let Some(r) = done.next().await {
            let r = r?;
            let written = run::write_cell(&out, &r)?;
            let status = match &r.status {
                CellStatus::Incomplete { missing } => {
                    incomplete += 1;
                    missing_calls(missing, &written.with_extension("json"))
                }
                other => format!("{other:?}"),
            };
            say(
                &bar.pb,
                format!(
                "{:<28} {:>5}/{:<5} rows, {:>3} calls, valid rate {:>5.1}%, {} tokens{}: {status}",
                r.cell.id(),
                r.valid_rows,
                r.cell.rows,
                r.calls,
                100.0 * r.valid_rate,
                r.completion_tokens,
                varied(&r.rows.columns_varied_per_call(), r.columns.len())
            ),
            );
        }
        Ok::<(), crate::Error>(())
    });
    bar.pb.finish_and_clear();
    let c = &client.counters;
    // the model is registered at its first answer (`Bar::call_done`); again here so a failure
    // to write it then is an error now, while a run with no answer leaves no phantom model
    if c.recorded.load(Ordering::Relaxed) + c.hits.load(Ordering::Relaxed) > 0 {
        bar.registry.register(&bar.model)?;
    }
    outcome?;
    // a run stopped by its cap did what was asked: its open cells resume next run (exit 0, so
    // a script goes on to its next stage); only replay's unfilled cells are an error
    let capped = o
        .max_new_calls
        .filter(|&cap| c.new_calls.load(Ordering::Relaxed) > cap);
    if let Some(cap) = capped {
        println!(
            "stopped at --max-new-calls {cap}: the cells listed incomplete resume from the cache on the next run"
        );
    }
    println!(
        "requests {}, cache hits {}, recorded {}, retries {}; tokens {} prompt + {} completion; outputs in {}",
        c.requests.load(Ordering::Relaxed),
        c.hits.load(Ordering::Relaxed),
        c.recorded.load(Ordering::Relaxed),
        c.retries.load(Ordering::Relaxed),
        c.prompt_tokens.load(Ordering::Relaxed),
        c.completion_tokens.load(Ordering::Relaxed),
        out.display()
    );
    if incomplete > 0 && capped.is_none() {
        return Err(crate::Error::Cache(format!(
            "{incomplete} cell(s) incomplete in replay mode (listed above); run with --mode record against a server to fill them"
        )));
    }
    Ok(())
}

/// The near-copy diagnostic for the summary line: ", answers vary 3–18 of 83 columns".
fn varied(per_call: &[usize], columns: usize) -> String {
    match (per_call.iter().min(), per_call.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => format!(", answers vary {lo} of {columns} columns"),
        (Some(lo), Some(hi)) => format!(", answers vary {lo}–{hi} of {columns} columns"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::missing_calls;
    use std::path::Path;

    #[test]
    fn an_incomplete_cell_names_its_first_missing_calls_and_where_the_rest_are() {
        let json = Path::new("out/group-f10-n2000-rep0.json");
        let many: Vec<String> = (20..120).map(|i| format!("call {i}: key k{i}")).collect();
        let text = missing_calls(&many, json);
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(
            text.starts_with("INCOMPLETE: at least 100 more call(s)"),
            "{text}"
        );
        assert!(
            text.contains("call 22: key k22") && !text.contains("k23"),
            "{text}"
        );
        assert!(
            text.ends_with("… and 97 more (every key in out/group-f10-n2000-rep0.json)"),
            "{text}"
        );
        let few = &many[..2];
        assert_eq!(
            missing_calls(few, json),
            "INCOMPLETE: at least 2 more call(s), not in the cache:\n    call 20: key k20\n    call 21: key k21"
        );
    }
}
