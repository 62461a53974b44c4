//! The cohort summary (`cohort.json`), the analog of the paper's Table 6.

use super::{Attrition, Cohort};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

pub const ATTRIBUTION: &str = "Derived from the eICU Collaborative Research Database Demo v2.0.1 \
(Johnson, Pollard, Badawi, Raffa 2021, doi:10.13026/4mxk-na84; Pollard et al. 2018, \
doi:10.1038/sdata.2018.178) and YAIB's eICU demo cohorts (van de Water et al., ICLR 2024), \
licensed under the Open Data Commons Open Database License v1.0 (ODbL).";

#[derive(Debug, Clone, Serialize)]
pub struct CohortSummary {
    pub source: String,
    pub rows: usize,
    pub columns: usize,
    pub deaths: usize,
    pub death_rate: f64,
    pub female: usize,
    /// Rows with `is_female` = 0 (male or gender not recorded).
    pub male: usize,
    pub missing_cells: usize,
    pub missing_rate: f64,
    pub hospitals: usize,
    /// Rows per hospital region ("unknown" when the hospital has none).
    pub regions: BTreeMap<String, usize>,
    pub fingerprint: String,
    /// Missing cells per column.
    pub missing_per_column: BTreeMap<String, usize>,
    /// Cells that were present but unparseable (counted as missing), per table.column.
    pub unparseable_cells: BTreeMap<String, u64>,
    pub attrition: Option<Attrition>,
    pub licence: &'static str,
}

impl CohortSummary {
    pub fn of(c: &Cohort) -> Self {
        let m = &c.matrix;
        let count = |name: &str| {
            m.column(name)
                .map(|col| col.iter().filter(|v| **v == 1.0).count())
                .unwrap_or(0)
        };
        let rows = m.n_rows();
        let deaths = count("death");
        let female = count("is_female");
        let mut hospitals: Vec<i64> = m.meta().iter().map(|r| r.hospital).collect();
        hospitals.sort_unstable();
        hospitals.dedup();
        let mut regions = BTreeMap::new();
        for r in m.meta() {
            *regions
                .entry(r.region.clone().unwrap_or_else(|| "unknown".into()))
                .or_insert(0) += 1;
        }
        let missing_per_column = m
            .names()
            .iter()
            .zip(m.columns())
            .map(|(n, col)| (n.clone(), col.iter().filter(|v| v.is_nan()).count()))
            .collect();
        let missing = m.missing_cells();
        let cells = (rows * m.n_cols()).max(1);
        CohortSummary {
            source: c.source.name().to_string(),
            rows,
            columns: m.n_cols(),
            deaths,
            death_rate: deaths as f64 / rows.max(1) as f64,
            female,
            male: rows - female,
            missing_cells: missing,
            missing_rate: missing as f64 / cells as f64,
            hospitals: hospitals.len(),
            regions,
            fingerprint: m.fingerprint(),
            missing_per_column,
            unparseable_cells: c.issues.counts.clone(),
            attrition: c.attrition.clone(),
            licence: ATTRIBUTION,
        }
    }
}

/// Stays and deaths of a set of hospitals: one hospital, a region or a size band.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sites {
    pub name: String,
    pub hospitals: usize,
    pub stays: usize,
    pub deaths: usize,
}

impl Sites {
    pub fn mortality(&self) -> f64 {
        self.deaths as f64 / self.stays.max(1) as f64
    }
}

/// The stays grouped by `key` of their hospital, in key order.
fn group_stays(c: &Cohort, key: impl Fn(i64, &str) -> String) -> Vec<Sites> {
    let m = &c.matrix;
    let death = m.column("death");
    let mut groups: BTreeMap<String, (std::collections::BTreeSet<i64>, usize, usize)> =
        BTreeMap::new();
    for (i, r) in m.meta().iter().enumerate() {
        let g = groups
            .entry(key(r.hospital, r.region.as_deref().unwrap_or("unknown")))
            .or_default();
        g.0.insert(r.hospital);
        g.1 += 1;
        g.2 += death.is_some_and(|d| d[i] == 1.0) as usize;
    }
    groups
        .into_iter()
        .map(|(name, (h, stays, deaths))| Sites {
            name,
            hospitals: h.len(),
            stays,
            deaths,
        })
        .collect()
}

