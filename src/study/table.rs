//! Tables that show themselves in the kernel and the report, and the number formats of every
//! chapter.

use crate::notebook::display::{emit_all, table_html, with_label, EvcxrDisplay};
use serde::{Deserialize, Serialize};

/// The MIME type of a table's typed form. Jupyter ignores it and shows the HTML that follows;
/// the report renders (and numbers) the table from it.
pub const TABLE_MIME: &str = "application/vnd.synthehr.table+json";

/// A table of results that shows itself as HTML in the kernel and the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Name for cross-references (`@tbl:LABEL` in markdown); empty for none.
    #[serde(default)]
    pub label: String,
}

impl Table {
    /// The table as HTML under `caption` (the report puts the table's number in front of its
    /// own), with its label on the `<table>` element.
    pub fn html_captioned(&self, caption: &str) -> String {
        let t = table_html(&self.header, &self.rows, caption);
        if self.label.is_empty() {
            t
        } else {
            with_label(&t, "table", &format!("tbl:{}", self.label))
        }
    }

    /// The table as HTML, as the kernel shows it.
    pub fn html(&self) -> String {
        self.html_captioned(&self.caption)
    }

    /// What showing the table emits, in order: its typed form, then the HTML the kernel shows.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        // serialising strings cannot fail
        let typed = serde_json::to_string(self).unwrap_or_default();
        vec![(TABLE_MIME, typed), ("text/html", self.html())]
    }
}

impl EvcxrDisplay for Table {
    fn evcxr_display(&self) {
        emit_all(&self.outputs());
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
        Table::new(
            format!(
                "Cohort summary; data fingerprint {}",
                self.fingerprint.get(..16).unwrap_or(&self.fingerprint)
            ),
            ["", "this run (eICU demo)", "paper (eICU)"],
        )
        .with_rows(rows)
        .evcxr_display();
    }
}

pub use crate::show::{num as fmt, thousands};

impl Table {
    /// A table with its caption and column names (`&["strategy", "KL"]` or a `Vec<String>`),
    /// no rows and no label yet.
    pub fn new<S: Into<String>>(
        caption: impl Into<String>,
        header: impl IntoIterator<Item = S>,
    ) -> Table {
        Table {
            caption: caption.into(),
            header: header.into_iter().map(Into::into).collect(),
            ..Table::default()
        }
    }
    /// The name `@tbl:LABEL` refers to.
    pub fn labelled(mut self, label: &str) -> Table {
        self.label = label.into();
        self
    }
    /// Append rows.
    pub fn with_rows(mut self, rows: impl IntoIterator<Item = Vec<String>>) -> Table {
        self.rows.extend(rows);
        self
    }
    /// Append one row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_built_from_a_caption_a_header_rows_and_a_label() {
        let mut t = Table::new("KL by strategy", ["strategy", "KL"])
            .labelled("kl")
            .with_rows([vec!["naive".into(), fmt(0.5, 2)]]);
        t.push(vec!["group".into(), fmt(f64::NAN, 2)]);
        assert_eq!(t.header, ["strategy", "KL"]);
        assert_eq!(t.rows, [["naive", "0.50"], ["group", "—"]]);
        assert_eq!(
            (t.caption.as_str(), t.label.as_str()),
            ("KL by strategy", "kl")
        );
        let dynamic: Vec<String> = vec!["a".into()];
        assert_eq!(Table::new("c", dynamic).header, ["a"]);
    }

    #[test]
    fn a_table_shows_its_typed_form_then_its_html() {
        let t = Table::new("KL <by> strategy", ["strategy"])
            .labelled("kl")
            .with_rows([vec!["a&b".into()]]);
        let out = t.outputs();
        assert_eq!(out[0].0, TABLE_MIME);
        assert_eq!(serde_json::from_str::<Table>(&out[0].1).unwrap(), t);
        assert_eq!(
            out[1],
            (
                "text/html",
                "<table data-label=\"tbl:kl\" class=\"synthehr-table\"><caption>KL &lt;by&gt; strategy</caption><thead><tr><th>strategy</th></tr></thead><tbody><tr><td>a&amp;b</td></tr></tbody></table>".to_string()
            )
        );
        assert!(Table::new("c", ["x"]).html().starts_with("<table class="));
    }
}
