//! Strict parsing of LLM output into rows of the requested columns.
//!
//! The model may wrap its CSV in prose and code fences, repeat the header, add trailing commas,
//! quote fields or write `NA`/`null`/`-` for missing values. We extract what is a record, match
//! the header to the requested columns (case, spaces and order do not matter), coerce numbers and
//! check ranges against the schema. Every rejected line has a reason; nothing here panics on any
//! input (fuzzed by proptest in `tests/parse_fuzz.rs`).

use crate::cohort::schema;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reject {
    WrongFieldCount,
    UnparseableNumber,
    OutOfRange,
    MissingLabel,
    Duplicate,
    CopyOfShownRow,
}

impl Reject {
    pub fn name(&self) -> &'static str {
        match self {
            Reject::WrongFieldCount => "wrong field count",
            Reject::UnparseableNumber => "unparseable number",
            Reject::OutOfRange => "out of range",
            Reject::MissingLabel => "missing label",
            Reject::Duplicate => "duplicate",
            Reject::CopyOfShownRow => "copy of a shown row",
        }
    }
}

/// One call's answer, parsed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Parsed {
    /// Valid rows, values in the requested column order (NaN = missing).
    pub rows: Vec<Vec<f64>>,
    pub rejects: BTreeMap<Reject, usize>,
    /// Out-of-range values per column (an impossible value rejects its row).
    pub out_of_range: BTreeMap<String, usize>,
    pub header_found: bool,
    /// Lines that looked like records (valid or rejected).
    pub candidate_lines: usize,
}

fn norm(name: &str) -> String {
    name.trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '`')
        .trim()
        .to_lowercase()
        .replace([' ', '-'], "_")
}

fn split_fields(line: &str) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    match rdr.records().next() {
        Some(Ok(r)) => r.iter().map(str::to_string).collect(),
        // unbalanced quotes and the like: fall back to a plain split
        _ => line.split(',').map(str::to_string).collect(),
    }
}

fn is_missing(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "nan" | "null" | "none" | "-" | "?" | "missing"
    )
}

fn parse_value(s: &str) -> Result<f64, ()> {
    let t = s.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if is_missing(t) {
        return Ok(f64::NAN);
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(()),
    }
}

/// Map header fields onto the requested columns; `None` unless every requested column is there.
fn header_map(fields: &[String], columns: &[&str]) -> Option<Vec<Option<usize>>> {
    let names: Vec<String> = fields.iter().map(|f| norm(f)).collect();
    let mut map = vec![None; names.len()];
    let mut found = 0;
    for (ci, c) in columns.iter().enumerate() {
        let pos = names.iter().position(|n| n == c)?;
        if map[pos].is_none() {
            map[pos] = Some(ci);
            found += 1;
        }
    }
    (found == columns.len()).then_some(map)
}

/// Parse an answer for `columns` (the last one is the label).
pub fn parse(text: &str, columns: &[&str]) -> Parsed {
    let mut out = Parsed::default();
    let n = columns.len();
    let schema_cols: Vec<Option<&schema::Column>> =
        columns.iter().map(|c| schema::column(c)).collect();
    let label = n.checked_sub(1);
    let mut mapping: Option<Vec<Option<usize>>> = None;
    for raw in text.lines() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with("```") || !line.contains(',') {
            continue; // blank, fence or prose
        }
        let mut fields = split_fields(line);
        if let Some(m) = header_map(&fields, columns) {
            out.header_found = true;
            mapping = Some(m);
            continue; // a (repeated) header
        }
        out.candidate_lines += 1;
        let expected = mapping.as_ref().map(|m| m.len()).unwrap_or(n);
        while fields.len() > expected && fields.last().is_some_and(|f| f.trim().is_empty()) {
            fields.pop(); // trailing commas
        }
        if fields.len() != expected {
            *out.rejects.entry(Reject::WrongFieldCount).or_default() += 1;
            continue;
        }
        let mut row = vec![f64::NAN; n];
        let mut bad = None;
        for (fi, f) in fields.iter().enumerate() {
            let ci = match &mapping {
                Some(m) => match m[fi] {
                    Some(ci) => ci,
                    None => continue, // a column we did not ask for
                },
                None => fi,
            };
            match parse_value(f) {
                Ok(v) => row[ci] = v,
                Err(()) => {
                    bad = Some(Reject::UnparseableNumber);
                    break;
                }
            }
        }
        if bad.is_none() {
            for (ci, v) in row.iter().enumerate() {
                if v.is_nan() {
                    continue;
                }
                if let Some(c) = schema_cols[ci] {
                    if !c.in_range(*v) {
                        *out.out_of_range.entry(columns[ci].to_string()).or_default() += 1;
                        bad.get_or_insert(Reject::OutOfRange);
                    }
                }
            }
        }
        if bad.is_none() && label.is_some_and(|l| row[l].is_nan()) {
            bad = Some(Reject::MissingLabel);
        }
        match bad {
            Some(r) => *out.rejects.entry(r).or_default() += 1,
            None => out.rows.push(row),
        }
    }
    out
}

