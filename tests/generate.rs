//! Generation on the real demo data: prompts per strategy, the call plan, a full run against a
//! scripted server (nothing real reaches the cache), nested row targets and the baselines.

mod common;

use common::stub::{self, openai_body, Reply};
use std::collections::BTreeSet;
use std::time::Duration;
use synthehr::cohort::{split, Cohort};
use synthehr::generate::baselines::{self, Baseline};
use synthehr::generate::grammar::Decoding;
use synthehr::generate::parse::row_key;
use synthehr::generate::plan::{plan_call, plan_call_as, rows_csv, MemberPool};
use synthehr::generate::repetition::Repetition;
use synthehr::generate::run::{run_cell, CallDone, CellStatus, NoProgress, Progress};
use synthehr::generate::{Cell, Profile, Strategy};
use synthehr::llm::*;

fn demo() -> &'static (Cohort, split::Split) {
    common::demo()
}

fn pool() -> MemberPool<'static> {
    let (c, s) = demo();
    MemberPool {
        matrix: &c.matrix,
        rows: s.train.clone(),
    }
}

fn cell(strategy: Strategy, features: usize, rows: usize) -> Cell {
    Cell {
        stage: "t".into(),
        strategy,
        features,
        rows,
        replicate: 0,
        examples_per_call: 8,
        rows_per_call: 5,
        decoding: Decoding::Free,
        grammar: 1,
        layout: Default::default(),
        repetition: Default::default(),
        role: None,
        held_out_region: None,
    }
}

fn profile() -> Profile {
    Profile::find("smoke").unwrap()
}

#[test]
fn each_strategy_prompt_says_what_it_must_and_nothing_it_must_not() {
    let p = pool();
    let members: BTreeSet<i64> = p.rows.iter().map(|&r| p.matrix.meta()[r].stay).collect();
    for s in Strategy::ALL {
        let c = cell(s, 82, 10);
        let call = plan_call(&profile(), &c, &p, 3).unwrap();
        let user = &call.request.messages[1].content;
        let header = c.columns().join(",");
        assert!(user.contains(&header), "{s:?}: header");
        assert!(user.contains("Here are 8 records"), "{s:?}: example count");
        assert!(user.contains("Write 5 new records"), "{s:?}: rows asked");
        assert_eq!(call.example_rows.len(), 8);
        // every shown row is a member, and its CSV line is in the prompt
        let shown: Vec<i64> = call.provenance.example_row_ids.clone();
        assert!(
            shown.iter().all(|id| members.contains(id)),
            "{s:?}: a non-member was shown"
        );
        let csv = rows_csv(p.matrix, &call.example_rows, &c.columns());
        for line in csv.lines().skip(1) {
            assert!(user.contains(line), "{s:?}: example row missing");
        }
        let has_schema = user.contains("Column definitions");
        let has_cond = user.contains("column by column");
        let has_group = user.contains("one group of patients");
        assert_eq!(has_schema, s != Strategy::Naive, "{s:?}: schema part");
        assert_eq!(
            has_cond,
            matches!(s, Strategy::Conditional | Strategy::Group),
            "{s:?}: conditional part"
        );
        assert_eq!(has_group, s == Strategy::Group, "{s:?}: group part");
        if has_schema {
            assert!(
                user.contains("- lactate_last_early: number in mmol/L, from 0 to 30."),
                "{s:?}: {user}"
            );
            assert!(user.contains("Exactly one of race_black"), "{s:?}");
        }
        if has_group {
            // call 3 is the 4th cell of GROUPS: black/female
            assert!(user.contains("female African American patients"), "{user}");
            assert!(user.contains("race_black = 1 and is_female = 1"), "{user}");
            let race = p.matrix.column("race_black").unwrap();
            let fem = p.matrix.column("is_female").unwrap();
            let in_group = call
                .example_rows
                .iter()
                .filter(|&&r| race[r] == 1.0 && fem[r] == 1.0)
                .count();
            assert!(in_group >= 1, "group examples come from the group first");
        }
    }
}

#[test]
fn the_prefix_first_layout_shares_everything_but_examples_and_group_and_pairs_with_its_twin() {
    use synthehr::generate::strategy::Layout;
    let p = pool();
    for s in Strategy::ALL {
        let first = cell(s, 82, 10);
        let prefix = Cell {
            layout: Layout::PrefixFirst,
            ..first.clone()
        };
        assert_eq!(prefix.id(), format!("{}-prefix", first.id()));
        assert_ne!(prefix.stream_id(), first.stream_id());
        let (a, b) = (
            plan_call(&profile(), &prefix, &p, 3).unwrap(),
            plan_call(&profile(), &prefix, &p, 4).unwrap(),
        );
        let twin = plan_call(&profile(), &first, &p, 3).unwrap();
        // the same examples and seed as the examples-first twin: a paired comparison
        assert_eq!(a.example_rows, twin.example_rows, "{s:?}");
        assert_eq!(a.seed, twin.seed, "{s:?}");
        let (ua, ub) = (
            &a.request.messages[1].content,
            &b.request.messages[1].content,
        );
        let shared = ua
            .chars()
            .zip(ub.chars())
            .take_while(|(x, y)| x == y)
            .count();
        let examples_at = ua.find("Here are 8 records").unwrap();
        // calls 3 and 4 share everything up to their examples, which come after the task,
        // header and (but for naive) the column definitions
        assert!(
            shared >= examples_at,
            "{s:?}: shared {shared} < {examples_at}"
        );
        assert!(
            ua.find(&first.columns().join(",")).unwrap() < examples_at,
            "{s:?}"
        );
        assert!(ua.starts_with("You will write 5 new records"), "{s:?}");
        if s != Strategy::Naive {
            assert!(
                ua.find("Column definitions").unwrap() < examples_at,
                "{s:?}"
            );
        }
        if s == Strategy::Group {
            assert!(
                ua.find("one group of patients").unwrap() > examples_at,
                "{s:?}"
            );
        }
        assert!(ua.trim_end().ends_with("Reply with the CSV only."), "{s:?}");
        // and the examples-first twin is unchanged: it opens with its examples
        assert!(twin.request.messages[1]
            .content
            .starts_with("Here are 8 records"));
        assert_ne!(a.provenance.template_hash, twin.provenance.template_hash);
    }
}

