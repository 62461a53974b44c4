//! `eicu-raw` on small raw-format tables written by the test, with hand-computed features, plus
//! the bad-input rules (missing table, missing column, unparseable cells).

use std::fs;
use std::path::Path;
use synthehr::cohort::{Cohort, SourceKind};

const PATIENT: &str = "\
patientunitstayid,patienthealthsystemstayid,gender,age,ethnicity,hospitalid,unittype,hospitaladmitoffset,hospitaldischargeyear,hospitaldischargeoffset,hospitaldischargestatus,unitdischargestatus,uniquepid
1001,501,Female,> 89,African American,7,MICU,-120,2015,4320,Expired,Alive,001-1
1002,502,Male,45,Caucasian,8,Med-Surg ICU,0,2014,2880,Alive,Alive,001-2
1003,502,Male,45,Caucasian,8,Med-Surg ICU,-3000,2014,2880,Alive,Alive,001-2
1004,503,Female,12,Hispanic,7,SICU,0,2015,900,Alive,Alive,001-4
1005,504,Male,60,Asian,8,Step-Down,0,2015,900,Alive,Alive,001-5
1006,505,Female,70,,7,CCU-CTICU,0,2015,1000,Alive,Alive,001-6
1007,506,,50,Hispanic,8,MICU,0,2015,1000,Alive,Alive,001-7
";
const HOSPITAL: &str =
    "hospitalid,numbedscategory,teachingstatus,region\n7,<100,False,Midwest\n8,100 - 249,False,\n";
const APACHE_RESULT: &str = "\
apachepatientresultsid,patientunitstayid,apacheversion,predictedhospitalmortality,actualventdays
1,1001,IVa,0.3,2.7
2,1001,IV,0.2,9
3,1002,IVa,0.05,
4,1003,IVa,0.1,
5,1004,IVa,0.1,
6,1006,IVa,-1,
7,1007,IVa,0.2,
";
const APACHE_PRED: &str = "patientunitstayid,electivesurgery\n1001,1\n1002,\n";
const VITALS: &str = "\
patientunitstayid,observationoffset,heartrate,systemicsystolic,systemicdiastolic,systemicmean,respiration,temperature,sao2
1001,10,80,,,,,,
1001,950,90,120,,,,37.0,
1001,955,100,110,,,,,
1001,1200,110,100,,,,38.5,
1001,1450,70,130,,,,,
1001,1460,200,,,,,,
1002,-30,88,,,,,,
1002,600,90,,,,,,
1003,0,70,,,,,,
1004,0,70,,,,,,
1005,0,70,,,,,,
1006,0,70,,,,,,
";
const LAB: &str = "\
patientunitstayid,labresultoffset,labname,labresult
1001,-600,lactate,9.9
1001,-400,lactate,4.0
1001,-390,lactate,2.0
1001,700,lactate,2.5
1001,1440,lactate,1.5
1001,1500,lactate,8.0
1001,100,paO2,80
1001,100,FiO2,40
1001,200,WBC x 1000,12.5 
1001,300,sodium,abc
1001,300,Hct,30
1001,300,Hgb,10
";
const IO: &str = "\
patientunitstayid,intakeoutputoffset,celllabel,cellpath,cellvaluenumeric
1001,1000,Urine,flowsheet|Flowsheet Cell Labels|I&O|Output (ml)|Urine,200
1001,1300,Foley,flowsheet|Flowsheet Cell Labels|I&O|Output (ml)|Foley,150
1001,500,Urine,flowsheet|Flowsheet Cell Labels|I&O|Output (ml)|Urine,999
1001,1100,Crystalloids,flowsheet|Flowsheet Cell Labels|I&O|Intake (ml)|Crystalloids,500
";

fn write_fixture(dir: &Path) {
    for (name, body) in [
        ("patient.csv", PATIENT),
        ("hospital.csv", HOSPITAL),
        ("apachePatientResult.csv", APACHE_RESULT),
        ("apachePredVar.csv", APACHE_PRED),
        ("vitalPeriodic.csv", VITALS),
        ("lab.csv", LAB),
        ("intakeOutput.csv", IO),
    ] {
        fs::write(dir.join(name), body).unwrap();
    }
}

fn get(c: &Cohort, row: usize, col: &str) -> f64 {
    c.matrix.column(col).unwrap()[row]
}

