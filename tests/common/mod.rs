//! Shared test helpers.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod stub;

/// Real eICU demo data: `SYNTHEHR_DATA`, else `../shared/data` beside the project. Tests that
/// need it fail loudly when it is missing (CI always has it).
pub fn real_data() -> PathBuf {
    let p = std::env::var_os("SYNTHEHR_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        p.join("eicu-demo").is_dir(),
        "real data not found at {} (set SYNTHEHR_DATA to the folder holding eicu-demo/ and yaib-eicu-demo/)",
        p.display()
    );
    p
}

/// The demo cohort and its member/holdout split (seed and fraction of the profiles), built once
/// per test binary.
pub fn demo() -> &'static (synthehr::cohort::Cohort, synthehr::cohort::split::Split) {
    static C: std::sync::OnceLock<(synthehr::cohort::Cohort, synthehr::cohort::split::Split)> =
        std::sync::OnceLock::new();
    C.get_or_init(|| {
        let c =
            synthehr::cohort::Cohort::build(synthehr::cohort::SourceKind::EicuDemo, &real_data())
                .unwrap();
        let s = synthehr::cohort::split::members_holdout(&c.matrix, 0.3, 20250425).unwrap();
        (c, s)
    })
}
