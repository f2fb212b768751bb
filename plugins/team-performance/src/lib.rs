//! Team performance: the agents of the chosen teams in a table with their
//! state (badge), time in state (counting live in the browser), idle reason
//! or active contacts, and a button per row to change their state: "Make
//! available" for idle and RONA agents, "Set idle" (with the tenant's first
//! idle reason) for available agents. Engaged and wrap-up agents get no
//! button. Offline agents are left out.
//!
//! Above the table, a state filter and a sort order can be picked and
//! applied without changing the layout; they then also hold for the row
//! buttons' re-render.
//!
//! Settings:
//! - `teams` (text-list, default `[]`): team ids to show; empty means the
//!   viewer's sign-in team, or every team when they picked none.
//! - `sort` (`name`, `state`, `time-in-state`; default `state`): row order.
//! - `state_filter` (`all`, `available`, `idle`, `engaged`, `wrap-up`,
//!   `rona`; default `all`): which agents to show.
//! - `allow_state_change` (boolean, default `true`): show the row buttons.
//! - `max_rows` (integer 1–500, default 50): most rows shown.
//!
//! Capabilities: `contact-center` to read agents, `agent-control` to change
//! their states.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

use contact_center::{Agent, AgentState};

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "team-performance";

/// The `sort` setting's values.
pub const SORTS: &[&str] = &["name", "state", "time-in-state"];
/// The `state_filter` setting's values.
pub const FILTERS: &[&str] = &["all", "available", "idle", "engaged", "wrap-up", "rona"];

/// Most rows `max_rows` may ask for.
pub const MAX_ROWS_LIMIT: i64 = 500;

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Team ids; empty: the viewer's team, else every team.
    pub teams: Vec<String>,
    /// Row order: `name`, `state` or `time-in-state`.
    pub sort: String,
    /// Which agents to show: `all` or one state.
    pub state_filter: String,
    /// Whether rows get a button to change the agent's state.
    pub allow_state_change: bool,
    /// Most rows shown.
    pub max_rows: i64,
}

/// Row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// By agent name.
    Name,
    /// By state, those needing attention (RONA, idle) first.
    State,
    /// Longest in their state first.
    TimeInState,
}

impl Sort {
    /// Parses a `sort` value.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "name" => Ok(Sort::Name),
            "state" => Ok(Sort::State),
            "time-in-state" => Ok(Sort::TimeInState),
            other => Err(Error::new(format!(
                "setting `sort` must be one of {}, not `{other}`",
                SORTS.join(", ")
            ))),
        }
    }

    fn value(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::State => "state",
            Sort::TimeInState => "time-in-state",
        }
    }
}

/// Which agents to show: all signed-in agents, or those in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter(pub Option<AgentState>);

impl Filter {
    /// Parses a `state_filter` value.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(Filter(match s {
            "all" => None,
            "available" => Some(AgentState::Available),
            "idle" => Some(AgentState::Idle),
            "engaged" => Some(AgentState::Engaged),
            "wrap-up" => Some(AgentState::WrapUp),
            "rona" => Some(AgentState::Rona),
            other => {
                return Err(Error::new(format!(
                    "setting `state_filter` must be one of {}, not `{other}`",
                    FILTERS.join(", ")
                )));
            }
        }))
    }

    fn value(self) -> &'static str {
        match self.0 {
            None => "all",
            Some(AgentState::Available) => "available",
            Some(AgentState::Idle) => "idle",
            Some(AgentState::Engaged) => "engaged",
            Some(AgentState::WrapUp) => "wrap-up",
            Some(AgentState::Rona) => "rona",
            Some(AgentState::Offline) => "offline",
        }
    }

    fn matches(self, agent: &Agent) -> bool {
        match self.0 {
            None => !matches!(agent.state, AgentState::Offline),
            Some(state) => agent.state == state,
        }
    }
}

