//! The admin status page's content. This module keeps what no other
//! module does: every error that was given a tracking ID (widget failures,
//! sign-in and collaboration failures, desktop telephony), newest first,
//! and failure counts per widget (the [`Journal`], one per process like
//! the metrics); and it gathers the [`Report`]: layouts and plugins with
//! versions and content hashes, grants, limits, the last reload with its
//! diagnostics, and set-up problems.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

use crate::app::{Host, LayoutSource, ReloadStatus};
use crate::runtime::content_hash;

/// Incidents kept for the status page; older ones are in the log.
pub const RECENT: usize = 100;

/// One error an admin may be asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// Unix ms.
    pub at_ms: u64,
    /// The ID the user was shown (and the log carries).
    pub tracking_id: String,
    /// Where: `widget queues (queue-stats 0.1.0)`, `sign-in`, ...
    pub source: String,
    /// The cause, as logged.
    pub cause: String,
}

/// Failures of one widget since the host started, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WidgetCounts {
    /// Errors the widget returned itself (bad data, missing grant).
    pub errors: u64,
    /// Calls stopped at their deadline.
    pub timeouts: u64,
    /// Traps, memory and stack overflows, failed instantiations.
    pub crashes: u64,
    /// Times it was put in quarantine.
    pub quarantines: u64,
}

/// Recent incidents and per-widget counts.
#[derive(Debug, Default)]
pub struct Journal {
    recent: Mutex<VecDeque<Incident>>,
    widgets: Mutex<BTreeMap<(String, String), WidgetCounts>>,
}

/// The process's journal.
pub fn journal() -> &'static Journal {
    static JOURNAL: OnceLock<Journal> = OnceLock::new();
    JOURNAL.get_or_init(Journal::default)
}

/// How a widget call failed, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The widget's own error result.
    Error,
    /// The deadline.
    Timeout,
    /// Anything that stopped the sandbox.
    Crash,
    /// A quarantine began.
    Quarantine,
}

impl Journal {
    /// Keeps an incident (dropping the oldest past [`RECENT`]).
    pub fn incident(&self, tracking_id: &str, source: impl Into<String>, cause: impl Into<String>) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == RECENT {
            recent.pop_back();
        }
        recent.push_front(Incident {
            at_ms: crate::now_ms(),
            tracking_id: tracking_id.to_owned(),
            source: source.into(),
            cause: cause.into(),
        });
    }

    /// Counts a failure of widget `widget` (plugin `plugin`).
    pub fn widget_failure(&self, widget: &str, plugin: &str, failure: Failure) {
        let mut widgets = self.widgets.lock().unwrap_or_else(|p| p.into_inner());
        let c = widgets
            .entry((widget.to_owned(), plugin.to_owned()))
            .or_default();
        match failure {
            Failure::Error => c.errors += 1,
            Failure::Timeout => c.timeouts += 1,
            Failure::Crash => c.crashes += 1,
            Failure::Quarantine => c.quarantines += 1,
        }
    }

    /// The recent incidents, newest first.
    pub fn recent(&self) -> Vec<Incident> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().cloned().collect()
    }

    /// Counts per (widget id, plugin id).
    pub fn widget_counts(&self) -> BTreeMap<(String, String), WidgetCounts> {
        self.widgets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Everything the status page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// deskhost's version.
    pub version: String,
    /// The plugin API it provides.
    pub api_version: String,
    /// Set-up problems an admin should fix, in words.
    pub problems: Vec<String>,
    /// The last reload.
    pub reload: ReloadStatus,
    /// Layouts being served.
    pub layouts: Vec<LayoutReport>,
    /// Installed plugins.
    pub plugins: Vec<PluginReport>,
    /// Host-wide limits of plugin calls: deadline (ms), memory (MiB),
    /// instances at once.
    pub limits: (u64, u64, u32),
    /// Failure counts per widget: (widget, plugin, counts).
    pub widgets: Vec<(String, String, WidgetCounts)>,
    /// Recent incidents, newest first.
    pub incidents: Vec<Incident>,
}

/// One served layout.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutReport {
    /// Its name (file path, or the embedded name).
    pub name: String,
    /// Its title.
    pub title: String,
    /// Teams it is for (empty: global).
    pub teams: Vec<String>,
    /// Whether it is an overlay on the global layout.
    pub overlay: bool,
    /// sha256 of the text being served.
    pub hash: String,
    /// The file's state next to the version being served.
    pub file: String,
    /// `[limits]`, after composition.
    pub limits: crate::layout::Limits,
    /// Grants by plugin id, after composition.
    pub grants: BTreeMap<String, Vec<String>>,
    /// Tiles per role.
    pub tiles: BTreeMap<String, usize>,
}

