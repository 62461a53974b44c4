#!/usr/bin/env python3
"""Independent check of the cohort rules (pandas), for tests/cohort_reference.rs.

Reads the same eICU demo base tables and YAIB hourly data as `synthehr data build --source
eicu-demo` and prints the cohort size, deaths, sex counts, hospital count and stays and deaths per hospital
as JSON. The rules
are written from the documentation in src/cohort/selection.rs, not translated from the Rust.

usage: cohort_reference.py DATA_DIR   (DATA_DIR holds eicu-demo/ and yaib-eicu-demo/)
"""
import json
import sys
from pathlib import Path

import pandas as pd


def main(data: Path) -> None:
    base = data / "eicu-demo"
    pt = pd.read_csv(base / "patient.csv.gz", dtype={"age": str})
    apr = pd.read_csv(base / "apachePatientResult.csv.gz")
    dyn = pd.read_parquet(data / "yaib-eicu-demo" / "los" / "dyn.parquet", columns=["stay_id", "hr"])

    with_hr = set(dyn.loc[dyn["hr"].notna(), "stay_id"].astype(int))
    iva = apr[apr["apacheversion"] == "IVa"].set_index("patientunitstayid")["predictedhospitalmortality"]

    pt = pt[pt["unittype"].str.lower().str.contains("icu", na=False)].copy()
    age_txt = pt["age"].fillna("").str.strip()
    pt["age_num"] = pd.to_numeric(age_txt.str.replace(">", "", regex=False), errors="coerce")
    pt["age_val"] = pt["age_num"].where(~age_txt.str.startswith(">"), 90)

    # first ICU stay of the first hospital stay per patient
    pt["_year"] = pt["hospitaldischargeyear"].fillna(float("inf"))
    pt["_age"] = pt["age_num"].fillna(float("inf"))
    pt["_neg_admit"] = -pt["hospitaladmitoffset"].fillna(float("-inf"))
    order = pt.sort_values(["uniquepid", "_year", "_age", "patienthealthsystemstayid", "_neg_admit", "patientunitstayid"])
    first = set(order.groupby("uniquepid").head(1)["patientunitstayid"])

    adult = ~(pt["age_val"] < 16)
    good = pt["patientunitstayid"].isin(with_hr) & (
        pt["hospitaldischargestatus"].notna() | pt["unitdischargestatus"].notna()
    )
    is_first = pt["patientunitstayid"].isin(first)
    pred = pt["patientunitstayid"].map(iva)
    apache_ok = pred.notna() & (pred > 0)
    co = pt[adult & good & is_first & apache_ok]

    died = (co["hospitaldischargestatus"] == "Expired") | (co["unitdischargestatus"] == "Expired")
    female = co["gender"] == "Female"
    print(json.dumps({
        "rows": int(len(co)),
        "deaths": int(died.sum()),
        "female": int(female.sum()),
        "male": int((~female).sum()),
        "hospitals": int(co["hospitalid"].nunique()),
        "per_hospital": {
            str(h): [int(len(g)), int(died[g.index].sum())] for h, g in co.groupby("hospitalid")
        },
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
