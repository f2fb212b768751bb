//! KPI tiles: today's handled and abandoned contacts, abandon rate and
//! average handle time (m:ss) for the whole contact center or one team,
//! each with its trend against yesterday at the same time of day. More
//! handled is good news; more abandoned, a higher abandon rate and a longer
//! handle time are bad news. When yesterday's figure is zero there is no
//! percentage to compare with, so the trend is left out (or 0% when today
//! is zero too).
//!
//! Settings:
//! - `scope` (text, default `""`): a team id, or empty for the whole
//!   contact center.
//!
//! Capability: `contact-center`.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

use contact_center::{DayStats, Stats};

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "kpi-tiles";

/// What the trends compare with.
const VS: &str = "vs yesterday";

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// A team id; empty: the whole contact center.
    pub scope: String,
}

/// Change from `yesterday` to `today` in percent. `None` when yesterday was
/// zero and today is not (no meaningful percentage); 0 when both are zero.
pub fn percent_change(today: f64, yesterday: f64) -> Option<f64> {
    if !today.is_finite() || !yesterday.is_finite() {
        return None;
    }
    if yesterday == 0.0 {
        return (today == 0.0).then_some(0.0);
    }
    Some((today - yesterday) / yesterday * 100.0)
}

/// Abandoned contacts as a percentage of offered ones; `None` when none
/// were offered.
pub fn abandon_rate(day: &DayStats) -> Option<f64> {
    (day.offered > 0).then(|| f64::from(day.abandoned) / f64::from(day.offered) * 100.0)
}

/// Average handle time; `None` when nothing was handled.
fn handle_time(day: &DayStats) -> Option<f64> {
    (day.handled > 0).then_some(f64::from(day.average_handle_seconds))
}

/// Formats seconds as `m:ss` (minutes may exceed 59).
pub fn format_duration(seconds: u32) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

fn with_trend(stat: Stat, change: Option<f64>, higher_is_better: bool) -> Stat {
    match change {
        Some(c) => stat.trend(c, VS, higher_is_better),
        None => stat,
    }
}

fn is_empty(d: &DayStats) -> bool {
    d.offered == 0 && d.handled == 0 && d.abandoned == 0
}

/// The widget's view of these figures; `scope` names them ("the whole
/// contact center", "team Sales").
pub fn view(stats: &Stats, scope: &str) -> View {
    let (t, y) = (&stats.today, &stats.yesterday);
    if is_empty(t) && is_empty(y) {
        return View::new().empty(
            "No contacts yet",
            Some(format!(
                "No contact was offered to {scope} today or yesterday."
            )),
        );
    }
    let handled = with_trend(
        Stat::new("Handled", t.handled.to_string()),
        percent_change(f64::from(t.handled), f64::from(y.handled)),
        true,
    );
    let abandoned = with_trend(
        Stat::new("Abandoned", t.abandoned.to_string()),
        percent_change(f64::from(t.abandoned), f64::from(y.abandoned)),
        false,
    );
    let rate = match abandon_rate(t) {
        Some(r) => with_trend(
            Stat::new("Abandon rate", format!("{r:.1}")).unit("%"),
            abandon_rate(y).and_then(|yr| percent_change(r, yr)),
            false,
        ),
        None => Stat::new("Abandon rate", "—"),
    };
    let aht = match handle_time(t) {
        Some(s) => with_trend(
            Stat::new("Avg handle time", format_duration(t.average_handle_seconds)),
            handle_time(y).and_then(|ys| percent_change(s, ys)),
            false,
        ),
        None => Stat::new("Avg handle time", "—"),
    };
    View::new()
        .stats(vec![handled, abandoned, rate, aht])
        .text(format!(
            "Today so far for {scope}, {} offered, against yesterday at the same time.",
            t.offered
        ))
}

/// Names the scope for the view: "the whole contact center" or "team X".
pub fn describe_scope(scope: &str, team_name: Option<&str>) -> String {
    if scope.is_empty() {
        "the whole contact center".into()
    } else {
        format!("team {}", team_name.unwrap_or(scope))
    }
}

/// The widget.
pub struct KpiTiles;