/// Everything the view depends on besides the agents, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Row order.
    pub sort: Sort,
    /// Which agents to show.
    pub filter: Filter,
    /// Whether rows get state-change buttons.
    pub allow_state_change: bool,
    /// Most rows shown (at least 1).
    pub max_rows: usize,
    /// The idle reason "Set idle" uses; without one there is no "Set idle".
    pub idle_reason: Option<String>,
    /// What the agents are, for the table caption ("team sales", ...).
    pub scope: String,
}

impl Options {
    /// Validates the settings, with the filter and sort the tile submitted
    /// (if any) taking the place of the settings'.
    pub fn from_settings(
        s: &Settings,
        filter: Option<&str>,
        sort: Option<&str>,
    ) -> Result<Self, Error> {
        if !(1..=MAX_ROWS_LIMIT).contains(&s.max_rows) {
            return Err(Error::new(format!(
                "setting `max_rows` must be between 1 and {MAX_ROWS_LIMIT}, not {}",
                s.max_rows
            )));
        }
        if let Some(t) = s.teams.iter().find(|t| t.trim().is_empty()) {
            return Err(Error::new(format!(
                "setting `teams` must list team ids, not `{t}`"
            )));
        }
        Ok(Options {
            sort: Sort::parse(sort.unwrap_or(&s.sort))?,
            filter: Filter::parse(filter.unwrap_or(&s.state_filter))?,
            allow_state_change: s.allow_state_change,
            max_rows: s.max_rows as usize,
            idle_reason: None,
            scope: String::new(),
        })
    }
}

pub use deskhost_sdk::capability::contact_center::resolve_teams;

/// Describes the teams for captions: "all teams", "team Sales", "teams A, B".
pub fn describe_teams(names: &[String]) -> String {
    match names {
        [] => "all teams".into(),
        [one] => format!("team {one}"),
        many => format!("teams {}", many.join(", ")),
    }
}

/// A state change a row button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Re-render with the submitted filter and sort.
    Apply,
    /// Make this agent available.
    Available(String),
    /// Set this agent idle.
    Idle(String),
}

/// Parses an action id: `apply`, `available:<agent-id>` or `idle:<agent-id>`.
pub fn parse_action(id: &str) -> Result<Command, Error> {
    if id == "apply" {
        return Ok(Command::Apply);
    }
    let (verb, agent) = id
        .split_once(':')
        .ok_or_else(|| Error::new(format!("unknown action `{id}`")))?;
    if agent.is_empty() {
        return Err(Error::new(format!("action `{id}` names no agent")));
    }
    match verb {
        "available" => Ok(Command::Available(agent.to_string())),
        "idle" => Ok(Command::Idle(agent.to_string())),
        _ => Err(Error::new(format!("unknown action `{id}`"))),
    }
}

/// Checks that a state change is one this widget offers for an agent it
/// shows: idle or RONA → available, available → idle. Action ids come from
/// the browser, so they are checked against fresh data.
pub fn check_change(agents: &[Agent], agent_id: &str, to: AgentState) -> Result<(), Error> {
    let agent = agents
        .iter()
        .find(|a| a.id == agent_id)
        .ok_or_else(|| Error::new(format!("agent `{agent_id}` is not in the chosen teams")))?;
    let allowed = match to {
        AgentState::Available => matches!(agent.state, AgentState::Idle | AgentState::Rona),
        AgentState::Idle => agent.state == AgentState::Available,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::new(format!(
            "{} is {} now and cannot be made {}",
            agent.name,
            contact_center::state_label(agent.state),
            contact_center::state_label(to).to_lowercase()
        )))
    }
}

/// Order for the `state` sort: states needing attention first.
fn state_rank(state: AgentState) -> u8 {
    match state {
        AgentState::Rona => 0,
        AgentState::Idle => 1,
        AgentState::Available => 2,
        AgentState::Engaged => 3,
        AgentState::WrapUp => 4,
        AgentState::Offline => 5,
    }
}

