//! The canonical long table every source produces: (stay, minutes since ICU admission, variable,
//! value). Feature code reads only this, so it is written once for all sources.

use super::schema::HOURLY_VARS;

/// Index of an hourly variable in [`HOURLY_VARS`].
pub type VarId = u8;

pub fn var_id(name: &str) -> Option<VarId> {
    HOURLY_VARS
        .iter()
        .position(|(v, _)| *v == name)
        .map(|i| i as VarId)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub stay: i64,
    /// Minutes since ICU unit admission (negative before it).
    pub minutes: f64,
    pub var: VarId,
    pub value: f64,
}

#[derive(Debug, Default, Clone)]
pub struct LongTable {
    pub obs: Vec<Obs>,
}

impl LongTable {
    pub fn push(&mut self, stay: i64, minutes: f64, var: &str, value: f64) {
        // Only known variables enter the table; a source maps its names before pushing.
        if let Some(var) = var_id(var) {
            if value.is_finite() && minutes.is_finite() {
                self.obs.push(Obs {
                    stay,
                    minutes,
                    var,
                    value,
                });
            }
        }
    }

    /// Sort by stay, then time, so features can be computed in one pass per stay.
    pub fn sort(&mut self) {
        self.obs.sort_by(|a, b| {
            a.stay
                .cmp(&b.stay)
                .then(a.minutes.total_cmp(&b.minutes))
                .then(a.var.cmp(&b.var))
        });
    }

    pub fn len(&self) -> usize {
        self.obs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.obs.is_empty()
    }
}

/// PaO2/FiO2 in mmHg; FiO2 given as a percentage (> 1) or a fraction.
pub fn pf_ratio(pao2: f64, fio2: f64) -> Option<f64> {
    let frac = if fio2 > 1.0 { fio2 / 100.0 } else { fio2 };
    (frac > 0.0 && frac <= 1.0 && pao2 > 0.0).then(|| pao2 / frac)
}