#[test]
fn calls_do_not_depend_on_the_row_target() {
    let p = pool();
    let a = plan_call(&profile(), &cell(Strategy::Group, 10, 200), &p, 7).unwrap();
    let b = plan_call(&profile(), &cell(Strategy::Group, 10, 1000), &p, 7).unwrap();
    assert_eq!(a.request, b.request);
    let c = plan_call(&profile(), &cell(Strategy::Group, 10, 200), &p, 8).unwrap();
    assert_ne!(a.request, c.request);
    assert_ne!(a.seed, c.seed);
}

fn answer(rows: usize, salt: usize) -> String {
    let cols = synthehr::cohort::schema::top_k(5).join(",");
    let mut s = format!("Here you go:\n```csv\n{cols}\n");
    for i in 0..rows {
        s.push_str(&format!(
            "{}.5,{},{}.25,{},{},{}\n",
            1 + (i + salt) % 9,
            i % 20,
            3 + salt,
            10 + i,
            i % 2,
            (i + salt) % 2
        ));
    }
    s.push_str("```\n");
    s
}

fn client(url: &str, cache: &std::path::Path, mode: CacheMode) -> LlmClient {
    client_with(url, cache, mode, 4)
}

fn client_with(
    url: &str,
    cache: &std::path::Path,
    mode: CacheMode,
    concurrency: usize,
) -> LlmClient {
    LlmClient::new(
        ClientConfig {
            provider: ProviderKind::OpenaiCompatible,
            base_url: url.into(),
            model: "stub".into(),
            fingerprint: ModelFingerprint::api(ProviderKind::OpenaiCompatible, "stub", None),
            concurrency,
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            mode,
            constraint: None,
        },
        Cache::new(cache),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_fills_the_cache_without_real_rows_and_replays_identically() {
    let dir = tempfile::tempdir().unwrap();
    let replies: Vec<Reply> = (0..12)
        .map(|i| Reply::ok(&openai_body(&answer(5, i))))
        .collect();
    let s = stub::start(replies).await;
    let p = pool();
    let prof = profile();
    let big = Cell {
        features: 5,
        rows: 20,
        ..cell(Strategy::Naive, 5, 20)
    };
    let rec = client(&s.url, dir.path(), CacheMode::Record);
    let r = run_cell(&rec, &prof, &big, &p, &NoProgress).await.unwrap();
    assert_eq!(r.status, CellStatus::Complete, "{:?}", r.rows.rejects);
    assert_eq!(r.valid_rows, 20);
    assert!(r.calls >= 4);

    // no cache file holds any shown row or any prompt text
    let mut shown_lines = Vec::new();
    for j in 0..r.calls {
        let call = plan_call(&prof, &big, &p, j).unwrap();
        let csv = rows_csv(p.matrix, &call.example_rows, &big.columns());
        shown_lines.extend(
            csv.lines()
                .skip(1)
                .filter(|l| l.len() > 8)
                .map(str::to_string),
        );
    }
    assert!(!shown_lines.is_empty());
    for f in Cache::new(dir.path()).files() {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in &shown_lines {
            assert!(
                !text.contains(line.as_str()),
                "{} contains the real row {line}",
                f.display()
            );
        }
        assert!(
            !text.contains("Here are 8 records"),
            "prompt text leaked into {}",
            f.display()
        );
    }

    // replay gives the same rows with zero requests; a smaller target is a prefix
    let rep = client("http://127.0.0.1:9", dir.path(), CacheMode::Replay);
    let again = run_cell(&rep, &prof, &big, &p, &NoProgress).await.unwrap();
    assert_eq!(again.rows.rows.len(), r.rows.rows.len());
    assert_eq!(
        synthehr::generate::parse::row_key(&again.rows.rows[7]),
        synthehr::generate::parse::row_key(&r.rows.rows[7])
    );
    let small = Cell {
        rows: 10,
        ..big.clone()
    };
    let prefix = run_cell(&rep, &prof, &small, &p, &NoProgress)
        .await
        .unwrap();
    assert_eq!(prefix.valid_rows, 10);
    assert_eq!(&prefix.keys[..], &r.keys[..prefix.keys.len()]);
    assert_eq!(
        rep.counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );

    // a larger target than the cache holds is reported as incomplete, listing missing calls
    let larger = Cell {
        rows: 40,
        ..big.clone()
    };
    let inc = run_cell(&rep, &prof, &larger, &p, &NoProgress)
        .await
        .unwrap();
    match inc.status {
        CellStatus::Incomplete { missing } => {
            assert!(missing[0].contains("replay miss"), "{missing:?}")
        }
        other => panic!("expected incomplete, got {other:?}"),
    }

    // a damaged entry makes the cell corrupt, naming the file: never "not generated yet"
    let damaged = Cache::new(dir.path()).path_for(&r.keys[1]);
    let bytes = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 3]).unwrap();
    match run_cell(&rep, &prof, &big, &p, &NoProgress)
        .await
        .unwrap()
        .status
    {
        CellStatus::Corrupt { file, why } => {
            assert_eq!(file, damaged, "{why}");
        }
        other => panic!("expected corrupt, got {other:?}"),
    }
}

