//! The report rendered from fixed outputs: internal links and anchors resolve, figures and tables
//! are numbered in sequence, nothing is loaded from outside; then headless Chromium opens it from
//! file:// (no console errors, not blank) at desktop and phone width.

use std::path::{Path, PathBuf};
use synthehr::notebook::exec::{CellOutput, RichOutput};
use synthehr::notebook::{Execution, Notebook, Status};
use synthehr::report::{render, RunInfo};

fn notebook(dir: &Path, name: &str, title: &str) -> (PathBuf, Notebook) {
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": format!("# {title}\nSome *markdown* with a [link to the overview](index.html), a reference to @fig:plot-{title}, to @tbl:table-{title} and ahead to @fig:plot-Second (mail me@example.org).")},
            {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": "let x = 1;\nx"},
            {"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], "source": "figure()"},
        ],
        "metadata": {"kernelspec": {"name": "rust"}}, "nbformat": 4, "nbformat_minor": 5
    });
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(&nb).unwrap()).unwrap();
    (p.clone(), Notebook::read(&p).unwrap())
}

fn execution(name: &str, title: &str) -> Execution {
    let cap = synthehr::plot::Caption {
        title: format!("A figure of {name} & its caption"),
        provenance: "data test".into(),
    };
    let svg = synthehr::plot::lines(
        &[synthehr::plot::Series {
            name: "s".into(),
            points: vec![(1.0, 2.0), (2.0, 3.0)],
            interval: None,
        }],
        "x",
        "y",
        &cap,
    )
    .unwrap()
    .labelled(&format!("plot-{title}"));
    let table = synthehr::study::Table::new("A table", ["a"])
        .labelled(&format!("table-{title}"))
        .with_rows([vec!["<1>".to_string()]]);
    // what showing them emits, as the engine captures it
    let shown = svg
        .outputs()
        .into_iter()
        .chain(table.outputs())
        .map(|(mime, content)| RichOutput {
            mime: mime.into(),
            content,
        });
    Execution {
        notebook: name.into(),
        key: "k".into(),
        status: Status::Ok,
        cells: vec![
            CellOutput {
                cell: 1,
                stdout: "1\n".into(),
                ..Default::default()
            },
            CellOutput {
                cell: 2,
                rich: shown
                    .chain([
                        RichOutput {
                            mime: synthehr::discussion::MARKDOWN_MIME.into(),
                            content: synthehr::discussion::Discussion {
                                holds: vec![format!(
                                    "Read against @tbl:table-{title}, *emphasised*."
                                )],
                                ..Default::default()
                            }
                            .markdown(),
                        },
                        RichOutput {
                            mime: synthehr::study::RESULT_MIME.into(),
                            content: serde_json::to_string(&synthehr::results::ResultRecord {
                                model: "m".into(),
                                profile: name.into(),
                                stage: "s".into(),
                                strategy: "group".into(),
                                features: 10,
                                rows: 200,
                                avg_kl: Some(0.25),
                                kl_reference: Some(synthehr::metrics::fidelity::KlReference {
                                    value: 0.2,
                                    lo: 0.1,
                                    hi: 0.3,
                                    n: 200,
                                    draws: 30,
                                }),
                                tstr_auroc: Some(synthehr::results::Interval {
                                    value: 0.7,
                                    lo: 0.6,
                                    hi: 0.8,
                                    ..Default::default()
                                }),
                                ..Default::default()
                            })
                            .unwrap(),
                        },
                    ])
                    .collect(),
                ..Default::default()
            },
        ],
        notes: vec![],
        llm_keys: vec![],
        build_ms: 1.0,
        run_ms: 1.0,
        from_cache: false,
    }
}

fn render_two(dir: &Path, exec: impl Fn(&str, &str) -> Execution) -> synthehr::Result<PathBuf> {
    render_two_with(dir, exec, Vec::new())
}

