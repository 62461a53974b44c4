//! Reading PhysioNet-style tables (`name.csv.gz` or `name.csv`) with errors that name the file and
//! column, and unparseable cells counted instead of aborting the build.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Find `name.csv.gz` or `name.csv` in `dir` (PhysioNet names; also tried in lower case).
pub fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    let lower = name.to_lowercase();
    for stem in [name, lower.as_str()] {
        for ext in ["csv.gz", "csv"] {
            let p = dir.join(format!("{stem}.{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::MissingTable {
        table: name.to_string(),
        path: dir.join(format!("{name}.csv.gz")),
    })
}

/// A CSV table opened for streaming, with its header resolved.
pub struct Table {
    pub path: PathBuf,
    reader: csv::Reader<Box<dyn Read>>,
    header: Vec<String>,
}

impl Table {
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        // gzip by its magic bytes, not the name (downloads are verified as NAME.part)
        let mut magic = [0u8; 2];
        let gz =
            file.read(&mut magic).map_err(|e| Error::io(path, e))? == 2 && magic == [0x1f, 0x8b];
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(path, e))?;
        let inner: Box<dyn Read> = if gz {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(inner);
        let header = reader
            .headers()
            .map_err(|e| Error::bad_file(path, format!("cannot read the header: {e}")))?
            .iter()
            .map(|h| h.trim().to_lowercase())
            .collect();
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            header,
        })
    }

    /// Index of a required column (names are compared in lower case).
    pub fn col(&self, name: &str) -> Result<usize> {
        self.opt_col(name).ok_or_else(|| Error::MissingColumn {
            file: self.path.clone(),
            column: name.to_string(),
            header: self.header.join(","),
        })
    }

    /// Column names (lower case, trimmed).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn opt_col(&self, name: &str) -> Option<usize> {
        let name = name.to_lowercase();
        self.header.iter().position(|h| *h == name)
    }

    /// Visit every record. A record the CSV reader cannot decode is an error naming the line.
    pub fn for_each(mut self, mut f: impl FnMut(&csv::StringRecord) -> Result<()>) -> Result<()> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(true) => f(&rec)?,
                Ok(false) => return Ok(()),
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Err(Error::bad_file(
                        &self.path,
                        format!("line {line}: cannot read the record: {e}"),
                    ));
                }
            }
        }
    }
}

/// Counts cells that were present but could not be parsed, per `table.column`; they become missing.
#[derive(Debug, Default, Clone)]
pub struct ParseIssues {
    pub counts: BTreeMap<String, u64>,
    pub examples: BTreeMap<String, String>,
}

impl ParseIssues {
    /// Parse a numeric cell: empty → None; garbage → None and counted.
    pub fn num(&mut self, table: &str, column: &str, cell: Option<&str>) -> Option<f64> {
        let s = cell?.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("null") {
            return None;
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                self.note(table, column, s);
                None
            }
        }
    }

    /// Count a cell that cannot be used (kept as missing), with its first example.
    pub fn note(&mut self, table: &str, column: &str, example: &str) {
        let key = format!("{table}.{column}");
        *self.counts.entry(key.clone()).or_default() += 1;
        self.examples
            .entry(key)
            .or_insert_with(|| example.to_string());
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// One warning line per column with unparseable cells.
    pub fn warnings(&self) -> Vec<String> {
        self.counts
            .iter()
            .map(|(k, n)| {
                format!(
                    "warning: {n} unparseable or impossible cell(s) in {k} counted as missing (e.g. {:?})",
                    self.examples.get(k).map(String::as_str).unwrap_or("")
                )
            })
            .collect()
    }
}

/// A text cell, trimmed; empty → None.
pub fn text(cell: Option<&str>) -> Option<&str> {
    cell.map(str::trim).filter(|s| !s.is_empty())
}