/// One installed plugin version.
#[derive(Debug, Clone, Serialize)]
pub struct PluginReport {
    /// Plugin id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Widget, identity provider, ...
    pub kind: String,
    /// The API range it works with.
    pub api: String,
    /// Where it came from.
    pub source: String,
    /// sha256 of its component.
    pub hash: String,
    /// Capabilities it asks for.
    pub capabilities: Vec<String>,
    /// Capabilities the host config grants it everywhere.
    pub host_grants: Vec<String>,
}

/// Gathers the report of `host`.
pub fn report(host: &Host) -> Report {
    let config = host.config();
    let desktops = host.desktops().load_full();
    let texts = host.served_texts();
    let mut problems = Vec::new();
    let layouts = desktops
        .all()
        .map(|d| {
            let l = d.layout();
            let name = l.path.display().to_string();
            let served = texts.get(&name);
            let source = host.sources().iter().find(|s| s.name() == name);
            let file = match (source, served) {
                (Some(LayoutSource::File(p)), Some(text)) => match std::fs::read_to_string(p) {
                    Err(_) => {
                        problems.push(format!(
                            "{name} is missing; its last good version keeps serving until a valid file is back"
                        ));
                        "missing: the last good version is serving".to_string()
                    }
                    Ok(now) if &now != text => {
                        "changed on disk and not valid: the last good version is serving (see the last reload)".to_string()
                    }
                    Ok(_) => "serving the file".to_string(),
                },
                (Some(LayoutSource::Embedded(_)), _) => "embedded in the binary".to_string(),
                _ => "serving".to_string(),
            };
            for tool in &l.required_collaboration {
                if !config.collaboration.iter().any(|c| &c.plugin == tool) {
                    problems.push(format!(
                        "{name} requires the collaboration tool `{tool}`, which the host config does not set up: add a [[collaboration]] entry with plugin = \"{tool}\", or take it out of required_collaboration"
                    ));
                }
            }
            LayoutReport {
                name,
                title: l.title.clone(),
                teams: l.teams.clone(),
                overlay: l.extends.is_some(),
                hash: served.map(|t| content_hash(t.as_bytes())).unwrap_or_default(),
                file,
                limits: l.limits.clone(),
                grants: l
                    .plugins
                    .iter()
                    .map(|(id, p)| (id.clone(), p.grants.clone()))
                    .collect(),
                tiles: l
                    .roles
                    .iter()
                    .map(|(r, desk)| {
                        (r.to_string(), desk.all_pages().map(|p| p.widgets.len()).sum())
                    })
                    .collect(),
            }
        })
        .collect();
    let plugins = host
        .plugins()
        .iter()
        .map(|p| PluginReport {
            id: p.info.id.clone(),
            version: p.info.version.to_string(),
            kind: p.info.kind.to_string(),
            api: p.info.api.to_string(),
            source: p.source.clone(),
            hash: p.hash.clone(),
            capabilities: p.info.capabilities.clone(),
            host_grants: config.grants.get(&p.info.id).cloned().unwrap_or_default(),
        })
        .collect();
    let j = journal();
    Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        api_version: crate::plugin::HOST_API_VERSION.to_string(),
        problems,
        reload: host.reload_status(),
        layouts,
        plugins,
        limits: (
            config.limits.timeout.as_millis() as u64,
            config.limits.memory_mib,
            config.limits.max_instances,
        ),
        widgets: j
            .widget_counts()
            .into_iter()
            .map(|((w, p), c)| (w, p, c))
            .collect(),
        incidents: j.recent(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_incidents_and_counts_by_kind() {
        let j = Journal::default();
        for i in 0..(RECENT + 5) {
            j.incident(&format!("t{i}"), "sign-in", "store down");
        }
        let recent = j.recent();
        assert_eq!(recent.len(), RECENT);
        assert_eq!(recent[0].tracking_id, format!("t{}", RECENT + 4));
        assert_eq!(recent[RECENT - 1].tracking_id, "t5");
        j.widget_failure("q", "queue-stats", Failure::Timeout);
        j.widget_failure("q", "queue-stats", Failure::Timeout);
        j.widget_failure("q", "queue-stats", Failure::Error);
        let c = &j.widget_counts()[&("q".to_string(), "queue-stats".to_string())];
        assert_eq!((c.errors, c.timeouts, c.crashes), (1, 2, 0));
    }
}
