//! PhysioNet eICU layout with the time-series tables (`lab`, `vitalPeriodic`, optionally
//! `vitalAperiodic` and `intakeOutput`), as a user with the full credentialed eICU or a complete
//! demo download has. Offsets are minutes since ICU unit admission.
//!
//! Conventions: invasive and non-invasive blood pressures both enter the hourly mean; PaO2/FiO2 is
//! formed from a `paO2` and an `FiO2` result at the same offset; urine output is every
//! `intakeOutput` row whose `cellpath` is an output and whose `celllabel` names urine, a Foley or
//! a void.

use crate::cohort::long::{pf_ratio, LongTable};
use crate::cohort::table::{locate, text, ParseIssues, Table};
use crate::error::Result;
use std::collections::HashMap;
use std::path::Path;

/// eICU `lab.labname` → long-table variable.
pub const LAB_NAMES: &[(&str, &str)] = &[
    ("albumin", "albumin"),
    ("-bands", "bands"),
    ("bicarbonate", "bicarbonate"),
    ("HCO3", "bicarbonate"),
    ("total bilirubin", "bilirubin"),
    ("BUN", "bun"),
    ("calcium", "calcium"),
    ("creatinine", "creatinine"),
    ("Hct", "hematocrit"),
    ("Hgb", "hemoglobin"),
    ("PT - INR", "inr"),
    ("lactate", "lactate"),
    ("platelets x 1000", "platelet"),
    ("potassium", "potassium"),
    ("sodium", "sodium"),
    ("WBC x 1000", "wbc"),
    ("glucose", "glucose"),
    ("bedside glucose", "glucose"),
    ("paO2", "bg_pao2"),
    ("paCO2", "bg_paco2"),
    ("pH", "bg_ph"),
    ("Base Excess", "bg_baseexcess"),
];

pub fn read_lab(dir: &Path, long: &mut LongTable, issues: &mut ParseIssues) -> Result<()> {
    let names: HashMap<&str, &str> = LAB_NAMES.iter().copied().collect();
    let t = Table::open(&locate(dir, "lab")?)?;
    let (c_stay, c_off, c_name, c_val) = (
        t.col("patientunitstayid")?,
        t.col("labresultoffset")?,
        t.col("labname")?,
        t.col("labresult")?,
    );
    // (stay, offset) → (pao2, fio2) for the ratio
    let mut gases: HashMap<(i64, i64), (Option<f64>, Option<f64>)> = HashMap::new();
    t.for_each(|r| {
        let (Some(stay), Some(off)) = (
            issues.num("lab", "patientunitstayid", r.get(c_stay)),
            issues.num("lab", "labresultoffset", r.get(c_off)),
        ) else {
            return Ok(());
        };
        let Some(name) = text(r.get(c_name)) else {
            return Ok(());
        };
        let is_fio2 = name == "FiO2";
        let var = names.get(name);
        if var.is_none() && !is_fio2 {
            return Ok(());
        }
        let Some(v) = issues.num("lab", "labresult", r.get(c_val)) else {
            return Ok(());
        };
        let stay = stay as i64;
        if let Some(var) = var {
            long.push(stay, off, var, v);
        }
        if is_fio2 || name == "paO2" {
            let e = gases.entry((stay, off as i64)).or_default();
            if is_fio2 {
                e.1 = Some(v);
            } else {
                e.0 = Some(v);
            }
        }
        Ok(())
    })?;
    for ((stay, off), (p, f)) in gases {
        if let (Some(p), Some(f)) = (p, f) {
            if let Some(r) = pf_ratio(p, f) {
                long.push(stay, off as f64, "bg_pao2fio2ratio", r);
            }
        }
    }
    Ok(())
}

/// Read one vital-sign table with `(column, variable)` pairs.
fn read_vitals(
    dir: &Path,
    table: &str,
    pairs: &[(&str, &str)],
    long: &mut LongTable,
    issues: &mut ParseIssues,
) -> Result<()> {
    let t = Table::open(&locate(dir, table)?)?;
    let (c_stay, c_off) = (t.col("patientunitstayid")?, t.col("observationoffset")?);
    let cols: Vec<(usize, &str, &str)> = pairs
        .iter()
        .map(|(c, v)| t.col(c).map(|i| (i, *c, *v)))
        .collect::<Result<_>>()?;
    t.for_each(|r| {
        let (Some(stay), Some(off)) = (
            issues.num(table, "patientunitstayid", r.get(c_stay)),
            issues.num(table, "observationoffset", r.get(c_off)),
        ) else {
            return Ok(());
        };
        for &(i, col, var) in &cols {
            if let Some(v) = issues.num(table, col, r.get(i)) {
                long.push(stay as i64, off, var, v);
            }
        }
        Ok(())
    })
}

pub fn read_vital_periodic(
    dir: &Path,
    long: &mut LongTable,
    issues: &mut ParseIssues,
) -> Result<()> {
    read_vitals(
        dir,
        "vitalPeriodic",
        &[
            ("heartrate", "heartrate"),
            ("systemicsystolic", "sysbp"),
            ("systemicdiastolic", "diasbp"),
            ("systemicmean", "meanbp"),
            ("respiration", "resprate"),
            ("temperature", "tempc"),
            ("sao2", "spo2"),
        ],
        long,
        issues,
    )
}

/// Non-invasive blood pressure; optional (absent tables are skipped).
pub fn read_vital_aperiodic(
    dir: &Path,
    long: &mut LongTable,
    issues: &mut ParseIssues,
) -> Result<()> {
    if locate(dir, "vitalAperiodic").is_err() {
        return Ok(());
    }
    read_vitals(
        dir,
        "vitalAperiodic",
        &[
            ("noninvasivesystolic", "sysbp"),
            ("noninvasivediastolic", "diasbp"),
            ("noninvasivemean", "meanbp"),
        ],
        long,
        issues,
    )
}

/// Urine output from `intakeOutput`; optional.
pub fn read_urine(dir: &Path, long: &mut LongTable, issues: &mut ParseIssues) -> Result<()> {
    let Ok(path) = locate(dir, "intakeOutput") else {
        return Ok(());
    };
    let t = Table::open(&path)?;
    let (c_stay, c_off, c_label, c_path, c_val) = (
        t.col("patientunitstayid")?,
        t.col("intakeoutputoffset")?,
        t.col("celllabel")?,
        t.col("cellpath")?,
        t.col("cellvaluenumeric")?,
    );
    t.for_each(|r| {
        let label = text(r.get(c_label)).unwrap_or_default().to_lowercase();
        let cpath = text(r.get(c_path)).unwrap_or_default().to_lowercase();
        let is_urine = cpath.contains("output")
            && (label.contains("urine") || label.contains("foley") || label.contains("void"));
        if !is_urine {
            return Ok(());
        }
        if let (Some(stay), Some(off), Some(v)) = (
            issues.num("intakeOutput", "patientunitstayid", r.get(c_stay)),
            issues.num("intakeOutput", "intakeoutputoffset", r.get(c_off)),
            issues.num("intakeOutput", "cellvaluenumeric", r.get(c_val)),
        ) {
            long.push(stay as i64, off, "urineoutput", v);
        }
        Ok(())
    })
}
