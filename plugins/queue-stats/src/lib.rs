//! Queue stats: for each chosen queue, contacts waiting now, the longest
//! wait (m:ss) and a gauge of today's service level against its goal (green
//! at or above the goal, amber within 10 points below it, red further
//! below). A warning alert names every queue whose oldest contact has waited
//! longer than the alert threshold.
//!
//! Settings:
//! - `queues` (text-list, default `[]`): queue ids to show, in this order;
//!   empty means every queue.
//! - `service_level_goal` (number, percent 0–100, default `0`): the goal
//!   the gauges compare with; 0 uses each queue's own goal.
//! - `max_wait_alert_seconds` (integer, default `120`): warn when a
//!   contact has waited longer than this; 0 turns the alert off.
//!
//! Capability: `contact-center`.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

use contact_center::Queue;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "queue-stats";

/// How far below the goal (in points) a service level is still a warning.
pub const WARNING_BAND: f64 = 10.0;

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Queue ids; empty: every queue.
    pub queues: Vec<String>,
    /// Service level goal in percent; 0: each queue's own goal.
    pub service_level_goal: f64,
    /// Alert when the longest wait exceeds this many seconds; 0: never.
    pub max_wait_alert_seconds: i64,
}

/// The settings, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Queue ids to show, in order; empty: all.
    pub queues: Vec<String>,
    /// Goal in percent, or `None` for each queue's own goal.
    pub goal_percent: Option<f64>,
    /// Alert threshold in seconds, or `None` for no alert.
    pub max_wait_alert_seconds: Option<u32>,
}

impl Options {
    /// Validates the settings.
    pub fn from_settings(s: &Settings) -> Result<Self, Error> {
        let goal = s.service_level_goal;
        if !goal.is_finite() || !(0.0..=100.0).contains(&goal) {
            return Err(Error::new(format!(
                "setting `service_level_goal` must be a percentage between 0 and 100 (0: each queue's own goal), not {goal}"
            )));
        }
        let max_wait = u32::try_from(s.max_wait_alert_seconds).map_err(|_| {
            Error::new(format!(
                "setting `max_wait_alert_seconds` must be 0 (no alert) or a positive number of seconds, not {}",
                s.max_wait_alert_seconds
            ))
        })?;
        if let Some(q) = s.queues.iter().find(|q| q.trim().is_empty()) {
            return Err(Error::new(format!(
                "setting `queues` must list queue ids, not `{q}`"
            )));
        }
        Ok(Options {
            queues: s.queues.clone(),
            goal_percent: (goal > 0.0).then_some(goal),
            max_wait_alert_seconds: (max_wait > 0).then_some(max_wait),
        })
    }
}

/// Formats seconds as `m:ss` (minutes may exceed 59).
pub fn format_wait(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// The tone of a service level against its goal, both in percent.
pub fn service_level_tone(level: f64, goal: f64) -> Tone {
    if level >= goal {
        Tone::Success
    } else if level >= goal - WARNING_BAND {
        Tone::Warning
    } else {
        Tone::Danger
    }
}

/// Rounds a percentage for display: "82%", "82.5%".
fn percent(p: f64) -> String {
    let r = (p * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}%")
    } else {
        format!("{r:.1}%")
    }
}

/// The widget's view for these queues (all the host has).
pub fn view(all: &[Queue], o: &Options) -> View {
    let mut v = View::new();
    let queues: Vec<&Queue> = if o.queues.is_empty() {
        all.iter().collect()
    } else {
        let mut found = Vec::new();
        for id in &o.queues {
            match all.iter().find(|q| &q.id == id) {
                Some(q) => found.push(q),
                None => {
                    v = v.alert(
                        Tone::Warning,
                        format!("Queue `{id}` does not exist; check the `queues` setting."),
                    )
                }
            }
        }
        found
    };
    if queues.is_empty() {
        return v.empty("No queues", Some("There is no queue to show.".to_string()));
    }

    if let Some(limit) = o.max_wait_alert_seconds {
        for q in queues.iter().filter(|q| q.longest_wait_seconds > limit) {
            v = v.block(Block::Alert(Alert {
                tone: Tone::Warning,
                title: Some(format!("Long wait in {}", q.name)),
                message: format!(
                    "The oldest contact has waited {} (alert above {}).",
                    format_wait(q.longest_wait_seconds),
                    format_wait(limit)
                ),
            }));
        }
    }

    let mut table =
        Table::new(["Queue", "Waiting", "Longest wait", "Service level"]).caption("Queues now");
    let mut gauges = Vec::new();
    for q in &queues {
        let level = q.service_level * 100.0;
        let goal = o.goal_percent.unwrap_or(q.service_level_goal * 100.0);
        let tone = service_level_tone(level, goal);
        let long = o
            .max_wait_alert_seconds
            .is_some_and(|l| q.longest_wait_seconds > l);
        table = table.row(vec![
            Cell::text(q.name.clone()),
            Cell::Number(f64::from(q.waiting)),
            if long {
                Cell::badge(format_wait(q.longest_wait_seconds), Tone::Warning)
            } else {
                Cell::text(format_wait(q.longest_wait_seconds))
            },
            Cell::badge(format!("{} (goal {})", percent(level), percent(goal)), tone),
        ]);
        gauges.push(
            Progress::gauge(
                format!("{}: service level ({} s target)", q.name, q.target_seconds),
                level.clamp(0.0, 100.0),
                100.0,
            )
            .target(goal)
            .tone(tone),
        );
    }
    v = v.table(table);
    for g in gauges {
        v = v.progress(g);
    }
    v
}

/// The widget.
pub struct QueueStats;

impl Widget for QueueStats {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Queue stats", env!("CARGO_PKG_VERSION"))
            .description("Waiting contacts, longest wait and service level per queue.")
            .setting(
                SettingSpec::text_list(
                    "queues",
                    "Queue ids to show, in this order. Empty: every queue.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::number(
                    "service_level_goal",
                    "Service level goal in percent (0 to 100) the gauges compare with. 0: each queue's own goal.",
                )
                .default_number(0.0),
            )
            .setting(
                SettingSpec::integer(
                    "max_wait_alert_seconds",
                    "Warn when a queue's oldest contact has waited longer than this many seconds. 0: never warn.",
                )
                .default_integer(120),
            )
            .size(4, 8)
            .refresh_seconds(5)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        let o = Options::from_settings(&s)?;
        Ok(view(&contact_center::queues()?, &o))
    }
}

deskhost_sdk::export_widget!(QueueStats);

#[cfg(test)]
mod tests;
