//! A run's captured output split into cells (the marker lines of the headless protocol), the
//! kernel's view of a cell for the engine comparison, and outputs stored back into a notebook.

use super::super::display::PANIC_MARKER;
use super::super::program::{BEGIN, END};
use super::{CellOutput, Execution, RichOutput};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;

use std::collections::BTreeMap;
use std::path::Path;

/// Split a run's output into cells by the marker lines, pulling out rich blocks. A cell that
/// began but never ended gets `ms = -1`.
pub fn split_outputs(stdout: &str, stderr: &str) -> Vec<CellOutput> {
    let mut cells: BTreeMap<usize, CellOutput> = BTreeMap::new();
    let mut walk = |text: &str, is_err: bool| {
        let mut current: Option<usize> = None;
        let mut rich: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(BEGIN) {
                if let Ok(i) = rest.trim().parse::<usize>() {
                    current = Some(i);
                    cells.entry(i).or_insert_with(|| CellOutput {
                        cell: i,
                        ms: -1.0,
                        ..Default::default()
                    });
                }
                continue;
            }
            if let Some(rest) = line.strip_prefix(END) {
                let mut it = rest.split_whitespace();
                if let (Some(i), Some(ms)) = (
                    it.next().and_then(|s| s.parse::<usize>().ok()),
                    it.next().and_then(|s| s.parse::<f64>().ok()),
                ) {
                    if let Some(c) = cells.get_mut(&i) {
                        c.ms = ms;
                    }
                }
                current = None;
                continue;
            }
            let Some(i) = current else { continue };
            let Some(c) = cells.get_mut(&i) else { continue };
            if is_err {
                if !line.starts_with(PANIC_MARKER) {
                    c.stderr.push_str(line);
                    c.stderr.push('\n');
                }
                continue;
            }
            if let Some(mime) = line.strip_prefix("EVCXR_BEGIN_CONTENT ") {
                rich = Some((mime.trim().to_string(), String::new()));
            } else if line == "EVCXR_END_CONTENT" {
                if let Some((mime, content)) = rich.take() {
                    c.rich.push(RichOutput { mime, content });
                }
            } else if let Some((_, content)) = rich.as_mut() {
                // lines joined by newlines, as evcxr joins them (content ending in a newline
                // keeps it), so both engines store the same text
                if !content.is_empty() {
                    content.push('\n');
                }
                content.push_str(line);
            } else {
                c.stdout.push_str(line);
                c.stdout.push('\n');
            }
        }
    };
    walk(stdout, false);
    walk(stderr, true);
    cells.into_values().collect()
}

/// A cell's rich outputs as the evcxr kernel sends them to Jupyter: one result whose data holds
/// the last output of each MIME type (evcxr keeps one per type per cell).
pub fn kernel_view(c: &CellOutput) -> std::collections::BTreeMap<String, String> {
    c.rich
        .iter()
        .map(|r| (r.mime.clone(), r.content.clone()))
        .collect()
}

/// Store an execution's outputs in the notebook as the kernel would (stdout stream, one
/// `execute_result`, stderr stream), touching nothing but each code cell's `outputs` and
/// `execution_count`.
pub fn write_outputs(path: &Path, e: &Execution) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
    let mut nb: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|err| Error::bad_file(path, err.to_string()))?;
    let Some(cells) = nb.get_mut("cells").and_then(|c| c.as_array_mut()) else {
        return Err(Error::bad_file(path, "no cells"));
    };
    let mut count = 0;
    for (i, cell) in cells.iter_mut().enumerate() {
        if cell.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        count += 1;
        let mut outputs = Vec::new();
        if let Some(c) = e.cells.iter().find(|c| c.cell == i) {
            if !c.stdout.is_empty() {
                outputs.push(serde_json::json!({"output_type": "stream", "name": "stdout", "text": c.stdout}));
            }
            let shown = kernel_view(c);
            if !shown.is_empty() {
                outputs.push(serde_json::json!({"output_type": "execute_result", "data": shown, "metadata": {}, "execution_count": count}));
            }
            if !c.stderr.is_empty() {
                outputs.push(serde_json::json!({"output_type": "stream", "name": "stderr", "text": c.stderr}));
            }
        }
        cell["outputs"] = serde_json::Value::Array(outputs);
        cell["execution_count"] = serde_json::json!(count);
    }
    let mut text =
        serde_json::to_string_pretty(&nb).map_err(|err| Error::Invalid(err.to_string()))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}
