//! Constrained decoding: a llama.cpp GBNF grammar for one call's CSV answer, built from the one
//! source of truth for columns (`cohort::schema`) and from what the member pool shows.
//!
//! The grammar fixes the *form* of an answer, never its content: the header exactly as
//! requested, then exactly the requested number of records of exactly k fields, then the end.
//! Per column: binary columns `0|1`; integer-valued columns without a decimal part; a leading
//! `-` only where the plausible range allows negatives; integer digits bounded by the range's
//! maximum; at most the decimals the prompt shows ([`plan::shown_value`]: 3 for pH, 2
//! otherwise); an empty field only where the real column has missing values (never `death`).
//! Grammars 1 and 2 bound digits, not values; grammar 3 bounds every value by its plausible
//! range exactly (GBNF has no numeric comparison, so [`int_range`] spells a range out as digit
//! classes, as llama.cpp's JSON-schema converter does for `minimum`/`maximum`). The parser
//! still checks every value against the schema either way.
//!
//! [`plan::shown_value`]: super::plan::shown_value

use super::plan::{shown_value, MemberPool};
use crate::cohort::schema::{self, Kind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Free text or grammar-constrained answers: a cell axis of every profile stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decoding {
    /// The model writes whatever it likes; the parser sorts it out (the paper's setting).
    #[default]
    Free,
    /// Every token is constrained by the cell's grammar (llama-server) or JSON schema (APIs).
    Constrained,
}

impl Decoding {
    pub fn name(&self) -> &'static str {
        match self {
            Decoding::Free => "free",
            Decoding::Constrained => "constrained",
        }
    }
    pub fn is_free(&self) -> bool {
        *self == Decoding::Free
    }
}

/// What one column's field may look like.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldRule {
    pub name: String,
    pub binary: bool,
    /// Whole numbers only (counts, and columns whose every shown real value is whole).
    pub integer: bool,
    pub negative: bool,
    /// Most digits before the decimal point.
    pub int_digits: usize,
    /// Grammar 2: fewest digits before the decimal point, from the range's minimum, with no
    /// `0` integer part (a column whose values are at least 1 cannot start with `0`). `None` =
    /// grammar 1: any integer part up to `int_digits`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_int_digits: Option<usize>,
    /// Grammar 3: the value lies in `range`, spelled out digit by digit ([`bounded`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// Most digits after it (0 for integers).
    pub decimals: usize,
    /// An empty field (not measured) is allowed.
    pub nullable: bool,
    /// The plausible range (for the JSON schema).
    pub range: Option<(f64, f64)>,
}

fn digits(v: f64) -> usize {
    let v = v.abs().floor();
    if v < 1.0 {
        1
    } else {
        (v.log10().floor() as usize) + 1
    }
}

/// The rules for `columns` (the last is the label), from the schema and the member pool: a
/// column missing in some member row may be empty; one whose shown values are all whole numbers
/// is an integer column.
pub fn rules(columns: &[&str], pool: &MemberPool) -> Vec<FieldRule> {
    columns
        .iter()
        .map(|&name| {
            let col = schema::column(name);
            let values: Vec<f64> = match pool.matrix.column(name) {
                Some(v) => pool
                    .rows
                    .iter()
                    .filter_map(|&i| v.get(i).copied())
                    .collect(),
                None => Vec::new(),
            };
            let present: Vec<f64> = values
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| shown_value(name, v))
                .collect();
            let binary = col.is_some_and(|c| c.is_binary());
            let label = name == schema::LABEL;
            let integer = binary
                || col.is_some_and(|c| c.kind == Kind::Count)
                || (!present.is_empty() && present.iter().all(|v| v.fract() == 0.0));
            let range = col.and_then(|c| c.range);
            let (lo, hi) = range.unwrap_or_else(|| {
                let lo = present.iter().copied().fold(0.0, f64::min);
                let hi = present.iter().copied().fold(0.0, f64::max);
                (lo, hi)
            });
            FieldRule {
                name: name.to_string(),
                binary,
                integer,
                negative: lo < 0.0,
                int_digits: digits(hi.abs().max(lo.abs())),
                min_int_digits: None,
                exact: false,
                decimals: if integer {
                    0
                } else if name.starts_with("bg_ph") {
                    3
                } else {
                    2
                },
                // a column this source never fills is shown as empty fields
                nullable: !label && (values.is_empty() || values.iter().any(|v| v.is_nan())),
                range,
            }
        })
        .collect()
}

