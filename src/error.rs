//! One typed error for the library: every variant names what failed and where, so a user can fix
//! the input without reading code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("table {table} not found (looked for {path})")]
    MissingTable { table: String, path: PathBuf },
    #[error("{file}: column '{column}' is missing (header has: {header})")]
    MissingColumn {
        file: PathBuf,
        column: String,
        header: String,
    },
    #[error("{file}: {message}")]
    BadFile { file: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("download failed: {0}")]
    Download(String),
    #[error("LLM: {0}")]
    Llm(String),
    #[error("cache: {0}")]
    Cache(String),
    /// A cache file that exists but cannot be used (truncated, not JSON, wrong key, an edited or
    /// empty answer): an error naming the file, never a "missing" call.
    #[error(
        "corrupt cache entry {}: {why} (repair: `git checkout -- {}` restores a committed entry; \
         or `synthehr cache prune --yes` removes it and `synthehr generate` records it again)",
        file.display(),
        file.display()
    )]
    CorruptEntry { file: PathBuf, why: String },
    /// Replay needed an answer the cache does not hold (not generated yet).
    #[error("replay miss: key {key} for {cell}")]
    ReplayMiss { key: String, cell: String },
    /// A recording run reached its `--max-new-calls`: the call was not requested.
    #[error("not requested: --max-new-calls {cap} reached")]
    CallCap { cap: u64 },
}

pub type Result<T> = std::result::Result<T, Error>;

/// An error with the causes beneath it ("error sending request for url (…): client error
/// (Connect): tcp connect error: Connection refused"): HTTP clients put the reason a user can act
/// on in the source chain, not in the top message. A cause already in the text is not repeated.
pub fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.contains(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub fn bad_file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            file: file.into(),
            message: message.into(),
        }
    }
}
