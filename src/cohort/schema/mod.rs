//! The paper's 83 columns (82 features + `death`), in the paper's XGBoost-importance order, with
//! what each column is, its unit, a physiologically plausible range and how it is derived.
//!
//! This is the one source of truth for the schema: the design matrix, the schema prompts and the
//! validation of LLM output all read it.
//!
//! Derivations follow Johnson, Pollard & Naumann 2018 (`alistairewj/icu-model-transfer`):
//! - Time zero is the first observed heart rate of the ICU stay; an observation at `m` minutes after
//!   it falls in hour `ceil(m / 60)` (hour 0 holds time zero itself).
//! - The feature window ends at hour [`WINDOW_END_HOURS`] (24, "day 1"). Vitals and urine output
//!   use hours `[end - W, end]` with `W` = [`WINDOW_HOURS`] (8). Labs, blood gases and glucose
//!   ("_early") look back a further [`WINDOW_EXTRA_HOURS`] (24): hours `[end - W - 24, end]`, so a
//!   lab drawn in the emergency department before ICU admission counts.
//! - `first`/`last` are the first/last non-missing hourly values in the window; `min`/`max` over
//!   the window; `urineoutput_sum` sums hourly urine output. Hourly values are means of the
//!   observations in that hour.
//! - Ranges are plausibility bounds for adults (clinical reference ranges widened to survivable
//!   extremes); they are used to validate generated rows and stated in the schema prompt. They
//!   never clip real data.

use serde::Serialize;

/// Hour (after the first heart rate) at which the feature window ends.
pub const WINDOW_END_HOURS: i64 = 24;
/// Width of the vitals window in hours.
pub const WINDOW_HOURS: i64 = 8;
/// Extra look-back for labs, blood gases and glucose (the `_early` columns).
pub const WINDOW_EXTRA_HOURS: i64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Lab,
    Vital,
    BloodGas,
    Urine,
    Static,
    /// Known only after the stay (hosp_los, ventdays); inflates AUROC.
    OutcomeSide,
    Identifier,
    Label,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Continuous,
    Binary,
    Count,
    Identifier,
    Label,
}

/// How an hourly variable is reduced over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    First,
    Last,
    Min,
    Max,
    Sum,
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Derivation {
    /// An hourly variable of the long table reduced over a window; `early` = the extended window.
    Window {
        var: &'static str,
        agg: Agg,
        early: bool,
    },
    /// A per-stay value from the base tables.
    Stay,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// 1-based rank in the paper's importance order (`death` is 83).
    pub rank: usize,
    pub name: &'static str,
    pub family: Family,
    pub kind: Kind,
    pub unit: &'static str,
    /// Plausible range (inclusive); `None` for identifiers.
    pub range: Option<(f64, f64)>,
    pub derivation: Derivation,
    pub description: &'static str,
}

impl Column {
    pub fn is_binary(&self) -> bool {
        matches!(self.kind, Kind::Binary | Kind::Label)
    }
    /// Whether a value lies in the plausible range (identifiers accept any finite value).
    pub fn in_range(&self, v: f64) -> bool {
        if !v.is_finite() {
            return false;
        }
        match (self.kind, self.range) {
            (Kind::Binary | Kind::Label, _) => v == 0.0 || v == 1.0,
            (_, Some((lo, hi))) => v >= lo && v <= hi,
            (_, None) => true,
        }
    }
}

/// The label column.
pub const LABEL: &str = "death";

/// Hourly variables of the canonical long table, with units.
pub const HOURLY_VARS: &[(&str, &str)] = &[
    ("heartrate", "beats/min"),
    ("sysbp", "mmHg"),
    ("diasbp", "mmHg"),
    ("meanbp", "mmHg"),
    ("resprate", "breaths/min"),
    ("tempc", "°C"),
    ("spo2", "%"),
    ("glucose", "mg/dL"),
    ("bg_pao2", "mmHg"),
    ("bg_paco2", "mmHg"),
    ("bg_pao2fio2ratio", "mmHg"),
    ("bg_ph", "pH"),
    ("bg_baseexcess", "mEq/L"),
    ("albumin", "g/dL"),
    ("bands", "%"),
    ("bicarbonate", "mEq/L"),
    ("bilirubin", "mg/dL"),
    ("bun", "mg/dL"),
    ("calcium", "mg/dL"),
    ("creatinine", "mg/dL"),
    ("hematocrit", "%"),
    ("hemoglobin", "g/dL"),
    ("inr", "ratio"),
    ("lactate", "mmol/L"),
    ("platelet", "10^3/µL"),
    ("potassium", "mEq/L"),
    ("sodium", "mEq/L"),
    ("wbc", "10^3/µL"),
    ("urineoutput", "mL"),
];

