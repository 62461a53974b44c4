//! Where the synthehr project is — `profiles/`, `cache/`, `notebooks/`, `prompts/`,
//! `report_templates/` — found at run time, never from the build machine's path: a copied or
//! installed binary, and a notebook kernel, must read and write the checkout they run in.
//!
//! `SYNTHEHR_PROJECT` when set (it must be a synthehr checkout), else the nearest directory at
//! or above the current one whose `Cargo.toml` names the `synthehr` package and which holds
//! `profiles/` (the build runs notebooks from the project root, the evcxr kernel from
//! `notebooks/`).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Environment variable naming the project directory explicitly.
pub const PROJECT_ENV: &str = "SYNTHEHR_PROJECT";

/// Whether `dir` is a synthehr checkout.
pub fn is_project(dir: &Path) -> bool {
    dir.join("profiles").is_dir()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == "name = \"synthehr\""))
}

/// The project directory (see the module docs).
pub fn root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(PROJECT_ENV).map(PathBuf::from) {
        return if is_project(&dir) {
            Ok(dir)
        } else {
            Err(Error::Invalid(format!(
                "{PROJECT_ENV}={} is not a synthehr checkout (no Cargo.toml of the synthehr package with profiles/ beside it)",
                dir.display()
            )))
        };
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    cwd.ancestors()
        .find(|d| is_project(d))
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} is not inside a synthehr checkout (looked for the synthehr Cargo.toml with profiles/ in it and every parent): run synthehr from the project, or set {PROJECT_ENV}",
                cwd.display()
            ))
        })
}

/// The project's LLM response cache.
pub fn llm_cache(project: &Path) -> PathBuf {
    project.join("cache").join("llm")
}

/// A command's `--cache`: as given, else the project's cache, from any directory of the
/// checkout (a cwd-relative default replayed nothing, or recorded into a second cache, when run
/// from `notebooks/`).
pub fn llm_cache_or(given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(dir) => Ok(dir),
        None => Ok(llm_cache(&root()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_is_recognised_and_a_stranger_is_not() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(is_project(here));
        assert!(!is_project(&here.join("src")));
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("profiles")).unwrap();
        std::fs::write(
            tmp.path().join("Cargo.toml"),
            "[package]\nname = \"other\"\n",
        )
        .unwrap();
        assert!(!is_project(tmp.path()));
    }
}
