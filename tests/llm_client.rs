//! The LLM client and cache against a scripted loopback server: each provider's JSON, retries,
//! timeouts, malformed answers, replay misses, key sensitivity, concurrency and corrupt files.

mod common;

use common::stub::{self, openai_body, Reply};
use serde_json::json;
use std::time::Duration;
use synthehr::llm::cache::{self, Lookup};
use synthehr::llm::stats;
use synthehr::llm::*;

fn fp() -> ModelFingerprint {
    ModelFingerprint {
        provider: ProviderKind::OpenaiCompatible,
        model: "m".into(),
        snapshot: None,
        gguf_sha256: Some("ab".repeat(32)),
        server_build: Some("b1".into()),
        threads: Some(1),
        slots: Some(4),
        grammar_selftest: None,
    }
}

fn req(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::system("sys"), Message::user(text)],
        sampling: Sampling {
            temperature: 0.7,
            top_p: 0.9,
            max_tokens: 64,
            seed: Some(1),
            ..Sampling::default()
        },
    }
}

fn client(
    provider: ProviderKind,
    url: &str,
    cache: &std::path::Path,
    mode: CacheMode,
) -> LlmClient {
    let mut f = fp();
    f.provider = provider;
    LlmClient::new(
        ClientConfig {
            provider,
            base_url: url.into(),
            model: "m".into(),
            fingerprint: f,
            concurrency: 4,
            timeout: Duration::from_millis(800),
            retry: RetryPolicy {
                max_attempts: 4,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(50),
            },
            mode,
            constraint: None,
        },
        Cache::new(cache),
    )
    .unwrap()
}

fn prov() -> Provenance {
    Provenance {
        template_id: "t".into(),
        cell: json!({"profile": "test", "strategy": "naive", "features": 5}),
        ..Default::default()
    }
}

#[tokio::test]
async fn each_provider_answers_and_the_second_run_replays_with_zero_requests() {
    let bodies = [
        (ProviderKind::OpenaiCompatible, openai_body("a,b\n1,2")),
        (
            ProviderKind::Anthropic,
            json!({"model": "m", "content": [{"type": "text", "text": "a,b\n1,2"}], "stop_reason": "end_turn", "usage": {"input_tokens": 11, "output_tokens": 7}}).to_string(),
        ),
        (
            ProviderKind::Gemini,
            json!({"candidates": [{"content": {"parts": [{"text": "a,b\n"}, {"text": "1,2"}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7}}).to_string(),
        ),
    ];
    for (kind, body) in bodies {
        let dir = tempfile::tempdir().unwrap();
        let s = stub::start(vec![Reply::ok(&body)]).await;
        let c = client(kind, &s.url, dir.path(), CacheMode::Record);
        let e = c.complete(&req("hello"), 0, prov()).await.unwrap();
        assert_eq!(e.response.text, "a,b\n1,2", "{kind:?}");
        assert_eq!(e.usage().prompt_tokens, 11);
        assert_eq!(e.usage().completion_tokens, 7);
        assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
        // the request carried the sampling parameters
        let sent = s.bodies.lock().unwrap()[0].clone();
        assert!(
            sent.contains("0.7") && sent.contains("64"),
            "{kind:?}: {sent}"
        );

        let replay = client(kind, "http://127.0.0.1:9", dir.path(), CacheMode::Replay);
        let again = replay.complete(&req("hello"), 0, prov()).await.unwrap();
        assert_eq!(again, e);
        assert_eq!(
            replay
                .counters
                .requests
                .load(std::sync::atomic::Ordering::SeqCst),
            0
        );
        assert_eq!(
            replay
                .counters
                .hits
                .load(std::sync::atomic::Ordering::SeqCst),
            1
        );
    }
}

#[tokio::test]
async fn retries_on_429_with_retry_after_and_on_500() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![
        Reply::status(429, "{\"error\":\"slow down\"}").header("retry-after", "0"),
        Reply::status(500, "oops"),
        Reply::ok(&openai_body("x,y")),
    ])
    .await;
    let c = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let e = c.complete(&req("r"), 0, prov()).await.unwrap();
    assert_eq!(e.response.text, "x,y");
    assert_eq!(
        c.counters.retries.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![
        Reply::ok(&openai_body("late")).delayed(Duration::from_secs(3)),
        Reply::ok(&openai_body("ok")),
    ])
    .await;
    let c = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let e = c.complete(&req("t"), 0, prov()).await.unwrap();
    assert_eq!(e.response.text, "ok");
}

#[tokio::test]
async fn failures_are_clear_errors_and_never_cached() {
    for (reply, needle) in [
        (Reply::ok("{not json"), "malformed JSON"),
        (Reply::ok(r#"{"choices": [], "usage": {}}"#), "no choices"),
        (Reply::status(401, "{\"error\":\"bad key\"}"), "HTTP 401"),
        (Reply::status(503, "down"), "gave up after 4 attempts"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let s = stub::start(vec![reply]).await;
        let c = client(
            ProviderKind::OpenaiCompatible,
            &s.url,
            dir.path(),
            CacheMode::Record,
        );
        let err = c
            .complete(&req("f"), 0, prov())
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{err}");
        assert!(
            Cache::new(dir.path()).files().is_empty(),
            "a failed answer was cached: {err}"
        );
    }
}

#[tokio::test]
async fn unreachable_server_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:9",
        dir.path(),
        CacheMode::Record,
    );
    let err = c
        .complete(&req("u"), 0, prov())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot connect") && err.contains("127.0.0.1:9"),
        "{err}"
    );
}

#[tokio::test]
async fn replay_miss_names_the_key_and_cell() {
    let dir = tempfile::tempdir().unwrap();
    let c = client(
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:9",
        dir.path(),
        CacheMode::Replay,
    );
    let err = c
        .complete(&req("m"), 0, prov())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("replay miss") && err.contains(&c.key(&req("m"), 0)) && err.contains("naive"),
        "{err}"
    );
}

