//! Runs notebooks through evcxr's own engine — the `CommandContext` the evcxr Jupyter kernel
//! uses — and writes, per notebook, a JSON file with every code cell's outcome: success or the
//! kernel's error text, the stdout lines it printed, its rich outputs by MIME type (as the kernel
//! would send them to Jupyter) and its wall time. synthehr's `tests/evcxr_kernel.rs` compares
//! these with the headless engine's outputs.
//!
//! Usage: `evcxr-check --out DIR [--lock Cargo.lock] NOTEBOOK.ipynb...`. Each notebook runs in a fresh context with
//! the notebook's directory as the working directory, so its `:dep synthehr = { path = ".." }`
//! and `evcxr.toml` (tmpdir, opt level) resolve as they do in Jupyter.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn main() {
    // Must come first: evcxr re-executes this binary as its child process.
    evcxr::runtime_hook();
    if let Err(e) = run() {
        eprintln!("evcxr-check: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let mut lock: Option<PathBuf> = None;
    let mut notebooks = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--lock" => lock = args.next().map(PathBuf::from),
            _ => notebooks.push(PathBuf::from(a)),
        }
    }
    let out = out.ok_or("missing --out DIR")?;
    if notebooks.is_empty() {
        return Err("no notebooks given".into());
    }
    let start_dir = std::env::current_dir().map_err(|e| e.to_string())?;
    let out = start_dir.join(out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut failed = 0;
    for nb in &notebooks {
        let nb = start_dir.join(nb);
        if let Some(lock) = &lock {
            seed_lock(&start_dir.join(lock), &nb)?;
        }
        let report = run_notebook(&nb)?;
        let ok = report["cells"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c["ok"] == true));
        if !ok {
            failed += 1;
        }
        let stem = nb
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: not a notebook path", nb.display()))?;
        let path = out.join(format!("{stem}.json"));
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        std::env::set_current_dir(&start_dir).map_err(|e| e.to_string())?;
    }
    eprintln!(
        "evcxr-check: {} notebook(s), {failed} with a failing cell",
        notebooks.len()
    );
    Ok(())
}

/// Start evcxr's build (`tmpdir = ".evcxr"` of `notebooks/evcxr.toml`) from the project's
/// Cargo.lock, so the `:dep` compiles the same dependency versions the project was tested with
/// and needs no fresh resolution; cargo adds evcxr's own `ctx` package to it.
fn seed_lock(lock: &Path, notebook: &Path) -> Result<(), String> {
    let dir = notebook
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", notebook.display()))?
        .join(".evcxr");
    let target = dir.join("Cargo.lock");
    if target.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::copy(lock, &target).map_err(|e| format!("{}: {e}", lock.display()))?;
    Ok(())
}

/// Code cells of an nbformat 4 notebook, sources joined.
fn code_cells(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let nb: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let cells = nb["cells"]
        .as_array()
        .ok_or_else(|| format!("{}: no cells array", path.display()))?;
    Ok(cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| match &c["source"] {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect(),
            _ => String::new(),
        })
        .collect())
}

fn run_notebook(path: &Path) -> Result<Value, String> {
    let cells = code_cells(path)?;
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", path.display()))?;
    std::env::set_current_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let t0 = Instant::now();
    let (mut ctx, outputs) = evcxr::CommandContext::new().map_err(|e| e.to_string())?;
    let context_ms = t0.elapsed().as_millis();
    // The child's stdout/stderr must be drained on their own threads, or a printing cell blocks.
    let stdout = collect(outputs.stdout);
    let stderr = collect(outputs.stderr);
    let mut report = Vec::new();
    for (i, code) in cells.iter().enumerate() {
        eprintln!(
            "evcxr-check: {} cell {}/{}",
            path.display(),
            i + 1,
            cells.len()
        );
        let t = Instant::now();
        let result = ctx.execute(code);
        // evcxr waits until its channel is empty; give the reader thread a moment to store.
        std::thread::sleep(Duration::from_millis(100));
        let ms = t.elapsed().as_millis();
        let out_lines = take(&stdout);
        let err_lines = take(&stderr);
        let (ok, error, mimes) = match result {
            Ok(o) => (true, Value::Null, json!(o.content_by_mime_type)),
            Err(e) => (false, Value::String(e.to_string()), json!({})),
        };
        let failed = !ok;
        report.push(json!({
            "index": i, "ok": ok, "error": error, "stdout": out_lines, "stderr": err_lines,
            "outputs": mimes, "ms": ms,
        }));
        if failed {
            break;
        }
    }
    Ok(json!({
        "notebook": path.display().to_string(),
        "context_ms": context_ms,
        "cells": report,
    }))
}

fn collect(rx: crossbeam_channel::Receiver<String>) -> Arc<Mutex<Vec<String>>> {
    let store = Arc::new(Mutex::new(Vec::new()));
    let s = store.clone();
    std::thread::spawn(move || {
        for line in rx.iter() {
            if let Ok(mut v) = s.lock() {
                v.push(line);
            }
        }
    });
    store
}

fn take(store: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    store
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}
