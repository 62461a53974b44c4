//! Utility, fairness and privacy on the real demo matrix: the ceiling is high, a copying
//! generator is caught by the membership attack, a marginals generator is not.

mod common;

use synthehr::cohort::{schema, split, Cohort};
use synthehr::generate::baselines::{self, Baseline};
use synthehr::metrics::fairness::fairness;
use synthehr::metrics::fidelity::{fidelity, KlEstimator};
use synthehr::metrics::gbdt::GbdtParams;
use synthehr::metrics::privacy::privacy;
use synthehr::metrics::utility::{self, UtilityOptions};
use synthehr::metrics::Frame;

fn demo() -> &'static (Cohort, split::Split) {
    common::demo()
}

fn quick() -> UtilityOptions {
    UtilityOptions {
        gbdt: GbdtParams {
            trees: 200,
            learning_rate: 0.05,
            max_depth: 4,
            ..GbdtParams::default()
        },
        resamples: 200,
        ..UtilityOptions::default()
    }
}

#[test]
fn trtr_ceiling_and_tstr_on_a_baseline() {
    let (c, s) = demo();
    let names = schema::column_names();
    let train = Frame::from_matrix(&c.matrix, &s.train, &names).unwrap();
    let test = Frame::from_matrix(&c.matrix, &s.test, &names).unwrap();
    let feats = utility::features_of(&train, &[]);
    assert_eq!(feats.len(), 82);
    let trtr = utility::train_test("trtr", &train, &test, &feats, &quick());
    let auc = trtr.auroc.clone().expect("TRTR defined");
    assert!(auc.value > 0.75, "TRTR AUROC {auc}");
    assert!(auc.lo < auc.value && auc.value < auc.hi);
    assert_eq!(trtr.test_positives, auc.positives);
    let auprc = trtr.auprc.unwrap();
    assert!(auprc.value > 0.2 && auprc.value < 1.0, "AUPRC {auprc}");

    // a generator that breaks every relationship carries little signal
    let rows =
        baselines::generate(Baseline::Marginals, &c.matrix, &s.train, &names, 1000, 3).unwrap();
    let synth = Frame::from_rows(&names, &rows);
    let tstr = utility::train_test("tstr", &synth, &test, &feats, &quick());
    assert!(
        tstr.auroc.unwrap().value < auc.value,
        "marginals should not beat real data"
    );
    let within = utility::within(&synth, &feats, &quick());
    assert!(within.auroc.is_some() || within.undefined.is_some());

    // without the leaking columns the ceiling drops but stays useful
    let clean = utility::features_of(&train, &schema::LEAKY_OR_ID_COLUMNS);
    assert_eq!(clean.len(), 78);
    let trtr_clean = utility::train_test("trtr", &train, &test, &clean, &quick());
    assert!(trtr_clean.auroc.unwrap().value > 0.6);
}

#[test]
fn single_class_training_is_reported() {
    let (c, s) = demo();
    let names = schema::column_names();
    let test = Frame::from_matrix(&c.matrix, &s.test, &names).unwrap();
    let death = c.matrix.column("death").unwrap();
    let members_with = |label: f64| s.train.iter().copied().filter(move |&i| death[i] == label);
    // TSTR trained on these member rows: the reason it is undefined
    let undefined_for = |rows: &[usize]| {
        let train = Frame::from_matrix(&c.matrix, rows, &names).unwrap();
        let r = utility::train_test(
            "tstr",
            &train,
            &test,
            &utility::features_of(&train, &[]),
            &quick(),
        );
        assert!(r.auroc.is_none());
        r.undefined.unwrap()
    };
    let alive: Vec<usize> = members_with(0.0).collect();
    let why = undefined_for(&alive);
    assert!(why.contains("cannot train: 0 death(s)"), "{why}");

    // one death among survivors: degenerate, refused with the counts rather than "0.5000"
    let one_death: Vec<usize> = alive
        .iter()
        .copied()
        .chain(members_with(1.0).take(1))
        .collect();
    let why = undefined_for(&one_death);
    assert!(why.contains("cannot train: 1 death(s)"), "{why}");
    assert!(
        why.contains(&format!("at least {}", utility::MIN_CLASS_ROWS)),
        "{why}"
    );
}

#[test]
fn membership_attack_catches_copies_not_marginals() {
    let (c, s) = demo();
    let names = schema::top_k(10);
    let members_idx: Vec<usize> = s.train[..300].to_vec();
    let members = Frame::from_matrix(&c.matrix, &members_idx, &names).unwrap();
    let nonmembers = Frame::from_matrix(&c.matrix, &s.test[..300], &names).unwrap();
    let gb = GbdtParams {
        trees: 50,
        ..GbdtParams::default()
    };

    // a "generator" that copies its members
    let copy = privacy(&members, &nonmembers, &members, &gb, 200, 1);
    let dcr = copy.attacks.iter().find(|a| a.name == "dcr").unwrap();
    assert!(
        dcr.auroc.as_ref().unwrap().value > 0.9,
        "copies must be caught: {:?}",
        dcr.auroc
    );
    assert!(dcr.advantage.as_ref().unwrap().value > 0.8);
    assert!((copy.exact_copy_rate - 1.0).abs() < 1e-12);
    assert!(copy.closer_to_member_share > 0.9);
    assert_eq!(copy.attacks.len(), 3);

    // marginals drawn from the members: no memorised rows
    let rows = baselines::generate(
        Baseline::Marginals,
        &c.matrix,
        &members_idx,
        &names,
        1000,
        5,
    )
    .unwrap();
    let synth = Frame::from_rows(&names, &rows);
    let marg = privacy(&members, &nonmembers, &synth, &gb, 200, 1);
    let a = marg
        .attacks
        .iter()
        .find(|a| a.name == "dcr")
        .unwrap()
        .auroc
        .clone()
        .unwrap();
    assert!((a.value - 0.5).abs() < 0.1, "marginals attack AUROC {a}");
    assert!(marg.exact_copy_rate < 0.01);
}

