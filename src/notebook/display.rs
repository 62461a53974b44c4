//! Display in both worlds: in the evcxr kernel and in the headless build, rich outputs are
//! printed as evcxr's `EVCXR_BEGIN_CONTENT <mime>` … `EVCXR_END_CONTENT` blocks; a trailing
//! expression shows itself through [`EvcxrDisplay`] when the type has it, else through `Debug`
//! (the kernel's rule), via [`show!`](crate::show).

use std::cell::Cell;
use std::io::Write;
use std::time::Instant;

/// Types that render themselves as rich output (`evcxr_display` is the kernel's convention).
pub trait EvcxrDisplay {
    fn evcxr_display(&self);
}

/// Print one rich output block.
pub fn emit(mime: &str, content: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "EVCXR_BEGIN_CONTENT {mime}\n{content}\nEVCXR_END_CONTENT"
    );
    let _ = out.flush();
}

/// Print the outputs of one displayed value, in order (a typed JSON part, then what the kernel
/// shows).
pub fn emit_all(outputs: &[(&str, String)]) {
    for (mime, content) in outputs {
        emit(mime, content);
    }
}

pub fn html(content: &str) {
    emit("text/html", content);
}

pub fn svg(content: &str) {
    emit("image/svg+xml", content);
}

/// Put `data-label="LABEL"` on the first `<TAG` element of `html`.
pub fn with_label(html: &str, tag: &str, label: &str) -> String {
    let open = format!("<{tag}");
    match html.find(&open) {
        Some(i) if !label.is_empty() => {
            let at = i + open.len();
            format!(
                "{} data-label=\"{}\"{}",
                &html[..at],
                escape(label),
                &html[at..]
            )
        }
        _ => html.to_string(),
    }
}

/// HTML-escape text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML table with a caption line giving its shape.
pub fn table_html(header: &[String], rows: &[Vec<String>], caption: &str) -> String {
    let mut s = String::from("<table class=\"synthehr-table\">");
    if !caption.is_empty() {
        s.push_str(&format!("<caption>{}</caption>", escape(caption)));
    }
    s.push_str("<thead><tr>");
    for h in header {
        s.push_str(&format!("<th>{}</th>", escape(h)));
    }
    s.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        // say so rather than show a bare header
        s.push_str(&format!(
            "<tr><td colspan=\"{}\"><em>no rows</em></td></tr>",
            header.len().max(1)
        ));
    }
    // a column headed "verdict …" shows its values as badges (the scorecard's)
    let badge: Vec<bool> = header.iter().map(|h| h.starts_with("verdict")).collect();
    for r in rows {
        s.push_str("<tr>");
        for (i, v) in r.iter().enumerate() {
            if badge.get(i).copied().unwrap_or(false) && !v.is_empty() {
                s.push_str(&format!(
                    "<td><span class=\"badge badge-{}\">{}</span></td>",
                    v.replace(' ', "-"),
                    escape(v)
                ));
            } else {
                s.push_str(&format!("<td>{}</td>", escape(v)));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

#[doc(hidden)]
pub struct Shown<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait ShowRich {
    fn synthehr_show(&self);
}
impl<T: EvcxrDisplay + ?Sized> ShowRich for &Shown<'_, T> {
    fn synthehr_show(&self) {
        self.0.evcxr_display();
    }
}

#[doc(hidden)]
pub trait ShowDebug {
    fn synthehr_show(&self);
}
impl<T: std::fmt::Debug + ?Sized> ShowDebug for Shown<'_, T> {
    fn synthehr_show(&self) {
        // the kernel sends a trailing expression's Debug text as its text/plain result
        emit("text/plain", &format!("{:?}", self.0));
    }
}

/// Display a value as the evcxr kernel displays a trailing expression: `evcxr_display` when the
/// type has it, else `Debug`.
#[macro_export]
macro_rules! show {
    ($e:expr) => {{
        #[allow(unused_imports)]
        use $crate::notebook::display::{ShowDebug as _, ShowRich as _};
        let __value = $e;
        (&&$crate::notebook::display::Shown(&__value)).synthehr_show();
    }};
}

thread_local! {
    static CELL_START: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Marks the start of cell `i` on both streams (the engine splits outputs by these lines).
pub fn begin_cell(i: usize) {
    CELL_START.with(|c| c.set(Some(Instant::now())));
    let _ = std::io::stderr().flush();
    println!("{} {i}", BEGIN);
    eprintln!("{} {i}", BEGIN);
    let _ = std::io::stdout().flush();
}

/// Marks the end of cell `i` with its wall time in milliseconds.
pub fn end_cell(i: usize) {
    let ms = CELL_START
        .with(|c| c.get())
        .map(|t| t.elapsed().as_secs_f64() * 1e3)
        .unwrap_or(0.0);
    let _ = std::io::stderr().flush();
    println!("{} {i} {ms:.1}", END);
    eprintln!("{} {i} {ms:.1}", END);
    let _ = std::io::stdout().flush();
}

/// Panics are reported with a marker so the engine can name the failing cell.
pub fn install_panic_marker() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = std::io::stdout().flush();
        // the line of the generated program, which the engine maps back to cell and line
        // (0 when the panic is inside a library)
        let line = info
            .location()
            .filter(|l| l.file().ends_with("main.rs"))
            .map_or(0, |l| l.line());
        eprintln!("{PANIC_MARKER} {line}");
        default(info);
    }));
}

/// Marker lines the program prints around each cell (on stdout and stderr): the protocol
/// between a generated program (this runtime side, in the library) and the engine (the tool).
pub const BEGIN: &str = "@@synthehr-cell-begin";
pub const END: &str = "@@synthehr-cell-end";

/// What the panic hook prints before the panic message: the marker, then a generated line.
pub const PANIC_MARKER: &str = "@@synthehr-panic";
