//! How values look in the report's tables: one rule per kind of value, so every chapter shows a
//! missing value, a KL, a share or a count the same way (and a notebook cell stays a line of
//! glue instead of repeating `map(…).unwrap_or_else(|| "—".into())`).

use std::fmt::Display;

/// What a table cell shows where there is no value (not measured, undefined, not reported).
pub const MISSING: &str = "—";

/// A value as it displays itself, or [`MISSING`].
pub fn opt<T: Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| MISSING.into())
}

/// A number with `digits` decimals; [`MISSING`] when absent or not finite.
pub fn num(v: impl Into<Option<f64>>, digits: usize) -> String {
    match v.into() {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => MISSING.into(),
    }
}

/// A share (0–1) as a percentage with `digits` decimals: 0.1234 → "12.3%" (1 digit).
pub fn pct(share: impl Into<Option<f64>>, digits: usize) -> String {
    match share.into() {
        Some(v) if v.is_finite() => format!("{:.digits$}%", 100.0 * v),
        _ => MISSING.into(),
    }
}

/// `part / whole`, or `None` when `whole` is 0 (a share of nothing is not 0%).
pub fn ratio(part: f64, whole: f64) -> Option<f64> {
    (whole != 0.0).then(|| part / whole)
}

/// What was reached of what was asked: "480/500".
pub fn of(part: usize, whole: usize) -> String {
    format!("{part}/{whole}")
}

/// A count with thousands separators: 28494 → "28,494".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_show_as_a_dash_and_numbers_keep_their_digits() {
        assert_eq!(opt(None::<u32>), "—");
        assert_eq!(opt(Some(7)), "7");
        assert_eq!(num(0.123456, 4), "0.1235");
        assert_eq!(num(Some(1.0), 2), "1.00");
        assert_eq!(num(None, 4), "—");
        assert_eq!(num(f64::NAN, 4), "—");
        assert_eq!(num(f64::INFINITY, 4), "—");
        assert_eq!(pct(0.1234, 1), "12.3%");
        assert_eq!(pct(None, 1), "—");
        assert_eq!(pct(ratio(1.0, 0.0), 1), "—");
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
        assert_eq!(of(480, 500), "480/500");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(28494), "28,494");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