fn sort_agents(agents: &mut [&Agent], sort: Sort) {
    let by_name = |a: &&Agent, b: &&Agent| a.name.to_lowercase().cmp(&b.name.to_lowercase());
    match sort {
        Sort::Name => agents.sort_by(by_name),
        Sort::State => agents.sort_by(|a, b| {
            state_rank(a.state)
                .cmp(&state_rank(b.state))
                .then(a.state_since.cmp(&b.state_since))
                .then_with(|| by_name(a, b))
        }),
        Sort::TimeInState => agents.sort_by(|a, b| {
            a.state_since
                .cmp(&b.state_since)
                .then_with(|| by_name(a, b))
        }),
    }
}

fn detail(agent: &Agent) -> String {
    if let Some(reason) = agent.idle_reason.as_deref().filter(|r| !r.is_empty()) {
        return reason.to_string();
    }
    match agent.active_contacts {
        0 => "—".into(),
        1 => "1 contact".into(),
        n => format!("{n} contacts"),
    }
}

fn action_cell(agent: &Agent, idle_reason: Option<&str>) -> Cell {
    match agent.state {
        AgentState::Idle | AgentState::Rona => Cell::Button(
            Button::new("Make available", format!("available:{}", agent.id)).tone(Tone::Success),
        ),
        AgentState::Available if idle_reason.is_some() => {
            Cell::Button(Button::new("Set idle", format!("idle:{}", agent.id)).tone(Tone::Warning))
        }
        _ => Cell::text("—"),
    }
}

fn filter_label(filter: Filter) -> &'static str {
    match filter.0 {
        None => "All states",
        Some(state) => contact_center::state_label(state),
    }
}

/// The filter and sort drop-downs and the Apply button.
fn controls(view: View, o: &Options) -> View {
    let filters = FILTERS.iter().map(|v| {
        let label = filter_label(Filter::parse(v).expect("known filter"));
        (v.to_string(), label.to_string())
    });
    let sorts = [
        ("name", "Name"),
        ("state", "State"),
        ("time-in-state", "Time in state"),
    ];
    view.select(Select::new("state_filter", "State", filters).selected(o.filter.value()))
        .select(Select::new("sort", "Sort by", sorts).selected(o.sort.value()))
        .buttons(vec![Button::new("Apply", "apply").tone(Tone::Info)])
}

/// The widget's view for these agents.
pub fn view(agents: &[Agent], o: &Options) -> View {
    let v = controls(View::new(), o);
    let mut shown: Vec<&Agent> = agents.iter().filter(|a| o.filter.matches(a)).collect();
    if shown.is_empty() {
        let message = match o.filter.0 {
            None => format!("No agent of {} is signed in.", o.scope),
            Some(state) => format!(
                "No agent of {} is {}.",
                o.scope,
                contact_center::state_label(state).to_lowercase()
            ),
        };
        return v.empty("No agents", Some(message));
    }
    sort_agents(&mut shown, o.sort);
    let total = shown.len();
    shown.truncate(o.max_rows);

    let mut columns = vec!["Agent", "State", "Time in state", "Reason / contacts"];
    if o.allow_state_change {
        columns.push("Action");
    }
    let caption = match o.filter.0 {
        None => format!("Agents of {}", o.scope),
        Some(state) => format!(
            "{} agents of {}",
            contact_center::state_label(state),
            o.scope
        ),
    };
    let mut table = Table::new(columns).caption(caption);
    for agent in &shown {
        let mut row = vec![
            Cell::text(agent.name.clone()),
            Cell::badge(
                contact_center::state_label(agent.state),
                contact_center::state_tone(agent.state),
            ),
            Cell::Since(agent.state_since),
            Cell::text(detail(agent)),
        ];
        if o.allow_state_change {
            row.push(action_cell(agent, o.idle_reason.as_deref()));
        }
        table = table.row(row);
    }
    let v = v.table(table);
    if total > shown.len() {
        v.text(format!(
            "Showing {} of {total} agents; raise `max_rows` to see more.",
            shown.len()
        ))
    } else {
        v
    }
}

