use super::*;

fn rule(name: &str) -> FieldRule {
    FieldRule {
        name: name.into(),
        binary: false,
        integer: false,
        negative: false,
        int_digits: 3,
        min_int_digits: None,
        exact: false,
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

/// A GBNF number rule (literals, classes, groups, `|`, `?`, `{m,n}`) as an anchored regex.
fn as_regex(gbnf: &str) -> regex::Regex {
    let mut re = String::from("^(?:");
    let mut chars = gbnf.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let lit: String = chars.by_ref().take_while(|&c| c != '"').collect();
                re.push_str(&regex::escape(&lit));
            }
            ' ' => {}
            '(' => re.push_str("(?:"),
            c => re.push(c),
        }
    }
    re.push_str(")$");
    regex::Regex::new(&re).unwrap()
}

#[test]
fn int_range_spells_out_exactly_the_whole_numbers_between() {
    for (lo, hi) in [
        (0, 0),
        (0, 9),
        (1, 9),
        (0, 30),
        (16, 90),
        (20, 300),
        (5, 1000),
        (100, 190),
        (0, 10000),
        (37, 37),
        (99, 101),
    ] {
        let re = as_regex(&int_range(lo, hi));
        for n in 0..=10_050u64 {
            assert_eq!(
                re.is_match(&n.to_string()),
                (lo..=hi).contains(&n),
                "{n} in {lo}..={hi}: {}",
                int_range(lo, hi)
            );
        }
        assert!(!re.is_match(&format!("0{lo}")), "leading zero");
    }
    assert_eq!(
        int_range(20, 300),
        "([2-9] [0-9] | [1-2] [0-9] [0-9] | \"300\")"
    );
}

/// Every column of the schema with a finite range: the grammar-3 field accepts a value only
/// inside the range, and accepts every value inside it (canonical, with at most the shown
/// decimals).
#[test]
fn grammar_3_accepts_exactly_the_plausible_range() {
    let decimals = [
        "", ".0", ".1", ".4", ".5", ".9", ".00", ".01", ".05", ".49", ".5", ".99", ".500", ".999",
        ".001",
    ];
    let mut checked = 0;
    for c in schema::columns() {
        let Some((lo, hi)) = c.range.filter(|(lo, hi)| lo.is_finite() && hi.is_finite()) else {
            continue;
        };
        if c.is_binary() {
            continue;
        }
        let dec = if c.name.starts_with("bg_ph") { 3 } else { 2 };
        for integer in [false, true] {
            let mut r = rule(c.name);
            r.range = Some((lo, hi));
            r.integer = integer;
            r.decimals = if integer { 0 } else { dec };
            bound_exactly(std::slice::from_mut(&mut r));
            let body = number(&r);
            let re = as_regex(&body);
            let ints = (lo.floor() as i64 - 3..=lo.ceil() as i64 + 300)
                .chain(hi.floor() as i64 - 300..=hi.ceil() as i64 + 3);
            for n in ints {
                for d in decimals {
                    // canonical text of n + d (a negative value keeps its sign on the integer part)
                    let text = if n < 0 {
                        format!("-{}{d}", -n)
                    } else {
                        format!("{n}{d}")
                    };
                    let v: f64 = if n < 0 {
                        -format!("{}{d}", -n).parse::<f64>().unwrap()
                    } else {
                        text.parse().unwrap()
                    };
                    let shown = d.len().saturating_sub(1);
                    let allowed =
                        v >= lo && v <= hi && (d.is_empty() || (!integer && shown <= r.decimals));
                    assert_eq!(
                        re.is_match(&text),
                        allowed,
                        "{} {text} (range {lo}..={hi}, integer {integer}): {body}",
                        c.name
                    );
                }
            }
            // the values between -1 and 0 of a negative range
            if lo < 0.0 && !integer {
                assert!(re.is_match("-0.5"), "{}: {body}", c.name);
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} columns checked");
}