/// Progress that records each finished call as reported, in the order reported.
#[derive(Default)]
struct Calls(std::sync::Mutex<Vec<CallDone>>);
impl Calls {
    fn fresh(&self) -> Vec<bool> {
        self.0.lock().unwrap().iter().map(|c| c.fresh).collect()
    }
}
impl Progress for Calls {
    fn call_done(&self, _cell: &Cell, call: &CallDone) {
        self.0.lock().unwrap().push(*call);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_freed_behind_a_slow_call_takes_the_next_call() {
    // an 83-column call takes 1-2 h of a slot, and calls end out of order: the slots of the
    // calls that ended must go on working while the slow one runs, not idle until it ends, and
    // progress reports each call as it ends (a long call must not hide finished work for hours)
    let dir = tempfile::tempdir().unwrap();
    let mut replies =
        vec![Reply::ok(&openai_body(&answer(5, 0))).delayed(Duration::from_millis(1500))];
    replies.extend((1..12).map(|i| Reply::ok(&openai_body(&answer(5, i)))));
    let s = stub::start(replies).await;
    let c = Cell {
        features: 5,
        rows: 20,
        ..cell(Strategy::Naive, 5, 20)
    };
    let seen = Calls::default();
    let rec = client_with(&s.url, dir.path(), CacheMode::Record, 2);
    let r = run_cell(&rec, &profile(), &c, &pool(), &seen)
        .await
        .unwrap();
    assert_eq!(r.status, CellStatus::Complete);
    let calls = seen.0.lock().unwrap().clone();
    let slow = calls
        .iter()
        .position(|c| c.latency_ms >= 1000)
        .expect("the slow call is reported");
    // the cell needs 4 calls: whichever of the first two is slow, the other slot answers the
    // three others meanwhile
    assert_eq!(
        slow, 3,
        "the free slot answered {slow} call(s) while the other ran the slow one: {calls:?}"
    );
    assert_eq!(
        s.requests.load(std::sync::atomic::Ordering::SeqCst),
        r.calls,
        "no call past what the cell needed (every row was valid)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_generator_on_the_same_stream_asks_the_calls_the_first_is_not_asking() {
    // two processes (two clients on one cache) filling one call stream, as the two servers do
    // with the sample-size stream: the second must not leave its slots idle waiting for the
    // calls the first one has out, but ask the ones after them
    use std::sync::atomic::Ordering::SeqCst;
    let dir = tempfile::tempdir().unwrap();
    let replies: Vec<Reply> = (0..24)
        .map(|i| Reply::ok(&openai_body(&answer(5, i))).delayed(Duration::from_millis(1500)))
        .collect();
    let s = stub::start(replies).await;
    let (p, prof) = (pool(), profile());
    let c = Cell {
        features: 5,
        rows: 40,
        ..cell(Strategy::Naive, 5, 40)
    };
    let first = client_with(&s.url, dir.path(), CacheMode::Record, 2);
    let second = client_with(&s.url, dir.path(), CacheMode::Record, 2);
    let a = run_cell(&first, &prof, &c, &p, &NoProgress);
    let b = async {
        // the second starts once the first has both its calls out
        while s.requests.load(SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        run_cell(&second, &prof, &c, &p, &NoProgress).await
    };
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status, CellStatus::Complete, "{:?}", a.rows.rejects);
    assert_eq!(a.keys, b.keys, "both read the one stream's calls");
    assert!(
        s.max_in_flight.load(SeqCst) > 2,
        "at most {} requests at once: the second generator only waited for the first one's calls",
        s.max_in_flight.load(SeqCst)
    );
    let recorded = first.counters.recorded.load(SeqCst) + second.counters.recorded.load(SeqCst);
    assert!(
        first.counters.recorded.load(SeqCst) > 0 && second.counters.recorded.load(SeqCst) > 0,
        "both asked calls"
    );
    assert_eq!(
        Cache::new(dir.path()).files().len() as u64,
        recorded,
        "no call was recorded twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_run_stops_requesting_and_the_next_run_resumes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let replies: Vec<Reply> = (0..12)
        .map(|i| Reply::ok(&openai_body(&answer(5, i))))
        .collect();
    let s = stub::start(replies).await;
    let (p, prof) = (pool(), profile());
    let c = Cell {
        features: 5,
        rows: 20,
        ..cell(Strategy::Naive, 5, 20)
    };
    // two new calls, then no request: the cell is incomplete, saying why, and nothing is lost
    let capped = client(&s.url, dir.path(), CacheMode::Record).with_new_call_cap(2);
    let seen = Calls::default();
    let r = run_cell(&capped, &prof, &c, &p, &seen).await.unwrap();
    assert_eq!(
        seen.fresh(),
        vec![true, true],
        "progress: both calls were asked"
    );
    let CellStatus::Incomplete { missing } = &r.status else {
        panic!("{:?}", r.status)
    };
    assert!(missing[0].contains("--max-new-calls 2"), "{missing:?}");
    assert_eq!(r.calls, 2);
    assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(Cache::new(dir.path()).files().len(), 2);
    // an uncapped run replays those two and records the rest
    let rec = client(&s.url, dir.path(), CacheMode::Record);
    let seen = Calls::default();
    let r = run_cell(&rec, &prof, &c, &p, &seen).await.unwrap();
    assert_eq!(r.status, CellStatus::Complete);
    let fresh = seen.fresh();
    assert_eq!(
        fresh[..2],
        [false, false],
        "progress: the first two came from the cache"
    );
    assert!(fresh[2..].iter().all(|&f| f), "{fresh:?}");
    assert_eq!(fresh.len(), r.calls);
    assert_eq!(
        rec.counters.hits.load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(
        s.requests.load(std::sync::atomic::Ordering::SeqCst),
        r.calls
    );
}

/// A cell whose calls yield fewer rows than planned runs past its nominal call count; when
/// replay stops there, the calls still missing are at least those its missing rows need (the
/// 2,000-row cell once said "1 call missing" with 385 rows to go).
#[tokio::test]
async fn a_replay_stopped_past_the_nominal_calls_counts_the_calls_the_missing_rows_need() {
    let dir = tempfile::tempdir().unwrap();
    let replies: Vec<Reply> = (0..8)
        .map(|i| Reply::ok(&openai_body(&answer(2, 10 * i))))
        .collect();
    let s = stub::start(replies).await;
    let (p, mut prof) = (pool(), profile());
    prof.budget_factor = 3.0;
    let small = Cell {
        features: 5,
        ..cell(Strategy::Naive, 5, 10)
    };
    let rec = client(&s.url, dir.path(), CacheMode::Record);
    let r = run_cell(&rec, &prof, &small, &p, &NoProgress)
        .await
        .unwrap();
    assert_eq!((r.status.clone(), r.calls), (CellStatus::Complete, 5));
    // 20 rows: nominally 4 calls; the cache holds 5 calls and 10 rows, so 10 rows (2 calls of
    // 5, if every row were valid) are missing
    let larger = Cell {
        rows: 20,
        ..small.clone()
    };
    let rep = client("http://127.0.0.1:9", dir.path(), CacheMode::Replay);
    let inc = run_cell(&rep, &prof, &larger, &p, &NoProgress)
        .await
        .unwrap();
    let CellStatus::Incomplete { missing } = &inc.status else {
        panic!("{:?}", inc.status)
    };
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing[0].starts_with("call 5 (") && missing[1].starts_with("call 6: key "));
}

#[tokio::test]
async fn a_model_that_writes_nothing_usable_is_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let junk = vec!["1"; 300].join(",");
    let s = stub::start(vec![Reply::ok(&openai_body(&junk))]).await;
    let mut prof = profile();
    prof.min_calls = 2;
    prof.budget_factor = 3.0;
    let c = Cell {
        features: 5,
        ..cell(Strategy::Schema, 5, 50)
    };
    let r = run_cell(
        &client(&s.url, dir.path(), CacheMode::Record),
        &prof,
        &c,
        &pool(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(r.status, CellStatus::GaveUp);
    assert_eq!(r.valid_rows, 0);
    assert!(r.calls >= 2 && r.calls < 30);
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (*x, *y))
        .collect();
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let vy: f64 = pairs.iter().map(|(_, y)| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn baselines_keep_marginals_and_the_copula_keeps_correlations() {
    let (c, s) = demo();
    let cols = [
        "heartrate_first",
        "heartrate_max",
        "age",
        "death",
        "is_female",
    ];
    let n = 4000;
    let real = |name: &str| -> Vec<f64> {
        s.train
            .iter()
            .map(|&i| c.matrix.column(name).unwrap()[i])
            .collect()
    };
    let missing = |v: &[f64]| v.iter().filter(|x| x.is_nan()).count() as f64 / v.len() as f64;
    let mean = |v: &[f64]| {
        let o: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        o.iter().sum::<f64>() / o.len() as f64
    };
    let r_corr = corr(&real("heartrate_first"), &real("heartrate_max"));
    assert!(r_corr > 0.5, "real correlation {r_corr}");
    for b in Baseline::ALL {
        let rows = baselines::generate(b, &c.matrix, &s.train, &cols, n, 1).unwrap();
        assert_eq!(rows.len(), n);
        let again = baselines::generate(b, &c.matrix, &s.train, &cols, n, 1).unwrap();
        let keys = |r: &[Vec<f64>]| r.iter().map(|x| row_key(x)).collect::<Vec<_>>();
        assert!(
            keys(&rows) == keys(&again),
            "{b:?} is not reproducible by seed"
        );
        let col = |j: usize| -> Vec<f64> { rows.iter().map(|r| r[j]).collect() };
        for (j, name) in cols.iter().enumerate() {
            let (rm, sm) = (missing(&real(name)), missing(&col(j)));
            assert!((rm - sm).abs() < 0.03, "{b:?} {name}: missing {rm} vs {sm}");
            let (rmu, smu) = (mean(&real(name)), mean(&col(j)));
            assert!(
                (rmu - smu).abs() <= 0.05 * rmu.abs().max(0.2),
                "{b:?} {name}: mean {rmu} vs {smu}"
            );
        }
        // binaries stay binary
        assert!(col(3).iter().all(|v| v.is_nan() || *v == 0.0 || *v == 1.0));
        let sc = corr(&col(0), &col(1));
        match b {
            Baseline::Marginals => assert!(
                sc.abs() < 0.1,
                "marginals should break correlation, got {sc}"
            ),
            Baseline::Copula => assert!(
                (sc - r_corr).abs() < 0.15,
                "copula corr {sc} vs real {r_corr}"
            ),
        }
    }
}

#[tokio::test]
async fn a_copied_example_row_never_reaches_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let p = pool();
    let prof = profile();
    let c = Cell {
        features: 5,
        rows: 5,
        ..cell(Strategy::Naive, 5, 5)
    };
    let call = plan_call(&prof, &c, &p, 0).unwrap();
    let csv = rows_csv(p.matrix, &call.example_rows, &c.columns());
    let copied = csv.lines().nth(2).unwrap().to_string();
    let answer = format!("{}\n{copied}\n1.5,2,3.25,11,0,1\n", c.columns().join(","));
    let s = stub::start(vec![Reply::ok(&openai_body(&answer))]).await;
    let r = run_cell(
        &client(&s.url, dir.path(), CacheMode::Record),
        &prof,
        &c,
        &p,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(r.valid_rows, 1);
    assert_eq!(
        r.rows.rejects[&synthehr::generate::parse::Reject::CopyOfShownRow],
        1
    );
    let files = Cache::new(dir.path()).files();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains(&copied), "the copied real row was cached");
    assert!(text.contains("\"redacted_lines\": 1"), "{text}");
    // the copy still counts in the pre-filter copy rate: 1 of 2 record lines
    assert_eq!(r.copied_line_rate(), Some(0.5));
    // replay counts it the same way
    let again = run_cell(
        &client("http://127.0.0.1:9", dir.path(), CacheMode::Replay),
        &prof,
        &c,
        &p,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(again.rows.rejects, r.rows.rejects);
}

#[tokio::test]
async fn the_grammar_selftest_fails_closed_on_a_server_that_ignores_grammars() {
    let dir = tempfile::tempdir().unwrap();
    // a server that takes the grammar field and answers prose anyway
    let ignoring = stub::start(vec![Reply::ok(&openai_body(
        "It is a mild, grey afternoon in Paris.",
    ))])
    .await;
    let c = client(&ignoring.url, dir.path(), CacheMode::Record);
    let err = c.grammar_selftest().await.unwrap_err().to_string();
    assert!(err.contains("grammar self-test failed"), "{err}");
    assert!(err.contains("ignores the `grammar` field"), "{err}");
    // the request carried the digits-only grammar; nothing was cached
    let body = ignoring.bodies.lock().unwrap()[0].clone();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["grammar"],
        synthehr::llm::selftest::SELFTEST_GRAMMAR,
        "{body}"
    );
    assert!(Cache::new(dir.path()).files().is_empty());

    // a server that obeys it
    let obeying = stub::start(vec![Reply::ok(&openai_body("20250425"))]).await;
    let c = client(&obeying.url, dir.path(), CacheMode::Record);
    assert_eq!(c.grammar_selftest().await.unwrap(), "20250425");
}

#[tokio::test]
async fn a_constrained_cell_sends_its_grammar_and_parses_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let replies: Vec<Reply> = (0..4)
        .map(|i| Reply::ok(&openai_body(&answer(5, 100 + i))))
        .collect();
    let s = stub::start(replies).await;
    let c = Cell {
        decoding: Decoding::Constrained,
        ..cell(Strategy::Group, 5, 10)
    };
    let rec = client(&s.url, dir.path(), CacheMode::Record);
    let r = run_cell(&rec, &profile(), &c, &pool(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(r.status, CellStatus::Complete, "{:?}", r.rows.rejects);
    let bodies = s.bodies.lock().unwrap().clone();
    assert!(!bodies.is_empty());
    for b in &bodies {
        let v: serde_json::Value = serde_json::from_str(b).unwrap();
        let g = v["grammar"].as_str().expect("grammar field sent");
        assert!(g.starts_with("root ::= header record{5}\n"), "{g}");
        assert!(
            v.get("dry_multiplier").is_none(),
            "no DRY unless asked: {b}"
        );
    }
}

#[tokio::test]
async fn a_dry_cell_sends_the_dry_sampler_to_llama_server_and_is_refused_for_an_api() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![Reply::ok(&openai_body(&answer(5, 100)))]).await;
    let plain = Cell {
        decoding: Decoding::Constrained,
        ..cell(Strategy::Group, 5, 5)
    };
    let c = Cell {
        repetition: Repetition::Dry,
        ..plain.clone()
    };
    // a paired comparison: same seeds and examples as the cell without DRY, its own id and key
    assert_eq!(c.seed_stream(), plain.seed_stream());
    assert_eq!(c.id(), format!("{}-dry", plain.id()));
    assert_eq!(c.decoding_label(), "constrained, DRY");
    let (a, b) = (
        plan_call(&profile(), &c, &pool(), 0).unwrap(),
        plan_call(&profile(), &plain, &pool(), 0).unwrap(),
    );
    assert_eq!(a.example_rows, b.example_rows);
    assert_ne!(
        synthehr::llm::request::canonical_json(&serde_json::to_value(&a.request).unwrap()),
        synthehr::llm::request::canonical_json(&serde_json::to_value(&b.request).unwrap())
    );
    let rec = client(&s.url, dir.path(), CacheMode::Record);
    run_cell(&rec, &profile(), &c, &pool(), &NoProgress)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&s.bodies.lock().unwrap()[0]).unwrap();
    assert!(v["grammar"].is_string());
    assert_eq!(v["dry_sequence_breakers"], serde_json::json!(["\n"]));
    assert_eq!(v["dry_allowed_length"], 24);
    assert!(v["dry_multiplier"].as_f64().unwrap() > 0.0);
    assert!(v["dry_penalty_last_n"].as_u64().unwrap() >= 4096);
    // an API has no DRY sampler: the cell fails before any request, saying why
    let Err(err) = plan_call_as(&profile(), &c, &pool(), 0, ConstraintForm::JsonSchema) else {
        panic!("a DRY cell was planned for an API");
    };
    let err = err.to_string();
    assert!(err.contains("llama-server"), "{err}");
}

#[tokio::test]
async fn a_constrained_cell_sends_a_json_schema_to_an_api_and_reads_json_rows() {
    let dir = tempfile::tempdir().unwrap();
    let cols = synthehr::cohort::schema::top_k(5);
    let rows: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            let mut o = serde_json::Map::new();
            for (j, c) in cols.iter().enumerate() {
                let col = synthehr::cohort::schema::column(c).unwrap();
                let v = match col.range {
                    _ if col.is_binary() => (i % 2) as f64,
                    Some((lo, hi)) => lo + (hi - lo) * (1 + i + j) as f64 / 20.0,
                    None => (1000 + i) as f64,
                };
                o.insert(c.to_string(), serde_json::json!(v));
            }
            serde_json::Value::Object(o)
        })
        .collect();
    let answer = serde_json::json!({ "rows": rows }).to_string();
    let s = stub::start(vec![Reply::ok(&openai_body(&answer))]).await;
    let base = client(&s.url, dir.path(), CacheMode::Record);
    let api = LlmClient::new(
        ClientConfig {
            constraint: Some(synthehr::llm::client::ConstraintForm::JsonSchema),
            ..base.config().clone()
        },
        Cache::new(dir.path()),
    )
    .unwrap();
    let c = Cell {
        decoding: Decoding::Constrained,
        ..cell(Strategy::Naive, 5, 5)
    };
    let r = run_cell(&api, &profile(), &c, &pool(), &NoProgress)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&s.bodies.lock().unwrap()[0]).unwrap();
    assert!(body.get("grammar").is_none(), "an API gets no GBNF");
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["rows"]["maxItems"], 5);
    assert_eq!(r.rows.candidate_lines, 5, "{:?}", r.rows.rejects);
    assert!(r.valid_rows >= 1, "{:?}", r.rows.rejects);
}