/// The widget.
pub struct TeamPerformance;

impl TeamPerformance {
    /// Fetches the data and renders with validated options.
    fn show(ctx: &Context, s: &Settings, mut o: Options) -> Result<View, Error> {
        let teams = resolve_teams(&s.teams, ctx.team.as_deref());
        let agents = contact_center::agents(&teams)?;
        o.scope = describe_teams(&team_names(&teams));
        if o.allow_state_change && agents.iter().any(|a| a.state == AgentState::Available) {
            o.idle_reason = match contact_center::idle_reasons() {
                Ok(reasons) => reasons.into_iter().next(),
                Err(e) => {
                    log::warn(format!(
                        "no idle reasons, so no \"Set idle\": {}",
                        e.message
                    ));
                    None
                }
            };
        }
        Ok(view(&agents, &o))
    }
}

/// Team names for these ids, falling back to the ids.
fn team_names(ids: &[String]) -> Vec<String> {
    if ids.is_empty() {
        return Vec::new();
    }
    let known = contact_center::teams().unwrap_or_default();
    ids.iter()
        .map(|id| {
            known
                .iter()
                .find(|t| &t.id == id)
                .map_or_else(|| id.clone(), |t| t.name.clone())
        })
        .collect()
}

impl Widget for TeamPerformance {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Team performance", env!("CARGO_PKG_VERSION"))
            .description("Agents of the chosen teams, their states and time in state.")
            .setting(
                SettingSpec::text_list(
                    "teams",
                    "Team ids to show. Empty: the viewer's sign-in team, or every team when they picked none.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::text(
                    "sort",
                    "Row order: by name, by state (RONA and idle first), or longest in state first.",
                )
                .choices(SORTS)
                .default_text("state"),
            )
            .setting(
                SettingSpec::text(
                    "state_filter",
                    "Which agents to show: all signed-in agents, or only those in one state.",
                )
                .choices(FILTERS)
                .default_text("all"),
            )
            .setting(
                SettingSpec::boolean(
                    "allow_state_change",
                    "Show buttons to make idle agents available and available agents idle.",
                )
                .default_bool(true),
            )
            .setting(
                SettingSpec::integer("max_rows", "Most agents listed, from 1 to 500.")
                    .default_integer(50),
            )
            .size(8, 8)
            .refresh_seconds(5)
    }

    fn render(ctx: &Context, s: Settings) -> Result<View, Error> {
        let o = Options::from_settings(&s, None, None)?;
        Self::show(ctx, &s, o)
    }

    fn on_action(ctx: &Context, s: Settings, action: Action) -> Result<View, Error> {
        let o = Options::from_settings(&s, action.value("state_filter"), action.value("sort"))?;
        let (agent_id, to) = match parse_action(&action.id)? {
            Command::Apply => return Self::show(ctx, &s, o),
            Command::Available(id) => (id, AgentState::Available),
            Command::Idle(id) => (id, AgentState::Idle),
        };
        if !s.allow_state_change {
            return Err(Error::new(
                "changing agent states is turned off for this widget (`allow_state_change`)",
            ));
        }
        let teams = resolve_teams(&s.teams, ctx.team.as_deref());
        check_change(&contact_center::agents(&teams)?, &agent_id, to)?;
        let reason = match to {
            AgentState::Idle => Some(
                contact_center::idle_reasons()?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::new("the tenant has no idle reason to set"))?,
            ),
            _ => None,
        };
        contact_center::set_agent_state(&agent_id, to, reason.as_deref())?;
        Self::show(ctx, &s, o)
    }
}

deskhost_sdk::export_widget!(TeamPerformance);

#[cfg(test)]
mod tests;
