//! The content-addressed LLM response cache: one JSON file per answer under
//! `cache/llm/<first two hex digits>/<key>.json`, written atomically.
//!
//! The key is the sha256 of the canonical JSON of everything that can change the answer: cache
//! schema version, model fingerprint, the full messages, every sampling parameter (defaults made
//! explicit) and the replicate index. An entry stores the answer and the key's inputs **without
//! the messages** (they hold real example rows): the template id and hash, the prompt hash and
//! the example row ids instead.

use super::fingerprint::ModelFingerprint;
use super::provider::{Completion, Usage};
use super::request::{canonical_json, ChatRequest, Sampling};
use crate::error::{Error, Result};
use crate::fsutil::{sha256_hex, write_atomic};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Bump when the key's inputs or the entry format change.
pub const CACHE_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Offline: a miss is an error listing what is missing.
    Replay,
    /// Call the provider on a miss and store the answer.
    Record,
    /// Call again and overwrite.
    Refresh,
}

/// The cache key of a request.
pub fn key(fp: &ModelFingerprint, req: &ChatRequest, replicate: u32) -> String {
    let inputs = json!({
        "schema": CACHE_SCHEMA,
        "model": fp.for_key(),
        "messages": req.messages,
        "sampling": req.sampling,
        "replicate": replicate,
    });
    sha256_hex(canonical_json(&inputs).as_bytes())
}

/// Hash of the messages alone (stored instead of the messages).
pub fn prompt_hash(req: &ChatRequest) -> String {
    sha256_hex(canonical_json(&json!(req.messages)).as_bytes())
}

/// Where a request came from, stored with its answer (no real rows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub template_id: String,
    pub template_hash: String,
    /// Ids (patientunitstayid) of the real rows shown in the prompt.
    pub example_row_ids: Vec<i64>,
    /// The experiment cell and call this answer belongs to (profile, strategy, features, ...).
    pub cell: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub schema: u32,
    pub key: String,
    pub model: ModelFingerprint,
    pub sampling: Sampling,
    pub replicate: u32,
    pub prompt_hash: String,
    pub provenance: Provenance,
    pub response: Completion,
    /// Lines of the answer replaced because they copied a real example row.
    #[serde(default)]
    pub redacted_lines: usize,
    pub latency_ms: u64,
    pub created_at: String,
    /// sha256 of `response.text`, so `cache verify` and every replay detect an edited answer,
    /// not only a broken file. Written by [`Cache::put`].
    #[serde(default)]
    pub answer_sha256: Option<String>,
}

impl Entry {
    pub fn usage(&self) -> &Usage {
        &self.response.usage
    }
}

/// Result of looking a key up.
#[derive(Debug)]
pub enum Lookup {
    Hit(Box<Entry>),
    Miss,
    /// The file exists but cannot be used (truncated, garbage, wrong key); never served.
    Corrupt {
        file: PathBuf,
        why: String,
    },
}

/// The advisory lock file at the cache root (never committed, never an entry).
pub const LOCK_FILE: &str = ".lock";

/// The directory of the per-call in-flight lock files at the cache root (never committed,
/// never entries).
pub const INFLIGHT_DIR: &str = ".inflight";

