//! Constrained decoding: a llama.cpp GBNF grammar for one call's CSV answer, built from the one
//! source of truth for columns (`cohort::schema`) and from what the member pool shows.
//!
//! The grammar fixes the *form* of an answer, never its content: the header exactly as
//! requested, then exactly the requested number of records of exactly k fields, then the end.
//! Per column: binary columns `0|1`; integer-valued columns without a decimal part; a leading
//! `-` only where the plausible range allows negatives; integer digits bounded by the range's
//! maximum; at most the decimals the prompt shows ([`plan::shown_value`]: 3 for pH, 2
//! otherwise); an empty field only where the real column has missing values (never `death`).
//! Ranges are not enforced digit-exactly (GBNF has no numeric comparison): the parser still
//! checks every value against the schema, so an out-of-range value is counted, not hidden.
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

/// The rules of a grammar version (1: the schema's digits; 2: also the range's lower bound).
pub fn versioned_rules(columns: &[&str], pool: &MemberPool, version: u32) -> Vec<FieldRule> {
    let mut r = rules(columns, pool);
    if version >= 2 {
        bound_below(&mut r);
    }
    r
}

/// The GBNF body of one field (without the empty alternative).
fn number(r: &FieldRule) -> String {
    if r.binary {
        return "\"0\" | \"1\"".into();
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
mod tests {
    use super::*;

    fn rule(name: &str) -> FieldRule {
        FieldRule {
            name: name.into(),
            binary: false,
            integer: false,
            negative: false,
            int_digits: 3,
            min_int_digits: None,
            decimals: 2,
            nullable: false,
            range: Some((0.0, 300.0)),
        }
    }

    #[test]
    fn digits_of_a_range_bound() {
        assert_eq!(digits(0.5), 1);
        assert_eq!(digits(9.0), 1);
        assert_eq!(digits(10.0), 2);
        assert_eq!(digits(300.0), 3);
        assert_eq!(digits(-25.0), 2);
    }

    #[test]
    fn a_grammar_fixes_header_count_and_fields() {
        let mut death = rule("death");
        death.binary = true;
        let mut age = rule("age");
        age.integer = true;
        age.decimals = 0;
        let mut be = rule("bg_baseexcess_min");
        be.negative = true;
        be.int_digits = 2;
        be.nullable = true;
        let g = gbnf(&[age, be, death], 7);
        assert_eq!(
            g,
            "root ::= header record{7}\n\
             header ::= \"age,bg_baseexcess_min,death\\n\"\n\
             record ::= f0 \",\" f1 \",\" f2 \"\\n\"\n\
             f0 ::= (\"0\" | [1-9] [0-9]{0,2})\n\
             f1 ::= (\"-\"? (\"0\" | [1-9] [0-9]{0,1}) (\".\" [0-9]{1,2})?)?\n\
             f2 ::= \"0\" | \"1\"\n"
        );
    }

    #[test]
    fn grammar_2_bounds_the_integer_part_below() {
        let mut sbp = rule("sysbp_first");
        sbp.range = Some((20.0, 300.0));
        let mut cr = rule("creatinine_last_early");
        cr.range = Some((0.1, 25.0));
        cr.int_digits = 2;
        let mut r = vec![sbp, cr];
        bound_below(&mut r);
        assert_eq!(r[0].min_int_digits, Some(2));
        assert_eq!(r[1].min_int_digits, None, "values below 1 stay possible");
        let g = gbnf(&r, 1);
        assert!(
            g.contains("f0 ::= [1-9] [0-9]{1,2} (\".\" [0-9]{1,2})?\n"),
            "{g}"
        );
        assert!(g.contains("f1 ::= (\"0\" | [1-9] [0-9]{0,1})"), "{g}");
    }

    #[test]
    fn json_schema_bounds_values_and_rows() {
        let mut death = rule("death");
        death.binary = true;
        let mut hr = rule("heartrate_max");
        hr.nullable = true;
        let s = json_schema(&[hr, death], 20);
        let rows = &s["properties"]["rows"];
        assert_eq!(rows["minItems"], 20);
        assert_eq!(rows["maxItems"], 20);
        let p = &rows["items"]["properties"];
        assert_eq!(p["heartrate_max"]["type"], json!(["number", "null"]));
        assert_eq!(p["heartrate_max"]["maximum"], json!(300.0));
        assert_eq!(p["death"]["enum"], json!([0, 1]));
        assert_eq!(rows["items"]["required"], json!(["heartrate_max", "death"]));
    }
}