/// Grammar 2: bound each field's integer part below by its plausible range too. Measured with
/// grammar 1 at 83 columns: the 1.5B model wrote well-formed records whose last ~34 columns were
/// all `0` or empty (a systolic pressure of 0), so most records failed the range check; with a
/// lower bound a column whose values are at least 1 can only be a real value or empty.
pub fn bound_below(rules: &mut [FieldRule]) {
    for r in rules.iter_mut() {
        if let (false, Some((lo, _))) = (r.binary, r.range) {
            if lo >= 1.0 {
                r.min_int_digits = Some(digits(lo).min(r.int_digits));
            }
        }
    }
}

/// Grammar 3: bound each value by its plausible range exactly. Measured with grammar 2 at 15
/// and 20 features: 73% and 91% of the records were rejected, most for one value out of range
/// (a bilirubin of 85, a systolic minimum of 12, 40 ventilator days); digit bounds cannot
/// exclude those, an exact range can.
pub fn bound_exactly(rules: &mut [FieldRule]) {
    for r in rules.iter_mut() {
        if !r.binary
            && r.range
                .is_some_and(|(lo, hi)| lo.is_finite() && hi.is_finite())
        {
            r.exact = true;
        }
    }
}

/// The newest grammar version; profiles may ask for 1 up to this.
pub const LATEST: u32 = 3;

/// Whether `v` names a grammar (1 to [`LATEST`]).
pub fn is_version(v: u32) -> bool {
    (1..=LATEST).contains(&v)
}

/// The rules of a grammar version (1: the schema's digits; 2: also the range's lower bound;
/// 3: the range exactly).
pub fn versioned_rules(columns: &[&str], pool: &MemberPool, version: u32) -> Vec<FieldRule> {
    let mut r = rules(columns, pool);
    match version {
        0 | 1 => {}
        2 => bound_below(&mut r),
        _ => bound_exactly(&mut r),
    }
    r
}

/// One digit position of a number pattern: an inclusive digit range.
type Digits = (u8, u8);

/// Same-length digit strings from `lo` to `hi` (inclusive, `lo <= hi`) as digit-class sequences.
fn same_length(lo: &[u8], hi: &[u8]) -> Vec<Vec<Digits>> {
    let (Some((&l, lr)), Some((&h, hr))) = (lo.split_first(), hi.split_first()) else {
        return vec![Vec::new()];
    };
    let prefixed = |d: Digits, rest: Vec<Vec<Digits>>| -> Vec<Vec<Digits>> {
        rest.into_iter()
            .map(|r| std::iter::once(d).chain(r).collect())
            .collect()
    };
    if l == h {
        return prefixed((l, l), same_length(lr, hr));
    }
    let zeros = vec![0u8; lr.len()];
    let nines = vec![9u8; lr.len()];
    // a first digit whose rest may be anything joins the middle range
    let low_full = lr == zeros.as_slice();
    let high_full = hr == nines.as_slice();
    let mut out = Vec::new();
    if !low_full {
        out.extend(prefixed((l, l), same_length(lr, &nines)));
    }
    let (a, b) = (
        if low_full { l } else { l + 1 },
        if high_full { h } else { h - 1 },
    );
    if a <= b {
        out.extend(prefixed((a, b), same_length(&zeros, &nines)));
    }
    if !high_full {
        out.extend(prefixed((h, h), same_length(&zeros, hr)));
    }
    out
}

fn decimal_digits(n: u64) -> Vec<u8> {
    n.to_string().bytes().map(|b| b - b'0').collect()
}

