//! Command implementations behind the CLI: they print summaries and progress, the library does
//! the work.

use crate::cohort::{Cohort, SourceKind};
use crate::error::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Duration;

/// Printing into a closed pipe (`synthehr cache stats | head`) ends the process quietly, as
/// Unix tools do, instead of a panic in `println!` (Rust starts with SIGPIPE ignored).
pub fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists; it only sets the
    // signal's disposition back to the default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

pub fn spinner(msg: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// `synthehr data fetch`.
pub fn data_fetch(dest: &Path, physionet: String, yaib: String) -> Result<()> {
    use crate::cohort::fetch;
    let origins = fetch::Origins { physionet, yaib };
    let got = fetch::fetch(&fetch::manifest(), &origins, dest)?;
    let new = got
        .iter()
        .filter(|(_, f)| *f == fetch::Fetched::Downloaded)
        .count();
    println!(
        "{} file(s) in {} ({new} downloaded, {} already present); attribution in {}",
        got.len(),
        dest.display(),
        got.len() - new,
        dest.join(fetch::ATTRIBUTION_FILE).display()
    );
    Ok(())
}

/// `synthehr data build`: build the design matrix and write it with its summary.
pub fn data_build(source: SourceKind, data: &Path, out: &Path) -> Result<()> {
    let pb = spinner(&format!(
        "building the {} cohort from {}",
        source.name(),
        data.display()
    ));
    let cohort = Cohort::build(source, data)?;
    pb.set_message(format!("writing {}", out.display()));
    let summary = cohort.write(out)?;
    pb.finish_and_clear();
    for w in cohort.issues.warnings() {
        eprintln!("{w}");
    }
    println!("{summary}");
    println!(
        "wrote {}, {} and {}",
        out.join("design_matrix.parquet").display(),
        out.join("design_matrix.csv").display(),
        out.join("cohort.json").display()
    );
    Ok(())
}

use crate::cohort::split;
use crate::generate::baselines::{self, Baseline};
use crate::generate::plan::MemberPool;
use crate::generate::run::{self, CellStatus, Progress};
use crate::generate::{Cell, Profile};
use crate::llm::{
    self, Cache, CacheMode, ClientConfig, LlmClient, ModelFingerprint, ProviderKind, RetryPolicy,
    ServerInfo,
};
use std::path::PathBuf;
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
}

