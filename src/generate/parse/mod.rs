//! Strict parsing of LLM output into rows of the requested columns.
//!
//! The model may wrap its CSV in prose and code fences, repeat the header, add trailing commas,
//! quote fields or write `NA`/`null`/`-` for missing values. We extract what is a record, match
//! the header to the requested columns (case, spaces and order do not matter), coerce numbers and
//! check ranges against the schema. Every rejected line has a reason; nothing here panics on any
//! input (fuzzed by proptest in `tests/parse_fuzz.rs`).
//!
//! Why ~560 lines in one file: classification, the consistency rule, copy detection and
//! redaction all read a line through the same field splitting and header matching; the tests
//! live in `tests.rs`.

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
            Reject::CopyOfShownRow => "copy or near copy of a shown row",
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
    /// Indices into `rows` of valid rows that break a measurement's order (see [`inconsistent`]).
    pub inconsistent: Vec<usize>,
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

/// What one line of an answer is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// Blank, a code fence or prose: not a record.
    Ignored,
    Header,
    /// A record: its values when every field parsed (NaN = missing), and the verdict.
    Record {
        values: Option<Vec<f64>>,
        verdict: Result<(), Reject>,
    },
}

/// The marker that replaces a line that copied a shown real row before an answer is cached
/// (the cache never holds real rows); it parses as a `CopyOfShownRow` rejection.
pub const REDACTED_COPY: &str = "[synthehr: removed a line that copied a real example row]";

/// A structured-output answer (`{"rows": [{column: value, …}, …]}`, from a JSON schema) as the
/// CSV the rest of the parser reads: the requested header, then one line per record with the
/// columns in order (`null` = empty). A record with a missing or an unrequested key gets one
/// field too few or too many, so it is rejected as a wrong field count, never silently filled.
/// `None` when the text is not such an object (free text goes to the CSV parser as it is).
pub fn json_rows_as_csv(text: &str, columns: &[&str]) -> Option<String> {
    let t = text.trim();
    if !t.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let rows = v.get("rows")?.as_array()?;
    let mut out = columns.join(",");
    out.push('\n');
    for r in rows {
        let Some(obj) = r.as_object() else {
            // a record-like line with a wrong field count
            out.push_str(&vec!["[not a record]"; columns.len() + 1].join(","));
            out.push('\n');
            continue;
        };
        let mut fields: Vec<String> = Vec::with_capacity(columns.len());
        for c in columns {
            match obj.get(*c) {
                Some(serde_json::Value::Null) => fields.push(String::new()),
                Some(serde_json::Value::String(x)) => {
                    fields.push(format!("\"{}\"", x.replace('"', "")))
                }
                Some(x) => fields.push(x.to_string()),
                None => {} // missing: one field short
            }
        }
        let extra = obj
            .keys()
            .filter(|k| !columns.contains(&k.as_str()))
            .count();
        fields.extend(std::iter::repeat_n("0".to_string(), extra));
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Some(out)
}

/// Classify every line of an answer for `columns` (the last one is the label).
pub fn classify(text: &str, columns: &[&str]) -> Vec<Line> {
    if let Some(csv) = json_rows_as_csv(text, columns) {
        return classify_csv(&csv, columns);
    }
    classify_csv(text, columns)
}

fn classify_csv(text: &str, columns: &[&str]) -> Vec<Line> {
    let n = columns.len();
    let schema_cols: Vec<Option<&schema::Column>> =
        columns.iter().map(|c| schema::column(c)).collect();
    let label = n.checked_sub(1);
    let mut mapping: Option<Vec<Option<usize>>> = None;
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim().trim_start_matches('\u{feff}');
        if line == REDACTED_COPY {
            out.push(Line::Record {
                values: None,
                verdict: Err(Reject::CopyOfShownRow),
            });
            continue;
        }
        if line.is_empty() || line.starts_with("```") || !line.contains(',') {
            out.push(Line::Ignored); // blank, fence or prose
            continue;
        }
        let mut fields = split_fields(line);
        if let Some(m) = header_map(&fields, columns) {
            mapping = Some(m);
            out.push(Line::Header); // a (repeated) header
            continue;
        }
        let expected = mapping.as_ref().map(|m| m.len()).unwrap_or(n);
        while fields.len() > expected && fields.last().is_some_and(|f| f.trim().is_empty()) {
            fields.pop(); // trailing commas
        }
        if fields.len() != expected {
            out.push(Line::Record {
                values: None,
                verdict: Err(Reject::WrongFieldCount),
            });
            continue;
        }
        let mut row = vec![f64::NAN; n];
        let mut unparseable = false;
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
                    unparseable = true;
                    break;
                }
            }
        }
        if unparseable {
            out.push(Line::Record {
                values: None,
                verdict: Err(Reject::UnparseableNumber),
            });
            continue;
        }
        let out_of_range = row
            .iter()
            .enumerate()
            .any(|(ci, v)| !v.is_nan() && schema_cols[ci].is_some_and(|c| !c.in_range(*v)));
        let verdict = if out_of_range {
            Err(Reject::OutOfRange)
        } else if label.is_some_and(|l| row[l].is_nan()) {
            Err(Reject::MissingLabel)
        } else {
            Ok(())
        };
        out.push(Line::Record {
            values: Some(row),
            verdict,
        });
    }
    out
}

