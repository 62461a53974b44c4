//! The notebook engine end to end: outputs per cell, rich outputs, the execution cache and each
//! of its invalidation inputs, and failures mapped back to the notebook's cell and line.

use std::path::{Path, PathBuf};
use synthehr::notebook::{Engine, Execution, Inputs, Status};

fn engine(tmp: &Path) -> Engine {
    let mut e = Engine::for_project(Path::new(env!("CARGO_MANIFEST_DIR")));
    e.exec_cache = tmp.join("exec");
    e.llm_cache = tmp.join("llm");
    e
}

fn inputs(data: &str, profile: &str) -> Inputs {
    Inputs {
        data_fingerprint: data.into(),
        profile: profile.into(),
        env: vec![],
    }
}

fn notebook(dir: &Path, stem: &str, cells: &[&str]) -> PathBuf {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .map(|src| serde_json::json!({"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": src}))
        .collect();
    let nb = serde_json::json!({"cells": cells, "metadata": {"kernelspec": {"name": "rust"}}, "nbformat": 4, "nbformat_minor": 5});
    let p = dir.join(format!("{stem}.ipynb"));
    std::fs::write(&p, serde_json::to_vec(&nb).unwrap()).unwrap();
    p
}

fn cell(e: &Execution, i: usize) -> &synthehr::notebook::exec::CellOutput {
    e.cells.iter().find(|c| c.cell == i).unwrap()
}

#[test]
fn the_engine_check_notebook_runs_and_replays() {
    let tmp = tempfile::tempdir().unwrap();
    let eng = engine(tmp.path());
    let nb = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks/00-engine-check.ipynb");
    let e = eng.run(&nb, &inputs("d1", "local")).unwrap();
    assert_eq!(e.status, Status::Ok, "{:?}", e.status);
    assert!(!e.from_cache);
    assert_eq!(cell(&e, 2).stdout, "computed\n");
    assert_eq!(cell(&e, 2).rich[0].mime, "text/plain");
    assert_eq!(cell(&e, 2).rich[0].content, "42");
    assert_eq!(cell(&e, 3).rich[0].mime, "text/html");
    assert_eq!(cell(&e, 3).rich[0].content, "<b>rich</b>");
    assert!(cell(&e, 3).rich[1]
        .content
        .contains("\"lactate_last_early\""));
    assert!(e.notes.iter().any(|n| n.contains(":dep")));
    let again = eng.run(&nb, &inputs("d1", "local")).unwrap();
    assert!(again.from_cache);
    assert_eq!(again.cells, e.cells);

    // --write stores outputs for Jupyter and leaves every source untouched
    let copy = tmp.path().join("copy.ipynb");
    std::fs::copy(&nb, &copy).unwrap();
    synthehr::notebook::exec::write_outputs(&copy, &e).unwrap();
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&std::fs::read(&nb).unwrap()).unwrap(),
        serde_json::from_slice(&std::fs::read(&copy).unwrap()).unwrap(),
    );
    for (x, y) in a["cells"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["cells"].as_array().unwrap())
    {
        assert_eq!(x["source"], y["source"]);
    }
    // as the kernel stores them: the stream, then one result with the last output per type
    assert_eq!(b["cells"][2]["outputs"][0]["text"], "computed\n");
    assert_eq!(b["cells"][2]["outputs"][1]["output_type"], "execute_result");
    assert_eq!(b["cells"][2]["outputs"][1]["data"]["text/plain"], "42");
    assert_eq!(
        b["cells"][3]["outputs"][0]["data"]["text/html"],
        "<b>rich</b>"
    );
}

#[test]
fn each_input_invalidates_the_execution_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let eng = engine(tmp.path());
    std::fs::create_dir_all(tmp.path().join("llm")).unwrap();
    let key = "ab".repeat(32);
    let cache_dir = tmp.path().join("llm");
    let read_cell = format!("let c = synthehr::llm::Cache::new({:?});\nlet hit = matches!(c.get({key:?}), synthehr::llm::Lookup::Hit(_));\nprintln!(\"hit={{hit}}\");", cache_dir.display().to_string());
    let nb = notebook(tmp.path(), "nb_invalidate", &["let a = 1;", &read_cell]);
    let run = |i: &Inputs| eng.run(&nb, i).unwrap();
    let first = run(&inputs("d1", "p1"));
    assert_eq!(first.status, Status::Ok, "{:?}", first.status);
    assert_eq!(
        first.llm_keys,
        vec![key.clone()],
        "the engine records the LLM keys read"
    );
    assert!(run(&inputs("d1", "p1")).from_cache, "unchanged: replayed");
    assert!(
        !run(&inputs("d2", "p1")).from_cache,
        "data fingerprint changed"
    );
    assert!(!run(&inputs("d2", "p2")).from_cache, "profile changed");
    assert!(run(&inputs("d2", "p2")).from_cache);
    // an LLM entry the notebook read appears (or changes): re-run
    let p = synthehr::llm::Cache::new(&cache_dir).path_for(&key);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "changed").unwrap();
    assert!(!run(&inputs("d2", "p2")).from_cache, "LLM entry changed");
    assert!(run(&inputs("d2", "p2")).from_cache);
    // the code changed
    let nb2 = notebook(tmp.path(), "nb_invalidate", &["let a = 2;", &read_cell]);
    assert_eq!(nb2, nb);
    assert!(!run(&inputs("d2", "p2")).from_cache, "code changed");
}

