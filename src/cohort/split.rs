//! Deterministic splits by patient (`uniquepid`): the same seed gives the same split on any
//! machine, and no patient is ever on both sides.
//!
//! - member pool / holdout: the generator may see member rows only; holdout rows are the real
//!   test set and the privacy attack's non-members.
//! - leave-hospitals-out: a seeded fraction of hospitals is held out entirely.
//! - leave-region-out: one region is held out entirely.

use super::matrix::DesignMatrix;
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Split {
    pub name: String,
    /// Row indices (ascending) the model or generator may use.
    pub train: Vec<usize>,
    /// Row indices (ascending) held out.
    pub test: Vec<usize>,
}

impl Split {
    fn from_test_patients(name: String, m: &DesignMatrix, test_patients: &BTreeSet<&str>) -> Split {
        let (test, train): (Vec<usize>, Vec<usize>) =
            (0..m.n_rows()).partition(|&i| test_patients.contains(m.meta()[i].patient.as_str()));
        Split { name, train, test }
    }
}

/// Patients in a stable order (sorted ids), so shuffles depend only on the seed.
fn patients(m: &DesignMatrix) -> Vec<&str> {
    let set: BTreeSet<&str> = m.meta().iter().map(|r| r.patient.as_str()).collect();
    set.into_iter().collect()
}

/// Member pool (train) and real holdout (test): `holdout_fraction` of patients are held out.
pub fn members_holdout(m: &DesignMatrix, holdout_fraction: f64, seed: u64) -> Result<Split> {
    if !(0.0..1.0).contains(&holdout_fraction) || holdout_fraction == 0.0 {
        return Err(Error::Invalid(format!(
            "holdout fraction must be in (0, 1), got {holdout_fraction}"
        )));
    }
    let mut p = patients(m);
    p.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let k = ((p.len() as f64) * holdout_fraction).round() as usize;
    let test: BTreeSet<&str> = p[..k.min(p.len())].iter().copied().collect();
    Ok(Split::from_test_patients(
        "members-holdout".into(),
        m,
        &test,
    ))
}

/// Hold out a seeded `fraction` of hospitals (every stay of a patient seen in a held-out
/// hospital goes to the test side).
pub fn leave_hospitals_out(m: &DesignMatrix, fraction: f64, seed: u64) -> Result<Split> {
    let hospitals: BTreeSet<i64> = m.meta().iter().map(|r| r.hospital).collect();
    let mut h: Vec<i64> = hospitals.into_iter().collect();
    if h.len() < 2 {
        return Err(Error::Invalid(
            "leave-hospitals-out needs at least two hospitals".into(),
        ));
    }
    h.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let k = (((h.len() as f64) * fraction).round() as usize).clamp(1, h.len() - 1);
    let held: BTreeSet<i64> = h[..k].iter().copied().collect();
    let test: BTreeSet<&str> = m
        .meta()
        .iter()
        .filter(|r| held.contains(&r.hospital))
        .map(|r| r.patient.as_str())
        .collect();
    Ok(Split::from_test_patients(
        format!("leave-hospitals-out({k} of {})", h.len()),
        m,
        &test,
    ))
}

/// Hold out one region entirely.
pub fn leave_region_out(m: &DesignMatrix, region: &str) -> Result<Split> {
    let test: BTreeSet<&str> = m
        .meta()
        .iter()
        .filter(|r| r.region.as_deref() == Some(region))
        .map(|r| r.patient.as_str())
        .collect();
    if test.is_empty() {
        // Name what the data has, so a typo in a profile or flag is fixed at once.
        let known = regions(m);
        let has = if known.is_empty() {
            "the data names no region".to_string()
        } else {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            format!("the data's regions: {}", names.join(", "))
        };
        return Err(Error::Invalid(format!(
            "no patients in region '{region}'; {has}"
        )));
    }
    Ok(Split::from_test_patients(
        format!("leave-region-out({region})"),
        m,
        &test,
    ))
}

/// Rows per region (regions with a name only).
pub fn regions(m: &DesignMatrix) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in m.meta() {
        if let Some(reg) = &r.region {
            *out.entry(reg.clone()).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::matrix::RowMeta;

    fn toy() -> DesignMatrix {
        let n = 40;
        let meta = (0..n)
            .map(|i| RowMeta {
                stay: i as i64,
                patient: format!("p{}", i / 2), // two stays per patient
                hospital: (i % 5) as i64,
                region: Some(if i % 2 == 0 { "West" } else { "South" }.into()),
            })
            .collect();
        DesignMatrix::new(
            vec!["x".into()],
            vec![(0..n).map(|i| i as f64).collect()],
            meta,
        )
    }

    fn no_patient_on_both_sides(m: &DesignMatrix, s: &Split) {
        let a: BTreeSet<&str> = s
            .train
            .iter()
            .map(|&i| m.meta()[i].patient.as_str())
            .collect();
        let b: BTreeSet<&str> = s
            .test
            .iter()
            .map(|&i| m.meta()[i].patient.as_str())
            .collect();
        assert!(a.is_disjoint(&b), "{}", s.name);
        assert_eq!(s.train.len() + s.test.len(), m.n_rows());
    }

    #[test]
    fn deterministic_and_patient_disjoint() {
        let m = toy();
        let a = members_holdout(&m, 0.25, 7).unwrap();
        assert_eq!(a, members_holdout(&m, 0.25, 7).unwrap());
        assert_ne!(a.test, members_holdout(&m, 0.25, 8).unwrap().test);
        assert_eq!(a.test.len(), 10);
        no_patient_on_both_sides(&m, &a);
        let h = leave_hospitals_out(&m, 0.4, 1).unwrap();
        no_patient_on_both_sides(&m, &h);
        let r = leave_region_out(&m, "West").unwrap();
        no_patient_on_both_sides(&m, &r);
        let e = leave_region_out(&m, "Mars").unwrap_err().to_string();
        assert!(e.contains("'Mars'") && e.contains("South, West"), "{e}");
        assert!(members_holdout(&m, 1.5, 1).is_err());
    }
}
