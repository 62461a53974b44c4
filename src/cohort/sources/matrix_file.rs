//! A ready design matrix (CSV or Parquet) with the paper's 83 columns, in any order. Optional
//! columns `uniquepid` and `region` feed the splits; without them each stay is its own patient.

use crate::cohort::matrix::{DesignMatrix, RowMeta};
use crate::cohort::schema;
use crate::cohort::table::{text, ParseIssues, Table};
use crate::error::{Error, Result};
use std::path::Path;

pub fn read(path: &Path, issues: &mut ParseIssues) -> Result<DesignMatrix> {
    if !path.is_file() {
        return Err(Error::MissingTable {
            table: "design matrix".into(),
            path: path.to_path_buf(),
        });
    }
    let names = schema::column_names();
    let is_parquet = path.extension().is_some_and(|e| e == "parquet");
    let (mut columns, patients, regions) = if is_parquet {
        read_parquet(path, &names)?
    } else {
        read_csv(path, &names, issues)?
    };
    check_values(path, &names, &mut columns, issues)?;
    let stay = &columns[names
        .iter()
        .position(|n| *n == "patientunitstayid")
        .unwrap_or(0)];
    let hosp = &columns[names.iter().position(|n| *n == "hospitalid").unwrap_or(0)];
    let meta = (0..stay.len())
        .map(|i| RowMeta {
            stay: stay[i] as i64,
            patient: patients
                .as_ref()
                .and_then(|p| p[i].clone())
                .unwrap_or_else(|| format!("stay-{}", stay[i])),
            hospital: hosp[i] as i64,
            region: regions.as_ref().and_then(|r| r[i].clone()),
        })
        .collect();
    Ok(DesignMatrix::new(
        names.iter().map(|s| s.to_string()).collect(),
        columns,
        meta,
    ))
}

/// A matrix must have rows and a 0/1 `death` for every stay (the outcome: a wrong label cannot
/// be repaired, so it is an error naming the first one); any other binary column's value that is
/// not 0 or 1 becomes missing and is counted in `issues`.
fn check_values(
    path: &Path,
    names: &[&str],
    columns: &mut [Vec<f64>],
    issues: &mut ParseIssues,
) -> Result<()> {
    let n = columns.first().map_or(0, Vec::len);
    if n == 0 {
        return Err(Error::bad_file(
            path,
            "the design matrix has no rows (a header and nothing else)",
        ));
    }
    let stay_col = names.iter().position(|c| *c == "patientunitstayid");
    for (k, name) in names.iter().enumerate() {
        let Some(col) = schema::column(name).filter(|c| c.is_binary()) else {
            continue;
        };
        let is_label = col.kind == schema::Kind::Label;
        let bad: Vec<usize> = (0..n)
            .filter(|&i| {
                let v = columns[k][i];
                if is_label {
                    v != 0.0 && v != 1.0
                } else {
                    !v.is_nan() && v != 0.0 && v != 1.0
                }
            })
            .collect();
        if let Some(&first) = bad.first() {
            let v = columns[k][first];
            let shown = if v.is_nan() {
                "empty".to_string()
            } else {
                format!("{v}")
            };
            if is_label {
                let stay = stay_col.map_or(f64::NAN, |s| columns[s][first]);
                return Err(Error::bad_file(
                    path,
                    format!(
                        "{name} must be 0 or 1 in every row: {} row(s) are not (first: data row {}, stay {stay}, value {shown})",
                        bad.len(),
                        first + 1
                    ),
                ));
            }
            for &i in &bad {
                issues.note("matrix", name, &format!("{}", columns[k][i]));
                columns[k][i] = f64::NAN;
            }
        }
    }
    Ok(())
}

type Cols = (
    Vec<Vec<f64>>,
    Option<Vec<Option<String>>>,
    Option<Vec<Option<String>>>,
);

fn read_csv(path: &Path, names: &[&str], issues: &mut ParseIssues) -> Result<Cols> {
    let t = Table::open(path)?;
    let idx: Vec<usize> = names.iter().map(|n| t.col(n)).collect::<Result<_>>()?;
    let (c_pid, c_reg) = (t.opt_col("uniquepid"), t.opt_col("region"));
    let mut cols = vec![Vec::new(); names.len()];
    let (mut pids, mut regs) = (Vec::new(), Vec::new());
    t.for_each(|r| {
        for (k, &i) in idx.iter().enumerate() {
            cols[k].push(issues.num("matrix", names[k], r.get(i)).unwrap_or(f64::NAN));
        }
        pids.push(c_pid.and_then(|c| text(r.get(c)).map(str::to_string)));
        regs.push(c_reg.and_then(|c| text(r.get(c)).map(str::to_string)));
        Ok(())
    })?;
    Ok((cols, c_pid.map(|_| pids), c_reg.map(|_| regs)))
}

fn read_parquet(path: &Path, names: &[&str]) -> Result<Cols> {
    let mut wanted = names.to_vec();
    wanted.extend(["uniquepid", "region"]);
    let df = crate::cohort::parquet::read(path, &wanted)?;
    let cols = names
        .iter()
        .map(|n| {
            Ok(df
                .f64(n)?
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect())
        })
        .collect::<Result<_>>()?;
    Ok((cols, df.strings("uniquepid"), df.strings("region")))
}