/// The whole numbers `lo..=hi` in canonical form (no leading zeros) as digit-class sequences.
fn int_pieces(lo: u64, hi: u64) -> Vec<Vec<Digits>> {
    let mut out = Vec::new();
    let mut start = lo;
    while start <= hi {
        let len = decimal_digits(start).len() as u32;
        let end = hi.min(10u64.pow(len) - 1);
        out.extend(same_length(&decimal_digits(start), &decimal_digits(end)));
        start = end + 1;
    }
    out
}

fn render(pieces: &[Vec<Digits>]) -> String {
    let alts: Vec<String> = pieces
        .iter()
        .map(|p| {
            // runs of fixed digits become one literal
            let mut parts: Vec<String> = Vec::new();
            let mut lit = String::new();
            for &(a, b) in p {
                if a == b {
                    lit.push(char::from(b'0' + a));
                    continue;
                }
                if !lit.is_empty() {
                    parts.push(format!("\"{}\"", std::mem::take(&mut lit)));
                }
                parts.push(if (a, b) == (0, 9) {
                    "[0-9]".into()
                } else {
                    format!("[{a}-{b}]")
                });
            }
            if !lit.is_empty() {
                parts.push(format!("\"{lit}\""));
            }
            parts.join(" ")
        })
        .collect();
    if alts.len() == 1 {
        alts[0].clone()
    } else {
        format!("({})", alts.join(" | "))
    }
}

/// GBNF for the whole numbers `lo..=hi` (canonical: `0`, or no leading zero).
pub fn int_range(lo: u64, hi: u64) -> String {
    render(&int_pieces(lo, hi))
}

/// The tenths digit of `x`'s fractional part when it has exactly one decimal (0.1 → 1, 6.5 →
/// 5), else `None` (a whole number, or more decimals).
fn one_decimal(x: f64) -> Option<u8> {
    let tenths = x.fract().abs() * 10.0;
    let d = tenths.round();
    (d >= 1.0 && (tenths - d).abs() < 1e-9).then_some(d as u8)
}

/// GBNF for a value in `[lo, hi]` with at most `decimals` decimals. Exact where a bound is whole
/// or has one decimal (every range in the schema: 0.1, 0.5, 6.5); at a bound with more decimals
/// the values between it and its integer part are left out. Narrower, never wider, than the
/// range.
fn bounded(lo: f64, hi: f64, decimals: usize, integer: bool) -> Option<String> {
    let whole_only = integer || decimals == 0;
    let frac = |body: String| {
        if whole_only {
            body
        } else {
            format!("{body} (\".\" [0-9]{{1,{decimals}}})?")
        }
    };
    // a whole bound, also written with zero decimals ("30.0", "-1.0")
    let bound = |text: String| format!("\"{text}\" (\".\" \"0\"{{1,{decimals}}})?");
    let mut alts = Vec::new();
    // negative values: magnitude m, the value -m.xx stays at or above lo
    if lo < 0.0 {
        let top = (-lo).floor() as u64; // the largest whole magnitude
        if whole_only {
            if top >= 1 {
                alts.push(format!("\"-\" {}", int_range(1, top)));
            }
        } else if let Some(m) = top.checked_sub(1) {
            // -(m + 0.99..) >= lo  <=>  m + 1 <= -lo
            alts.push(format!("\"-\" {}", frac(int_range(0, m))));
            alts.push(bound(format!("-{top}")));
        }
    }
    if hi >= 0.0 {
        let first = lo.max(0.0).ceil() as u64;
        let last = hi.floor() as u64;
        if whole_only {
            if first <= last {
                alts.push(int_range(first, last));
            }
        } else {
            // integer parts whose every decimal stays at or below hi: n + 1 <= hi
            if let Some(fl) = last.checked_sub(1).filter(|fl| *fl >= first) {
                alts.push(frac(int_range(first, fl)));
            }
            if last >= first {
                // the top integer part: whole, or (for a fractional hi) also decimals below it
                alts.push(match one_decimal(hi) {
                    Some(t) => format!(
                        "\"{last}\" (\".\" [0-{}] [0-9]{{0,{}}})?",
                        t - 1,
                        decimals - 1
                    ),
                    None => bound(last.to_string()),
                });
            }
            // a fractional lower bound with one decimal: its integer part with decimals >= it
            if let Some(t) = one_decimal(lo).filter(|_| lo > 0.0) {
                alts.push(format!(
                    "\"{}.\" [{t}-9] [0-9]{{0,{}}}",
                    lo.floor() as u64,
                    decimals - 1
                ));
            }
        }
    }
    match alts.len() {
        0 => None,
        1 => alts.pop(),
        _ => Some(format!("({})", alts.join(" | "))),
    }
}