fn render_two_with(
    dir: &Path,
    exec: impl Fn(&str, &str) -> Execution,
    deviations: Vec<synthehr::report::overview::Deviation>,
) -> synthehr::Result<PathBuf> {
    let runs: Vec<_> = [("01-a.ipynb", "First"), ("02-b.ipynb", "Second")]
        .iter()
        .map(|(n, t)| {
            let (p, nb) = notebook(dir, n, t);
            (p, nb, exec(n, t))
        })
        .collect();
    render(
        &runs,
        &RunInfo {
            fingerprint: "f".into(),
            profile: "local".into(),
            models: "m".into(),
            deviations,
            ..Default::default()
        },
        &dir.join("target").join("report"),
    )
    .map(|r| r.index)
}

fn site() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("book.toml"),
        dir.path().join("book.toml"),
    )
    .unwrap();
    let index = render_two(dir.path(), execution).unwrap();
    (dir, index)
}

#[test]
fn references_resolve_and_dangling_or_duplicate_labels_fail_the_build() {
    let (_dir, index) = site();
    let first = std::fs::read_to_string(index.with_file_name("01-a.html")).unwrap();
    // numbering runs across the report: chapter 2's figure is Figure 2
    assert!(
        first.contains(r##"<a href="01-a.html#fig-1">Figure 1</a>"##),
        "{first}"
    );
    assert!(first.contains(r##"<a href="01-a.html#tbl-1">Table 1</a>"##));
    assert!(first.contains(r##"<a href="02-b.html#fig-2">Figure 2</a>"##));
    assert!(first.contains("me@example.org") && !first.contains("@fig:"));
    // every figure shows its caption (from the figure's typed part, escaped once) and its
    // provenance line under it
    assert!(
        first.contains(r#"<figcaption>Figure 1. A figure of 01-a.ipynb &amp; its caption<span class="provenance">data test</span></figcaption>"#),
        "{first}"
    );
    let book = std::fs::read_to_string(
        index
            .parent()
            .unwrap()
            .with_file_name("book-src")
            .join("01-a.md"),
    )
    .unwrap();
    assert!(book.contains("[Figure 2](02-b.md#fig-2)"), "{book}");

    // a reference to a label no output carries: an error naming the notebook and the label
    let dir = tempfile::tempdir().unwrap();
    let err = render_two(dir.path(), |n, t| {
        let mut e = execution(n, t);
        if t == "Second" {
            e.cells[1].rich.remove(0);
        }
        e
    })
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("01-a.ipynb") && err.contains("@fig:plot-Second"),
        "{err}"
    );
    // the same label on two outputs
    let err = render_two(dir.path(), |n, _| execution(n, "Same"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("used twice"), "{err}");
}

fn attr_values(html: &str, attr: &str) -> Vec<String> {
    html.split(&format!("{attr}=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn links_anchors_numbering_and_no_external_loads() {
    let (_dir, index) = site();
    let out = index.parent().unwrap();
    let pages: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    // the index, two chapters and the execution appendix
    assert_eq!(pages.len(), 4);
    let mut figures = Vec::new();
    let mut tables = Vec::new();
    let mut files: Vec<_> = pages.clone();
    files.sort();
    for p in &files {
        let html = std::fs::read_to_string(p).unwrap();
        for href in attr_values(&html, "href") {
            assert!(
                !href.starts_with("http"),
                "{}: external link {href}",
                p.display()
            );
            let (file, anchor) = href
                .split_once('#')
                .map(|(f, a)| (f.to_string(), Some(a.to_string())))
                .unwrap_or((href.clone(), None));
            let target = if file.is_empty() {
                p.clone()
            } else {
                out.join(&file)
            };
            assert!(target.is_file(), "{}: broken link {href}", p.display());
            if let Some(a) = anchor {
                let t = std::fs::read_to_string(&target).unwrap();
                assert!(
                    t.contains(&format!("id=\"{a}\"")),
                    "{}: missing anchor {href}",
                    p.display()
                );
            }
        }
        for src in attr_values(&html, "src") {
            assert!(!src.contains("://"), "{}: loads {src}", p.display());
        }
        assert!(!html.contains("url(http"), "CSS must not load anything");
        figures.extend(
            html.match_indices("<figcaption>Figure ")
                .map(|(i, _)| html[i + 19..].split('.').next().unwrap().to_string()),
        );
        tables.extend(
            html.match_indices("<caption>Table ")
                .map(|(i, _)| html[i + 15..].split('.').next().unwrap().to_string()),
        );
        if !p.ends_with("index.html") && !p.ends_with("execution.html") {
            assert!(html.contains("&lt;1&gt;"), "table text is escaped");
        }
    }
    assert_eq!(
        figures,
        vec!["1", "2"],
        "figures numbered across the report"
    );
    assert_eq!(tables, vec!["1", "2"], "tables numbered across the report");
}

/// Headless Chromium as root on a machine without network (the flags both runs share).
const HEADLESS: [&str; 5] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
];

/// Headless chromium with its own profile directory (each run gets a fresh one).
fn headless(bin: &Path, profile: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(bin);
    c.args(HEADLESS)
        .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The browser, or `None` with the reason printed: CI installs chromium (.ci/run), so there it
/// must be present; a developer without it is told, not silently passed.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing in CI"
        );
        eprintln!("chromium not installed: browser test skipped (apt-get install -y chromium)");
    }
    found
}

#[test]
fn chromium_renders_the_report_from_file_urls() {
    let Some(bin) = chromium() else {
        return;
    };
    let (dir, index) = site();
    for (name, size) in [("desktop", "1280,900"), ("phone", "390,844")] {
        let shot = dir.path().join(format!("{name}.png"));
        let out = headless(&bin, &dir.path().join(format!("profile-{name}")))
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--window-size={size}"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", index.display()))
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        let console_errors: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("Uncaught")))
            .collect();
        assert!(
            console_errors.is_empty(),
            "{name}: console errors: {console_errors:?}"
        );
        let bytes = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        // a blank page is a few kilobytes of white PNG
        assert!(
            bytes > 15_000,
            "{name}: the screenshot looks blank ({bytes} bytes)"
        );
        if let Ok(keep) = std::env::var("SYNTHEHR_SCREENSHOTS") {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(&shot, Path::new(&keep).join(format!("{name}.png"))).unwrap();
        }
    }
    // the DOM holds the chapters
    let dom = headless(&bin, &dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(format!("file://{}", index.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("First") && dom.contains("Second") && dom.contains("execution report"),
        "{dom}"
    );
}

/// Every URL a page asked for in a netlog (chromium's `--log-net-log`), but file:// and the
/// browser's own schemes. The browser's background requests (update checks, account probes) are
/// not the page's: they run at IDLE priority, a page's loads and fetches above it.
fn network_requests(netlog: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(netlog).unwrap_or_else(|_| {
        // a netlog cut short at exit lacks its closing brackets
        serde_json::from_str(&format!("{}]}}", netlog.trim_end().trim_end_matches(','))).unwrap()
    });
    let mut urls = Vec::new();
    for e in v["events"].as_array().into_iter().flatten() {
        let by_page = e["params"]["priority"]
            .as_str()
            .is_some_and(|p| p != "IDLE");
        if let Some(u) = e["params"]["url"].as_str().filter(|_| by_page) {
            let local = [
                "file:",
                "data:",
                "about:",
                "chrome:",
                "chrome-extension:",
                "devtools:",
            ];
            if !local.iter().any(|p| u.starts_with(p)) {
                urls.push(u.to_string());
            }
        }
    }
    urls.sort();
    urls.dedup();
    urls
}

#[test]
fn the_book_and_the_report_load_nothing_from_the_network() {
    let Some(bin) = chromium() else {
        return;
    };
    let (dir, index) = site();
    // the check itself can fail: a page with a remote image is caught
    let leaky = dir.path().join("leaky.html");
    std::fs::write(
        &leaky,
        r#"<html><body><img src="https://example.com/x.png"></body></html>"#,
    )
    .unwrap();
    let book = synthehr::report::build_book(dir.path()).unwrap();
    let chapter = book.with_file_name("01-a.html");
    let html = std::fs::read_to_string(&chapter).unwrap();
    assert!(html.contains("language-rust"), "the page has a code block");
    assert!(
        !html.contains("class=\"playground\""),
        "code blocks are not runnable"
    );
    let pages = [
        ("leaky", &leaky),
        ("report", &index),
        ("book", &book),
        ("chapter", &chapter),
    ];
    for (name, page) in pages {
        let netlog = dir.path().join(format!("{name}.netlog.json"));
        let out = headless(&bin, &dir.path().join(format!("profile-net-{name}")))
            .args(["--disable-component-update", "--disable-sync"])
            .arg(format!("--log-net-log={}", netlog.display()))
            .arg("--virtual-time-budget=5000")
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let log = std::fs::read_to_string(&netlog).unwrap();
        assert!(
            log.contains("file://"),
            "{name}: the netlog saw the page load"
        );
        let remote = network_requests(&log);
        if name == "leaky" {
            assert_eq!(
                remote,
                vec!["https://example.com/x.png"],
                "the netlog check works"
            );
        } else {
            assert!(remote.is_empty(), "{name} requested {remote:?}");
        }
    }
}

#[test]
fn the_mdbook_edition_builds_with_search_and_every_chapter() {
    let (dir, _) = site();
    let index = synthehr::report::build_book(dir.path()).unwrap();
    assert!(index.is_file());
    let book = index.parent().unwrap();
    let summary = std::fs::read_to_string(dir.path().join("target/book-src/SUMMARY.md")).unwrap();
    for (md, title) in [("01-a.md", "First"), ("02-b.md", "Second")] {
        assert!(summary.contains(&format!("[{title}]({md})")), "{summary}");
        let page = std::fs::read_to_string(book.join(md.replace(".md", ".html"))).unwrap();
        assert!(
            page.contains("<svg") && page.contains("Figure "),
            "{md}: figures carried into the book"
        );
    }
    let search = ["searchindex.js", "searchindex.json"]
        .iter()
        .any(|f| book.join(f).is_file())
        || std::fs::read_dir(book)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(search, "the book has a search index");
    assert!(
        book.join("print.html").is_file(),
        "the book has a print view"
    );
}

#[test]
fn results_are_collected_into_json_and_csv_not_shown() {
    let (_dir, index) = site();
    let out = index.parent().unwrap();
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(j["schema"], 3);
    // both chapters evaluated the same cell: one entry, the last one wins
    assert_eq!(j["cells"].as_array().unwrap().len(), 1);
    assert_eq!(j["cells"][0]["profile"], "02-b.ipynb");
    assert_eq!(j["cells"][0]["state"]["kind"], "complete");
    assert_eq!(j["paper"]["table1"]["group"]["avg_kl"], 0.2963);
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(
        csv.starts_with("model,stage,strategy,features,rows"),
        "{csv}"
    );
    assert!(
        csv.lines().nth(1).unwrap().contains("0.25") && csv.contains("0.7"),
        "{csv}"
    );
    for page in ["01-a.html", "02-b.html"] {
        let html = std::fs::read_to_string(out.join(page)).unwrap();
        assert!(
            !html.contains("avg_kl"),
            "{page} shows the machine-readable result"
        );
    }
}

#[test]
fn an_interrupted_render_or_book_build_leaves_nothing_behind_and_the_book_is_swapped_in_whole() {
    let (dir, index) = site();
    let target = dir.path().join("target");
    let book = synthehr::report::build_book(dir.path()).unwrap();
    assert!(book.is_file());
    // what a killed build leaves: a write_atomic temp file, a half-built and an old book
    std::fs::write(index.with_file_name(".tmpAbC123"), "half").unwrap();
    std::fs::create_dir_all(target.join(".book-building-x1/css")).unwrap();
    std::fs::create_dir_all(target.join(".book-old-42")).unwrap();
    std::fs::write(index.with_file_name("keep-me.txt"), "not ours").unwrap();
    render_two(dir.path(), execution).unwrap();
    assert!(!index.with_file_name(".tmpAbC123").exists());
    assert!(!target.join(".book-building-x1").exists());
    assert!(!target.join(".book-old-42").exists());
    assert!(
        index.with_file_name("keep-me.txt").exists(),
        "only our own temp names"
    );
    // a rebuild replaces the book whole and leaves no staging directory
    std::fs::write(book.with_file_name("stale-page.html"), "old").unwrap();
    let again = synthehr::report::build_book(dir.path()).unwrap();
    assert_eq!(again, book);
    assert!(book.is_file() && !book.with_file_name("stale-page.html").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&target)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".book-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_index_and_the_book_open_with_the_abstract_and_the_deviations_box() {
    let dir = tempfile::tempdir().unwrap();
    let deviation = synthehr::report::overview::Deviation {
        what: "Data".into(),
        ours: "eICU demo: 2,520 stays | a pipe".into(),
        paper: "full eICU".into(),
    };
    let index = render_two_with(dir.path(), execution, vec![deviation]).unwrap();
    let html = std::fs::read_to_string(&index).unwrap();
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    // abstract, then the deviations box, then chapters and the scorecard
    assert!(at("id=\"abstract\"") < at("id=\"deviations\""));
    assert!(at("id=\"deviations\"") < at("<h2>Chapters</h2>"));
    // the fixture's one results record, rendered into the abstract
    assert!(
        html.contains("This run replays 1 experiment cell of 1 model"),
        "{html}"
    );
    assert!(html.contains("eICU demo: 2,520 stays"));
    let book = std::fs::read_to_string(dir.path().join("target/book-src/index.md")).unwrap();
    assert!(
        book.starts_with("# Overview\n\n## Abstract\n\nThis run replays"),
        "{book}"
    );
    assert!(
        book.contains("| Data | eICU demo: 2,520 stays \\| a pipe | full eICU |"),
        "{book}"
    );
}

#[test]
fn a_kl_without_its_matched_n_reference_is_refused_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let bare = |name: &str, title: &str| {
        let mut e = execution(name, title);
        for r in &mut e.cells[1].rich {
            if r.mime == synthehr::study::RESULT_MIME {
                let mut rec: synthehr::results::ResultRecord =
                    serde_json::from_str(&r.content).unwrap();
                rec.kl_reference = None;
                r.content = serde_json::to_string(&rec).unwrap();
            }
        }
        e
    };
    let err = render_two(dir.path(), bare).unwrap_err().to_string();
    assert!(err.contains("without its matched-n reference"), "{err}");
    assert!(!dir.path().join("target/report/results.json").exists());
}

#[test]
fn a_discussion_renders_as_markdown_with_resolved_references_in_both_editions() {
    let (dir, index) = site();
    let chapter = std::fs::read_to_string(index.with_file_name("01-a.html")).unwrap();
    assert!(chapter.contains("<h2>Discussion</h2>"), "{chapter}");
    assert!(chapter.contains("<strong>What this run shows.</strong>"));
    // the reference resolved to the table's number and anchor, the markdown rendered
    assert!(chapter.contains("href=\"01-a.html#tbl-1\""), "{chapter}");
    assert!(chapter.contains("<em>emphasised</em>"));
    let book = std::fs::read_to_string(dir.path().join("target/book-src/01-a.md")).unwrap();
    assert!(
        book.contains("## Discussion") && !book.contains("@tbl:"),
        "{book}"
    );
    // the execution report is an appendix page, linked from every page's navigation
    let exec = std::fs::read_to_string(index.with_file_name("execution.html")).unwrap();
    assert!(exec.contains("01-a.ipynb") && exec.contains("cell times"));
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(
        !html.contains("cell times (s)"),
        "timings left the landing page"
    );
    let summary = std::fs::read_to_string(dir.path().join("target/book-src/SUMMARY.md")).unwrap();
    assert!(summary.contains("(execution.md)"));
    let overview = std::fs::read_to_string(dir.path().join("target/book-src/index.md")).unwrap();
    assert!(overview.contains("## Downloads") && overview.contains("(../report/results.json)"));
}

#[test]
fn with_keep_going_a_failed_chapters_missing_figures_are_marked_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // chapter "Second" failed in its figure cell: its figure and table were never produced
    let exec = |name: &str, title: &str| {
        let mut e = execution(name, title);
        if title == "Second" {
            e.cells.retain(|c| c.cell < 2);
            e.status = Status::Failed {
                cell: 2,
                line: Some(1),
                message: "error: no 10-feature cell in the profile".into(),
            };
        }
        e
    };
    let index = render_two(dir.path(), exec).unwrap();
    let first = std::fs::read_to_string(index.with_file_name("01-a.html")).unwrap();
    assert!(
        first.contains("fig:plot-Second not produced: its chapter failed"),
        "{first}"
    );
    // references to what exists still resolve
    assert!(
        first.contains("01-a.html#fig-1") || first.contains("#fig-1"),
        "{first}"
    );
}
