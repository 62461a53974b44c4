//! Executing a notebook headless: generate the program, build it against the already-built
//! library in the shared target directory (dependencies compile once), run it as a child process
//! and capture each cell's output. An execution cache replays unchanged notebooks.
//!
//! The execution key is the sha256 of: the code cells, the library's sources and version, the
//! data fingerprint, the profile, and the contents of the LLM-cache entries the notebook read on
//! its previous run — so new data or a refreshed LLM answer re-runs it, not only edited code.
//!
//! Why ~540 lines in one file: `Engine::run` is one sequence (key, generate, build, run, split,
//! store) whose steps share the engine's paths and the child's timeout; splitting what cells
//! printed into outputs already lives in `outputs`.

use super::display::PANIC_MARKER;
use super::model::Notebook;
use super::program::{self, Program};
use crate::error::{Error, Result};
use crate::fsutil::{sha256_hex, write_atomic};
use serde::{Deserialize, Serialize};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RichOutput {
    pub mime: String,
    pub content: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CellOutput {
    /// Index of the cell among all cells.
    pub cell: usize,
    pub stdout: String,
    pub stderr: String,
    pub rich: Vec<RichOutput>,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// A cell failed to compile, panicked or returned an error.
    Failed {
        cell: usize,
        line: Option<usize>,
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub notebook: String,
    pub key: String,
    pub status: Status,
    pub cells: Vec<CellOutput>,
    pub notes: Vec<String>,
    /// LLM-cache keys the run read.
    pub llm_keys: Vec<String>,
    pub build_ms: f64,
    pub run_ms: f64,
    #[serde(default)]
    pub from_cache: bool,
}

/// What the key depends on besides the notebook itself.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub data_fingerprint: String,
    pub profile: String,
    /// Environment for the notebook process (SYNTHEHR_DATA, ...).
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Engine {
    /// The synthehr project (its `Cargo.toml`, `Cargo.lock`, `src/`).
    pub project: PathBuf,
    /// The shared target directory.
    pub target: PathBuf,
    /// Where executions are cached (`target/notebook-exec`).
    pub exec_cache: PathBuf,
    /// LLM cache root (entries the notebook read are hashed into the key).
    pub llm_cache: PathBuf,
    /// How long one notebook program may run ([`TIMEOUT_ENV`], else [`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
}

impl Engine {
    pub fn for_project(project: &Path) -> Engine {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| project.join("target"));
        Engine {
            project: project.to_path_buf(),
            exec_cache: target.join("notebook-exec"),
            target,
            llm_cache: project.join("cache").join("llm"),
            timeout: timeout_from_env(),
        }
    }

    /// sha256 over the library's sources and version and every file a notebook's library
    /// reads besides the data and the LLM entries (hashed separately): src/, prompts/,
    /// report_templates/ (the paper's numbers are compiled in), profiles/ (each profile's
    /// *contents* and the prices: a changed seed or holdout fraction must re-run, not replay),
    /// assets/, the model registry cache/models/, Cargo.toml and Cargo.lock.
    pub fn library_hash(&self) -> String {
        let mut files = Vec::new();
        for dir in [
            "src",
            "prompts",
            "report_templates",
            "profiles",
            "assets",
            "cache/models",
        ] {
            collect(&self.project.join(dir), &mut files);
        }
        files.push(self.project.join("Cargo.toml"));
        files.push(self.project.join("Cargo.lock"));
        files.sort();
        let mut all = format!("synthehr {}\n", env!("CARGO_PKG_VERSION")).into_bytes();
        for f in files {
            all.extend_from_slice(
                f.strip_prefix(&self.project)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .as_bytes(),
            );
            all.push(0);
            all.extend_from_slice(&std::fs::read(&f).unwrap_or_default());
            all.push(0);
        }
        sha256_hex(&all)
    }

    fn record_path(&self, stem: &str) -> PathBuf {
        self.exec_cache.join(format!("{stem}.last.json"))
    }

    /// The execution key of a notebook now.
    pub fn key(&self, nb: &Notebook, stem: &str, inputs: &Inputs) -> String {
        let code: Vec<&str> = nb.code_cells().map(|(_, c)| c.source.as_str()).collect();
        // the LLM entries read last time, by content (a refreshed answer changes the key)
        let last: Vec<String> = std::fs::read(self.record_path(stem))
            .ok()
            .and_then(|b| serde_json::from_slice::<Execution>(&b).ok())
            .map(|e| e.llm_keys)
            .unwrap_or_default();
        let llm = crate::llm::Cache::new(&self.llm_cache);
        let entries: Vec<String> = last
            .iter()
            .map(|k| {
                std::fs::read(llm.path_for(k))
                    .map(|b| sha256_hex(&b))
                    .unwrap_or_else(|_| format!("missing {k}"))
            })
            .collect();
        let all = serde_json::json!({
            "code": code,
            "library": self.library_hash(),
            "data": inputs.data_fingerprint,
            "profile": inputs.profile,
            // every setting the notebook process gets (effort, profile name, ...) but where the
            // data lives, which the data fingerprint already stands for
            "env": inputs
                .env
                .iter()
                .filter(|(k, _)| k != crate::data::DATA_ENV)
                .collect::<Vec<_>>(),
            "llm_entries": entries,
        });
        sha256_hex(crate::llm::request::canonical_json(&all).as_bytes())
    }

    /// Run a notebook (or replay it from the execution cache).
    pub fn run(&self, path: &Path, inputs: &Inputs) -> Result<Execution> {
        let nb = Notebook::read(path)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("notebook")
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let key = self.key(&nb, &stem, inputs);
        let cached = self.exec_cache.join(format!("{key}.json"));
        if let Some(mut e) = std::fs::read(&cached)
            .ok()
            .and_then(|b| serde_json::from_slice::<Execution>(&b).ok())
        {
            e.from_cache = true;
            return Ok(e);
        }
        let cells: Vec<(usize, &str)> = nb
            .code_cells()
            .map(|(i, c)| (i, c.source.as_str()))
            .collect();
        let name = path.display().to_string();
        let program = match program::generate(&cells) {
            Ok(p) => p,
            Err(e) => {
                let e = self.finish(
                    &name,
                    key,
                    Status::Failed {
                        cell: e.cell,
                        line: Some(e.line),
                        message: format!("syntax error: {}", e.message),
                    },
                    vec![],
                    vec![],
                    vec![],
                    0.0,
                    0.0,
                );
                return Ok(self.store(&nb, &stem, inputs, e));
            }
        };
        let t = Instant::now();
        let bin = match self.build(&stem, &program)? {
            Ok(bin) => bin,
            Err(status) => {
                let e = self.finish(
                    &name,
                    key,
                    status,
                    vec![],
                    program.notes.clone(),
                    vec![],
                    t.elapsed().as_secs_f64() * 1e3,
                    0.0,
                );
                return Ok(self.store(&nb, &stem, inputs, e));
            }
        };
        let build_ms = t.elapsed().as_secs_f64() * 1e3;
        std::fs::create_dir_all(&self.exec_cache).map_err(|e| Error::io(&self.exec_cache, e))?;
        // this run's own key log (deleted with the handle): two builds of one notebook at once
        // never write into each other's list
        let log = tempfile::Builder::new()
            .prefix(&format!("{stem}."))
            .suffix(".llm-keys")
            .tempfile_in(&self.exec_cache)
            .map_err(|e| Error::io(&self.exec_cache, e))?;
        let t = Instant::now();
        let mut child = Command::new(&bin);
        child
            .current_dir(&self.project)
            .env(crate::project::PROJECT_ENV, &self.project)
            // only `inputs` (which the key covers) decide the effort, never the caller's shell
            .env_remove(crate::metrics::utility::EFFORT_ENV)
            .envs(inputs.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SYNTHEHR_EXEC_LOG", log.path());
        let out = run_with_timeout(child, self.timeout)
            .map_err(|e| Error::Invalid(format!("cannot run {}: {e}", bin.display())))?;
        let run_ms = t.elapsed().as_secs_f64() * 1e3;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut outputs = split_outputs(&stdout, &stderr);
        // a panic in a cell's own code: its generated line, back to the cell and line
        let panicked_at = stderr
            .lines()
            .filter_map(|l| l.strip_prefix(PANIC_MARKER))
            .filter_map(|l| l.trim().parse::<usize>().ok())
            .find_map(|l| program.origin(l).map(|o| (l, o)));
        if let Some((generated, o)) = panicked_at {
            for c in outputs.iter_mut().filter(|c| c.cell == o.cell) {
                c.stderr = c.stderr.replace(
                    &format!("src/main.rs:{generated}:"),
                    &format!("cell {}, line {}, column ", o.cell, o.line),
                );
            }
        }
        let status = if out.timed_out {
            let running = outputs.iter().rev().find(|c| c.ms < 0.0).map(|c| c.cell);
            Status::Failed {
                cell: running.unwrap_or(0),
                line: None,
                message: format!(
                    "timed out after {} s (stopped; set {TIMEOUT_ENV} to allow longer)",
                    self.timeout.as_secs()
                ),
            }
        } else if out.status.success() {
            Status::Ok
        } else {
            // the failing cell is the one that began and never ended
            let failing = outputs
                .iter()
                .rev()
                .find(|c| c.ms < 0.0)
                .map(|c| c.cell)
                .or(outputs.last().map(|c| c.cell))
                .unwrap_or(0);
            let msg = outputs
                .iter()
                .find(|c| c.cell == failing)
                .map(|c| c.stderr.trim().to_string())
                .unwrap_or_default();
            Status::Failed {
                cell: panicked_at.map_or(failing, |(_, o)| o.cell),
                line: panicked_at.map(|(_, o)| o.line),
                message: if msg.is_empty() {
                    format!("exited with {}", out.status)
                } else {
                    msg
                },
            }
        };
        let mut llm_keys: Vec<String> = std::fs::read_to_string(log.path())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        llm_keys.sort();
        llm_keys.dedup();
        let e = self.finish(
            &name,
            key,
            status,
            outputs,
            program.notes,
            llm_keys,
            build_ms,
            run_ms,
        );
        Ok(self.store(&nb, &stem, inputs, e))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        name: &str,
        key: String,
        status: Status,
        cells: Vec<CellOutput>,
        notes: Vec<String>,
        llm_keys: Vec<String>,
        build_ms: f64,
        run_ms: f64,
    ) -> Execution {
        Execution {
            notebook: name.to_string(),
            key,
            status,
            cells,
            notes,
            llm_keys,
            build_ms,
            run_ms,
            from_cache: false,
        }
    }

    /// Record a finished run; a successful one is cached under the key that the entries it read
    /// give (so the next unchanged call hits at once).
    fn store(&self, nb: &Notebook, stem: &str, inputs: &Inputs, mut e: Execution) -> Execution {
        if let Ok(bytes) = serde_json::to_vec_pretty(&e) {
            let _ = write_atomic(&self.record_path(stem), &bytes);
        }
        if e.status == Status::Ok {
            e.key = self.key(nb, stem, inputs);
            if let Ok(bytes) = serde_json::to_vec_pretty(&e) {
                let _ = write_atomic(&self.exec_cache.join(format!("{}.json", e.key)), &bytes);
                let _ = write_atomic(&self.record_path(stem), &bytes);
            }
        }
        e
    }

    /// Write the crate and build it. `Ok(Err(status))` is a compile error mapped to the notebook.
    fn build(&self, stem: &str, p: &Program) -> Result<std::result::Result<PathBuf, Status>> {
        let dir = self.target.join("notebooks").join(stem);
        let name = format!("nb-{}", stem.replace('_', "-"));
        std::fs::create_dir_all(dir.join("src")).map_err(|e| Error::io(&dir, e))?;
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nsynthehr = {{ path = {:?} }}\n\n[workspace]\n",
            self.project.display().to_string()
        );
        write_if_changed(&dir.join("Cargo.toml"), manifest.as_bytes())?;
        write_if_changed(&dir.join("src/main.rs"), p.source.as_bytes())?;
        // the project's lock file: same dependency versions, so nothing is compiled twice
        if let Ok(lock) = std::fs::read(self.project.join("Cargo.lock")) {
            write_if_changed(&dir.join("Cargo.lock"), &lock)?;
        }
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--release",
                "--offline",
                "--message-format=json",
                "--manifest-path",
            ])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target)
            // CI lints the project while building it (clippy-driver as the workspace wrapper,
            // .ci/run); a generated notebook program is not a lint target
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CLIPPY_ARGS")
            .output()
            .map_err(|e| Error::Invalid(format!("cannot run cargo: {e}")))?;
        if out.status.success() {
            return Ok(Ok(self.target.join("release").join(&name)));
        }
        // first error that points into the generated main.rs, mapped to cell and line
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let m = &v["message"];
            if v["reason"] != "compiler-message" || m["level"] != "error" {
                continue;
            }
            let span = m["spans"]
                .as_array()
                .and_then(|s| s.iter().find(|s| s["is_primary"] == true))
                .cloned()
                .unwrap_or_default();
            let origin = span["line_start"]
                .as_u64()
                .and_then(|l| p.origin(l as usize));
            let text = m["message"].as_str().unwrap_or("compile error").to_string();
            let label = span["label"]
                .as_str()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            return Ok(Err(match origin {
                Some(o) => Status::Failed {
                    cell: o.cell,
                    line: Some(o.line),
                    message: format!("compile error: {text}{label}"),
                },
                None => Status::Failed {
                    cell: 0,
                    line: None,
                    message: format!("compile error in generated code: {text}{label}"),
                },
            }));
        }
        Ok(Err(Status::Failed {
            cell: 0,
            line: None,
            message: format!(
                "cargo build failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        }))
    }
}

/// Environment variable: seconds a notebook program may run before it is stopped.
pub const TIMEOUT_ENV: &str = "SYNTHEHR_NOTEBOOK_TIMEOUT";
/// Default per-notebook limit: the slowest chapter takes minutes at full effort on 2 cores.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

fn timeout_from_env() -> Duration {
    let Ok(text) = std::env::var(TIMEOUT_ENV) else {
        return DEFAULT_TIMEOUT;
    };
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
        _ => {
            eprintln!(
                "warning: {TIMEOUT_ENV}={text:?} is not a positive number of seconds; using {} s",
                DEFAULT_TIMEOUT.as_secs()
            );
            DEFAULT_TIMEOUT
        }
    }
}

struct Finished {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    timed_out: bool,
}

/// Run a command to completion, or kill it after `limit`; its output is read on threads as it
/// comes, so a chatty program cannot block on a full pipe.
fn run_with_timeout(mut cmd: Command, limit: Duration) -> std::io::Result<Finished> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = child.stdout.take().map(|s| drain(Box::new(s)));
    let err = child.stderr.take().map(|s| drain(Box::new(s)));
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() >= limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Finished {
        status,
        stdout: join(out),
        stderr: join(err),
        timed_out,
    })
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(()); // keep the mtime: cargo does not rebuild
    }
    write_atomic(path, bytes)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

mod outputs;
pub use outputs::{kernel_view, split_outputs, write_outputs};
