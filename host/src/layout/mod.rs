//! Layout files: the admin-written TOML that places widget plugins on each
//! role's desktop. This module owns reading such a file, checking it
//! against the installed plugins (reporting every problem at once, with
//! exact positions), and producing the typed, resolved [`Layout`].
//!
//! Entry point: [`check`]. Render its diagnostics with [`render_text`] or
//! [`render_json`].

pub mod compose;
mod diag;
mod duration;
mod model;
mod parse;
mod schema;

use std::path::Path;
use std::time::Duration;

use toml::de::DeTable;

pub use diag::{Diagnostic, Severity, line_col, render_json, render_text};
pub use model::{
    Extends, GRID_COLUMNS, Layout, Limits, MAX_HEIGHT, MAX_ROW, Page, PluginConfig, Role, RoleDesk,
    Sections, UnknownRole, Visibility, Widget,
};

pub use schema::layout_schema;

use crate::plugin::Catalog;

/// Host-wide bounds that layout limits must stay within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Largest `timeout` a layout may set.
    pub max_timeout: Duration,
    /// Largest `memory_mib` a layout may set.
    pub max_memory_mib: u64,
    /// The contact center's team ids, when known: team names outside
    /// them get a warning.
    pub known_teams: Option<Vec<String>>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            max_timeout: Duration::from_secs(10),
            max_memory_mib: 256,
            known_teams: None,
        }
    }
}

/// The outcome of checking a layout file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The resolved layout; `Some` iff there are no errors.
    pub layout: Option<Layout>,
    /// Every error and warning, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Parses and checks the layout in `source` (read from `path`) against the
/// plugins in `catalog`, reporting every problem found.
pub fn check(path: &Path, source: &str, catalog: &dyn Catalog, opts: &ValidateOptions) -> Checked {
    let (root, errors) = DeTable::parse_recoverable(source);
    let mut checker = parse::Checker::new(source, catalog, opts);
    for e in &errors {
        let span = e.span().unwrap_or(0..0);
        checker.diags.push(Diagnostic::error(
            e.message().trim().to_string(),
            "",
            span,
            "invalid TOML",
        ));
    }
    let span = root.span();
    let layout = checker.layout(path, root.get_ref(), span);
    let mut diagnostics = checker.diags;
    diag::sort(&mut diagnostics);
    let mut checked = Checked {
        layout: None,
        diagnostics,
    };
    if !checked.has_errors() {
        checked.layout = layout;
    }
    checked
}

#[cfg(test)]
mod tests;
