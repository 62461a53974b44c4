//! The report's chapters: every notebook of `notebooks/` except the engine checks (`00-…`), in
//! file order, numbered from 1. What a chapter shows is declared in its own metadata
//! (`metadata.synthehr.findings`: the numbers of the paper's findings whose evidence it holds),
//! so the scorecard links a finding to whichever chapter declares it, not to a number in code.

use super::model::Notebook;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One chapter of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Chapter {
    /// Report numbering (1 = the first notebook after the engine checks).
    pub number: usize,
    pub path: PathBuf,
    /// The paper's findings (1–6) whose numbers this chapter shows.
    pub findings: Vec<usize>,
}

impl Chapter {
    /// The file stem, e.g. `04-dimensionality` (its page is `04-dimensionality.html`).
    pub fn stem(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("chapter")
    }
}

/// Whether a notebook file is a report chapter: an `.ipynb` not named `00-…` (engine checks).
pub fn is_chapter(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "ipynb")
        && !path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .starts_with("00-")
}

/// The chapter notebooks of `dir`, in report order.
pub fn chapter_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_chapter(p))
        .collect();
    paths.sort();
    Ok(paths)
}

/// The findings a notebook declares (`metadata.synthehr.findings`; none when absent). A
/// declaration that is not a list of finding numbers 1–6 is an error naming the notebook.
pub fn declared_findings(nb: &Notebook, path: &Path) -> Result<Vec<usize>> {
    let Some(v) = nb.metadata.get("synthehr").and_then(|s| s.get("findings")) else {
        return Ok(Vec::new());
    };
    let bad = || {
        Error::bad_file(
            path,
            format!("metadata.synthehr.findings must list finding numbers 1 to 6, not {v}"),
        )
    };
    v.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|n| {
            n.as_u64()
                .filter(|n| (1..=6).contains(n))
                .map(|n| n as usize)
                .ok_or_else(bad)
        })
        .collect()
}

/// Every chapter of `dir` with what it declares.
pub fn chapters(dir: &Path) -> Result<Vec<Chapter>> {
    chapter_paths(dir)?
        .into_iter()
        .enumerate()
        .map(|(i, path)| {
            let nb = Notebook::read(&path)?;
            Ok(Chapter {
                number: i + 1,
                findings: declared_findings(&nb, &path)?,
                path,
            })
        })
        .collect()
}

/// The chapter that declares finding `n` (the first, if several do).
pub fn of_finding(chapters: &[Chapter], n: usize) -> Option<&Chapter> {
    chapters.iter().find(|c| c.findings.contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notebook(metadata: serde_json::Value) -> String {
        json!({"cells": [], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}).to_string()
    }

    #[test]
    fn chapters_are_numbered_in_file_order_without_engine_checks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("00-engine-check.ipynb"), notebook(json!({}))).unwrap();
        std::fs::write(
            d.join("02-b.ipynb"),
            notebook(json!({"synthehr": {"findings": [3, 5]}})),
        )
        .unwrap();
        std::fs::write(d.join("01-a.ipynb"), notebook(json!({}))).unwrap();
        std::fs::write(d.join("notes.md"), "not a notebook").unwrap();
        let c = chapters(d).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].number, c[0].stem()), (1, "01-a"));
        assert_eq!((c[1].number, c[1].stem()), (2, "02-b"));
        assert_eq!(of_finding(&c, 5).map(|c| c.number), Some(2));
        assert_eq!(of_finding(&c, 1), None);
    }

    #[test]
    fn a_malformed_declaration_names_the_notebook() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            json!("3"),
            json!([7]),
            json!([0]),
            json!(["three"]),
            json!([-1]),
        ] {
            let p = dir.path().join("04-x.ipynb");
            std::fs::write(&p, notebook(json!({"synthehr": {"findings": bad.clone()}}))).unwrap();
            let err = chapters(dir.path()).unwrap_err().to_string();
            assert!(
                err.contains("04-x.ipynb") && err.contains("finding numbers 1 to 6"),
                "{bad}: {err}"
            );
        }
    }

    /// The scorecard's links: each of the paper's six findings is declared by exactly one
    /// chapter of this project.
    #[test]
    fn every_finding_has_one_chapter_here() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
        let c = chapters(&dir).unwrap();
        for n in 1..=6 {
            let declaring: Vec<&str> = c
                .iter()
                .filter(|c| c.findings.contains(&n))
                .map(|c| c.stem())
                .collect();
            assert_eq!(declaring.len(), 1, "finding {n}: {declaring:?}");
        }
        let numbers: Vec<usize> = (1..=6)
            .filter_map(|n| of_finding(&c, n).map(|c| c.number))
            .collect();
        assert_eq!(numbers, [2, 3, 4, 5, 4, 9]);
    }
}
