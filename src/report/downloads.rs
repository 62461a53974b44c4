//! Downloads published beside the report: each model's synthetic table for every cell of the
//! profile (the valid rows as CSV, and a JSON summary of the cell), and every cell's prompts with
//! the real example rows withheld. Everything is replayed from the LLM cache.

use crate::error::Result;
use crate::fsutil::slug;
use crate::fsutil::write_atomic;
use crate::generate::plan::{prompt_without_rows, MemberPool};
use crate::generate::run::write_cell;
use crate::generate::Strategy;
use crate::study::Study;
use serde::Serialize;
use std::path::Path;

/// One published file, relative to the report's directory.
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    pub path: String,
    pub what: String,
}

/// Write `downloads/synthetic/<model>/<cell>.{csv,json}` and `downloads/prompts/<cell>.txt`
/// under `out`; returns what was written, for the index page.
pub fn write(study: &Study, out: &Path) -> Result<Vec<Download>> {
    let mut written = Vec::new();
    for model in &study.models {
        let dir = Path::new("downloads")
            .join("synthetic")
            .join(slug(&model.label()));
        for cell in study.profile.cells() {
            let r = study.replay(model, &cell)?;
            if r.calls == 0 {
                continue;
            }
            write_cell(&out.join(&dir), &r)?;
            written.push(Download {
                path: dir
                    .join(format!("{}.csv", cell.id()))
                    .to_string_lossy()
                    .replace('\\', "/"),
                what: format!(
                    "{}: {} valid rows of {} asked, {} ({} call{})",
                    model.label(),
                    r.valid_rows,
                    cell.rows,
                    Study::status(&r),
                    r.calls,
                    if r.calls == 1 { "" } else { "s" }
                ),
            });
        }
    }
    for cell in study.profile.cells() {
        let pool = MemberPool::for_cell(&study.cohort.matrix, &study.split.train, &cell)?;
        // the group strategy cycles through the 8 race × sex groups: one prompt per group
        let calls = if cell.strategy == Strategy::Group {
            8
        } else {
            1
        };
        let mut text = format!(
            "Prompts of cell {} (profile {}), as sent to every model, with the real example rows withheld.\n",
            cell.id(),
            study.profile.name
        );
        for index in 0..calls {
            let (system, user) = prompt_without_rows(&study.profile, &cell, &pool, index)?;
            text.push_str(&format!(
                "\n===== call {index}: system =====\n{system}\n\n===== call {index}: user =====\n{user}\n"
            ));
        }
        let path = Path::new("downloads")
            .join("prompts")
            .join(format!("{}.txt", cell.id()));
        write_atomic(&out.join(&path), text.as_bytes())?;
        written.push(Download {
            path: path.to_string_lossy().replace('\\', "/"),
            what: format!(
                "prompt{} of {} ({} strategy, {} features)",
                if calls > 1 { "s" } else { "" },
                cell.id(),
                cell.strategy.name(),
                cell.features
            ),
        });
    }
    Ok(written)
}
