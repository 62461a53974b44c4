//! Code cells → one Rust program with the evcxr kernel's cell semantics: cells run in order in
//! one scope (variables persist), a trailing expression without `;` is displayed, `?` works, and
//! evcxr commands (`:dep`, `:opt`, ...) are understood or skipped with a note.
//!
//! Cells are parsed with `syn` (statements and items); the trailing expression is found from its
//! span, so the generated code keeps the author's text and every generated line maps back to a
//! notebook cell and line for error messages.

use syn::parse::Parser;
use syn::spanned::Spanned;

pub use super::display::{BEGIN, END};

/// Where a generated line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Index of the cell among all cells of the notebook.
    pub cell: usize,
    /// 1-based line within the cell's source.
    pub line: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Program {
    pub source: String,
    /// Origin of each generated line (index = generated line − 1); `None` for glue.
    pub origins: Vec<Option<Origin>>,
    /// evcxr commands seen, with what was done about them.
    pub notes: Vec<String>,
}

impl Program {
    fn glue(&mut self, text: &str) {
        for l in text.lines() {
            self.source.push_str(l);
            self.source.push('\n');
            self.origins.push(None);
        }
    }

    fn user(&mut self, text: &str, cell: usize, first_line: usize) {
        for (k, l) in text.lines().enumerate() {
            self.source.push_str(l);
            self.source.push('\n');
            self.origins.push(Some(Origin {
                cell,
                line: first_line + k,
            }));
        }
    }

    /// The notebook origin of a generated line (1-based).
    pub fn origin(&self, line: usize) -> Option<Origin> {
        self.origins.get(line.checked_sub(1)?).copied().flatten()
    }
}

/// Byte offset of (1-based line, 0-based char column) in `text`.
fn offset(text: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off + l.char_indices().nth(col).map(|(b, _)| b).unwrap_or(l.len());
        }
        off += l.len();
    }
    text.len()
}

/// A cell that does not parse as Rust: where, and what the parser said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cell {cell}, line {line}: {message}")]
pub struct SyntaxError {
    pub cell: usize,
    pub line: usize,
    pub message: String,
}

impl From<SyntaxError> for crate::error::Error {
    fn from(e: SyntaxError) -> Self {
        crate::error::Error::Invalid(e.to_string())
    }
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// A cell split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct CellCode {
    /// evcxr command lines (`:dep ...`).
    pub commands: Vec<String>,
    /// The code before the trailing expression (command lines blanked, line numbers kept).
    pub code: String,
    /// The trailing expression and the cell line where it starts.
    pub tail: Option<(String, usize)>,
}

/// Split a cell into evcxr command lines, code, and the trailing expression if any.
pub fn split_cell(cell_index: usize, source: &str) -> Result<CellCode> {
    let mut commands = Vec::new();
    // commands are whole lines starting with ':'; blank them to keep line numbers
    let code: String = source
        .split_inclusive('\n')
        .map(|l| {
            if l.trim_start().starts_with(':') {
                commands.push(l.trim().to_string());
                if l.ends_with('\n') {
                    "\n".to_string()
                } else {
                    String::new()
                }
            } else {
                l.to_string()
            }
        })
        .collect();
    let stmts = syn::Block::parse_within
        .parse_str(&code)
        .map_err(|e| SyntaxError {
            cell: cell_index,
            line: e.span().start().line,
            message: e.to_string(),
        })?;
    match stmts.last() {
        Some(syn::Stmt::Expr(expr, None)) => {
            let start = expr.span().start();
            let cut = offset(&code, start.line, start.column);
            Ok(CellCode {
                commands,
                code: code[..cut].to_string(),
                tail: Some((code[cut..].trim_end().to_string(), start.line)),
            })
        }
        _ => Ok(CellCode {
            commands,
            code,
            tail: None,
        }),
    }
}