#[test]
fn fairness_reports_every_group_and_the_gap() {
    let (c, s) = demo();
    let names = schema::column_names();
    let real = Frame::from_matrix(&c.matrix, &s.train, &names).unwrap();
    let rows = baselines::generate(Baseline::Copula, &c.matrix, &s.train, &names, 1500, 2).unwrap();
    let synth = Frame::from_rows(&names, &rows);
    let f = fairness(&real, &synth, None, &KlEstimator::default(), 100, 1);
    assert_eq!(f.groups.len(), 6);
    assert!(
        f.groups.iter().all(|g| g.avg_kl.is_some()),
        "{:?}",
        f.groups
    );
    assert!(f.kl_gap.unwrap() >= 0.0);
    let overall = fidelity(&real, &synth, &KlEstimator::default()).avg_kl;
    assert!(f.worst_kl.unwrap().1 >= overall * 0.5);
    // a table without the race columns says so per group
    let ten = synth.select(&schema::top_k(10)).unwrap();
    let f10 = fairness(&real, &ten, None, &KlEstimator::default(), 100, 1);
    assert!(f10.groups[0]
        .note
        .as_deref()
        .unwrap()
        .contains("race_black"));
    // a group with fewer synthetic rows than the study's minimum has no KL, and says why
    let few = synth.filter(&(0..synth.n_rows()).map(|i| i < 40).collect::<Vec<_>>());
    let f = fairness(&real, &few, None, &KlEstimator::default(), 100, 1);
    let small = f
        .groups
        .iter()
        .find(|g| g.n_synth > 0 && g.n_synth < synthehr::metrics::MIN_ROWS)
        .expect("40 copula rows leave some group under 10 rows");
    assert!(small.avg_kl.is_none());
    assert!(
        small.note.as_deref().unwrap().contains("under 10"),
        "{small:?}"
    );
    // a per-group AUROC needs as many deaths and survivors among the group's test rows as a
    // model needs to train: over one or two deaths it is 0 or 1 by chance, and was cited as the
    // worst group
    let holdout = Frame::from_matrix(&c.matrix, &s.test, &names).unwrap();
    let scores: Vec<f64> = (0..holdout.n_rows()).map(|i| (i % 7) as f64).collect();
    let f = fairness(
        &real,
        &synth,
        Some((&holdout, &scores)),
        &KlEstimator::default(),
        100,
        1,
    );
    let min = synthehr::metrics::utility::MIN_CLASS_ROWS;
    assert!(f.groups.iter().all(|g| g
        .auroc
        .as_ref()
        .is_none_or(|e| e.positives >= min && e.negatives >= min)));
    let thin = f
        .groups
        .iter()
        .find(|g| g.auroc.is_none())
        .expect("a group with under 5 deaths in the demo holdout");
    assert!(
        thin.note.as_deref().unwrap_or("").contains("death"),
        "{thin:?}"
    );
    assert!(f.worst_auroc.is_some());
}

#[test]
fn the_matched_n_kl_reference_shrinks_with_n_and_explains_small_cells() {
    use synthehr::metrics::fidelity::kl_reference;
    let (c, s) = demo();
    let names = schema::top_k(10);
    let members = Frame::from_matrix(&c.matrix, &s.train, &names).unwrap();
    let holdout = Frame::from_matrix(&c.matrix, &s.test, &names).unwrap();
    let est = KlEstimator::default();
    let at = |n: usize| kl_reference(&members, &holdout, n, 40, 7, &est).unwrap();
    let (small, mid, all) = (at(16), at(200), at(members.n_rows()));
    for r in [small, mid, all] {
        assert!(r.lo <= r.value && r.value <= r.hi, "{r:?}");
        assert_eq!(r.draws, 40);
    }
    // 16 real rows leave most decile bins empty: ~2 nats, far above what 200 rows score
    assert!(small.value > 1.0, "{small:?}");
    assert!(small.value > 3.0 * mid.value, "{small:?} vs {mid:?}");
    assert!(mid.value > all.value, "{mid:?} vs {all:?}");
    // every member once: no draw differs
    assert!((all.hi - all.lo).abs() < 1e-12, "{all:?}");
    assert_eq!(
        all.value,
        fidelity(&holdout, &members, &est).avg_kl,
        "the full pool is the pool's own KL"
    );
    // seeded; more rows than members are drawn with replacement; nothing to draw is None
    assert_eq!(at(16), small);
    let over = kl_reference(&members, &holdout, members.n_rows() * 2, 10, 7, &est).unwrap();
    assert_eq!(over.n, members.n_rows() * 2);
    assert!(kl_reference(&members, &holdout, 0, 10, 7, &est).is_none());
}
