//! Agent states: how many agents of the chosen teams are in each state
//! (Available, Idle, Engaged, Wrap-up, RONA, and optionally Offline), as a
//! row of stats and a bar chart.
//!
//! Settings:
//! - `teams` (text-list, default `[]`): team ids to count; empty means the
//!   viewer's sign-in team, or every team when they picked none.
//! - `include_offline` (boolean, default `false`): also count agents who
//!   are not signed in.
//!
//! Capability: `contact-center`.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

use contact_center::{Agent, AgentState};

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "agent-states";

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Team ids; empty: the viewer's team, else every team.
    pub teams: Vec<String>,
    /// Whether agents who are not signed in are counted too.
    pub include_offline: bool,
}

/// The states counted, in display order.
const STATES: [AgentState; 6] = [
    AgentState::Available,
    AgentState::Idle,
    AgentState::Engaged,
    AgentState::WrapUp,
    AgentState::Rona,
    AgentState::Offline,
];

pub use deskhost_sdk::capability::contact_center::resolve_teams;

/// `(state, count)` for every state shown, in display order.
pub fn counts(agents: &[Agent], include_offline: bool) -> Vec<(AgentState, usize)> {
    STATES
        .iter()
        .filter(|s| include_offline || **s != AgentState::Offline)
        .map(|&s| (s, agents.iter().filter(|a| a.state == s).count()))
        .collect()
}

/// The widget's view for these agents.
pub fn view(agents: &[Agent], include_offline: bool) -> View {
    let counts = counts(agents, include_offline);
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        let message = if agents.is_empty() || include_offline {
            "The chosen teams have no agents."
        } else {
            "No agent of the chosen teams is signed in."
        };
        return View::new().empty("No agents", Some(message.into()));
    }
    let stats = counts
        .iter()
        .map(|&(state, n)| {
            let tone = if n == 0 {
                Tone::Neutral
            } else {
                contact_center::state_tone(state)
            };
            Stat::new(contact_center::state_label(state), n.to_string()).tone(tone)
        })
        .collect();
    let chart = Chart::new(
        ChartKind::Bar,
        counts
            .iter()
            .map(|&(state, n)| (contact_center::state_label(state), n as f64)),
    )
    .title(format!("Agents by state ({total} in all)"));
    View::new().stats(stats).chart(Chart {
        unit: Some("agents".into()),
        ..chart
    })
}

/// The widget.
pub struct AgentStates;

impl Widget for AgentStates {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Agent states", env!("CARGO_PKG_VERSION"))
            .description("How many agents of the chosen teams are in each state.")
            .setting(
                SettingSpec::text_list(
                    "teams",
                    "Team ids to count. Empty: the viewer's sign-in team, or every team when they picked none.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::boolean(
                    "include_offline",
                    "Also count agents who are not signed in.",
                )
                .default_bool(false),
            )
            .size(4, 6)
            .refresh_seconds(5)
    }

    fn render(ctx: &Context, s: Settings) -> Result<View, Error> {
        if let Some(t) = s.teams.iter().find(|t| t.trim().is_empty()) {
            return Err(Error::new(format!(
                "setting `teams` must list team ids, not `{t}`"
            )));
        }
        let teams = resolve_teams(&s.teams, ctx.team.as_deref());
        let agents = contact_center::agents(&teams)?;
        Ok(view(&agents, s.include_offline))
    }
}

deskhost_sdk::export_widget!(AgentStates);

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(state: AgentState) -> Agent {
        Agent {
            id: "a".into(),
            name: "A".into(),
            team_id: "t".into(),
            state,
            state_since: 0,
            idle_reason: None,
            active_contacts: 0,
        }
    }

    fn sample() -> Vec<Agent> {
        [
            AgentState::Available,
            AgentState::Available,
            AgentState::Idle,
            AgentState::Engaged,
            AgentState::Engaged,
            AgentState::Engaged,
            AgentState::Offline,
        ]
        .into_iter()
        .map(agent)
        .collect()
    }

    #[test]
    fn metadata_matches_manifest_and_settings() {
        deskhost_sdk::testing::assert_manifest_matches::<AgentStates>(include_str!(
            "../plugin.toml"
        ));
        let s: Settings = deskhost_sdk::testing::default_settings::<AgentStates>();
        assert!(s.teams.is_empty() && !s.include_offline);
    }

    #[test]
    fn stats_and_chart_without_offline() {
        let v = view(&sample(), false);
        let Block::Stats(stats) = &v.blocks[0] else {
            panic!("stats first")
        };
        let pairs: Vec<(&str, &str)> = stats
            .iter()
            .map(|s| (s.label.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Available", "2"),
                ("Idle", "1"),
                ("Engaged", "3"),
                ("Wrap-up", "0"),
                ("RONA", "0")
            ]
        );
        assert_eq!(stats[0].tone, Tone::Success);
        assert_eq!(stats[4].tone, Tone::Neutral);
        let Block::Chart(c) = &v.blocks[1] else {
            panic!("chart second")
        };
        assert!(matches!(c.kind, ChartKind::Bar));
        assert_eq!(c.points.len(), 5);
        assert_eq!(c.points[2].value, 3.0);
        assert_eq!(c.title.as_deref(), Some("Agents by state (6 in all)"));
    }

    #[test]
    fn offline_counted_when_asked() {
        let v = view(&sample(), true);
        let Block::Stats(stats) = &v.blocks[0] else {
            panic!("stats first")
        };
        assert_eq!(stats.len(), 6);
        assert_eq!(stats[5].label, "Offline");
        assert_eq!(stats[5].value, "1");
    }

    #[test]
    fn empty_states() {
        let v = view(&[], false);
        assert!(matches!(&v.blocks[..], [Block::Empty(e)] if e.title == "No agents"));
        let v = view(&[agent(AgentState::Offline)], false);
        assert!(
            matches!(&v.blocks[..], [Block::Empty(e)] if e.message.as_deref().unwrap().contains("signed in"))
        );
    }

    #[test]
    fn teams_default_to_viewer_then_all() {
        assert_eq!(resolve_teams(&[], Some("sales")), ["sales"]);
        assert!(resolve_teams(&[], None).is_empty());
        assert_eq!(resolve_teams(&["x".into()], Some("sales")), ["x"]);
    }
}