#[test]
fn every_input_changes_the_key() {
    let base = cache::key(&fp(), &req("hello"), 0);
    let mut variants = Vec::new();
    let mut r = req("hello");
    r.sampling.temperature = 0.8;
    variants.push(("temperature", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.top_p = 0.95;
    variants.push(("top_p", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.seed = Some(2);
    variants.push(("seed", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.seed = None;
    variants.push(("no seed", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.max_tokens = 65;
    variants.push(("max_tokens", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.stop = vec!["\n\n".into()];
    variants.push(("stop", cache::key(&fp(), &r, 0)));
    let mut r = req("hello");
    r.sampling.response_format = Some(json!({"type": "text"}));
    variants.push(("response_format", cache::key(&fp(), &r, 0)));
    variants.push(("message text", cache::key(&fp(), &req("hello!"), 0)));
    variants.push(("replicate", cache::key(&fp(), &req("hello"), 1)));
    let mut f = fp();
    f.threads = Some(2);
    variants.push(("threads", cache::key(&f, &req("hello"), 0)));
    let mut f = fp();
    f.slots = Some(1);
    variants.push(("slots", cache::key(&f, &req("hello"), 0)));
    let mut f = fp();
    f.gguf_sha256 = Some("cd".repeat(32));
    variants.push(("gguf", cache::key(&f, &req("hello"), 0)));
    let mut f = fp();
    f.server_build = Some("b2".into());
    variants.push(("server build", cache::key(&f, &req("hello"), 0)));
    let mut f = fp();
    f.snapshot = Some("s".into());
    variants.push(("snapshot", cache::key(&f, &req("hello"), 0)));
    let mut seen = std::collections::HashSet::new();
    seen.insert(base.clone());
    for (what, k) in variants {
        assert_ne!(k, base, "{what} does not change the key");
        assert!(seen.insert(k), "{what} collides with another variant");
    }
    assert_eq!(
        cache::key(&fp(), &req("hello"), 0),
        base,
        "the key is deterministic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cells_sharing_a_call_send_it_once() {
    // the sample-size cells are prefixes of one stream and run side by side
    let dir = tempfile::tempdir().unwrap();
    let slow = Reply::ok(&openai_body("a,b\n1,2")).delayed(Duration::from_millis(200));
    let s = stub::start(vec![slow]).await;
    let c = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let (r, same, another) = (req("shared call"), req("shared call"), req("another call"));
    let (a, b, other) = tokio::join!(
        c.complete(&r, 0, prov()),
        c.complete(&same, 0, prov()),
        c.complete(&another, 0, prov())
    );
    assert_eq!(a.unwrap(), b.unwrap());
    other.unwrap();
    assert_eq!(s.requests.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(c.counters.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_generators_on_one_cache_send_a_call_once() {
    // two clients = two processes: they share no in-process lock, only the cache directory
    let dir = tempfile::tempdir().unwrap();
    let slow = Reply::ok(&openai_body("a,b\n1,2")).delayed(Duration::from_millis(600));
    let s = stub::start(vec![slow]).await;
    let first = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let second = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let shared = req("shared call");
    let (a, b) = tokio::join!(
        first.complete(&shared, 0, prov()),
        second.complete(&shared, 0, prov())
    );
    assert_eq!(a.unwrap(), b.unwrap(), "both read the one recorded answer");
    assert_eq!(
        s.requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the second generator waited for the first one's answer instead of asking again"
    );
    let hits = first
        .counters
        .hits
        .load(std::sync::atomic::Ordering::SeqCst)
        + second
            .counters
            .hits
            .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(hits, 1);
    // the lock files stay out of the cache's entries
    assert_eq!(Cache::new(dir.path()).files().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_writers_leave_one_valid_file_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![Reply::ok(&openai_body("same"))]).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (url, path) = (s.url.clone(), dir.path().to_path_buf());
        tasks.push(tokio::spawn(async move {
            let c = client(
                ProviderKind::OpenaiCompatible,
                &url,
                &path,
                CacheMode::Refresh,
            );
            c.complete(&req(&format!("k{}", i % 4)), 0, prov())
                .await
                .unwrap()
                .key
        }));
    }
    let mut keys = std::collections::BTreeSet::new();
    for t in tasks {
        keys.insert(t.await.unwrap());
    }
    assert_eq!(keys.len(), 4);
    let files = Cache::new(dir.path()).files();
    assert_eq!(files.len(), 4, "{files:?}");
    let r = stats::verify(&Cache::new(dir.path()));
    assert!(r.is_ok(), "{r}");
}

#[tokio::test]
async fn prune_and_redact_wait_for_no_writer_and_the_lock_is_no_orphan() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![Reply::ok(&openai_body("fine"))]).await;
    let writer = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let good = writer.complete(&req("good"), 0, prov()).await.unwrap();
    // a writer mid-put: its temp file must survive a prune
    let tmp = dir.path().join(&good.key[..2]).join(".tmpWriter");
    std::fs::write(&tmp, "half").unwrap();
    std::fs::write(dir.path().join(&good.key[..2]).join("junk.txt"), "x").unwrap();
    let e = synthehr::app::cache_prune(dir.path(), true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a generator is writing") && e.contains(".lock"),
        "{e}"
    );
    let e = synthehr::app::cache_redact(dir.path(), std::path::Path::new("/nonexistent"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot redact"), "{e}");
    // a second writer shares the lock; a replaying reader takes none
    let second = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Refresh,
    );
    let reader = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Replay,
    );
    drop((writer, second));
    synthehr::app::cache_prune(dir.path(), true).unwrap();
    assert!(!dir.path().join(&good.key[..2]).join("junk.txt").exists());
    assert!(tmp.exists(), "an in-flight temp file is never pruned");
    assert!(dir.path().join(".lock").exists());
    let r = stats::verify(&Cache::new(dir.path()));
    assert!(r.is_ok() && r.orphaned.is_empty(), "{r}");
    drop(reader);
    let e = synthehr::app::cache_prune(&dir.path().join("missing"), true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no cache directory"), "{e}");
}

#[tokio::test]
async fn corrupt_files_are_reported_by_verify_and_skipped_by_replay() {
    let dir = tempfile::tempdir().unwrap();
    let s = stub::start(vec![Reply::ok(&openai_body("fine"))]).await;
    let c = client(
        ProviderKind::OpenaiCompatible,
        &s.url,
        dir.path(),
        CacheMode::Record,
    );
    let good = c.complete(&req("good"), 0, prov()).await.unwrap();
    let cache = Cache::new(dir.path());
    // a truncated copy under another key and a garbage file
    let bytes = std::fs::read(cache.path_for(&good.key)).unwrap();
    let bad_key = c.key(&req("bad"), 0);
    std::fs::create_dir_all(cache.path_for(&bad_key).parent().unwrap()).unwrap();
    std::fs::write(cache.path_for(&bad_key), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(
        dir.path().join(&good.key[..2]).join("zz-notes.txt"),
        "hello",
    )
    .unwrap();

    // a writer's in-flight temp file is left alone; a stray file at the root is an orphan
    std::fs::write(dir.path().join(&good.key[..2]).join(".tmpAbC123"), "half").unwrap();
    std::fs::write(dir.path().join("stray.json"), "{}").unwrap();
    let r = stats::verify(&cache);
    assert_eq!(r.in_flight.len(), 1, "{r}");
    assert!(r.orphaned.iter().any(|p| p.ends_with("stray.json")), "{r}");
    std::fs::remove_file(dir.path().join("stray.json")).unwrap();
    let r = stats::verify(&cache);
    assert_eq!(
        (r.valid, r.corrupt.len(), r.orphaned.len()),
        (1, 1, 1),
        "{r}"
    );
    assert!(!r.is_ok());
    assert!(matches!(cache.get(&bad_key), Lookup::Corrupt { .. }));
    // stats counts what it skipped (the truncated entry and the stray note, not the writer's
    // temp file) and says where the names are
    let shown = stats::stats(&cache, &synthehr::llm::pricing::Prices::default()).to_string();
    assert!(
        shown.contains("1 entries")
            && shown.contains("2 unreadable (`synthehr cache verify` names them)"),
        "{shown}"
    );

    let replay = client(
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:9",
        dir.path(),
        CacheMode::Replay,
    );
    let err = replay
        .complete(&req("bad"), 0, prov())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("corrupt cache entry"), "{err}");
    assert!(err.contains(&bad_key), "names the file: {err}");
    assert!(
        err.contains("repair: `git checkout -- "),
        "says how to repair: {err}"
    );

    // an edited answer (one changed digit) and an emptied one are corrupt too, not served
    for (what, edit) in [("edited", "fine!"), ("emptied", "")] {
        let e2 = c.complete(&req(what), 0, prov()).await.unwrap();
        let p = cache.path_for(&e2.key);
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        v["response"]["text"] = json!(edit);
        std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
        let Lookup::Corrupt { why, .. } = cache.get(&e2.key) else {
            panic!("{what} answer served");
        };
        assert!(
            why.contains("edited") || why.contains("empty answer"),
            "{why}"
        );
        assert!(!stats::verify(&cache).is_ok());
        std::fs::remove_file(&p).unwrap();
    }
    // the good entry is still served
    assert_eq!(
        replay.complete(&req("good"), 0, prov()).await.unwrap().key,
        good.key
    );
    // record mode re-records over the corrupt file
    let s2 = stub::start(vec![Reply::ok(&openai_body("redo"))]).await;
    let rec = client(
        ProviderKind::OpenaiCompatible,
        &s2.url,
        dir.path(),
        CacheMode::Record,
    );
    assert_eq!(
        rec.complete(&req("bad"), 0, prov())
            .await
            .unwrap()
            .response
            .text,
        "redo"
    );
}

/// Opt-in: SYNTHEHR_LIVE_LLM=http://127.0.0.1:8080/v1 with a running llama-server.
#[tokio::test]
async fn live_llama_server_records_then_replays() {
    let Ok(url) = std::env::var("SYNTHEHR_LIVE_LLM") else {
        eprintln!("SYNTHEHR_LIVE_LLM not set: live test skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let info = ServerInfo::read(&synthehr::llm::fingerprint::default_server_info()).unwrap();
    let mut c = client(
        ProviderKind::OpenaiCompatible,
        &url,
        dir.path(),
        CacheMode::Record,
    );
    let _ = &mut c;
    let cfg = ClientConfig {
        fingerprint: info.fingerprint("live"),
        timeout: Duration::from_secs(300),
        ..c.config().clone()
    };
    let c = LlmClient::new(cfg.clone(), Cache::new(dir.path())).unwrap();
    let r = req("Write a CSV with header a,b and two rows of small integers.");
    let e = c.complete(&r, 0, prov()).await.unwrap();
    eprintln!(
        "live answer ({} tokens, {} ms): {:?}",
        e.usage().completion_tokens,
        e.latency_ms,
        e.response.text
    );
    assert!(!e.response.text.is_empty());
    assert_eq!(
        c.counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let replay = LlmClient::new(
        ClientConfig {
            mode: CacheMode::Replay,
            ..cfg
        },
        Cache::new(dir.path()),
    )
    .unwrap();
    assert_eq!(replay.complete(&r, 0, prov()).await.unwrap(), e);
    assert_eq!(
        replay
            .counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[cfg(unix)]
#[test]
fn cache_stats_into_a_closed_pipe_ends_quietly() {
    // `synthehr cache stats | head -1` used to panic with "failed printing to stdout"
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_synthehr"))
        .args(["cache", "stats", "--cache"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/cache/llm"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the first line
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// The cache commands read the project's `cache/llm` from any directory of the checkout (a
/// relative default made `cache stats` in `notebooks/` say "0 entries", and `generate` there
/// replay nothing or record into a second cache); a `--cache` that does not exist is an error
/// naming it, never an empty success.
#[test]
fn the_cache_commands_find_the_project_cache_and_refuse_one_that_is_not_there() {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let synthehr = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_synthehr"))
            .args(args)
            .current_dir(dir)
            .env_remove("SYNTHEHR_PROJECT")
            .env_remove("SYNTHEHR_DATA")
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let (ok, out, err) = synthehr(&project.join("notebooks"), &["cache", "stats"]);
    let entries: usize = out
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(ok && entries > 0, "{out}{err}");

    let dir = tempfile::tempdir().unwrap();
    let nope = dir.path().join("nope");
    let nope = nope.to_str().unwrap();
    for args in [
        &["cache", "stats", "--cache", nope][..],
        &["cache", "verify", "--cache", nope],
        &["cache", "prune", "--cache", nope],
        &[
            "generate",
            "--profile",
            "smoke",
            "--offline",
            "--model",
            "stub",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--snapshot",
            "stub-1",
            "--cache",
            nope,
        ],
    ] {
        let (ok, out, err) = synthehr(project, args);
        assert!(!ok, "{args:?} succeeded: {out}");
        assert!(
            err.contains(&format!("no cache directory at {nope}")),
            "{args:?}: {err}"
        );
        assert!(!std::path::Path::new(nope).exists(), "{args:?} created it");
    }
}

/// Structured outputs (constrained decoding against the commercial APIs): each provider's request
/// carries the rows schema where that provider takes it, a loopback stub checks the body and
/// answers in that provider's recorded shape, and the parser reads the JSON rows as records.
#[tokio::test]
async fn structured_outputs_reach_each_provider_in_its_own_shape() {
    use synthehr::generate::grammar::{json_schema, FieldRule};
    use synthehr::generate::parse::parse;
    use synthehr::llm::client::ConstraintForm;
    let rule = |name: &str, binary: bool, nullable: bool| FieldRule {
        name: name.into(),
        binary,
        integer: binary,
        negative: false,
        int_digits: 3,
        min_int_digits: None,
        exact: false,
        decimals: if binary { 0 } else { 2 },
        nullable,
        range: if binary { None } else { Some((0.0, 300.0)) },
    };
    let schema = json_schema(
        &[
            rule("heartrate_max", false, true),
            rule("death", true, false),
        ],
        2,
    );
    let rows = r#"{"rows":[{"heartrate_max":101.5,"death":0},{"heartrate_max":null,"death":1}]}"#;
    let cases = [
        (ProviderKind::OpenaiCompatible, openai_body(rows)),
        (
            ProviderKind::Anthropic,
            json!({"content": [{"type": "tool_use", "id": "t1", "name": "synthetic_rows",
                    "input": serde_json::from_str::<serde_json::Value>(rows).unwrap()}],
                   "stop_reason": "tool_use", "usage": {"input_tokens": 9, "output_tokens": 30}})
            .to_string(),
        ),
        (
            ProviderKind::Gemini,
            json!({"candidates": [{"content": {"parts": [{"text": rows}]}, "finishReason": "STOP"}],
                   "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 30}})
            .to_string(),
        ),
    ];
    for (kind, body) in cases {
        let dir = tempfile::tempdir().unwrap();
        let s = stub::start(vec![Reply::ok(&body)]).await;
        let mut c = client(kind, &s.url, dir.path(), CacheMode::Record);
        if kind == ProviderKind::OpenaiCompatible {
            // the stub is on loopback, where a llama-server would take a grammar: this one
            // stands in for OpenAI's API, as `--constrain-with json-schema` says
            assert_eq!(c.config().constraint_form(), ConstraintForm::Gbnf);
            c = LlmClient::new(
                ClientConfig {
                    constraint: Some(ConstraintForm::JsonSchema),
                    ..c.config().clone()
                },
                Cache::new(dir.path()),
            )
            .unwrap();
        }
        assert_eq!(
            c.config().constraint_form(),
            ConstraintForm::JsonSchema,
            "{kind:?}: an API takes a JSON schema, not a grammar"
        );
        let mut r = req("write two records");
        r.sampling.json_schema = Some(schema.clone());
        let e = c.complete(&r, 0, prov()).await.unwrap();
        let sent: serde_json::Value = serde_json::from_str(&s.bodies.lock().unwrap()[0]).unwrap();
        match kind {
            ProviderKind::OpenaiCompatible => {
                let rf = &sent["response_format"];
                assert_eq!(rf["type"], "json_schema");
                assert_eq!(rf["json_schema"]["strict"], true);
                assert_eq!(rf["json_schema"]["schema"], schema);
                assert!(sent.get("grammar").is_none());
            }
            ProviderKind::Anthropic => {
                assert_eq!(sent["tools"][0]["name"], "synthetic_rows");
                assert_eq!(sent["tools"][0]["input_schema"], schema);
                assert_eq!(sent["tool_choice"]["type"], "tool");
                assert_eq!(sent["tool_choice"]["name"], "synthetic_rows");
            }
            ProviderKind::Gemini => {
                let g = &sent["generationConfig"];
                assert_eq!(g["responseMimeType"], "application/json");
                let hr = &g["responseSchema"]["properties"]["rows"]["items"]["properties"]
                    ["heartrate_max"];
                assert_eq!(hr["type"], "number");
                assert_eq!(hr["nullable"], true);
                let death =
                    &g["responseSchema"]["properties"]["rows"]["items"]["properties"]["death"];
                assert_eq!(
                    (death["minimum"].as_f64(), death["maximum"].as_f64()),
                    (Some(0.0), Some(1.0))
                );
                assert!(!g["responseSchema"]
                    .to_string()
                    .contains("additionalProperties"));
            }
        }
        let p = parse(&e.response.text, &["heartrate_max", "death"]);
        assert_eq!(p.rows.len(), 2, "{kind:?}: {}", e.response.text);
        assert_eq!(p.rows[0], vec![101.5, 0.0]);
        assert!(p.rows[1][0].is_nan());
    }
    // a loopback OpenAI-compatible server (llama-server) takes the grammar instead
    let dir = tempfile::tempdir().unwrap();
    let c = client(
        ProviderKind::OpenaiCompatible,
        "http://127.0.0.1:9/v1",
        dir.path(),
        CacheMode::Record,
    );
    assert_eq!(
        c.config().constraint_form(),
        synthehr::llm::client::ConstraintForm::Gbnf
    );
    for (url, lo) in [
        ("http://[::1]:8080/v1", true),
        ("http://localhost/v1", true),
        ("http://127.0.0.2:8080/v1", true),
        ("https://api.openai.com/v1", false),
        ("http://127.example.com/v1", false),
    ] {
        assert_eq!(synthehr::llm::client::is_loopback(url), lo, "{url}");
    }
}

#[tokio::test]
async fn a_key_in_the_url_is_never_printed_and_a_malformed_url_is_not_retried() {
    use synthehr::llm::client::redact_url;
    assert_eq!(
        redact_url("https://user:sk-secret@api.example.com/v1"),
        "https://***@api.example.com/v1"
    );
    assert_eq!(
        redact_url("http://127.0.0.1:8080/v1"),
        "http://127.0.0.1:8080/v1"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut f = fp();
    f.provider = ProviderKind::OpenaiCompatible;
    let cfg = |url: &str| ClientConfig {
        provider: ProviderKind::OpenaiCompatible,
        base_url: url.into(),
        model: "m".into(),
        fingerprint: f.clone(),
        concurrency: 1,
        timeout: Duration::from_millis(300),
        retry: RetryPolicy::default(),
        mode: CacheMode::Record,
        constraint: None,
    };
    for bad in ["htp//nowhere", "ftp://127.0.0.1/v1", "not a url"] {
        let err = LlmClient::new(cfg(bad), Cache::new(dir.path()))
            .err()
            .expect("a malformed URL is refused up front")
            .to_string();
        assert!(err.contains("--base-url"), "{err}");
    }
    // an unreachable server with a key in the URL: the error names the server, not the key
    let c = LlmClient::new(
        ClientConfig {
            retry: RetryPolicy {
                max_attempts: 2,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(10),
            },
            ..cfg("http://user:sk-secret@127.0.0.1:9/v1")
        },
        Cache::new(dir.path()),
    )
    .unwrap();
    let err = c
        .complete(&req("x"), 0, prov())
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("sk-secret"), "{err}");
    assert!(err.contains("127.0.0.1:9"), "{err}");
}