/// Per region ("unknown" when the hospital has none).
pub fn by_region(c: &Cohort) -> Vec<Sites> {
    group_stays(c, |_, region| region.to_string())
}

/// Per hospital ("hospital id (region)"), largest first.
pub fn by_hospital(c: &Cohort) -> Vec<Sites> {
    let mut h = group_stays(c, |id, region| format!("{id} ({region})"));
    h.sort_by(|a, b| b.stays.cmp(&a.stays).then_with(|| a.name.cmp(&b.name)));
    h
}

/// Hospitals banded by how many stays they have (empty bands left out): how thin the
/// per-hospital data is.
pub fn by_hospital_size(c: &Cohort) -> Vec<Sites> {
    const BANDS: [(usize, &str); 5] = [
        (50, "50 or more stays"),
        (20, "20–49 stays"),
        (10, "10–19 stays"),
        (5, "5–9 stays"),
        (1, "1–4 stays"),
    ];
    let mut out: Vec<Sites> = BANDS
        .iter()
        .map(|(_, name)| Sites {
            name: name.to_string(),
            ..Sites::default()
        })
        .collect();
    for h in by_hospital(c) {
        if let Some(i) = BANDS.iter().position(|(min, _)| h.stays >= *min) {
            out[i].hospitals += 1;
            out[i].stays += h.stays;
            out[i].deaths += h.deaths;
        }
    }
    out.retain(|b| b.hospitals > 0);
    out
}

impl fmt::Display for CohortSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |n: usize| 100.0 * n as f64 / self.rows.max(1) as f64;
        writeln!(
            f,
            "Cohort ({} source)          this run      paper (eICU)",
            self.source
        )?;
        writeln!(
            f,
            "  rows (ICU stays)           {:>8}            88,857",
            self.rows
        )?;
        writeln!(
            f,
            "  columns                    {:>8}                83",
            self.columns
        )?;
        writeln!(
            f,
            "  deaths                     {:>8} ({:>5.2}%)   8.67%",
            self.deaths,
            100.0 * self.death_rate
        )?;
        writeln!(
            f,
            "  female                     {:>8} ({:>5.1}%)  40,459",
            self.female,
            pct(self.female)
        )?;
        writeln!(
            f,
            "  male (not female)          {:>8} ({:>5.1}%)  48,398",
            self.male,
            pct(self.male)
        )?;
        writeln!(
            f,
            "  missing cells              {:>8} ({:>5.1}%)  ~25.7%",
            self.missing_cells,
            100.0 * self.missing_rate
        )?;
        writeln!(f, "  hospitals                  {:>8}", self.hospitals)?;
        for (r, n) in &self.regions {
            writeln!(f, "    region {:<18}{:>8} ({:>5.1}%)", r, n, pct(*n))?;
        }
        if let Some(a) = &self.attrition {
            writeln!(
                f,
                "  attrition: {} stays; excluded {} not ICU, {} under 16, {} no heart rate/status, {} not first stay, {} no APACHE IVa",
                a.stays_in_tables, a.not_icu, a.non_adult, a.bad_data, a.not_first_stay, a.no_apache_iva
            )?;
        }
        let empty: Vec<&String> = self
            .missing_per_column
            .iter()
            .filter(|(_, n)| **n == self.rows && self.rows > 0)
            .map(|(c, _)| c)
            .collect();
        if !empty.is_empty() {
            writeln!(
                f,
                "  columns with no values in this source: {}",
                empty
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        write!(f, "  fingerprint {}", self.fingerprint)
    }
}
