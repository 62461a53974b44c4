//! Tables that show themselves in the kernel and the report, and the number formats of every
//! chapter.

use crate::notebook::display::{html, table_html, with_label, EvcxrDisplay};

/// A table of results that shows itself as HTML in the kernel and the report.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Name for cross-references (`@tbl:LABEL` in markdown); empty for none.
    pub label: String,
}

impl EvcxrDisplay for Table {
    fn evcxr_display(&self) {
        let t = table_html(&self.header, &self.rows, &self.caption);
        let label = if self.label.is_empty() {
            String::new()
        } else {
            format!("tbl:{}", self.label)
        };
        html(&with_label(&t, "table", &label));
    }
}

impl EvcxrDisplay for crate::cohort::CohortSummary {
    fn evcxr_display(&self) {
        let pct = |n: usize| {
            format!(
                "{} ({:.1}%)",
                thousands(n as u64),
                100.0 * n as f64 / self.rows.max(1) as f64
            )
        };
        let mut rows = vec![
            vec![
                "ICU stays (rows)".into(),
                thousands(self.rows as u64),
                "88,857".into(),
            ],
            vec!["columns".into(), self.columns.to_string(), "83".into()],
            vec!["deaths".into(), pct(self.deaths), "8.67%".into()],
            vec!["female".into(), pct(self.female), "40,459".into()],
            vec!["male (not female)".into(), pct(self.male), "48,398".into()],
            vec![
                "missing cells".into(),
                format!(
                    "{} ({:.1}%)",
                    thousands(self.missing_cells as u64),
                    100.0 * self.missing_rate
                ),
                "~25.7%".into(),
            ],
            vec![
                "hospitals".into(),
                self.hospitals.to_string(),
                "not stated".into(),
            ],
        ];
        for (r, n) in &self.regions {
            rows.push(vec![format!("region: {r}"), pct(*n), String::new()]);
        }
        html(&table_html(
            &[
                "".into(),
                "this run (eICU demo)".into(),
                "paper (eICU)".into(),
            ],
            &rows,
            &format!(
                "Cohort summary; data fingerprint {}",
                &self.fingerprint[..16]
            ),
        ));
    }
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

/// Format a number for a table (blank when undefined).
pub fn fmt(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "—".into()
    }
}
