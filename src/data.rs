//! Where real data lives on this machine: `--data`, else `SYNTHEHR_DATA`, else the platform cache
//! directory (where `synthehr data fetch` puts it).

use std::path::PathBuf;

pub const DATA_ENV: &str = "SYNTHEHR_DATA";

/// Default download location: `<platform cache dir>/synthehr/data`.
pub fn default_data_dir() -> PathBuf {
    dirs::cache_dir()
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("synthehr")
        .join("data")
}

/// Resolve the data directory: an explicit path wins, then `SYNTHEHR_DATA`, then the default.
pub fn data_dir(explicit: Option<PathBuf>) -> PathBuf {
    explicit
        .or_else(|| std::env::var_os(DATA_ENV).map(PathBuf::from))
        .unwrap_or_else(default_data_dir)
}