/// Parse an answer for `columns` (the last one is the label).
pub fn parse(text: &str, columns: &[&str]) -> Parsed {
    let mut out = Parsed::default();
    for line in classify(text, columns) {
        match line {
            Line::Ignored => {}
            Line::Header => out.header_found = true,
            Line::Record { values, verdict } => {
                out.candidate_lines += 1;
                match (verdict, values) {
                    (Ok(()), Some(row)) => {
                        if inconsistent(&row, columns) {
                            out.inconsistent.push(out.rows.len());
                        }
                        out.rows.push(row)
                    }
                    (Err(r), values) => {
                        if r == Reject::OutOfRange {
                            if let Some(row) = &values {
                                for (ci, v) in row.iter().enumerate() {
                                    if !v.is_nan()
                                        && schema::column(columns[ci])
                                            .is_some_and(|c| !c.in_range(*v))
                                    {
                                        *out.out_of_range
                                            .entry(columns[ci].to_string())
                                            .or_default() += 1;
                                    }
                                }
                            }
                        }
                        *out.rejects.entry(r).or_default() += 1;
                    }
                    (Ok(()), None) => {}
                }
            }
        }
    }
    out
}

/// Whether a row breaks the order of one measurement's window summaries: its minimum above its
/// first, last or maximum value, or its maximum below its first or last (the real data never
/// does; `tempc_min > tempc_last` was 23% of one free cell's valid rows). Such rows are *kept*
/// for the metrics, as the paper kept impossible values, and counted per cell as
/// "inconsistent" so the rate is reported beside the validity rate.
pub fn inconsistent(row: &[f64], columns: &[&str]) -> bool {
    use schema::{Agg, Derivation};
    // (var, early) -> (min, max, [first/last values])
    let mut groups: BTreeMap<(&str, bool), (f64, f64, Vec<f64>)> = BTreeMap::new();
    for (c, v) in columns.iter().zip(row) {
        if v.is_nan() {
            continue;
        }
        let Some(Derivation::Window { var, agg, early }) = schema::column(c).map(|c| c.derivation)
        else {
            continue;
        };
        let g = groups
            .entry((var, early))
            .or_insert((f64::NAN, f64::NAN, Vec::new()));
        match agg {
            Agg::Min => g.0 = *v,
            Agg::Max => g.1 = *v,
            Agg::First | Agg::Last => g.2.push(*v),
            Agg::Sum => {}
        }
    }
    groups.values().any(|(min, max, others)| {
        (min > max) || others.iter().any(|o| min > o) || others.iter().any(|o| max < o)
    })
}

/// The real rows shown in a call, as the model saw them: for exact matching (row keys) and for
/// near-copy matching (field tokens).
#[derive(Debug, Clone, Default)]
pub struct Shown {
    pub keys: HashSet<Vec<u64>>,
    pub tokens: Vec<Vec<String>>,
}

fn token(field: &str) -> String {
    let t = field.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if is_missing(t) {
        return String::new();
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => crate::cohort::matrix::canonical(v),
        _ => t.to_lowercase(),
    }
}