/// Plausible range of an hourly variable (shared by all its aggregates).
fn var_range(var: &str) -> (f64, f64) {
    match var {
        "heartrate" => (20.0, 300.0),
        "sysbp" => (30.0, 300.0),
        "diasbp" => (10.0, 200.0),
        "meanbp" => (20.0, 250.0),
        "resprate" => (0.0, 80.0),
        "tempc" => (25.0, 45.0),
        "spo2" => (20.0, 100.0),
        "glucose" => (10.0, 2000.0),
        "bg_pao2" => (20.0, 700.0),
        "bg_paco2" => (5.0, 200.0),
        "bg_pao2fio2ratio" => (20.0, 1000.0),
        "bg_ph" => (6.5, 8.0),
        "bg_baseexcess" => (-40.0, 40.0),
        "albumin" => (0.5, 7.0),
        "bands" => (0.0, 100.0),
        "bicarbonate" => (2.0, 60.0),
        "bilirubin" => (0.0, 60.0),
        "bun" => (1.0, 300.0),
        "calcium" => (2.0, 20.0),
        "creatinine" => (0.1, 25.0),
        "hematocrit" => (5.0, 75.0),
        "hemoglobin" => (2.0, 25.0),
        "inr" => (0.5, 20.0),
        "lactate" => (0.0, 30.0),
        "platelet" => (1.0, 2000.0),
        "potassium" => (1.0, 12.0),
        "sodium" => (100.0, 190.0),
        "wbc" => (0.0, 500.0),
        // mL over the 8-hour window
        "urineoutput" => (0.0, 10000.0),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    }
}

fn var_unit(var: &str) -> &'static str {
    HOURLY_VARS
        .iter()
        .find(|(v, _)| *v == var)
        .map(|(_, u)| *u)
        .unwrap_or("")
}

/// Family of an hourly variable.
fn var_family(var: &str) -> Family {
    match var {
        "heartrate" | "sysbp" | "diasbp" | "meanbp" | "resprate" | "tempc" | "spo2" => {
            Family::Vital
        }
        "urineoutput" => Family::Urine,
        v if v.starts_with("bg_") || v == "glucose" => Family::BloodGas,
        _ => Family::Lab,
    }
}

/// The paper's order (PAPER.md), without `death`.
const ORDER: [&str; 82] = [
    "lactate_last_early",
    "ventdays",
    "hosp_los",
    "bun_last_early",
    "electivesurgery",
    "age",
    "tempc_min",
    "albumin_first_early",
    "tempc_last",
    "bilirubin_last_early",
    "sysbp_min",
    "bg_pao2fio2ratio_last_early",
    "wbc_last_early",
    "bicarbonate_last_early",
    "heartrate_max",
    "resprate_last",
    "creatinine_last_early",
    "bg_pao2fio2ratio_first_early",
    "heartrate_last",
    "urineoutput_sum",
    "platelet_first_early",
    "bg_ph_last_early",
    "hospitalid",
    "platelet_last_early",
    "bg_pao2_first_early",
    "sysbp_last",
    "bg_pao2_last_early",
    "sodium_last_early",
    "spo2_min",
    "inr_first_early",
    "tempc_first",
    "bg_paco2_first_early",
    "lactate_first_early",
    "albumin_last_early",
    "resprate_min",
    "spo2_last",
    "resprate_max",
    "bilirubin_first_early",
    "glucose_last_early",
    "patientunitstayid",
    "hemoglobin_first_early",
    "creatinine_first_early",
    "bun_first_early",
    "potassium_last_early",
    "tempc_max",
    "race_other",
    "meanbp_first",
    "meanbp_min",
    "bicarbonate_first_early",
    "calcium_first_early",
    "meanbp_max",
    "inr_last_early",
    "glucose_first_early",
    "spo2_max",
    "calcium_last_early",
    "bg_paco2_last_early",
    "sysbp_first",
    "sodium_first_early",
    "bands_first_early",
    "sysbp_max",
    "heartrate_first",
    "heartrate_min",
    "wbc_first_early",
    "diasbp_last",
    "bg_ph_first_early",
    "hematocrit_first_early",
    "race_black",
    "race_hispanic",
    "bg_baseexcess_last_early",
    "hemoglobin_last_early",
    "hematocrit_last_early",
    "bands_last_early",
    "diasbp_first",
    "resprate_first",
    "meanbp_last",
    "diasbp_min",
    "spo2_first",
    "diasbp_max",
    "potassium_first_early",
    "is_female",
    "bg_baseexcess_first_early",
    "race_asian",
];

/// A per-stay column: (family, kind, unit, range, description).
type StayColumn = (Family, Kind, &'static str, Option<(f64, f64)>, &'static str);

