//! The model fingerprint: everything about the model and its server that can change an answer.
//! For an API: provider, model id and snapshot. For a local server: the GGUF sha256, the server
//! build, the thread count and the slot count (LOCAL_LLM.md: answers change with threads).

use super::provider::ProviderKind;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFingerprint {
    pub provider: ProviderKind,
    pub model: String,
    /// API snapshot (e.g. "o1-2024-12-17"); `None` for local servers.
    pub snapshot: Option<String>,
    pub gguf_sha256: Option<String>,
    pub server_build: Option<String>,
    pub threads: Option<u32>,
    pub slots: Option<u32>,
    /// The grammar self-test's verdict on this server ("passed" with its answer), recorded
    /// before its first constrained answer. Kept in the registry, never in cache keys: it
    /// describes the server, it does not change an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grammar_selftest: Option<String>,
}

impl ModelFingerprint {
    /// What cache keys hash: the fingerprint without the self-test verdict.
    pub fn for_key(&self) -> ModelFingerprint {
        ModelFingerprint {
            grammar_selftest: None,
            ..self.clone()
        }
    }

    pub fn api(provider: ProviderKind, model: &str, snapshot: Option<&str>) -> Self {
        ModelFingerprint {
            provider,
            model: model.to_string(),
            snapshot: snapshot.map(str::to_string),
            gguf_sha256: None,
            server_build: None,
            threads: None,
            slots: None,
            grammar_selftest: None,
        }
    }

    /// The model as a reader names it: the model id, and an API model's snapshot (figure and
    /// table provenance; the full fingerprint is in [`Self::label`] and the models chapter).
    pub fn name(&self) -> String {
        match &self.snapshot {
            Some(s) => format!("{} ({s})", self.model),
            None => self.model.clone(),
        }
    }

    /// The model and what distinguishes its runs, for readers: "qwen (gguf cc324af070c2; 1
    /// thread, 4 slots)". [`Self::label`] is the stable form that names files and records.
    pub fn description(&self) -> String {
        match (&self.gguf_sha256, self.threads, self.slots) {
            (Some(h), Some(t), Some(s)) => format!(
                "{} (gguf {}; {t} thread{}, {s} slot{})",
                self.model,
                &h[..h.len().min(12)],
                if t == 1 { "" } else { "s" },
                if s == 1 { "" } else { "s" }
            ),
            _ => self.name(),
        }
    }

    /// A short label for reports: model plus what distinguishes its runs.
    pub fn label(&self) -> String {
        match (&self.gguf_sha256, self.threads, self.slots) {
            (Some(h), Some(t), Some(s)) => {
                format!(
                    "{} (gguf {}, {} thread(s), {} slot(s))",
                    self.model,
                    &h[..h.len().min(12)],
                    t,
                    s
                )
            }
            _ => match &self.snapshot {
                Some(s) => format!("{} ({s})", self.model),
                None => self.model.clone(),
            },
        }
    }
}

/// What `scripts/local-llm.sh serve` writes.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerInfo {
    pub model: String,
    pub model_file: String,
    pub model_sha256: String,
    pub server_build: String,
    pub threads: u32,
    pub slots: u32,
    #[serde(default)]
    pub port: Option<u16>,
}

/// Where `scripts/local-llm.sh` keeps weights, the llama.cpp build and `server.json`:
/// `SYNTHEHR_LLM_DIR`, else the platform cache directory.
pub fn llm_dir() -> PathBuf {
    std::env::var_os("SYNTHEHR_LLM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            dirs::cache_dir()
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("synthehr")
                .join("llm")
        })
}

/// Default location of the local server's `server.json`.
pub fn default_server_info() -> PathBuf {
    llm_dir().join("server.json")
}

impl ServerInfo {
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::Llm(format!(
                "cannot read the local server's fingerprint {} ({e}); start it with `scripts/local-llm.sh serve`",
                path.display()
            ))
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            Error::Llm(format!(
                "{} is not a valid server.json: {e}",
                path.display()
            ))
        })
    }

    pub fn fingerprint(&self, model: &str) -> ModelFingerprint {
        ModelFingerprint {
            provider: ProviderKind::OpenaiCompatible,
            model: model.to_string(),
            snapshot: None,
            gguf_sha256: Some(self.model_sha256.clone()),
            server_build: Some(self.server_build.clone()),
            threads: Some(self.threads),
            slots: Some(self.slots),
            grammar_selftest: None,
        }
    }
}