fn options(
    provider: ProviderKind,
    url: &str,
    root: &std::path::Path,
) -> synthehr::app::GenerateOptions {
    synthehr::app::GenerateOptions {
        profile: "smoke".into(),
        provider,
        base_url: Some(url.into()),
        model: "api-model".into(),
        snapshot: Some("2026-01-01".into()),
        server_info: None,
        mode: CacheMode::Record,
        data: common::real_data(),
        cache: root.join("cache/llm"),
        out: root.join("out"),
        timeout_secs: 5,
        concurrency: Some(2),
        stages: vec![],
        constrain_with: None,
        max_new_calls: None,
    }
}

fn registered(root: &std::path::Path) -> Vec<ModelFingerprint> {
    synthehr::llm::Registry::of_project(root).models().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_model_that_answered_is_registered_and_a_failed_run_registers_nothing() {
    let root = tempfile::tempdir().unwrap();
    // a server that refuses every request: the run fails and leaves no phantom model
    let refusing = stub::start(vec![Reply::status(400, r#"{"error":"bad request"}"#)]).await;
    let o = options(ProviderKind::Gemini, &refusing.url, root.path());
    let err = tokio::task::spawn_blocking(move || synthehr::app::generate(&o))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("400"), "{err}");
    assert!(
        registered(root.path()).is_empty(),
        "a failed run registered a model"
    );

    // an API that answers: its fingerprint lands in cache/models/, so the report replays it
    let body = serde_json::json!({"candidates": [{"content": {"parts": [{"text": "a,b\n1,2"}]},
        "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 5}})
    .to_string();
    let answering = stub::start(vec![Reply::ok(&body)]).await;
    let o = options(ProviderKind::Gemini, &answering.url, root.path());
    tokio::task::spawn_blocking(move || synthehr::app::generate(&o))
        .await
        .unwrap()
        .unwrap();
    let models = registered(root.path());
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0].provider, ProviderKind::Gemini);
    assert_eq!(models[0].model, "api-model");
    assert_eq!(models[0].snapshot.as_deref(), Some("2026-01-01"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_by_its_call_cap_succeeds_so_a_script_goes_on() {
    // the evidence script runs the capped strategies wave, then the sample-size stream, under
    // `set -e`: a cap reached as asked is no failure
    let root = tempfile::tempdir().unwrap();
    let s = stub::start(vec![Reply::ok(&openai_body("a,b\n1,2"))]).await;
    let o = synthehr::app::GenerateOptions {
        max_new_calls: Some(1),
        ..options(ProviderKind::OpenaiCompatible, &s.url, root.path())
    };
    tokio::task::spawn_blocking(move || synthehr::app::generate(&o))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    // without a cap, cells the run could not fill are still an error in replay
    let o = synthehr::app::GenerateOptions {
        mode: CacheMode::Replay,
        ..options(ProviderKind::OpenaiCompatible, &s.url, root.path())
    };
    let err = tokio::task::spawn_blocking(move || synthehr::app::generate(&o))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("incomplete"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_throughput_benchmark_warms_the_slots_then_measures_uncached_calls() {
    use synthehr::generate::throughput::{measure, Workload};
    let with_timings = |text: &str, prompt_n: u64| {
        let mut v: serde_json::Value = serde_json::from_str(&openai_body(text)).unwrap();
        v["timings"] = serde_json::json!({"cache_n": 9, "prompt_n": prompt_n, "prompt_ms": 5.0,
                                          "predicted_n": 7, "predicted_ms": 70.0});
        v.to_string()
    };
    let mut replies: Vec<Reply> = (0..4).map(|_| Reply::ok(&with_timings("1", 2))).collect();
    replies.extend((0..3).map(|i| Reply::ok(&with_timings(&answer(5, i), 2 + i as u64))));
    let stub = stub::start(replies).await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&stub.url, dir.path(), CacheMode::Refresh);
    let w: Workload = "group/f5/r5/free/e8".parse().unwrap();
    let m = measure(&c, &profile(), &pool(), &w, 3, None, &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        stub.requests.load(std::sync::atomic::Ordering::SeqCst),
        4 + 3
    );
    let bodies = stub.bodies.lock().unwrap().clone();
    // the fingerprint says nothing of slots: four warm-up requests, each generating one token
    assert!(
        bodies[..4].iter().all(|b| b.contains("\"max_tokens\":1,")),
        "{}",
        bodies[0]
    );
    assert!(bodies[4..].iter().all(|b| !b.contains("\"max_tokens\":1,")));
    assert_eq!((m.calls, m.rows_asked, m.valid_rows), (3, 15, 15));
    assert!(m.rejects.is_empty(), "{:?}", m.rejects);
    assert_eq!((m.completion_tokens, m.prompt_tokens), (21, 33));
    assert_eq!(m.prompt_evaluated, Some(2 + 3 + 4));
    assert_eq!(m.cpu_s, None);
    // nothing was cached
    assert!(Cache::new(dir.path()).files().is_empty());
}

/// The binary finds its project at run time: copied elsewhere and run from a copy of the tree's
/// configuration, it reads that copy's profiles and writes under it, never the build tree.
#[test]
fn a_copied_binary_reads_and_writes_only_the_tree_it_runs_in() {
    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(here.join("Cargo.toml"), root.join("Cargo.toml")).unwrap();
    std::fs::create_dir_all(root.join("profiles")).unwrap();
    std::fs::create_dir_all(root.join("cache/llm")).unwrap();
    let smoke = std::fs::read_to_string(here.join("profiles/smoke.toml")).unwrap();
    let name = format!("copy-only-{}", std::process::id());
    std::fs::write(
        root.join("profiles").join(format!("{name}.toml")),
        smoke.replace("name = \"smoke\"", &format!("name = \"{name}\"")),
    )
    .unwrap();
    let bin = root.join("bin/synthehr");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_synthehr"), &bin).unwrap();
    // from a subdirectory of the copy: the project is found upward
    std::fs::create_dir_all(root.join("notebooks")).unwrap();
    let out = std::process::Command::new(&bin)
        .current_dir(root.join("notebooks"))
        .env_remove("SYNTHEHR_PROJECT")
        .env("SYNTHEHR_DATA", common::real_data())
        .args(["generate", "--profile", &name, "--offline", "--model", "m"])
        .args(["--base-url", "https://api.example.invalid/v1"])
        .args(["--cache", "../cache/llm", "--out", "../target/synthetic"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // an empty cache: every cell is incomplete, said so, and written in the copy
    assert!(!out.status.success());
    assert!(stderr.contains("incomplete"), "{stderr}");
    let written = root.join("target/synthetic/m").join(&name);
    assert!(written.is_dir(), "{stderr}");
    assert!(!here.join("target/synthetic/m").join(&name).exists());
    assert!(!here.join("profiles").join(format!("{name}.toml")).exists());
    // and outside any checkout it says where it looked
    let stranger = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&bin)
        .current_dir(stranger.path())
        .env_remove("SYNTHEHR_PROJECT")
        .args(["cache", "stats", "--cache", "."])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not inside a synthehr checkout"),
        "{stderr}"
    );
}

#[test]
fn a_loopback_url_is_the_local_server_only_when_its_fingerprint_says_so() {
    let root = tempfile::tempdir().unwrap();
    let info = root.path().join("server.json");
    std::fs::write(
        &info,
        r#"{"model": "qwen1.5b", "model_file": "q.gguf", "model_sha256": "abc123", "server_build": "b", "threads": 1, "slots": 4, "port": 8080}"#,
    )
    .unwrap();
    let with = |url: &str, snapshot: Option<&str>| synthehr::app::GenerateOptions {
        snapshot: snapshot.map(str::to_string),
        server_info: Some(info.clone()),
        ..options(ProviderKind::OpenaiCompatible, url, root.path())
    };
    let fp = |o: &synthehr::app::GenerateOptions| {
        synthehr::app::fingerprint(o, o.base_url.as_deref().unwrap())
    };
    // the server that server.json describes: the local GGUF fingerprint
    let local = fp(&with("http://127.0.0.1:8080/v1", None)).unwrap();
    assert_eq!(local.gguf_sha256.as_deref(), Some("abc123"));
    // an API stand-in on loopback, named by its snapshot: an API fingerprint, no GGUF
    let api = fp(&with("http://127.0.0.2:8099/v1", Some("stub-2026-12-02"))).unwrap();
    assert_eq!((api.gguf_sha256, api.threads), (None, None));
    assert_eq!(api.snapshot.as_deref(), Some("stub-2026-12-02"));
    // another port without a snapshot: refused, not labelled with the wrong server
    let e = fp(&with("http://127.0.0.2:8099/v1", None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("port 8080") && e.contains("port 8099"), "{e}");
}

#[test]
fn a_held_out_region_cell_shows_only_the_other_regions_patients() {
    let (c, s) = demo();
    let m = &c.matrix;
    let base = cell(Strategy::Group, 10, 100);
    let midwest = Cell {
        held_out_region: Some("Midwest".into()),
        ..base.clone()
    };
    // its own calls: another id, stream and seeds than the member-pool cell
    assert_eq!(midwest.id(), format!("{}-without-midwest", base.id()));
    assert_ne!(midwest.stream_id(), base.stream_id());
    assert!(!midwest.same_calls(&base));
    let pool = MemberPool::for_cell(m, &s.train, &midwest).unwrap();
    let region_of = |r: usize| m.meta()[r].region.as_deref();
    assert!(pool.rows.iter().all(|&r| region_of(r) != Some("Midwest")));
    // the other regions' patients whichever side of the member/holdout split they are on: the
    // same rows chapter 7's TRTR trains on
    let loro = split::leave_region_out(m, "Midwest").unwrap();
    assert_eq!(pool.rows, loro.train);
    assert!(pool.rows.iter().any(|r| s.test.contains(r)));
    for i in 0..8 {
        let call = plan_call(&profile(), &midwest, &pool, i).unwrap();
        assert!(
            call.example_rows
                .iter()
                .all(|&r| region_of(r) != Some("Midwest")),
            "call {i} showed a Midwest patient"
        );
        assert_ne!(
            call.seed,
            plan_call(&profile(), &base, &pool, i).unwrap().seed
        );
        let about = &call.provenance.cell;
        assert_eq!(about["held_out_region"], "Midwest", "{about}");
    }
    // the member-pool cell keeps its pool and its provenance as recorded before
    let members = MemberPool::for_cell(m, &s.train, &base).unwrap();
    assert_eq!(members.rows, s.train);
    let call = plan_call(&profile(), &base, &members, 0).unwrap();
    assert!(call.provenance.cell.get("held_out_region").is_none());
    // a region the data does not have: named, with the regions it has
    let mars = Cell {
        held_out_region: Some("Mars".into()),
        ..base
    };
    let Err(err) = MemberPool::for_cell(m, &s.train, &mars) else {
        panic!("a region the data does not have was accepted");
    };
    let err = err.to_string();
    assert!(
        err.contains("no patients in region 'Mars'")
            && err.contains("Midwest, Northeast, South, West"),
        "{err}"
    );
}

/// A count of zero is refused where it is typed: `--concurrency 0` ran with one slot and
/// `--timeout-secs 0` made six attempts that each "timed out after 0ns".
#[test]
fn zero_counts_and_timeouts_are_refused_by_the_command_line() {
    for args in [
        &["generate", "--model", "m", "--concurrency", "0"][..],
        &["generate", "--model", "m", "--timeout-secs", "0"],
        &["throughput", "--calls", "0"],
        &["throughput", "--timeout-secs", "0"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_synthehr"))
            .args(args)
            .env_remove("SYNTHEHR_DATA")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("invalid value '0'"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_corrupt_model_registry_file_is_named_not_skipped() {
    // replay without a server reads the fingerprint from cache/models/; a file there that does
    // not parse was skipped, so a model vanished from replay and the report without a word
    let root = tempfile::tempdir().unwrap();
    let models = root.path().join("cache/models");
    std::fs::create_dir_all(&models).unwrap();
    let good = ModelFingerprint::api(ProviderKind::OpenaiCompatible, "local-model", None);
    std::fs::write(
        models.join("local-model.json"),
        serde_json::to_vec(&good).unwrap(),
    )
    .unwrap();
    std::fs::write(models.join("other.json"), b"{\"model\": ").unwrap();
    let o = synthehr::app::GenerateOptions {
        model: "local-model".into(),
        snapshot: None,
        server_info: Some(root.path().join("no-server.json")),
        mode: CacheMode::Replay,
        ..options(
            ProviderKind::OpenaiCompatible,
            "http://127.0.0.1:8080/v1",
            root.path(),
        )
    };
    let e = synthehr::app::fingerprint(&o, "http://127.0.0.1:8080/v1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("other.json"), "{e}");
    // the good one alone replays
    std::fs::remove_file(models.join("other.json")).unwrap();
    let fp = synthehr::app::fingerprint(&o, "http://127.0.0.1:8080/v1").unwrap();
    assert_eq!(fp.model, "local-model");
}
