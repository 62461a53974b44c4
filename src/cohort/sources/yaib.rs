//! Hourly labs and vitals of the eICU demo from YAIB (`los/dyn.parquet`): one row per stay and
//! hour since ICU admission, with ricu's concept names. Mapped onto the long table's variables.

use crate::cohort::long::{pf_ratio, LongTable};
use crate::cohort::parquet;
use crate::error::Result;
use std::path::Path;

/// YAIB concept → long-table variable. YAIB has no hematocrit: those columns stay missing for
/// this source (reported per column in cohort.json).
pub const MAPPING: &[(&str, &str)] = &[
    ("hr", "heartrate"),
    ("sbp", "sysbp"),
    ("dbp", "diasbp"),
    ("map", "meanbp"),
    ("resp", "resprate"),
    ("temp", "tempc"),
    ("o2sat", "spo2"),
    ("glu", "glucose"),
    ("po2", "bg_pao2"),
    ("pco2", "bg_paco2"),
    ("ph", "bg_ph"),
    ("be", "bg_baseexcess"),
    ("alb", "albumin"),
    ("bnd", "bands"),
    ("bicar", "bicarbonate"),
    ("bili", "bilirubin"),
    ("bun", "bun"),
    ("ca", "calcium"),
    ("crea", "creatinine"),
    ("hgb", "hemoglobin"),
    ("inr_pt", "inr"),
    ("lact", "lactate"),
    ("plt", "platelet"),
    ("k", "potassium"),
    ("na", "sodium"),
    ("wbc", "wbc"),
    ("urine", "urineoutput"),
];

/// Read `dyn.parquet` into `long`. Each hourly row is placed at the middle of its hour
/// (`time` h covers [h, h+1)), so it falls in hour `h + 1` of the Johnson hour index.
pub fn read_dyn(path: &Path, long: &mut LongTable) -> Result<()> {
    let mut wanted = vec!["stay_id", "time", "fio2"];
    wanted.extend(MAPPING.iter().map(|(src, _)| *src));
    let df = parquet::read(path, &wanted)?;
    let stays = df.f64("stay_id")?;
    let hours = df.hours("time")?;
    let mut vars = Vec::new();
    for (src, dst) in MAPPING {
        vars.push((*dst, df.f64(src)?));
    }
    let po2 = df.f64("po2")?;
    let fio2 = df.f64("fio2")?;
    for i in 0..df.n_rows() {
        let (Some(stay), Some(h)) = (stays[i], hours[i]) else {
            continue;
        };
        let (stay, minutes) = (stay as i64, h * 60.0 + 30.0);
        for (var, vals) in &vars {
            if let Some(v) = vals[i] {
                long.push(stay, minutes, var, v);
            }
        }
        if let (Some(p), Some(f)) = (po2[i], fio2[i]) {
            if let Some(r) = pf_ratio(p, f) {
                long.push(stay, minutes, "bg_pao2fio2ratio", r);
            }
        }
    }
    Ok(())
}