/// Bit pattern of a row, for exact comparisons (all NaNs compare equal).
pub fn row_key(row: &[f64]) -> Vec<u64> {
    row.iter()
        .map(|v| {
            if v.is_nan() {
                u64::MAX
            } else {
                (v + 0.0).to_bits()
            }
        })
        .collect()
}

/// The valid rows of one experiment cell, accumulated call by call, with duplicates and copies
/// of shown rows rejected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CellRows {
    pub rows: Vec<Vec<f64>>,
    /// Index of the call each row came from.
    pub row_call: Vec<usize>,
    pub rejects: BTreeMap<Reject, usize>,
    pub out_of_range: BTreeMap<String, usize>,
    pub calls: usize,
    pub candidate_lines: usize,
    #[serde(skip)]
    seen: HashSet<Vec<u64>>,
}

impl CellRows {
    /// Add one call's parsed answer; `shown` holds the keys of every real row shown in the cell.
    pub fn add(&mut self, call: usize, parsed: Parsed, shown: &HashSet<Vec<u64>>) {
        self.calls += 1;
        self.candidate_lines += parsed.candidate_lines;
        for (r, k) in parsed.rejects {
            *self.rejects.entry(r).or_default() += k;
        }
        for (c, k) in parsed.out_of_range {
            *self.out_of_range.entry(c).or_default() += k;
        }
        for row in parsed.rows {
            let key = row_key(&row);
            let reason = if shown.contains(&key) {
                Some(Reject::CopyOfShownRow)
            } else if !self.seen.insert(key) {
                Some(Reject::Duplicate)
            } else {
                None
            };
            match reason {
                Some(r) => *self.rejects.entry(r).or_default() += 1,
                None => {
                    self.rows.push(row);
                    self.row_call.push(call);
                }
            }
        }
    }

    /// Valid rows / record-like lines (0 when the model wrote none).
    pub fn valid_rate(&self) -> f64 {
        if self.candidate_lines == 0 {
            0.0
        } else {
            self.rows.len() as f64 / self.candidate_lines as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: [&str; 3] = ["age", "heartrate_max", "death"];

    #[test]
    fn fences_prose_header_case_and_order() {
        let text = "Sure! Here are the rows:\n```csv\nDeath, Heartrate_Max ,AGE\n0,110,65\n1,,80\n```\nHope this helps.";
        let p = parse(text, &COLS);
        assert!(p.header_found);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0], vec![65.0, 110.0, 0.0]);
        assert!(p.rows[1][1].is_nan());
        assert_eq!(p.rows[1][2], 1.0);
    }

    #[test]
    fn reasons_for_rejection() {
        let text = "age,heartrate_max,death\n70,100,0,\n70,abc,0\n150,100,0\n60,90,\n60,90\n\"61\",\"91\",\"1\"\nage,heartrate_max,death\n62,NA,null\n63,-,0";
        let p = parse(text, &COLS);
        assert_eq!(p.rows.len(), 3, "{p:?}"); // trailing comma ok, quoted ok, '-' is missing
        assert_eq!(p.rejects[&Reject::UnparseableNumber], 1);
        assert_eq!(p.rejects[&Reject::OutOfRange], 1);
        assert_eq!(p.out_of_range["age"], 1);
        assert_eq!(p.rejects[&Reject::MissingLabel], 2);
        assert_eq!(p.rejects[&Reject::WrongFieldCount], 1);
    }

    #[test]
    fn without_header_columns_are_positional() {
        let p = parse("70,100,0\n71,101,1", &COLS);
        assert!(!p.header_found);
        assert_eq!(p.rows.len(), 2);
    }

    #[test]
    fn runaway_line_is_one_rejected_record() {
        let line = vec!["1"; 853].join(",");
        let p = parse(&format!("age,heartrate_max,death\n{line}"), &COLS);
        assert_eq!(p.rows.len(), 0);
        assert_eq!(p.rejects[&Reject::WrongFieldCount], 1);
    }

    #[test]
    fn duplicates_and_copies_are_rejected_across_calls() {
        let shown: HashSet<Vec<u64>> = [row_key(&[70.0, 100.0, 0.0])].into_iter().collect();
        let mut cell = CellRows::default();
        cell.add(0, parse("70,100,0\n71,101,1", &COLS), &shown);
        cell.add(1, parse("71,101,1\n72,102,0", &COLS), &shown);
        assert_eq!(cell.rows.len(), 2);
        assert_eq!(cell.row_call, vec![0, 1]);
        assert_eq!(cell.rejects[&Reject::CopyOfShownRow], 1);
        assert_eq!(cell.rejects[&Reject::Duplicate], 1);
        assert!((cell.valid_rate() - 0.5).abs() < 1e-12);
    }
}
