//! Thin, idiomatic wrappers over what the host provides to plugins.

/// The host's log. Lines are tagged with the plugin and widget ids.
pub mod log {
    use crate::bindings::deskhost::plugin::log::{Level, log};

    /// Logs at debug level.
    pub fn debug(message: impl AsRef<str>) {
        log(Level::Debug, message.as_ref());
    }
    /// Logs at info level.
    pub fn info(message: impl AsRef<str>) {
        log(Level::Info, message.as_ref());
    }
    /// Logs at warn level.
    pub fn warn(message: impl AsRef<str>) {
        log(Level::Warn, message.as_ref());
    }
    /// Logs at error level.
    pub fn error(message: impl AsRef<str>) {
        log(Level::Error, message.as_ref());
    }
}

/// The host's clock.
pub mod clock {
    pub use crate::bindings::deskhost::plugin::clock::LocalTime;

    /// Unix time in milliseconds, from the host.
    pub fn now_ms() -> u64 {
        crate::bindings::deskhost::plugin::clock::now()
    }

    /// The current local time in an IANA time zone (`Europe/Paris`).
    pub fn local_now(time_zone: &str) -> Result<LocalTime, crate::Error> {
        crate::bindings::deskhost::plugin::clock::local_now(time_zone).map_err(crate::Error::new)
    }
}

/// The plugin's private key-value store. Needs the `kv` grant: without it
/// every call returns an error naming the missing grant.
pub mod kv {
    use crate::Error;
    use crate::bindings::deskhost::plugin::kv::{self as raw, KvError};

    fn convert(e: KvError) -> Error {
        Error::new(match e {
            KvError::Denied(m) | KvError::TooLarge(m) | KvError::Store(m) => m,
        })
    }

    /// Reads a value.
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        raw::get(key).map_err(convert)
    }
    /// Writes a value.
    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        raw::set(key, value).map_err(convert)
    }
    /// Removes a value.
    pub fn delete(key: &str) -> Result<(), Error> {
        raw::delete(key).map_err(convert)
    }
}

/// Live contact-center data. Needs the `contact-center` grant (and
/// `agent-control` to change agent states): without it every call returns
/// an error naming the missing grant.
pub mod contact_center {
    use crate::Error;
    use crate::bindings::deskhost::plugin::contact_center as raw;
    pub use raw::{Agent, AgentState, DataError, DayStats, OwnState, Queue, Stats, Task, Team};

    fn convert(e: DataError) -> Error {
        Error::new(match e {
            DataError::Denied(m) | DataError::Unknown(m) | DataError::Unavailable(m) => m,
        })
    }

    /// Agents of these teams (all teams when empty).
    pub fn agents(team_ids: &[String]) -> Result<Vec<Agent>, Error> {
        raw::agents(team_ids).map_err(convert)
    }
    /// All teams.
    pub fn teams() -> Result<Vec<Team>, Error> {
        raw::teams().map_err(convert)
    }
    /// All queues.
    pub fn queues() -> Result<Vec<Queue>, Error> {
        raw::queues().map_err(convert)
    }
    /// Today and yesterday for a team; `""` for the whole contact center.
    pub fn team_stats(team_id: &str) -> Result<Stats, Error> {
        raw::team_stats(team_id).map_err(convert)
    }
    /// Today and yesterday for a queue.
    pub fn queue_stats(queue_id: &str) -> Result<Stats, Error> {
        raw::queue_stats(queue_id).map_err(convert)
    }
    /// The viewing user's own agent state and tasks, if they do agent work.
    pub fn my_state() -> Result<Option<OwnState>, Error> {
        raw::my_state().map_err(convert)
    }
    /// The tenant's idle reason codes.
    pub fn idle_reasons() -> Result<Vec<String>, Error> {
        raw::idle_reasons().map_err(convert)
    }
    /// Sets an agent's state to available, or idle with a reason. Needs
    /// the `agent-control` grant.
    pub fn set_agent_state(
        agent_id: &str,
        state: AgentState,
        idle_reason: Option<&str>,
    ) -> Result<(), Error> {
        raw::set_agent_state(agent_id, state, idle_reason).map_err(convert)
    }

    /// The teams a widget shows: the ones its settings name, else the
    /// viewer's sign-in team, else all (an empty list, as `agents` takes it).
    pub fn resolve_teams(configured: &[String], viewer_team: Option<&str>) -> Vec<String> {
        if !configured.is_empty() {
            return configured.to_vec();
        }
        match viewer_team {
            Some(t) if !t.is_empty() => vec![t.to_string()],
            _ => Vec::new(),
        }
    }

    /// A human label for a state.
    pub fn state_label(state: AgentState) -> &'static str {
        match state {
            AgentState::Available => "Available",
            AgentState::Idle => "Idle",
            AgentState::Engaged => "Engaged",
            AgentState::WrapUp => "Wrap-up",
            AgentState::Rona => "RONA",
            AgentState::Offline => "Offline",
        }
    }

    /// The tone a state is shown in.
    pub fn state_tone(state: AgentState) -> crate::Tone {
        match state {
            AgentState::Available => crate::Tone::Success,
            AgentState::Idle => crate::Tone::Warning,
            AgentState::Engaged => crate::Tone::Info,
            AgentState::WrapUp => crate::Tone::Neutral,
            AgentState::Rona => crate::Tone::Danger,
            AgentState::Offline => crate::Tone::Neutral,
        }
    }
}

/// Sending e-mail through the host (identity providers). Needs the `mail`
/// grant: without it every call returns an error naming the missing grant.
pub mod mail {
    use crate::identity::bindings::deskhost::plugin::mail::{Message, send as raw_send};

    /// Queues a plain-text message for delivery.
    pub fn send(to: &str, subject: &str, body: &str) -> Result<(), crate::Error> {
        raw_send(&Message {
            to: to.to_owned(),
            subject: subject.to_owned(),
            body: body.to_owned(),
        })
        .map_err(crate::Error::new)
    }
}
