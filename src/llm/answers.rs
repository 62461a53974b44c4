//! Where a cell's answers come from. Generation (`generate::run::run_cell`, a layer above) asks an
//! [`Answers`]: the study library replays from the cache alone ([`Replay`]: no HTTP client, no
//! async runtime), the tool's `LlmClient` records from a provider behind the same cache.

use super::cache::{self, Cache, CacheMode, Entry, Lookup, Provenance};
use super::fingerprint::ModelFingerprint;
use super::request::ChatRequest;
use crate::error::{Error, Result};
use std::future::Future;

/// How a constrained request is sent: a GBNF grammar (llama-server's extension) or a JSON
/// schema (the commercial APIs' structured outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
pub enum ConstraintForm {
    Gbnf,
    JsonSchema,
}

impl ConstraintForm {
    /// As a model's calls were recorded: a local GGUF server took the grammar, an API the JSON
    /// schema.
    pub fn recorded_for(model: &ModelFingerprint) -> Self {
        if model.gguf_sha256.is_some() {
            ConstraintForm::Gbnf
        } else {
            ConstraintForm::JsonSchema
        }
    }
}

/// Removes real rows from an answer: returns the text to store and the lines removed.
pub type Redactor<'a> = dyn Fn(&str) -> (String, usize) + Sync + 'a;

/// An answer and where it came from (progress tells a replayed call from a paid one).
#[derive(Debug, Clone)]
pub struct Answered {
    pub entry: Entry,
    /// Asked of the provider in this run, not read from the cache.
    pub fresh: bool,
}

/// A source of answers for generation.
pub trait Answers: Sync {
    fn mode(&self) -> CacheMode;
    /// Requests to keep in flight.
    fn concurrency(&self) -> usize;
    fn constraint_form(&self) -> ConstraintForm;
    /// The cache key of a request.
    fn key(&self, req: &ChatRequest, replicate: u32) -> String;
    /// Completion tokens generated (not replayed) so far, for progress.
    fn fresh_completion_tokens(&self) -> u64;
    /// Whether another cell or generator process has this call out right now (its answer will
    /// be in the cache when that call ends); replay asks nobody.
    fn asked_elsewhere(&self, _req: &ChatRequest, _replicate: u32) -> bool {
        false
    }
    /// The answer to `req`; `redact` removes real rows from a fresh answer before it is stored.
    fn answer<'a>(
        &'a self,
        req: &'a ChatRequest,
        replicate: u32,
        provenance: Provenance,
        redact: Option<&'a Redactor<'a>>,
    ) -> impl Future<Output = Result<Answered>> + Send + 'a;
}

/// The replay of a cache entry: the entry, or why it cannot be used. A corrupt file is an error
/// of its own, never shown as "not generated yet".
pub fn replay_entry(cache: &Cache, key: &str, provenance: &Provenance) -> Result<Entry> {
    match cache.get(key) {
        Lookup::Hit(e) => Ok(*e),
        Lookup::Corrupt { file, why } => Err(Error::CorruptEntry { file, why }),
        Lookup::Miss => Err(Error::ReplayMiss {
            key: key.to_string(),
            cell: provenance.cell.to_string(),
        }),
    }
}

/// Answers from the committed cache only: what a notebook or an offline build reads.
pub struct Replay {
    pub cache: Cache,
    pub model: ModelFingerprint,
}

impl Replay {
    pub fn new(cache: Cache, model: ModelFingerprint) -> Self {
        Replay { cache, model }
    }
}

impl Answers for Replay {
    fn mode(&self) -> CacheMode {
        CacheMode::Replay
    }
    fn concurrency(&self) -> usize {
        1
    }
    fn constraint_form(&self) -> ConstraintForm {
        ConstraintForm::recorded_for(&self.model)
    }
    fn key(&self, req: &ChatRequest, replicate: u32) -> String {
        cache::key(&self.model, req, replicate)
    }
    fn fresh_completion_tokens(&self) -> u64 {
        0
    }
    fn answer<'a>(
        &'a self,
        req: &'a ChatRequest,
        replicate: u32,
        provenance: Provenance,
        _redact: Option<&'a Redactor<'a>>,
    ) -> impl Future<Output = Result<Answered>> + Send + 'a {
        let entry = replay_entry(&self.cache, &self.key(req, replicate), &provenance);
        std::future::ready(entry.map(|entry| Answered {
            entry,
            fresh: false,
        }))
    }
}