/// The GBNF body of one field (without the empty alternative).
fn number(r: &FieldRule) -> String {
    if r.binary {
        return "\"0\" | \"1\"".into();
    }
    if let (true, Some((lo, hi))) = (r.exact, r.range) {
        if let Some(body) = bounded(lo, hi, r.decimals, r.integer) {
            return body;
        }
    }
    let mut s = String::new();
    if r.negative {
        s.push_str("\"-\"? ");
    }
    match r.min_int_digits {
        Some(m) => s.push_str(&format!(
            "[1-9] [0-9]{{{},{}}}",
            m.saturating_sub(1),
            r.int_digits.saturating_sub(1)
        )),
        None if r.int_digits > 1 => {
            s.push_str(&format!("(\"0\" | [1-9] [0-9]{{0,{}}})", r.int_digits - 1))
        }
        None => s.push_str("[0-9]"),
    }
    if r.decimals > 0 {
        s.push_str(&format!(" (\".\" [0-9]{{1,{}}})?", r.decimals));
    }
    s
}

/// The grammar of an answer: the header line, exactly `records` records, nothing else.
pub fn gbnf(rules: &[FieldRule], records: usize) -> String {
    let header: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let fields: Vec<String> = (0..rules.len()).map(|i| format!("f{i}")).collect();
    let mut g = format!(
        "root ::= header record{{{records}}}\nheader ::= \"{}\\n\"\nrecord ::= {} \"\\n\"\n",
        header.join(","),
        fields.join(" \",\" ")
    );
    for (i, r) in rules.iter().enumerate() {
        let body = number(r);
        if r.nullable {
            g.push_str(&format!("f{i} ::= ({body})?\n"));
        } else {
            g.push_str(&format!("f{i} ::= {body}\n"));
        }
    }
    g
}

/// The same rules as a JSON schema for `{"rows": [{column: number|null, …}]}` (the structured
/// outputs of OpenAI, Gemini and Anthropic tools). JSON schema bounds numbers exactly, where
/// GBNF can only bound digits; decimals cannot be bounded, so the parser rounds nothing and
/// checks ranges as for CSV.
pub fn json_schema(rules: &[FieldRule], records: usize) -> Value {
    let mut props = serde_json::Map::new();
    for r in rules {
        let mut p = if r.binary {
            json!({"type": "integer", "enum": [0, 1]})
        } else {
            let mut p = json!({"type": if r.integer { "integer" } else { "number" }});
            if let Some((lo, hi)) = r.range {
                p["minimum"] = json!(lo);
                p["maximum"] = json!(hi);
            }
            p
        };
        if r.nullable {
            let t = p["type"].clone();
            p["type"] = json!([t, "null"]);
            if let Some(e) = p.get_mut("enum").and_then(Value::as_array_mut) {
                e.push(Value::Null);
            }
        }
        props.insert(r.name.clone(), p);
    }
    let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    json!({
        "type": "object",
        "properties": {
            "rows": {
                "type": "array",
                "minItems": records,
                "maxItems": records,
                "items": {
                    "type": "object",
                    "properties": props,
                    "required": names,
                    "additionalProperties": false,
                }
            }
        },
        "required": ["rows"],
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests;
