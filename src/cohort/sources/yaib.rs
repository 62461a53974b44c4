//! Hourly labs and vitals of the eICU demo from YAIB (`los/dyn.parquet`): one row per stay and
//! hour since ICU admission, with ricu's concept names. Mapped onto the long table's variables.

use crate::cohort::long::{pf_ratio, LongTable};
use crate::error::{Error, Result};
use polars::prelude::*;
use std::fs::File;
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

fn f64_column(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<Option<f64>>> {
    let col = df.column(name).map_err(|_| Error::MissingColumn {
        file: path.to_path_buf(),
        column: name.to_string(),
        header: df
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
    })?;
    let cast = col
        .cast(&DataType::Float64)
        .map_err(|e| Error::bad_file(path, format!("column {name} is not numeric: {e}")))?;
    let ca = cast
        .f64()
        .map_err(|e| Error::bad_file(path, format!("column {name}: {e}")))?;
    Ok(ca.iter().collect())
}

/// Hours since admission from the `time` column (a duration, or plain numbers of hours).
fn hours_column(df: &DataFrame, path: &Path) -> Result<Vec<Option<f64>>> {
    let col = df.column("time").map_err(|_| Error::MissingColumn {
        file: path.to_path_buf(),
        column: "time".into(),
        header: String::new(),
    })?;
    let per_hour = match col.dtype() {
        DataType::Duration(TimeUnit::Milliseconds) => 3.6e6,
        DataType::Duration(TimeUnit::Microseconds) => 3.6e9,
        DataType::Duration(TimeUnit::Nanoseconds) => 3.6e12,
        _ => 1.0,
    };
    let raw = if matches!(col.dtype(), DataType::Duration(_)) {
        col.cast(&DataType::Int64)
            .and_then(|c| c.cast(&DataType::Float64))
    } else {
        col.cast(&DataType::Float64)
    }
    .map_err(|e| Error::bad_file(path, format!("column time: {e}")))?;
    let ca = raw
        .f64()
        .map_err(|e| Error::bad_file(path, format!("column time: {e}")))?;
    Ok(ca.iter().map(|v| v.map(|x| x / per_hour)).collect())
}

pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(file)
        .finish()
        .map_err(|e| Error::bad_file(path, format!("cannot read parquet: {e}")))
}

/// Read `dyn.parquet` into `long`. Each hourly row is placed at the middle of its hour
/// (`time` h covers [h, h+1)), so it falls in hour `h + 1` of the Johnson hour index.
pub fn read_dyn(path: &Path, long: &mut LongTable) -> Result<()> {
    let df = read_parquet(path)?;
    let stays = f64_column(&df, path, "stay_id")?;
    let hours = hours_column(&df, path)?;
    let mut vars = Vec::new();
    for (src, dst) in MAPPING {
        vars.push((*dst, f64_column(&df, path, src)?));
    }
    let po2 = f64_column(&df, path, "po2")?;
    let fio2 = f64_column(&df, path, "fio2")?;
    for i in 0..df.height() {
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