/// Holds a cache lock until dropped (the OS releases it with the file).
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_for(&self, key: &str) -> PathBuf {
        self.root
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.json"))
    }

    pub fn get(&self, key: &str) -> Lookup {
        note_read(key);
        let path = self.path_for(key);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => {
                return Lookup::Corrupt {
                    file: path,
                    why: e.to_string(),
                }
            }
        };
        match check_entry(&bytes, Some(key)) {
            Ok(entry) => Lookup::Hit(Box::new(entry)),
            Err(why) => Lookup::Corrupt { file: path, why },
        }
    }

    /// Store an entry with the sha256 of its answer (whatever `answer_sha256` it came with:
    /// the answer may have been redacted since) and return it as stored.
    pub fn put(&self, entry: &Entry) -> Result<Entry> {
        let entry = Entry {
            answer_sha256: Some(sha256_hex(entry.response.text.as_bytes())),
            ..entry.clone()
        };
        let bytes = serde_json::to_vec_pretty(&entry)
            .map_err(|e| Error::Cache(format!("cannot serialise entry {}: {e}", entry.key)))?;
        write_atomic(&self.path_for(&entry.key), &bytes)?;
        Ok(entry)
    }

    /// Take the writers' (shared) lock on the cache for as long as the guard lives: a running
    /// generator holds it, so `prune` and `redact` (exclusive) cannot remove or rewrite files
    /// under it. Several writers share it. Waits while an exclusive holder finishes.
    pub fn lock_writer(&self) -> Result<CacheLock> {
        let file = self.lock_file(true)?;
        file.lock_shared()
            .map_err(|e| Error::io(self.root.join(LOCK_FILE), e))?;
        Ok(CacheLock { _file: file })
    }

    /// An error naming the directory when it does not exist: reading a mistyped `--cache`
    /// as an empty cache would report "0 entries" or "not generated yet" for every cell.
    pub fn must_exist(&self, what: &str) -> Result<()> {
        if self.root.is_dir() {
            Ok(())
        } else {
            Err(Error::Cache(format!(
                "no cache directory at {} (nothing to {what})",
                self.root.display()
            )))
        }
    }

    /// Take the cache for `what` alone (`prune`, `redact`), or fail at once, saying why, while
    /// a writer is active. A cache directory that does not exist is an error, not created.
    pub fn lock_exclusive(&self, what: &str) -> Result<CacheLock> {
        self.must_exist(what)?;
        let file = self.lock_file(false)?;
        match file.try_lock() {
            Ok(()) => Ok(CacheLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Cache(format!(
                "cannot {what} {}: a generator is writing to it (it holds {}); run this again \
                 when generation has finished",
                self.root.display(),
                self.root.join(LOCK_FILE).display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(self.root.join(LOCK_FILE), e)),
        }
    }

    /// Try to take the in-flight lock of one call: generators sharing this cache (other
    /// processes, too) ask the provider for a call only while holding it, so a second one
    /// waits for the first one's answer instead of paying for the call again. `None`: another
    /// holder is asking now. The empty lock files stay: deleting a file another process may
    /// be waiting on would let a third one lock a new file beside it.
    pub fn try_lock_inflight(&self, key: &str) -> Result<Option<CacheLock>> {
        let dir = self.root.join(INFLIGHT_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{key}.lock"));
        let file = open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(CacheLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(path, e)),
        }
    }

    fn lock_file(&self, create_root: bool) -> Result<std::fs::File> {
        if create_root {
            std::fs::create_dir_all(&self.root).map_err(|e| Error::io(&self.root, e))?;
        }
        open_lock_file(&self.root.join(LOCK_FILE))
    }

    /// Every `*.json` file under the root (sorted).
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.root) else {
            return out;
        };
        for shard in shards.flatten() {
            if shard.file_name() == INFLIGHT_DIR {
                continue; // lock files, not entries
            }
            if let Ok(files) = std::fs::read_dir(shard.path()) {
                for f in files.flatten() {
                    out.push(f.path());
                }
            }
        }
        out.sort();
        out
    }
}

/// Open (creating, never truncating) a file that is only ever locked, never read.
fn open_lock_file(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Parse and check an entry's bytes: valid JSON of the right schema, a 64-hex key, matching
/// the expected key when given, and a non-empty answer.
pub fn check_entry(bytes: &[u8], expected_key: Option<&str>) -> std::result::Result<Entry, String> {
    let entry: Entry =
        serde_json::from_slice(bytes).map_err(|e| format!("not a valid cache entry: {e}"))?;
    if entry.schema != CACHE_SCHEMA {
        return Err(format!(
            "cache schema {} (expected {CACHE_SCHEMA})",
            entry.schema
        ));
    }
    if entry.key.len() != 64 || !entry.key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("malformed key {:?}", entry.key));
    }
    if let Some(k) = expected_key {
        if entry.key != k {
            return Err(format!("holds key {} instead of {k}", entry.key));
        }
    }
    if entry.response.text.trim().is_empty() {
        return Err("empty answer".into());
    }
    match &entry.answer_sha256 {
        None => return Err("no answer_sha256: the answer cannot be checked".into()),
        Some(h) if *h != sha256_hex(entry.response.text.as_bytes()) => {
            return Err(format!(
                "the answer was edited: its sha256 is not the recorded {}",
                &h[..h.len().min(12)]
            ))
        }
        Some(_) => {}
    }
    Ok(entry)
}

/// When a notebook runs under the engine, every key it looks up is appended to the file named by
/// `SYNTHEHR_EXEC_LOG`, so its execution cache can depend on the entries it read.
fn note_read(key: &str) {
    if let Some(path) = std::env::var_os("SYNTHEHR_EXEC_LOG") {
        // one write per record: two processes appending to one log never interleave in a key
        // (best effort: a lost line only costs a re-execution later)
        let _ = crate::fsutil::append(Path::new(&path), format!("{key}\n").as_bytes());
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