/// The model fingerprint: a local server's `server.json` for loopback URLs, else the API id.
///
/// Every fingerprint that answered at least one call is kept in `<cache>/../models/<slug>.json`
/// (by [`generate`], after the run: a failed run registers nothing), so a reviewer without the
/// server or the API (or on another machine) can replay, and the report replays exactly the
/// registered models: when `server.json` is absent the fingerprint of the same model id is taken
/// from there.
pub fn fingerprint(o: &GenerateOptions, base_url: &str) -> Result<ModelFingerprint> {
    let registry = o.cache.parent().unwrap_or(Path::new(".")).join("models");
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
        let mut known = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&registry) {
            for e in rd.flatten() {
                if let Ok(fp) = std::fs::read(e.path())
                    .map_err(|e| e.to_string())
                    .and_then(|b| {
                        serde_json::from_slice::<ModelFingerprint>(&b).map_err(|e| e.to_string())
                    })
                {
                    if fp.model == o.model && fp.provider == o.provider {
                        known.push(fp);
                    }
                }
            }
        }
        return match known.len() {
            1 => {
                eprintln!("no local server: replaying with the recorded fingerprint of {}", known[0].label());
                Ok(known.remove(0))
            }
            0 => Err(crate::Error::Llm(format!(
                "no server.json at {} and no recorded fingerprint for model '{}' in {}",
                path.display(),
                o.model,
                registry.display()
            ))),
            _ => Err(crate::Error::Llm(format!(
                "several recorded fingerprints for model '{}' in {}: {}; pass --server-info with the one to replay",
                o.model,
                registry.display(),
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

/// Write a fingerprint into the model registry, keeping a recorded self-test verdict.
fn register(registry: &Path, fp: &ModelFingerprint) -> Result<()> {
    let path = registry.join(format!("{}.json", run::slug(&fp.label())));
    let known = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<ModelFingerprint>(&b).ok());
    if let Some(k) = known {
        if k.for_key() == fp.for_key()
            && k.grammar_selftest.is_some()
            && fp.grammar_selftest.is_none()
        {
            return Ok(()); // same server, verdict already recorded
        }
    }
    let bytes = serde_json::to_vec_pretty(fp).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    crate::fsutil::write_atomic(&path, &bytes)
}

struct Bar {
    pb: ProgressBar,
    started: std::time::Instant,
    /// Calls the grid needs if every row is valid; cells with rejected rows make more calls
    /// (up to their budget), and the bar grows with them.
    nominal: u64,
}

impl Progress for Bar {
    fn call_done(&self, cell: &Cell, fresh_tokens: u64) {
        let t = fresh_tokens;
        let rate = t as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        self.pb.inc(1);
        if self.pb.position() > self.pb.length().unwrap_or(0) {
            self.pb.set_length(self.pb.position());
        }
        let msg = format!("{} | {t} new tokens, {rate:.1} tok/s", cell.id());
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

/// Print above the bar, or plainly when the bar is hidden (indicatif drops `println` then).
fn say(pb: &ProgressBar, msg: String) {
    if pb.is_hidden() {
        println!("{msg}");
    } else {
        pb.println(msg);
    }
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
    let base_url = o
        .base_url
        .clone()
        .unwrap_or_else(|| o.provider.default_base_url().to_string());
    let fp = fingerprint(o, &base_url)?;
    let (cohort, s) = cohort_and_split(&o.data, &profile)?;
    let pool = MemberPool {
        matrix: &cohort.matrix,
        rows: s.train.clone(),
    };
    let client = client_for(o, &profile, &base_url, &fp)?;
    let cells: Vec<Cell> = profile
        .cells()
        .into_iter()
        .filter(|c| o.stages.is_empty() || o.stages.contains(&c.stage))
        .collect();
    let out = o.out.join(run::slug(&fp.label())).join(&profile.name);
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
    let bar = Bar {
        pb,
        nominal: total as u64,
        started: std::time::Instant::now(),
    };
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| crate::Error::Llm(format!("tokio: {e}")))?;
    let constrained = cells.iter().any(|c| !c.decoding.is_free());
    let selftest = if o.mode != CacheMode::Replay {
        grammar_selftest(&rt, &client, constrained)?
    } else {
        None
    };
    // Several cells at once keep every server slot busy at cell boundaries; the client's
    // semaphore bounds the requests in flight, and results come back in grid order.
    let parallel_cells = 2;
    let mut incomplete = 0;
    let outcome = rt.block_on(async {
        use futures::stream::{self, StreamExt};
        let mut done = stream::iter(cells.iter())
            .map(|cell| run::run_cell(&client, &profile, cell, &pool, &bar))
            .buffered(parallel_cells);
        // each cell is written as soon as it (and the cells before it) finish
        while let Some(r) = done.next().await {
            let r = r?;
            run::write_cell(&out, &r)?;
            let status = match &r.status {
                CellStatus::Incomplete { missing } => {
                    incomplete += 1;
                    format!(
                        "INCOMPLETE: {} call(s) missing from the cache:\n    {}",
                        missing.len(),
                        missing.join("\n    ")
                    )
                }
                other => format!("{other:?}"),
            };
            say(
                &bar.pb,
                format!(
                "{:<28} {:>5}/{:<5} rows, {:>3} calls, valid rate {:>5.1}%, {} tokens: {status}",
                r.cell.id(),
                r.valid_rows,
                r.cell.rows,
                r.calls,
                100.0 * r.valid_rate,
                r.completion_tokens
            ),
            );
        }
        Ok::<(), crate::Error>(())
    });
    bar.pb.finish_and_clear();
    let c = &client.counters;
    // register the model once it has answered (recorded now or earlier), even if a later call
    // failed; a run with no answer at all leaves no phantom model behind
    if c.recorded.load(Ordering::Relaxed) + c.hits.load(Ordering::Relaxed) > 0 {
        register(
            &o.cache.parent().unwrap_or(Path::new(".")).join("models"),
            &ModelFingerprint {
                grammar_selftest: selftest,
                ..fp.clone()
            },
        )?;
    }
    outcome?;
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
    if incomplete > 0 {
        return Err(crate::Error::Cache(format!(
            "{incomplete} cell(s) incomplete in replay mode (listed above); run with --mode record against a server to fill them"
        )));
    }
    Ok(())
}

/// `synthehr baselines`: the classical generators over a profile's grid, offline.
pub fn baselines(profile: &str, data: &Path, out: &Path) -> Result<()> {
    let profile = Profile::find(profile)?;
    let (cohort, s) = cohort_and_split(data, &profile)?;
    let started = std::time::Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut n_tables = 0;
    for cell in profile.cells() {
        if !seen.insert((cell.features, cell.rows, cell.replicate)) {
            continue;
        }
        for b in Baseline::ALL {
            let cols = cell.columns();
            let seed = crate::generate::plan::call_seed(
                profile.seed,
                &format!(
                    "baseline-{}-f{}-rep{}",
                    b.name(),
                    cell.features,
                    cell.replicate
                ),
                0,
            );
            let rows = baselines::generate(b, &cohort.matrix, &s.train, &cols, cell.rows, seed)?;
            let dir = out
                .join(format!("baseline-{}", b.name()))
                .join(&profile.name);
            let csv = crate::metrics::Frame::from_rows(&cols, &rows).to_csv();
            crate::fsutil::write_atomic(
                &dir.join(format!(
                    "f{}-n{}-rep{}.csv",
                    cell.features, cell.rows, cell.replicate
                )),
                csv.as_bytes(),
            )?;
            n_tables += 1;
        }
    }
    println!(
        "{n_tables} baseline tables for profile {} in {:.2} s under {}",
        profile.name,
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// `synthehr cache stats`.
pub fn cache_stats(cache: &Path) -> Result<()> {
    let prices_path = crate::project::root()?.join("profiles/prices.toml");
    let prices = llm::pricing::Prices::load(&prices_path).unwrap_or_default();
    print!("{}", llm::stats::stats(&Cache::new(cache), &prices));
    Ok(())
}

/// `synthehr cache verify`: non-zero exit when anything is wrong.
pub fn cache_verify(cache: &Path) -> Result<()> {
    if !cache.is_dir() {
        return Err(crate::Error::Cache(format!(
            "no cache directory at {} (nothing to verify)",
            cache.display()
        )));
    }
    let r = llm::stats::verify(&Cache::new(cache));
    println!("{r}");
    if r.is_ok() {
        Ok(())
    } else {
        Err(crate::Error::Cache(format!(
            "{} corrupt, {} orphaned, {} duplicate file(s) in {}",
            r.corrupt.len(),
            r.orphaned.len(),
            r.duplicates.len(),
            cache.display()
        )))
    }
}

/// `synthehr cache prune`: list (or with `yes`, delete) corrupt and orphaned files.
pub fn cache_prune(cache: &Path, yes: bool) -> Result<()> {
    let c = Cache::new(cache);
    let _alone = if yes {
        Some(c.lock_exclusive("prune")?)
    } else {
        None
    };
    let r = llm::stats::verify(&c);
    let doomed: Vec<&PathBuf> = r
        .corrupt
        .iter()
        .map(|(p, _)| p)
        .chain(r.orphaned.iter())
        .collect();
    for p in &doomed {
        if yes {
            std::fs::remove_file(p).map_err(|e| crate::Error::io(p.as_path(), e))?;
            println!("removed {}", p.display());
        } else {
            println!("would remove {}", p.display());
        }
    }
    if !yes && !doomed.is_empty() {
        println!("(dry run; pass --yes to delete)");
    }
    Ok(())
}

/// `synthehr cache redact`: re-apply the copy redaction to every stored answer, from the ids
/// of the rows each call showed (after the redaction rule changes; keys do not change).
pub fn cache_redact(cache: &Path, data: &Path) -> Result<()> {
    use crate::generate::parse::{redact_copies, Shown};
    use crate::generate::plan::shown_row;
    let c = Cache::new(cache);
    let _alone = c.lock_exclusive("redact")?; // before the slow part: fail fast
    let cohort = Cohort::build(SourceKind::EicuDemo, data)?;
    let by_stay: std::collections::HashMap<i64, usize> = cohort
        .matrix
        .meta()
        .iter()
        .enumerate()
        .map(|(i, m)| (m.stay, i))
        .collect();
    let (mut changed, mut lines, mut skipped) = (0, 0, 0);
    for f in c.files() {
        let Some(mut e) = std::fs::read(&f)
            .ok()
            .and_then(|b| llm::cache::check_entry(&b, None).ok())
        else {
            skipped += 1;
            continue;
        };
        let Some(k) = e.provenance.cell.get("features").and_then(|v| v.as_u64()) else {
            skipped += 1;
            continue;
        };
        let columns = crate::cohort::schema::top_k(k as usize);
        let rows: Vec<Vec<f64>> = e
            .provenance
            .example_row_ids
            .iter()
            .filter_map(|id| by_stay.get(id))
            .map(|&r| shown_row(&cohort.matrix, r, &columns))
            .collect();
        let (text, n) = redact_copies(&e.response.text, &columns, &Shown::new(&rows));
        if n > 0 {
            e.response.text = text;
            e.redacted_lines += n;
            c.put(&e)?;
            changed += 1;
            lines += n;
        }
    }
    println!("redacted {lines} line(s) in {changed} entr(ies); {skipped} file(s) skipped (unreadable or without a cell)");
    Ok(())
}

/// `synthehr run NOTEBOOK`: execute one notebook (or replay it) and print its outputs.
pub fn run_notebook(path: &Path, data: &Path, profile: &str, write: bool) -> Result<()> {
    use crate::notebook::{Engine, Inputs, Status};
    let project = &crate::project::root()?;
    let engine = Engine::for_project(project);
    let fingerprint = Cohort::build(SourceKind::EicuDemo, data)
        .map(|c| c.matrix.fingerprint())
        .unwrap_or_else(|e| format!("unavailable: {e}"));
    let inputs = Inputs {
        data_fingerprint: fingerprint,
        profile: profile.to_string(),
        env: vec![
            ("SYNTHEHR_DATA".into(), data.display().to_string()),
            ("SYNTHEHR_PROFILE".into(), profile.to_string()),
        ],
    };
    let pb = spinner(&format!("running {}", path.display()));
    let e = engine.run(path, &inputs)?;
    pb.finish_and_clear();
    for n in &e.notes {
        eprintln!("note: {n}");
    }
    for c in &e.cells {
        println!("── cell {} ({:.0} ms)", c.cell, c.ms.max(0.0));
        print!("{}", c.stdout);
        for r in &c.rich {
            println!("[{} output, {} bytes]", r.mime, r.content.len());
        }
        if !c.stderr.is_empty() {
            eprint!("{}", c.stderr);
        }
    }
    println!(
        "{}: {} (build {:.1} s, run {:.1} s{})",
        e.notebook,
        match &e.status {
            Status::Ok => "ok".to_string(),
            Status::Failed { .. } => "FAILED".to_string(),
        },
        e.build_ms / 1e3,
        e.run_ms / 1e3,
        if e.from_cache {
            ", replayed from the execution cache"
        } else {
            ""
        }
    );
    if write {
        crate::notebook::exec::write_outputs(path, &e)?;
        println!("outputs written into {}", path.display());
    }
    match e.status {
        Status::Ok => Ok(()),
        Status::Failed {
            cell,
            line,
            message,
        } => Err(crate::Error::Invalid(format!(
            "{}: cell {cell}{}: {message}",
            path.display(),
            line.map(|l| format!(", line {l}")).unwrap_or_default()
        ))),
    }
}

/// `synthehr build`: run every chapter notebook (or replay it) and render the report.
pub fn build(
    data: &Path,
    profile: &str,
    offline: bool,
    keep_going: bool,
    out: &Path,
) -> Result<()> {
    use crate::notebook::{Engine, Inputs, Notebook, Status};
    let project = &crate::project::root()?;
    if crate::cohort::sources::DemoLayout::find(data).is_err() {
        if offline {
            return Err(crate::Error::Invalid(format!(
                "no eICU demo data at {} and --offline forbids downloading it: set SYNTHEHR_DATA or run `synthehr data fetch`",
                data.display()
            )));
        }
        eprintln!("no data at {}: downloading it once", data.display());
        let o = crate::cohort::fetch::Origins::default();
        crate::cohort::fetch::fetch(&crate::cohort::fetch::manifest(), &o, data)?;
    }
    let cohort = Cohort::build(SourceKind::EicuDemo, data)?;
    let fingerprint = cohort.matrix.fingerprint();
    let engine = Engine::for_project(project);
    let inputs = Inputs {
        data_fingerprint: fingerprint.clone(),
        profile: profile.to_string(),
        env: vec![
            ("SYNTHEHR_DATA".into(), data.display().to_string()),
            ("SYNTHEHR_PROFILE".into(), profile.to_string()),
        ],
    };
    let mut notebooks: Vec<PathBuf> = std::fs::read_dir(project.join("notebooks"))
        .map_err(|e| crate::Error::io(project.join("notebooks"), e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .starts_with("00-")
        })
        .collect();
    notebooks.sort();
    let mut runs = Vec::new();
    let mut failed = Vec::new();
    for (i, path) in notebooks.iter().enumerate() {
        let pb = spinner(&format!(
            "[{}/{}] {}",
            i + 1,
            notebooks.len(),
            path.display()
        ));
        let e = engine.run(path, &inputs)?;
        pb.finish_and_clear();
        let status = match &e.status {
            Status::Ok => "ok".to_string(),
            Status::Failed {
                cell,
                line,
                message,
            } => {
                failed.push(path.display().to_string());
                let first = message.lines().next().unwrap_or("");
                format!(
                    "FAILED in cell {cell}{}: {first}",
                    line.map(|l| format!(", line {l}")).unwrap_or_default()
                )
            }
        };
        eprintln!(
            "[{}/{}] {}: {status} ({})",
            i + 1,
            notebooks.len(),
            path.display(),
            if e.from_cache {
                "execution cache hit".to_string()
            } else {
                format!(
                    "build {:.1} s, run {:.1} s",
                    e.build_ms / 1e3,
                    e.run_ms / 1e3
                )
            }
        );
        runs.push((path.clone(), Notebook::read(path)?, e));
        if !failed.is_empty() && !keep_going {
            break;
        }
    }
    let models: Vec<String> = std::fs::read_dir(project.join("cache").join("models"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .filter_map(|b| serde_json::from_slice::<ModelFingerprint>(&b).ok())
                .map(|m| m.description())
                .collect()
        })
        .unwrap_or_default();
    let study = crate::study::Study::open(project, data, profile)?;
    let downloads = crate::report::downloads::write(&study, out)?;
    let info = crate::report::RunInfo {
        deviations: crate::report::overview::deviations(&study),
        downloads,
        fingerprint,
        profile: profile.to_string(),
        models: if models.is_empty() {
            "none in the cache".into()
        } else {
            models.join("; ")
        },
    };
    let rendered = crate::report::render(&runs, &info, out)?;
    let index = rendered.index;
    println!("{}", crate::results::cells_line(&rendered.results));
    println!("report: {}", index.display());
    if out == Path::new("target/report") || out == project.join("target/report") {
        let book = crate::report::build_book(project)?;
        println!("book: {}", book.display());
    }
    let corrupt = crate::results::corrupt_files(&rendered.results);
    if !corrupt.is_empty() && !keep_going {
        return Err(crate::Error::Cache(format!(
            "{} corrupt cache entr{} replayed as corrupt cells (the report marks them): {}; \
             restore a committed entry with `git checkout -- FILE`, or remove it with \
             `synthehr cache prune --yes` and record it again with `synthehr generate` \
             (--keep-going accepts the build as it is)",
            corrupt.len(),
            if corrupt.len() == 1 { "y" } else { "ies" },
            corrupt.join(", ")
        )));
    }
    if failed.is_empty() || keep_going {
        Ok(())
    } else {
        Err(crate::Error::Invalid(format!("notebook failed: {} (the report shows the failing cell; --keep-going renders the rest)", failed.join(", "))))
    }
}