impl Widget for KpiTiles {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "KPIs", env!("CARGO_PKG_VERSION"))
            .description(
                "Handled, abandoned, abandon rate and average handle time against yesterday.",
            )
            .setting(
                SettingSpec::text(
                    "scope",
                    "Team id whose figures to show. Empty: the whole contact center.",
                )
                .default_text(""),
            )
            .size(8, 3)
            .refresh_seconds(10)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        let scope = s.scope.trim();
        let stats = contact_center::team_stats(scope)?;
        let team_name = if scope.is_empty() {
            None
        } else {
            contact_center::teams()
                .ok()
                .and_then(|ts| ts.into_iter().find(|t| t.id == scope).map(|t| t.name))
        };
        Ok(view(&stats, &describe_scope(scope, team_name.as_deref())))
    }
}

deskhost_sdk::export_widget!(KpiTiles);

#[cfg(test)]
mod tests {
    use super::*;

    fn day(offered: u32, handled: u32, abandoned: u32, aht: u32) -> DayStats {
        DayStats {
            offered,
            handled,
            abandoned,
            average_handle_seconds: aht,
        }
    }

    fn stats(v: &View) -> &[Stat] {
        match &v.blocks[0] {
            Block::Stats(s) => s,
            _ => panic!("stats first"),
        }
    }

    #[test]
    fn metadata_matches_manifest_and_settings() {
        deskhost_sdk::testing::assert_manifest_matches::<KpiTiles>(include_str!("../plugin.toml"));
        let s: Settings = deskhost_sdk::testing::default_settings::<KpiTiles>();
        assert_eq!(s.scope, "");
    }

    #[test]
    fn percent_change_is_safe() {
        assert_eq!(percent_change(110.0, 100.0), Some(10.0));
        assert_eq!(percent_change(50.0, 100.0), Some(-50.0));
        assert_eq!(percent_change(0.0, 0.0), Some(0.0));
        assert_eq!(percent_change(5.0, 0.0), None);
        assert_eq!(percent_change(f64::NAN, 1.0), None);
    }

    #[test]
    fn stats_with_trends() {
        let s = Stats {
            today: day(200, 180, 20, 330),
            yesterday: day(200, 150, 10, 300),
        };
        let v = view(&s, "team Sales");
        let st = stats(&v);
        let labels: Vec<&str> = st.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Handled", "Abandoned", "Abandon rate", "Avg handle time"]
        );
        assert_eq!(st[0].value, "180");
        let t = st[0].trend.as_ref().unwrap();
        assert_eq!(t.change_percent, 20.0);
        assert!(t.higher_is_better);
        assert_eq!(t.label, "vs yesterday");
        let t = st[1].trend.as_ref().unwrap();
        assert_eq!(t.change_percent, 100.0);
        assert!(!t.higher_is_better);
        assert_eq!(st[2].value, "10.0");
        assert_eq!(st[2].unit.as_deref(), Some("%"));
        assert_eq!(st[2].trend.as_ref().unwrap().change_percent, 100.0);
        assert_eq!(st[3].value, "5:30");
        let t = st[3].trend.as_ref().unwrap();
        assert_eq!(t.change_percent, 10.0);
        assert!(!t.higher_is_better);
        assert!(matches!(&v.blocks[1], Block::Text(t) if t.contains("team Sales")));
    }

    #[test]
    fn no_trend_when_yesterday_is_zero() {
        let s = Stats {
            today: day(10, 9, 1, 200),
            yesterday: day(0, 0, 0, 0),
        };
        let v = view(&s, "the whole contact center");
        assert!(stats(&v).iter().all(|s| s.trend.is_none()));
    }

    #[test]
    fn dashes_when_nothing_offered_or_handled_today() {
        let s = Stats {
            today: day(0, 0, 0, 0),
            yesterday: day(10, 9, 1, 200),
        };
        let v = view(&s, "x");
        let st = stats(&v);
        assert_eq!(st[2].value, "—");
        assert_eq!(st[3].value, "—");
        assert_eq!(st[0].trend.as_ref().unwrap().change_percent, -100.0);
    }

    #[test]
    fn empty_when_no_contacts_at_all() {
        let s = Stats {
            today: day(0, 0, 0, 0),
            yesterday: day(0, 0, 0, 0),
        };
        assert!(matches!(&view(&s, "x").blocks[..], [Block::Empty(_)]));
    }

    #[test]
    fn formats_and_describes() {
        assert_eq!(format_duration(59), "0:59");
        assert_eq!(format_duration(600), "10:00");
        assert_eq!(describe_scope("", None), "the whole contact center");
        assert_eq!(describe_scope("s1", Some("Sales")), "team Sales");
        assert_eq!(describe_scope("s1", None), "team s1");
    }
}
