//! The layers of DESIGN.md ("Layers"), checked: the study library's modules import only the
//! layers below them (no cycles), never the tool's modules; and the library without the `tool`
//! feature (what a notebook's `:dep` compiles) has none of the tool's heavy crates in its normal
//! dependency tree.

use std::collections::BTreeSet;
use std::path::Path;

/// The study library, bottom to top: a module may import modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["fsutil", "show"],
    &[
        "project",
        "data",
        "paper",
        "notebook",
        "notebook::display",
        "notebook::model",
    ],
    &["cohort", "llm", "notebook::chapters"],
    &["metrics"],
    &["generate", "plot"],
    &["results", "findings"],
    &["study"],
    &["regions"],
    &["discussion"],
];

/// The tool (behind the `tool` feature): may import anything; nothing above imports it.
const TOOL: &[&str] = &[
    "app",
    "report",
    "notebook::exec",
    "notebook::program",
    "llm::client",
    "cohort::fetch",
    "generate::throughput",
];

/// The unit a module path names: a tool submodule or `notebook::x` by itself, else the
/// top-level module.
fn unit(path: &[&str]) -> String {
    if path.len() >= 2 {
        let two = format!("{}::{}", path[0], path[1]);
        if TOOL.contains(&two.as_str()) || path[0] == "notebook" {
            return two;
        }
    }
    path[0].to_string()
}

fn layer(u: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&u))
}

/// `crate::a::b` (and `super::b` inside a module folder) references of a source file, comments
/// left out.
fn references(file: &Path, module: &[&str]) -> BTreeSet<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (prefix, base) in [("crate::", Vec::new()), ("super::", module[..1].to_vec())] {
            if prefix == "super::" && module.len() < 2 {
                continue;
            }
            let mut rest = code;
            while let Some(i) = rest.find(prefix) {
                rest = &rest[i + prefix.len()..];
                let segs: Vec<&str> = rest
                    .split("::")
                    .take(2)
                    .map(|s| {
                        let end = s
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(s.len());
                        &s[..end]
                    })
                    .take_while(|s| !s.is_empty())
                    .collect();
                if segs.is_empty() || segs[0] == "super" {
                    continue;
                }
                let mut path = base.clone();
                path.extend(segs);
                if path[0]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase())
                {
                    out.insert(unit(&path));
                }
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn library_modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap().with_extension("");
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .filter(|p| p != "mod")
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        if matches!(parts[0], "lib" | "main") {
            continue;
        }
        let from = unit(&parts);
        if TOOL.contains(&from.as_str()) {
            continue;
        }
        let Some(from_layer) = layer(&from) else {
            wrong.push(format!("{}: module {from} is in no layer", f.display()));
            continue;
        };
        checked += 1;
        for to in references(f, &parts) {
            if to == from || (to == "notebook" && from.starts_with("notebook")) {
                continue;
            }
            // `crate::llm` inside llm/answers.rs etc.: the module's own top level
            if to == parts[0] {
                continue;
            }
            match layer(&to) {
                _ if TOOL.contains(&to.as_str()) => wrong.push(format!(
                    "{}: the library imports the tool's {to}",
                    f.display()
                )),
                Some(l) if l < from_layer => {}
                Some(_) => wrong.push(format!(
                    "{}: {from} imports {to}, which is not below it",
                    f.display()
                )),
                None => wrong.push(format!("{}: imports {to}, in no layer", f.display())),
            }
        }
    }
    assert!(checked > 30, "only {checked} library files checked");
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

/// `cargo tree` of the library without the tool feature, one package per line.
fn lean_tree(extra: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-e", "normal", "--no-default-features"])
        .args(extra)
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_lean_library_has_no_tool_crates() {
    let tree = lean_tree(&[]);
    let names: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains("parquet"), "unexpected tree:\n{tree}");
    let heavy = [
        "clap",
        "indicatif",
        "mdbook-driver",
        "pulldown-cmark",
        "reqwest",
        "hyper",
        "rustls",
        "handlebars",
        // the data layer reads parquet through arrow-rs: polars and its tokio runtime, and the
        // C build of zstd (only the tool reads zstd parquet), cost the first `:dep` cell minutes
        "polars",
        "tokio",
        "zstd-sys",
    ];
    let found: Vec<&&str> = heavy.iter().filter(|h| names.contains(**h)).collect();
    assert!(found.is_empty(), "the lean library pulls in {found:?}");
    // syn comes in through derive macros (a build dependency of serde and others); it is not a
    // normal dependency of synthehr itself
    let direct = lean_tree(&["--depth", "1"]);
    for d in ["syn ", "proc-macro2 ", "tokio "] {
        assert!(
            !direct.lines().any(|l| l.starts_with(d)),
            "synthehr depends on {d}directly without the tool feature:\n{direct}"
        );
    }
}