/// Whether an expression contains the `?` operator (at any depth).
fn has_question_mark(expr: &str) -> bool {
    fn walk(ts: proc_macro2::TokenStream) -> bool {
        ts.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '?',
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    expr.parse::<proc_macro2::TokenStream>()
        .map(walk)
        .unwrap_or(false)
}

/// Generate the program for the code cells `(cell index, source)`.
pub fn generate(cells: &[(usize, &str)]) -> Result<Program> {
    let mut p = Program::default();
    p.glue("#![allow(unused, clippy::all)]\n// generated by synthehr from a notebook; do not edit\nuse synthehr::prelude::*;\n");
    p.glue("fn main() {");
    p.glue("    if let Err(e) = cells() {");
    p.glue("        eprintln!(\"error: {e}\");");
    p.glue("        std::process::exit(1);");
    p.glue("    }");
    p.glue("}");
    p.glue("fn cells() -> std::result::Result<(), Box<dyn std::error::Error>> {");
    p.glue("    synthehr::notebook::display::install_panic_marker();");
    p.glue("    let __started = std::time::Instant::now();");
    for &(i, src) in cells {
        let CellCode {
            commands,
            code,
            tail,
        } = split_cell(i, src)?;
        for c in commands {
            let note = if c.starts_with(":dep") {
                format!("cell {i}: `{c}` — the library is linked directly")
            } else {
                format!("cell {i}: `{c}` — evcxr command skipped")
            };
            p.notes.push(note);
        }
        p.glue(&format!(
            "    synthehr::notebook::display::begin_cell({i});"
        ));
        p.user(&code, i, 1);
        if let Some((expr, line)) = tail {
            if has_question_mark(&expr) {
                p.notes.push(format!(
                    "cell {i}: the trailing expression uses `?`, so the evcxr kernel shows it with \
                     Debug instead of as rich output; bind it with `let` and end the cell with the name"
                ));
            }
            p.glue("    synthehr::show!(");
            p.user(&expr, i, line);
            p.glue("    );");
        }
        p.glue(&format!("    synthehr::notebook::display::end_cell({i});"));
    }
    p.glue("    Ok(())\n}");
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_expression_and_commands() {
        let c = split_cell(2, ":dep synthehr = { path = \"..\" }\nlet x = 1;\nx + 1\n").unwrap();
        assert_eq!(c.commands, vec![":dep synthehr = { path = \"..\" }"]);
        assert_eq!(c.code, "\nlet x = 1;\n");
        assert_eq!(c.tail, Some(("x + 1".to_string(), 3)));
        assert!(split_cell(0, "let y = 2;\nprintln!(\"{y}\");")
            .unwrap()
            .tail
            .is_none());
        // an item followed by a call: the call is displayed
        let t = split_cell(0, "fn f() -> i32 { 3 }\nf()").unwrap().tail;
        assert_eq!(t.unwrap().0, "f()");
    }

    #[test]
    fn syntax_errors_name_the_cell_and_line() {
        let e = split_cell(4, "\nlet x = ;\n").unwrap_err();
        assert_eq!((e.cell, e.line), (4, 2), "{e}");
        assert!(e.to_string().starts_with("cell 4, line 2: "), "{e}");
    }

    #[test]
    fn generated_lines_map_back() {
        let p = generate(&[(1, "let a = 1;\nlet b = a +\n  2;"), (3, "a + b")]).unwrap();
        let line_of = |needle: &str| p.source.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(p.origin(line_of("  2;")), Some(Origin { cell: 1, line: 3 }));
        assert_eq!(
            p.origin(line_of("a + b")),
            Some(Origin { cell: 3, line: 1 })
        );
        assert!(p.source.contains("synthehr::show!("));
        assert!(p.notes.is_empty());
        let q = generate(&[(2, "{\n    let v: i32 = \"1\".parse()?;\n    v\n}")]).unwrap();
        assert!(
            q.notes[0].contains("cell 2") && q.notes[0].contains("`?`"),
            "{:?}",
            q.notes
        );
    }
}
