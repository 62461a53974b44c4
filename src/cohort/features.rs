//! Long table → design-matrix columns. Written once for every source (DESIGN.md).

use super::long::{var_id, LongTable, Obs};
use super::matrix::{DesignMatrix, RowMeta};
use super::schema::{self, Agg, Derivation, WINDOW_END_HOURS, WINDOW_EXTRA_HOURS, WINDOW_HOURS};
use super::sources::base::StayInfo;
use std::collections::{BTreeMap, HashSet};

/// Stays that have at least one heart rate (time zero exists).
pub fn stays_with_heart_rate(long: &LongTable) -> HashSet<i64> {
    let hr = var_id("heartrate");
    long.obs
        .iter()
        .filter(|o| Some(o.var) == hr)
        .map(|o| o.stay)
        .collect()
}

/// Hour index of an observation `minutes` after time zero: `ceil(minutes / 60)`.
fn hour_of(minutes: f64) -> i64 {
    (minutes / 60.0).ceil() as i64
}

/// Hourly values of one stay: var → hour → (sum, count).
type Hourly = Vec<BTreeMap<i64, (f64, u32)>>;

fn hourly(obs: &[Obs], anchor: f64) -> Hourly {
    let mut h: Hourly = vec![BTreeMap::new(); schema::HOURLY_VARS.len()];
    for o in obs {
        let e = h[o.var as usize]
            .entry(hour_of(o.minutes - anchor))
            .or_insert((0.0, 0));
        e.0 += o.value;
        e.1 += 1;
    }
    h
}

fn reduce(hours: &BTreeMap<i64, (f64, u32)>, agg: Agg, early: bool, is_sum_var: bool) -> f64 {
    let lo = WINDOW_END_HOURS - WINDOW_HOURS - if early { WINDOW_EXTRA_HOURS } else { 0 };
    // hourly value: mean of observations (urine output: total)
    let mut vals =
        hours
            .range(lo..=WINDOW_END_HOURS)
            .map(|(_, &(s, n))| if is_sum_var { s } else { s / n as f64 });
    let out = match agg {
        Agg::First => vals.next(),
        Agg::Last => vals.next_back(),
        Agg::Min => vals.reduce(f64::min),
        Agg::Max => vals.reduce(f64::max),
        Agg::Sum => vals.reduce(|a, b| a + b),
    };
    out.unwrap_or(f64::NAN)
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn stay_value(name: &str, s: &StayInfo, anchor: f64) -> f64 {
    let eth = s.ethnicity.as_deref();
    match name {
        "ventdays" => s.ventdays.unwrap_or(f64::NAN),
        "hosp_los" => s
            .hospital_discharge_offset
            .map(|d| (d - anchor) / 1440.0)
            .unwrap_or(f64::NAN),
        "electivesurgery" => s.electivesurgery.unwrap_or(0.0),
        "age" => s.age().unwrap_or(f64::NAN),
        "hospitalid" => s.hospital as f64,
        "patientunitstayid" => s.stay as f64,
        "race_black" => flag(eth == Some("African American")),
        "race_hispanic" => flag(eth == Some("Hispanic")),
        "race_asian" => flag(eth == Some("Asian")),
        "race_other" => flag(!matches!(
            eth,
            Some("African American") | Some("Hispanic") | Some("Asian")
        )),
        "is_female" => flag(s.gender.as_deref() == Some("Female")),
        "death" => flag(s.died()),
        _ => f64::NAN,
    }
}

/// Build the 83-column matrix for the selected stays. `long` must be sorted.
pub fn design_matrix(selected: &[&StayInfo], long: &LongTable) -> DesignMatrix {
    let cols = schema::columns();
    let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(selected.len()); cols.len()];
    let mut meta = Vec::with_capacity(selected.len());
    let hr = var_id("heartrate");
    let urine = var_id("urineoutput");
    for s in selected {
        let start = long.obs.partition_point(|o| o.stay < s.stay);
        let end = long.obs.partition_point(|o| o.stay <= s.stay);
        let obs = &long.obs[start..end];
        let anchor = obs
            .iter()
            .filter(|o| Some(o.var) == hr)
            .map(|o| o.minutes)
            .fold(f64::INFINITY, f64::min);
        let hours = hourly(obs, anchor);
        for (c, col) in cols.iter().enumerate() {
            let v = match col.derivation {
                Derivation::Stay => stay_value(col.name, s, anchor),
                Derivation::Window { var, agg, early } => {
                    let id = var_id(var).map(|i| i as usize);
                    id.map(|i| reduce(&hours[i], agg, early, Some(i as u8) == urine))
                        .unwrap_or(f64::NAN)
                }
            };
            columns[c].push(v);
        }
        meta.push(RowMeta {
            stay: s.stay,
            patient: s.patient.clone(),
            hospital: s.hospital,
            region: s.region.clone(),
        });
    }
    DesignMatrix::new(
        cols.iter().map(|c| c.name.to_string()).collect(),
        columns,
        meta,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_index_follows_johnson() {
        assert_eq!(hour_of(0.0), 0);
        assert_eq!(hour_of(1.0), 1);
        assert_eq!(hour_of(60.0), 1);
        assert_eq!(hour_of(61.0), 2);
        assert_eq!(hour_of(-90.0), -1);
    }

    #[test]
    fn window_reductions() {
        let mut h = BTreeMap::new();
        h.insert(-10, (7.0, 1)); // outside even the early window
        h.insert(-5, (4.0, 2)); // early window only: mean 2
        h.insert(17, (10.0, 1));
        h.insert(20, (30.0, 2)); // mean 15
        h.insert(25, (99.0, 1)); // after the window end
        assert_eq!(reduce(&h, Agg::First, true, false), 2.0);
        assert_eq!(reduce(&h, Agg::First, false, false), 10.0);
        assert_eq!(reduce(&h, Agg::Last, false, false), 15.0);
        assert_eq!(reduce(&h, Agg::Max, false, false), 15.0);
        assert_eq!(reduce(&h, Agg::Min, true, false), 2.0);
        assert_eq!(reduce(&h, Agg::Sum, false, true), 40.0);
        assert!(reduce(&BTreeMap::new(), Agg::Sum, false, true).is_nan());
    }
}
