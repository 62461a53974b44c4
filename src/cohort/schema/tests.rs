use super::*;

#[test]
fn has_83_columns_in_paper_order() {
    let names = column_names();
    assert_eq!(names.len(), 83);
    assert_eq!(names[0], "lactate_last_early");
    assert_eq!(names[39], "patientunitstayid");
    assert_eq!(names[81], "race_asian");
    assert_eq!(names[82], "death");
    // the paper's "all features" (its figure's 83-column bar) is this schema's
    assert_eq!(crate::paper::ALL_FEATURES, FEATURES);
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 83, "column names are unique");
}

#[test]
fn derivations_parse() {
    let c = column("bg_pao2fio2ratio_last_early").unwrap();
    assert_eq!(
        c.derivation,
        Derivation::Window {
            var: "bg_pao2fio2ratio",
            agg: Agg::Last,
            early: true
        }
    );
    assert_eq!(c.family, Family::BloodGas);
    let u = column("urineoutput_sum").unwrap();
    assert_eq!(u.family, Family::Urine);
    assert!(matches!(
        u.derivation,
        Derivation::Window {
            agg: Agg::Sum,
            early: false,
            ..
        }
    ));
    assert_eq!(column("tempc_min").unwrap().unit, "°C");
    assert_eq!(column("hosp_los").unwrap().family, Family::OutcomeSide);
}

#[test]
fn subsets_are_prefixes_plus_label() {
    assert_eq!(
        top_k(5),
        vec![
            "lactate_last_early",
            "ventdays",
            "hosp_los",
            "bun_last_early",
            "electivesurgery",
            "death"
        ]
    );
    assert_eq!(top_k(82).len(), 83);
    assert_eq!(top_k(500).len(), 83);
}

#[test]
fn ranges_reject_impossible_values() {
    let b = column("bilirubin_last_early").unwrap();
    assert!(!b.in_range(-0.5));
    assert!(b.in_range(1.2));
    assert!(!column("age").unwrap().in_range(130.0));
    assert!(!column("is_female").unwrap().in_range(0.5));
    assert!(column("hospitalid").unwrap().in_range(73.0));
    assert!(!column("heartrate_max").unwrap().in_range(f64::NAN));
}