#[test]
fn failures_name_the_cell_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let eng = engine(tmp.path());
    let compile = notebook(
        tmp.path(),
        "nb_compile_error",
        &["let a = 1;", "let b = 2;\nlet s: i32 = \"text\";"],
    );
    match eng.run(&compile, &inputs("d", "p")).unwrap().status {
        Status::Failed {
            cell,
            line,
            message,
        } => {
            assert_eq!((cell, line), (1, Some(2)), "{message}");
            assert!(message.contains("mismatched types"), "{message}");
        }
        s => panic!("expected a compile error, got {s:?}"),
    }
    let panics = notebook(
        tmp.path(),
        "nb_panic",
        &[
            "println!(\"before\");",
            "let v: Vec<i32> = vec![];\nlet x = v[3];",
        ],
    );
    let e = eng.run(&panics, &inputs("d", "p")).unwrap();
    match &e.status {
        Status::Failed {
            cell,
            line,
            message,
        } => {
            assert_eq!((*cell, *line), (1, Some(2)), "{message}");
            assert!(message.contains("index out of bounds"), "{message}");
            // the location is the notebook's, not the generated program's
            assert!(message.contains("cell 1, line 2, column "), "{message}");
            assert!(!message.contains("main.rs"), "{message}");
        }
        s => panic!("expected a panic, got {s:?}"),
    }
    assert_eq!(
        cell(&e, 0).stdout,
        "before\n",
        "earlier cells keep their output"
    );
    let question = notebook(
        tmp.path(),
        "nb_question",
        &["let n: i32 = \"x1\".parse()?;"],
    );
    match eng.run(&question, &inputs("d", "p")).unwrap().status {
        Status::Failed { cell, message, .. } => {
            assert!(cell == 0 && message.contains("invalid digit"), "{message}")
        }
        s => panic!("expected an error, got {s:?}"),
    }
    let syntax = notebook(tmp.path(), "nb_syntax", &["let a = 1;", "let = ;"]);
    match eng.run(&syntax, &inputs("d", "p")).unwrap().status {
        Status::Failed {
            cell,
            line,
            message,
        } => {
            assert!(cell == 1 && message.contains("syntax error"), "{message}");
            assert_eq!(line, Some(1));
        }
        s => panic!("expected a syntax error, got {s:?}"),
    }
    // a cell that never ends is stopped at the notebook's time limit, and named
    let mut quick = eng.clone();
    quick.timeout = std::time::Duration::from_secs(3);
    let stuck = notebook(
        tmp.path(),
        "nb_stuck",
        &[
            "println!(\"started\");",
            "std::thread::sleep(std::time::Duration::from_secs(600));",
        ],
    );
    let t = std::time::Instant::now();
    let e = quick.run(&stuck, &inputs("d", "p")).unwrap();
    assert!(t.elapsed().as_secs() < 300, "killed, not waited for");
    match &e.status {
        Status::Failed { cell, message, .. } => {
            assert_eq!(*cell, 1, "{message}");
            assert!(message.contains("timed out after 3 s"), "{message}");
        }
        s => panic!("expected a timeout, got {s:?}"),
    }
    assert_eq!(cell(&e, 0).stdout, "started\n");
}

#[test]
fn the_execution_key_covers_profile_contents_paper_numbers_and_the_model_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path();
    let write = |rel: &str, text: &str| {
        let p = project.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("src/lib.rs", "pub fn f() {}");
    write("profiles/local.toml", "seed = 1");
    write("report_templates/paper_reference.json", "{}");
    write("cache/models/m.json", "{}");
    let eng = Engine::for_project(project);
    let mut seen = std::collections::HashSet::new();
    assert!(seen.insert(eng.library_hash()));
    for (rel, text) in [
        ("profiles/local.toml", "seed = 2"),
        ("profiles/prices.toml", "[x]"),
        ("report_templates/paper_reference.json", "{\"table1\": 1}"),
        ("cache/models/m.json", "{\"threads\": 2}"),
        ("cache/models/another.json", "{}"),
        ("assets/font.ttf", "x"),
    ] {
        write(rel, text);
        assert!(
            seen.insert(eng.library_hash()),
            "{rel} changed, the key did not"
        );
    }
    // unchanged inputs: the same key
    assert_eq!(eng.library_hash(), eng.library_hash());
}
