//! Diagnostics produced while checking a layout file: the [`Diagnostic`]
//! type, line/column arithmetic, "did you mean" suggestions, and rendering
//! as rustc-style text (through `codespan-reporting`) or as JSON.

use std::ops::Range;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The layout cannot be used.
    Error,
    /// Worth fixing, but the layout still loads.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a layout file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One-line description of the problem.
    pub message: String,
    /// Where in the document, e.g. `supervisor.home.widgets[0].settings.greting`;
    /// empty for problems not tied to a key (TOML syntax errors).
    pub key_path: String,
    /// Byte range of the offending key, value or table header in the source.
    pub span: Range<usize>,
    /// Short text shown under the caret.
    pub label: String,
    /// A suggestion, e.g. "did you mean `column`?".
    pub help: Option<String>,
    /// Extra context, e.g. where a clashing widget was defined.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(
        message: impl Into<String>,
        key_path: impl Into<String>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Error, message, key_path, span, label)
    }

    /// A new warning.
    pub fn warning(
        message: impl Into<String>,
        key_path: impl Into<String>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, message, key_path, span, label)
    }

    fn new(
        severity: Severity,
        message: impl Into<String>,
        key_path: impl Into<String>,
        span: Range<usize>,
        label: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            message: message.into(),
            key_path: key_path.into(),
            span,
            label: label.into(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help text if there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// 1-based line and column (in chars) where the span starts in `source`.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, self.span.start)
    }

    /// 1-based line and column (in chars) where the span ends in `source`.
    pub fn end_line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, self.span.end.max(self.span.start))
    }
}

/// 1-based line and column (column counted in chars) of byte `offset` in
/// `source`. Offsets past the end or inside a char are clamped.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = clamp_offset(source, offset);
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..offset].chars().count() + 1;
    (line, col)
}

fn clamp_offset(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn clamp_span(source: &str, span: &Range<usize>) -> Range<usize> {
    let start = clamp_offset(source, span.start);
    let end = clamp_offset(source, span.end).max(start);
    start..end
}

/// The candidate closest to `word`, if one is close enough to be a likely
/// typo (case and `-`/`_` differences are ignored when comparing).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let w = norm(word);
    let mut best: Option<(f64, &'a str)> = None;
    for cand in candidates {
        let c = norm(cand);
        let jw = strsim::jaro_winkler(&w, &c);
        let dl = strsim::normalized_damerau_levenshtein(&w, &c);
        let prefix = w.len() >= 3 && c.starts_with(&w);
        let score = if prefix { 1.0 } else { jw.max(dl) };
        let good = prefix || jw >= 0.85 || dl >= 0.7;
        if good && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?" for the closest candidate, if any.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Formats names as "`a`, `b`, `c`".
pub fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sorts diagnostics by position (then errors before warnings).
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.span.start, a.span.end, a.severity).cmp(&(b.span.start, b.span.end, b.severity))
    });
}

/// Renders diagnostics for a terminal. Each starts with the line
/// `{path}:{line}:{col}: {severity}: {message} (at `{key_path}`)`
/// (the `(at ...)` part is left out when the key path is empty), followed
/// by a rustc-style snippet with the label under the span, notes, and help.
pub fn render_text(diags: &[Diagnostic], path: &str, source: &str, color: bool) -> String {
    let file = SimpleFile::new(path, source);
    let config = term::Config::default();
    let mut out = String::new();
    for d in diags {
        let (line, col) = d.line_col(source);
        out.push_str(&format!(
            "{path}:{line}:{col}: {}: {}",
            d.severity.as_str(),
            d.message
        ));
        if !d.key_path.is_empty() {
            out.push_str(&format!(" (at `{}`)", d.key_path));
        }
        out.push('\n');

        let mut notes = d.notes.clone();
        if let Some(help) = &d.help {
            notes.push(format!("help: {help}"));
        }
        let severity = match d.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let cd = cs::Diagnostic::new(severity)
            .with_message(&d.message)
            .with_labels(vec![
                cs::Label::primary((), clamp_span(source, &d.span)).with_message(&d.label),
            ])
            .with_notes(notes);
        let snippet = if color {
            let mut w = termcolor::Ansi::new(Vec::new());
            let _ = term::emit(&mut w, &config, &file, &cd);
            w.into_inner()
        } else {
            let mut w = termcolor::NoColor::new(Vec::new());
            let _ = term::emit(&mut w, &config, &file, &cd);
            w.into_inner()
        };
        let snippet = String::from_utf8_lossy(&snippet);
        // codespan's own header line repeats the message; ours replaces it.
        let body = snippet.split_once('\n').map_or("", |(_, rest)| rest);
        out.push_str(body);
    }
    out
}

/// Renders diagnostics as a JSON array of objects with `severity`,
/// `message`, `path`, `line`, `column`, `end_line`, `end_column`,
/// `key_path`, `label`, `help` and `notes`.
pub fn render_json(diags: &[Diagnostic], path: &str, source: &str) -> serde_json::Value {
    serde_json::Value::Array(
        diags
            .iter()
            .map(|d| {
                let (line, column) = d.line_col(source);
                let (end_line, end_column) = d.end_line_col(source);
                serde_json::json!({
                    "severity": d.severity.as_str(),
                    "message": d.message,
                    "path": path,
                    "line": line,
                    "column": column,
                    "end_line": end_line,
                    "end_column": end_column,
                    "key_path": d.key_path,
                    "label": d.label,
                    "help": d.help,
                    "notes": d.notes,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // 'é' is two bytes; `=` follows "bé " (3 chars).
        assert_eq!(line_col(src, src.find('=').unwrap()), (1, 3));
        let eq2 = src.rfind('=').unwrap();
        assert_eq!(line_col(src, eq2), (2, 4));
        assert_eq!(line_col(src, 999), (3, 1));
    }

    #[test]
    fn suggestions() {
        let keys = [
            "id",
            "plugin",
            "column",
            "row",
            "refresh_interval",
            "settings",
            "width",
        ];
        assert_eq!(closest("refresh", keys), Some("refresh_interval"));
        assert_eq!(closest("colum", keys), Some("column"));
        assert_eq!(closest("setings", keys), Some("settings"));
        assert_eq!(closest("refresh-interval", keys), Some("refresh_interval"));
        assert_eq!(closest("zebra", keys), None);
        assert_eq!(closest("height", keys), None);
    }

    #[test]
    fn json_shape() {
        let src = "x = 1\n";
        let d = Diagnostic::error("bad", "x", 4..5, "here").with_help("fix it");
        let v = render_json(&[d], "f.toml", src);
        assert_eq!(v[0]["line"], 1);
        assert_eq!(v[0]["column"], 5);
        assert_eq!(v[0]["end_column"], 6);
        assert_eq!(v[0]["severity"], "error");
        assert_eq!(v[0]["help"], "fix it");
        assert_eq!(v[0]["path"], "f.toml");
    }
}
