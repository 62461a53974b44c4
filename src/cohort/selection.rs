//! Cohort rules of Johnson, Pollard & Naumann 2018 (`datasets/eicu/cohort.sql`), applied to the
//! base tables. Each rule is counted so the attrition can be reported.
//!
//! 1. ICU units only: `unittype` contains "icu" (case-insensitive).
//! 2. Adults: age ≥ 16.
//! 3. Usable data: a heart rate was observed (it defines time zero) and a discharge status exists.
//! 4. First stay per patient (`uniquepid`), ordered by hospital discharge year, age,
//!    `patienthealthsystemstayid`, then the stay's position in that hospital stay. Johnson's SQL
//!    orders the last criterion by ascending `hospitaladmitoffset`, which picks the *latest* ICU
//!    stay of the first hospital stay; we pick the *first* ICU stay (largest
//!    `hospitaladmitoffset`), which is what a first-day model intends.
//! 5. An APACHE IVa prediction exists (`predictedhospitalmortality` > 0).

use super::sources::base::StayInfo;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Attrition {
    pub stays_in_tables: usize,
    pub not_icu: usize,
    pub non_adult: usize,
    pub bad_data: usize,
    pub not_first_stay: usize,
    pub no_apache_iva: usize,
    pub selected: usize,
}

/// Returns the selected stays (sorted by stay id) and the attrition counts. `has_heart_rate`
/// holds the stays with at least one heart rate observation.
pub fn select<'a>(
    stays: &'a [StayInfo],
    has_heart_rate: &HashSet<i64>,
) -> (Vec<&'a StayInfo>, Attrition) {
    let mut att = Attrition {
        stays_in_tables: stays.len(),
        ..Default::default()
    };
    let icu: Vec<&StayInfo> = stays
        .iter()
        .filter(|s| s.unit_type.to_lowercase().contains("icu"))
        .collect();
    att.not_icu = stays.len() - icu.len();

    // rank within patient: first hospital stay, first ICU stay in it
    let mut by_patient: HashMap<&str, Vec<&StayInfo>> = HashMap::new();
    for s in &icu {
        by_patient.entry(s.patient.as_str()).or_default().push(s);
    }
    let mut first: HashSet<i64> = HashSet::new();
    for list in by_patient.values_mut() {
        list.sort_by(|a, b| {
            let key = |s: &StayInfo| {
                (
                    s.hospital_discharge_year.unwrap_or(f64::INFINITY),
                    s.age().map(|a| a.min(89.0)).unwrap_or(f64::INFINITY),
                    s.health_system_stay,
                    -s.hospital_admit_offset.unwrap_or(f64::NEG_INFINITY),
                    s.stay,
                )
            };
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0)
                .then(ka.1.total_cmp(&kb.1))
                .then(ka.2.cmp(&kb.2))
                .then(ka.3.total_cmp(&kb.3))
                .then(ka.4.cmp(&kb.4))
        });
        first.insert(list[0].stay);
    }

    let mut selected = Vec::new();
    for s in icu {
        if s.age().is_some_and(|a| a < 16.0) {
            att.non_adult += 1;
        } else if !has_heart_rate.contains(&s.stay)
            || (s.hospital_status.is_none() && s.unit_status.is_none())
        {
            att.bad_data += 1;
        } else if !first.contains(&s.stay) {
            att.not_first_stay += 1;
        } else if !s.apache_iva_pred.is_some_and(|p| p > 0.0) {
            att.no_apache_iva += 1;
        } else {
            selected.push(s);
        }
    }
    selected.sort_by_key(|s| s.stay);
    att.selected = selected.len();
    (selected, att)
}