#[test]
fn raw_tables_give_hand_computed_features() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let c = Cohort::build(SourceKind::EicuRaw, dir.path()).unwrap();
    let a = c.attrition.clone().unwrap();
    assert_eq!(
        (
            a.stays_in_tables,
            a.not_icu,
            a.non_adult,
            a.bad_data,
            a.not_first_stay,
            a.no_apache_iva,
            a.selected
        ),
        (7, 1, 1, 1, 1, 1, 2)
    );
    assert_eq!(c.matrix.n_cols(), 83);
    let stays: Vec<i64> = c.matrix.meta().iter().map(|m| m.stay).collect();
    assert_eq!(stays, vec![1001, 1002]);

    // stay 1001: time zero is the first heart rate (offset 10)
    let expect = [
        ("heartrate_first", 95.0),
        ("heartrate_last", 70.0),
        ("heartrate_min", 70.0),
        ("heartrate_max", 110.0),
        ("sysbp_first", 115.0),
        ("sysbp_last", 130.0),
        ("sysbp_min", 100.0),
        ("sysbp_max", 130.0),
        ("tempc_first", 37.0),
        ("tempc_last", 38.5),
        ("lactate_first_early", 3.0),
        ("lactate_last_early", 1.5),
        ("bg_pao2_first_early", 80.0),
        ("bg_pao2fio2ratio_first_early", 200.0),
        ("bg_pao2fio2ratio_last_early", 200.0),
        ("wbc_first_early", 12.5),
        ("hematocrit_first_early", 30.0),
        ("hemoglobin_last_early", 10.0),
        ("urineoutput_sum", 350.0),
        ("age", 90.0),
        ("is_female", 1.0),
        ("race_black", 1.0),
        ("race_other", 0.0),
        ("hospitalid", 7.0),
        ("patientunitstayid", 1001.0),
        ("electivesurgery", 1.0),
        ("ventdays", 2.0),
        ("death", 1.0),
    ];
    for (col, v) in expect {
        assert_eq!(get(&c, 0, col), v, "stay 1001, {col}");
    }
    assert!((get(&c, 0, "hosp_los") - (4320.0 - 10.0) / 1440.0).abs() < 1e-12);
    assert!(
        get(&c, 0, "sodium_first_early").is_nan(),
        "unparseable lab is missing"
    );
    assert!(get(&c, 0, "albumin_first_early").is_nan());

    // stay 1002: time zero at -30; its only other heart rate is outside the vitals window
    assert!(get(&c, 1, "heartrate_first").is_nan());
    assert_eq!(get(&c, 1, "race_other"), 1.0);
    assert_eq!(
        get(&c, 1, "electivesurgery"),
        0.0,
        "missing elective flag counts as 0"
    );
    assert!(get(&c, 1, "ventdays").is_nan());
    assert!((get(&c, 1, "hosp_los") - 2910.0 / 1440.0).abs() < 1e-12);
    assert_eq!(get(&c, 1, "death"), 0.0);
    assert_eq!(c.matrix.meta()[1].region, None);
    assert_eq!(c.matrix.meta()[0].region.as_deref(), Some("Midwest"));

    // the unparseable cell is counted and warned about
    assert_eq!(c.issues.counts.get("lab.labresult"), Some(&1));
    assert!(c.issues.warnings()[0].contains("lab.labresult"));
    let s = c.summary();
    assert_eq!(s.unparseable_cells.get("lab.labresult"), Some(&1));
    assert_eq!(
        (s.rows, s.deaths, s.female, s.male, s.hospitals),
        (2, 1, 1, 1, 2)
    );
}

#[test]
fn missing_table_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    fs::remove_file(dir.path().join("lab.csv")).unwrap();
    let e = Cohort::build(SourceKind::EicuRaw, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("table lab not found"), "{e}");
}

#[test]
fn missing_column_is_named_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let without_pid: String = PATIENT
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    fs::write(dir.path().join("patient.csv"), without_pid).unwrap();
    let e = Cohort::build(SourceKind::EicuRaw, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("patient.csv") && e.contains("'uniquepid'"),
        "{e}"
    );
}

#[test]
fn garbage_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    fs::write(dir.path().join("lab.csv.gz"), b"\x1f\x8bnot really gzip").unwrap();
    fs::remove_file(dir.path().join("lab.csv")).unwrap();
    let e = Cohort::build(SourceKind::EicuRaw, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("lab.csv.gz"), "{e}");
}

#[test]
fn a_non_numeric_age_is_missing_and_counted_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    fs::write(
        dir.path().join("patient.csv"),
        PATIENT.replace("1007,506,,50,", "1007,506,,unknown,"),
    )
    .unwrap();
    let c = Cohort::build(SourceKind::EicuRaw, dir.path()).unwrap();
    // "> 89" is the top code, not an issue; "unknown" is
    assert_eq!(c.issues.counts.get("patient.age"), Some(&1));
    assert!(
        c.issues
            .warnings()
            .iter()
            .any(|w| w.contains("patient.age") && w.contains("unknown")),
        "{:?}",
        c.issues.warnings()
    );
}
