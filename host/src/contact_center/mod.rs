//! Contact-center data: the [`ContactCenter`] trait that widgets read
//! through the `contact-center` capability, and its embedded default, the
//! seedable [`Simulator`]. A connector to a real contact-center backend
//! implements the same trait.
//!
//! The types mirror the `contact-center` interface of the widget WIT
//! (`sdk/wit/widget.wit`); the host converts them to the WIT types. Times
//! are Unix time in milliseconds.

mod sim;

use std::fmt;

use serde::Serialize;
use thiserror::Error;

pub use sim::Simulator;

/// An agent's availability state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    /// Ready for an offer.
    Available,
    /// Not taking offers, with a reason code.
    Idle,
    /// Handling a contact.
    Engaged,
    /// After-contact work.
    WrapUp,
    /// Set by the system after an offer went unanswered (redirect on no
    /// answer).
    Rona,
    /// Not signed in.
    Offline,
}

impl AgentState {
    /// Every state, in declaration order.
    pub const ALL: [AgentState; 6] = [
        AgentState::Available,
        AgentState::Idle,
        AgentState::Engaged,
        AgentState::WrapUp,
        AgentState::Rona,
        AgentState::Offline,
    ];

    /// The state's name as in the WIT: `available`, `idle`, `engaged`,
    /// `wrap-up`, `rona` or `offline` (also its serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Available => "available",
            AgentState::Idle => "idle",
            AgentState::Engaged => "engaged",
            AgentState::WrapUp => "wrap-up",
            AgentState::Rona => "rona",
            AgentState::Offline => "offline",
        }
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agent {
    /// Agent id, such as `agent-07`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Id of the agent's team.
    pub team_id: String,
    /// Current state.
    pub state: AgentState,
    /// Unix time in ms when the current state began.
    pub state_since_ms: u64,
    /// The idle reason code, when idle.
    pub idle_reason: Option<String>,
    /// Contacts the agent is handling now.
    pub active_contacts: u32,
    /// The desktop user this agent is, if any.
    pub user_id: Option<String>,
}

/// A team of agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    /// Team id, such as `sales`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Agents in the team, signed in or not.
    pub agent_count: u32,
}

/// A queue of contacts waiting for an agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queue {
    /// Queue id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Teams that take this queue's contacts.
    pub team_ids: Vec<String>,
    /// Contacts waiting now (including those being offered to an agent).
    pub waiting: u32,
    /// Age of the oldest waiting contact, in seconds (0 when none waits).
    pub longest_wait_seconds: u32,
    /// Today's share of answered contacts answered within
    /// `target_seconds`, 0 to 1 (1 when nothing was answered yet).
    pub service_level: f64,
    /// The goal for `service_level`, 0 to 1 (such as 0.8).
    pub service_level_goal: f64,
    /// The answer-time target, in seconds (such as 20).
    pub target_seconds: u32,
}

/// Figures for one day, up to the current time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DayStats {
    /// Contacts that arrived.
    pub offered: u32,
    /// Contacts handled to the end of wrap-up.
    pub handled: u32,
    /// Contacts that hung up or left while waiting.
    pub abandoned: u32,
    /// Average handle time (talk plus wrap-up) of the handled contacts,
    /// in seconds; 0 when none was handled.
    pub average_handle_seconds: u32,
}

/// Today against yesterday at the same time of day, for trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    /// Today so far.
    pub today: DayStats,
    /// Yesterday up to the same time of day.
    pub yesterday: DayStats,
}

/// A contact an agent is working on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// `voice`, `chat` or `email`.
    pub channel: String,
    /// The queue the contact came from.
    pub queue_id: String,
    /// Unix time in ms when the task was accepted.
    pub since_ms: u64,
    /// True during wrap-up.
    pub wrap_up: bool,
}

/// A desktop user's own agent state and tasks, when the user is an agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnState {
    /// Current state.
    pub state: AgentState,
    /// Unix time in ms when the state began.
    pub since_ms: u64,
    /// The idle reason code, when idle.
    pub idle_reason: Option<String>,
    /// Contacts in progress (talking or wrapping up).
    pub tasks: Vec<Task>,
}

/// Why a data call failed. The message is meant for people.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum DataError {
    /// No such team, queue or agent.
    #[error("{0}")]
    Unknown(String),
    /// The change is not allowed now, or not at all.
    #[error("{0}")]
    Refused(String),
    /// The backend cannot answer now.
    #[error("contact-center data unavailable: {0}")]
    Unavailable(String),
}

/// A source of contact-center data.
///
/// Implementations are shared between threads: calls take `&self`.
pub trait ContactCenter: Send + Sync {
    /// Agents of these teams, in a stable order; all agents when
    /// `team_ids` is empty. An unknown team id fails with
    /// [`DataError::Unknown`].
    fn agents(&self, team_ids: &[String]) -> Result<Vec<Agent>, DataError>;
    /// All teams.
    fn teams(&self) -> Result<Vec<Team>, DataError>;
    /// All queues, with their live figures.
    fn queues(&self) -> Result<Vec<Queue>, DataError>;
    /// A team's figures; `""` for the whole contact center.
    fn team_stats(&self, team_id: &str) -> Result<Stats, DataError>;
    /// A queue's figures.
    fn queue_stats(&self, queue_id: &str) -> Result<Stats, DataError>;
    /// A desktop user's own agent state and tasks; `None` when that user
    /// is not an agent.
    fn own_state(&self, user_id: &str) -> Result<Option<OwnState>, DataError>;
    /// The tenant's idle reason codes, for setting an agent idle.
    fn idle_reasons(&self) -> Result<Vec<String>, DataError>;
    /// Sets an agent [`AgentState::Available`], or [`AgentState::Idle`]
    /// with a reason from [`ContactCenter::idle_reasons`]. Any other target
    /// state, and any change of an agent who is engaged or in wrap-up,
    /// fails with [`DataError::Refused`]; an unknown agent with
    /// [`DataError::Unknown`].
    fn set_agent_state(
        &self,
        agent_id: &str,
        state: AgentState,
        idle_reason: Option<&str>,
    ) -> Result<(), DataError>;
    /// A counter that increases whenever the data changes, so callers can
    /// skip re-reading unchanged data.
    fn version(&self) -> u64;
    /// Signs desktop user `user_id` in as an agent of team `team_id`: the
    /// user becomes one of the team's agents (the one they were before, if
    /// it is in that team), in the Idle state, and is returned its id.
    /// Fails with [`DataError::Unknown`] for an unknown team and
    /// [`DataError::Unavailable`] when the team has no free agent seat.
    fn sign_in_agent(&self, user_id: &str, team_id: &str) -> Result<String, DataError>;
    /// Signs a desktop user out as an agent: their agent goes offline and
    /// is no longer theirs. Nothing happens for a user who is not an agent.
    fn sign_out_agent(&self, user_id: &str) -> Result<(), DataError>;
    /// Puts a desktop user's agent in RONA, where it stays until the user
    /// picks another state (a desktop-telephony failure after sign-in).
    fn set_rona(&self, user_id: &str) -> Result<(), DataError>;
}