/// Facts of a per-stay column.
fn stay_column(name: &str) -> Option<StayColumn> {
    Some(match name {
        "ventdays" => (
            Family::OutcomeSide,
            Kind::Count,
            "days",
            Some((0.0, 30.0)),
            "days on a ventilator (APACHE IVa actualventdays, truncated to an integer; known only after the stay)",
        ),
        "hosp_los" => (
            Family::OutcomeSide,
            Kind::Continuous,
            "days",
            Some((-1.0, 365.0)),
            "hospital length of stay from the first heart rate to hospital discharge (known only after the stay)",
        ),
        "electivesurgery" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "admitted after elective surgery (apachePredVar; missing counts as 0)",
        ),
        "age" => (
            Family::Static,
            Kind::Continuous,
            "years",
            Some((16.0, 90.0)),
            "age at admission; \"> 89\" is recorded as 90",
        ),
        "hospitalid" => (
            Family::Identifier,
            Kind::Identifier,
            "id",
            None,
            "hospital identifier (not a clinical feature)",
        ),
        "patientunitstayid" => (
            Family::Identifier,
            Kind::Identifier,
            "id",
            None,
            "ICU stay identifier (not a clinical feature)",
        ),
        "race_other" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "ethnicity not African American, Hispanic or Asian (missing ethnicity counts as other)",
        ),
        "race_black" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "ethnicity African American",
        ),
        "race_hispanic" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "ethnicity Hispanic",
        ),
        "race_asian" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "ethnicity Asian",
        ),
        "is_female" => (
            Family::Static,
            Kind::Binary,
            "0/1",
            Some((0.0, 1.0)),
            "gender Female (missing gender counts as 0)",
        ),
        "death" => (
            Family::Label,
            Kind::Label,
            "0/1",
            Some((0.0, 1.0)),
            "in-hospital death: hospital (or unit) discharge status \"Expired\"",
        ),
        _ => return None,
    })
}

fn window_column(rank: usize, name: &'static str) -> Column {
    let (stem, early) = match name.strip_suffix("_early") {
        Some(s) => (s, true),
        None => (name, false),
    };
    let (var, agg) = if let Some(v) = stem.strip_suffix("_first") {
        (v, Agg::First)
    } else if let Some(v) = stem.strip_suffix("_last") {
        (v, Agg::Last)
    } else if let Some(v) = stem.strip_suffix("_min") {
        (v, Agg::Min)
    } else if let Some(v) = stem.strip_suffix("_max") {
        (v, Agg::Max)
    } else if let Some(v) = stem.strip_suffix("_sum") {
        (v, Agg::Sum)
    } else {
        panic!("schema: column {name} has no aggregate suffix") // a bug in ORDER, not user data
    };
    let var: &'static str = HOURLY_VARS
        .iter()
        .find(|(v, _)| *v == var)
        .map(|(v, _)| *v)
        .unwrap_or_else(|| panic!("schema: unknown hourly variable in {name}"));
    let description = match (agg, early) {
        (Agg::First, true) => "first value in the extended (early) window",
        (Agg::Last, true) => "last value in the extended (early) window",
        (Agg::First, false) => "first value in the window",
        (Agg::Last, false) => "last value in the window",
        (Agg::Min, _) => "minimum in the window",
        (Agg::Max, _) => "maximum in the window",
        (Agg::Sum, _) => "total over the window",
    };
    Column {
        rank,
        name,
        family: var_family(var),
        kind: Kind::Continuous,
        unit: var_unit(var),
        range: Some(var_range(var)),
        derivation: Derivation::Window { var, agg, early },
        description,
    }
}

/// The full schema: 82 features in the paper's order, then `death`.
pub fn columns() -> &'static [Column] {
    static COLUMNS: std::sync::OnceLock<Vec<Column>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        ORDER
            .iter()
            .copied()
            .chain(std::iter::once(LABEL))
            .enumerate()
            .map(|(i, name)| match stay_column(name) {
                Some((family, kind, unit, range, description)) => Column {
                    rank: i + 1,
                    name,
                    family,
                    kind,
                    unit,
                    range,
                    derivation: Derivation::Stay,
                    description,
                },
                None => window_column(i + 1, name),
            })
            .collect()
    })
}

/// Column names in order (83).
pub fn column_names() -> Vec<&'static str> {
    columns().iter().map(|c| c.name).collect()
}

pub fn column(name: &str) -> Option<&'static Column> {
    columns().iter().find(|c| c.name == name)
}

/// The top-`k` features by the paper's importance order plus the label (`k` = 82 is all).
pub fn top_k(k: usize) -> Vec<&'static str> {
    let k = k.min(ORDER.len());
    ORDER[..k].iter().copied().chain([LABEL]).collect()
}

/// How many features the design matrix has (`top_k(FEATURES)` is all of them, with the label).
pub const FEATURES: usize = ORDER.len();

/// The feature-count subsets of the dimensionality study.
pub const SUBSETS: [usize; 4] = [5, 10, 15, 20];

/// Demographic indicator columns used for group conditioning and fairness.
pub const GROUP_COLUMNS: [&str; 5] = [
    "race_black",
    "race_hispanic",
    "race_asian",
    "race_other",
    "is_female",
];

/// Columns the paper kept that are not clinical predictors known at prediction time.
pub const LEAKY_OR_ID_COLUMNS: [&str; 4] =
    ["hosp_los", "ventdays", "hospitalid", "patientunitstayid"];

#[cfg(test)]
mod tests;
