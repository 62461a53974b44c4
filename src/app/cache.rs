//! `synthehr cache …`: statistics, verification, pruning and redaction of the LLM cache.

use super::*;
use crate::llm::{self, Cache};
use std::path::PathBuf;

/// `synthehr cache stats`.
pub fn cache_stats(cache: &Path) -> Result<()> {
    let c = Cache::new(cache);
    c.must_exist("count")?;
    // the costs of API models come from the project's price table
    let prices_path = crate::project::root()?.join("profiles/prices.toml");
    let prices = llm::pricing::Prices::load(&prices_path).unwrap_or_default();
    print!("{}", llm::stats::stats(&c, &prices));
    Ok(())
}

/// `synthehr cache verify`: non-zero exit when anything is wrong.
pub fn cache_verify(cache: &Path) -> Result<()> {
    let c = Cache::new(cache);
    c.must_exist("verify")?;
    let r = llm::stats::verify(&c);
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
    c.must_exist("prune")?;
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