impl Shown {
    /// From shown rows (values in the requested column order, NaN = missing).
    pub fn new(rows: &[Vec<f64>]) -> Shown {
        Shown {
            keys: rows.iter().map(|r| row_key(r)).collect(),
            tokens: rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| {
                            if v.is_nan() {
                                String::new()
                            } else {
                                crate::cohort::matrix::canonical(*v)
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// Whether a line's fields are a copy or a near copy of a shown row: the longest common
    /// subsequence of the fields covers all but at most one field of the row (one value changed,
    /// dropped or inserted), and at least three informative values (not blank, 0 or 1) match.
    pub fn near_copy(&self, fields: &[String]) -> bool {
        let toks: Vec<String> = fields.iter().map(|f| token(f)).collect();
        self.tokens.iter().any(|row| {
            let n = row.len();
            if n < 2 || toks.len() + 1 < n || toks.len() > n + 1 {
                return false;
            }
            let (lcs, informative) = lcs(row, &toks);
            lcs + 1 >= n && informative >= 3.min(row.iter().filter(|t| is_informative(t)).count())
        })
    }
}

fn is_informative(t: &str) -> bool {
    !t.is_empty() && t != "0" && t != "1"
}

/// Longest common subsequence length and how many informative tokens it matches.
fn lcs(a: &[String], b: &[String]) -> (usize, usize) {
    let mut dp = vec![vec![(0usize, 0usize); b.len() + 1]; a.len() + 1];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            dp[i][j] = if a[i - 1] == b[j - 1] {
                let (l, k) = dp[i - 1][j - 1];
                (l + 1, k + usize::from(is_informative(&a[i - 1])))
            } else {
                dp[i - 1][j].max(dp[i][j - 1])
            };
        }
    }
    dp[a.len()][b.len()]
}

/// Replace every line that copies or nearly copies a shown real row (whatever else is wrong
/// with it) by [`REDACTED_COPY`]. Returns the text to cache and the number of lines replaced.
pub fn redact_copies(text: &str, columns: &[&str], shown: &Shown) -> (String, usize) {
    // a structured answer is checked as the CSV it stands for; if it copied a shown row, that
    // CSV (redacted) is what gets stored, so no real row reaches the cache in JSON either
    if let Some(csv) = json_rows_as_csv(text, columns) {
        let (red, n) = redact_csv(&csv, columns, shown);
        return if n == 0 {
            (text.to_string(), 0)
        } else {
            (red, n)
        };
    }
    redact_csv(text, columns, shown)
}

fn redact_csv(text: &str, columns: &[&str], shown: &Shown) -> (String, usize) {
    let lines = classify_csv(text, columns);
    let mut n = 0;
    let out: Vec<&str> = text
        .lines()
        .zip(lines.iter().chain(std::iter::repeat(&Line::Ignored)))
        .map(|(raw, l)| {
            let copy = match l {
                Line::Record {
                    values: Some(v), ..
                } if shown.keys.contains(&row_key(v)) => true,
                Line::Record { .. } => shown.near_copy(&split_fields(raw.trim())),
                _ => false,
            };
            if copy {
                n += 1;
                REDACTED_COPY
            } else {
                raw
            }
        })
        .collect();
    if n == 0 {
        return (text.to_string(), 0);
    }
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    (s, n)
}

pub use crate::metrics::row_key;

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
    /// Valid rows (kept) whose window summaries contradict each other ([`inconsistent`]).
    #[serde(default)]
    pub inconsistent: usize,
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
        for (i, row) in parsed.rows.into_iter().enumerate() {
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
                    if parsed.inconsistent.contains(&i) {
                        self.inconsistent += 1;
                    }
                    self.rows.push(row);
                    self.row_call.push(call);
                }
            }
        }
    }

    /// Rejected record lines by reason name, as results files and tables show them.
    pub fn rejects_by_name(&self) -> BTreeMap<String, usize> {
        self.rejects
            .iter()
            .map(|(r, n)| (r.name().to_string(), *n))
            .collect()
    }

    /// Share of the valid rows that are [`inconsistent`] (0 without rows).
    pub fn inconsistent_rate(&self) -> f64 {
        if self.rows.is_empty() {
            0.0
        } else {
            self.inconsistent as f64 / self.rows.len() as f64
        }
    }

    /// The near-copy diagnostic: for each call with at least two kept rows, in call order, how
    /// many columns take more than one value among that call's rows. A small model at 83
    /// columns wrote one template record per answer and varied a few fields (3–18 of 83): rows
    /// that pass every check and the duplicate filter, yet carry one record's information.
    pub fn columns_varied_per_call(&self) -> Vec<usize> {
        let mut by_call: BTreeMap<usize, Vec<&Vec<f64>>> = BTreeMap::new();
        for (row, call) in self.rows.iter().zip(&self.row_call) {
            by_call.entry(*call).or_default().push(row);
        }
        by_call
            .values()
            .filter(|rows| rows.len() >= 2)
            .map(|rows| {
                let width = rows[0].len();
                (0..width)
                    .filter(|&j| {
                        let first = rows[0][j].to_bits();
                        rows.iter()
                            .any(|r| r.get(j).map(|v| v.to_bits()) != Some(first))
                    })
                    .count()
            })
            .collect()
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
mod tests;
