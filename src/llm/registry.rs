//! The model registry, `cache/models/`: the fingerprint of every model that answered at least one
//! call, so replay and the report know the models without their servers or APIs.

use std::path::{Path, PathBuf};

use crate::llm::ModelFingerprint;
use crate::Result;

pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The project's registry, beside its LLM cache.
    pub fn of_project(project: &Path) -> Registry {
        Registry {
            dir: project.join("cache").join("models"),
        }
    }

    /// The registry beside an LLM cache directory (`<cache>/../models`), wherever `--cache` is.
    pub fn beside(cache: &Path) -> Registry {
        Registry {
            dir: cache.parent().unwrap_or(Path::new(".")).join("models"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every registered fingerprint, in file-name order. A `.json` file that does not parse is an
    /// error naming it: skipping it would drop its model from replay and the report silently.
    /// No registry yet is no models; one that cannot be listed is an error.
    pub fn models(&self) -> Result<Vec<ModelFingerprint>> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(crate::Error::io(&self.dir, e)),
        };
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let bad = |message: String| crate::Error::BadFile {
                    file: p.clone(),
                    message: format!(
                        "not a model fingerprint ({message}); restore it (`git checkout -- {}`) \
                         or remove it",
                        p.display()
                    ),
                };
                let bytes = std::fs::read(p).map_err(|e| bad(e.to_string()))?;
                serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))
            })
            .collect()
    }

    /// Write a fingerprint, keeping a recorded self-test verdict of the same server.
    pub fn register(&self, fp: &ModelFingerprint) -> Result<()> {
        let path = self
            .dir
            .join(format!("{}.json", crate::fsutil::slug(&fp.label())));
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
        let bytes =
            serde_json::to_vec_pretty(fp).map_err(|e| crate::Error::Invalid(e.to_string()))?;
        crate::fsutil::write_atomic(&path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ProviderKind;

    #[test]
    fn registered_models_read_back_and_a_corrupt_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let reg = Registry::beside(&tmp.path().join("cache").join("llm"));
        assert_eq!(reg.dir(), Registry::of_project(tmp.path()).dir());
        assert!(reg.models().unwrap().is_empty(), "no registry: no models");
        let fp = ModelFingerprint::api(ProviderKind::Gemini, "m", Some("2026-01-01"));
        reg.register(&fp).unwrap();
        std::fs::write(reg.dir().join("README.txt"), "not a fingerprint").unwrap();
        assert_eq!(reg.models().unwrap(), vec![fp]);
        std::fs::write(reg.dir().join("broken.json"), "{").unwrap();
        let e = reg.models().unwrap_err().to_string();
        assert!(
            e.contains("broken.json") && e.contains("not a model fingerprint"),
            "{e}"
        );
        // a registry that is there but cannot be listed is an error too, not "no models"
        let other = tmp.path().join("elsewhere");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("models"), "a file").unwrap();
        let e = Registry::beside(&other.join("llm")).models().unwrap_err();
        assert!(e.to_string().contains("models"), "{e}");
    }
}
