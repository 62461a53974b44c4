//! Per-stay facts from the eICU base tables (`patient`, `hospital`, `apachePatientResult`,
//! `apachePredVar`), shared by the `eicu-demo` and `eicu-raw` sources.

use crate::cohort::table::{locate, text, ParseIssues, Table};
use crate::error::Result;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct StayInfo {
    pub stay: i64,
    pub health_system_stay: i64,
    pub patient: String,
    pub hospital: i64,
    pub region: Option<String>,
    pub unit_type: String,
    pub gender: Option<String>,
    /// `age` as text ("> 89", "" and numbers occur).
    pub age_text: Option<String>,
    pub ethnicity: Option<String>,
    pub hospital_admit_offset: Option<f64>,
    pub hospital_discharge_offset: Option<f64>,
    pub hospital_discharge_year: Option<f64>,
    pub hospital_status: Option<String>,
    pub unit_status: Option<String>,
    /// APACHE IVa predicted hospital mortality (-1 when APACHE could not score the stay).
    pub apache_iva_pred: Option<f64>,
    pub ventdays: Option<f64>,
    pub electivesurgery: Option<f64>,
}

impl StayInfo {
    /// Numeric age: "> 89" → 90 (Johnson et al.), empty → missing.
    pub fn age(&self) -> Option<f64> {
        let a = self.age_text.as_deref()?.trim();
        if a.starts_with('>') {
            return Some(90.0);
        }
        a.parse().ok()
    }

    pub fn died(&self) -> bool {
        self.hospital_status.as_deref() == Some("Expired")
            || self.unit_status.as_deref() == Some("Expired")
    }
}

/// Read the four base tables from `dir`.
pub fn read_stays(dir: &Path, issues: &mut ParseIssues) -> Result<Vec<StayInfo>> {
    // hospital → region
    let mut regions: HashMap<i64, String> = HashMap::new();
    let t = Table::open(&locate(dir, "hospital")?)?;
    let (c_h, c_r) = (t.col("hospitalid")?, t.col("region")?);
    t.for_each(|r| {
        if let Some(h) = issues.num("hospital", "hospitalid", r.get(c_h)) {
            if let Some(reg) = text(r.get(c_r)) {
                regions.insert(h as i64, reg.to_string());
            }
        }
        Ok(())
    })?;

    let mut stays = Vec::new();
    let t = Table::open(&locate(dir, "patient")?)?;
    let c = |n: &str| t.col(n);
    let (c_stay, c_hss, c_pid, c_hosp) = (
        c("patientunitstayid")?,
        c("patienthealthsystemstayid")?,
        c("uniquepid")?,
        c("hospitalid")?,
    );
    let (c_unit, c_gender, c_age, c_eth) =
        (c("unittype")?, c("gender")?, c("age")?, c("ethnicity")?);
    let (c_hao, c_hdo, c_hdy, c_hds, c_uds) = (
        c("hospitaladmitoffset")?,
        c("hospitaldischargeoffset")?,
        c("hospitaldischargeyear")?,
        c("hospitaldischargestatus")?,
        c("unitdischargestatus")?,
    );
    let file = t.path.clone();
    t.for_each(|r| {
        let Some(stay) = issues.num("patient", "patientunitstayid", r.get(c_stay)) else {
            return Err(crate::error::Error::bad_file(
                &file,
                format!(
                    "a row without a patientunitstayid (after stay {:?})",
                    stays.last().map(|s: &StayInfo| s.stay)
                ),
            ));
        };
        let hospital = issues
            .num("patient", "hospitalid", r.get(c_hosp))
            .unwrap_or(-1.0) as i64;
        let age_text = text(r.get(c_age)).map(str::to_string);
        // "> 89" is eICU's top code; any other non-number becomes missing, counted
        if let Some(a) = age_text.as_deref().filter(|a| !a.starts_with('>')) {
            issues.num("patient", "age", Some(a));
        }
        stays.push(StayInfo {
            stay: stay as i64,
            health_system_stay: issues
                .num("patient", "patienthealthsystemstayid", r.get(c_hss))
                .unwrap_or(stay) as i64,
            patient: text(r.get(c_pid)).unwrap_or_default().to_string(),
            hospital,
            region: regions.get(&hospital).cloned(),
            unit_type: text(r.get(c_unit)).unwrap_or_default().to_string(),
            gender: text(r.get(c_gender)).map(str::to_string),
            age_text,
            ethnicity: text(r.get(c_eth)).map(str::to_string),
            hospital_admit_offset: issues.num("patient", "hospitaladmitoffset", r.get(c_hao)),
            hospital_discharge_offset: issues.num(
                "patient",
                "hospitaldischargeoffset",
                r.get(c_hdo),
            ),
            hospital_discharge_year: issues.num("patient", "hospitaldischargeyear", r.get(c_hdy)),
            hospital_status: text(r.get(c_hds)).map(str::to_string),
            unit_status: text(r.get(c_uds)).map(str::to_string),
            ..Default::default()
        });
        Ok(())
    })?;
    let index: HashMap<i64, usize> = stays.iter().enumerate().map(|(i, s)| (s.stay, i)).collect();

    // APACHE IVa: predicted hospital mortality and ventilation days
    let t = Table::open(&locate(dir, "apachePatientResult")?)?;
    let (c_stay, c_ver, c_pred, c_vent) = (
        t.col("patientunitstayid")?,
        t.col("apacheversion")?,
        t.col("predictedhospitalmortality")?,
        t.col("actualventdays")?,
    );
    t.for_each(|r| {
        if text(r.get(c_ver)) != Some("IVa") {
            return Ok(());
        }
        let Some(stay) = issues.num("apachePatientResult", "patientunitstayid", r.get(c_stay))
        else {
            return Ok(());
        };
        if let Some(&i) = index.get(&(stay as i64)) {
            stays[i].apache_iva_pred = issues.num(
                "apachePatientResult",
                "predictedhospitalmortality",
                r.get(c_pred),
            );
            // "actual vent days is an integer truncated at 30" (Johnson et al.)
            stays[i].ventdays = issues
                .num("apachePatientResult", "actualventdays", r.get(c_vent))
                .map(f64::trunc);
        }
        Ok(())
    })?;

    let t = Table::open(&locate(dir, "apachePredVar")?)?;
    let (c_stay, c_el) = (t.col("patientunitstayid")?, t.col("electivesurgery")?);
    t.for_each(|r| {
        let Some(stay) = issues.num("apachePredVar", "patientunitstayid", r.get(c_stay)) else {
            return Ok(());
        };
        if let Some(&i) = index.get(&(stay as i64)) {
            stays[i].electivesurgery = issues.num("apachePredVar", "electivesurgery", r.get(c_el));
        }
        Ok(())
    })?;
    Ok(stays)
}
