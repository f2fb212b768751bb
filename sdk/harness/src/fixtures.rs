//! Contact-center data from plain values: [`Fixtures`] implements the
//! host's [`ContactCenter`] trait, so a widget under test reads exactly the
//! agents, queues and figures a test gives it, through the real host
//! imports.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use deskhost::contact_center::{
    Agent, AgentState, ContactCenter, DataError, DayStats, OwnState, Queue, Stats, Team,
};

/// The harness's default clock: Friday 27 November 2026, 09:30:00 UTC.
pub const DEFAULT_NOW_MS: u64 = 1_795_771_800_000;

/// How long a fixture agent has been in its state unless told otherwise.
const DEFAULT_TIME_IN_STATE_MS: u64 = 5 * 60 * 1000;

/// When an agent's state began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Since {
    /// This long before the fixtures' clock, in ms.
    Ago(u64),
    /// At this Unix time in ms.
    At(u64),
}

/// An agent for [`Fixtures::agent`]; make one with [`agent`].
#[derive(Debug, Clone, PartialEq)]
pub struct AgentFixture {
    id: String,
    name: String,
    team_id: String,
    state: AgentState,
    since: Since,
    idle_reason: Option<String>,
    active_contacts: u32,
    user_id: Option<String>,
}

/// An agent of team `team_id`, available for the last 5 minutes, with no
/// contact and no desktop user. The team need not be declared with
/// [`Fixtures::team`] (it is then named by its id).
pub fn agent(id: &str, name: &str, team_id: &str) -> AgentFixture {
    AgentFixture {
        id: id.into(),
        name: name.into(),
        team_id: team_id.into(),
        state: AgentState::Available,
        since: Since::Ago(DEFAULT_TIME_IN_STATE_MS),
        idle_reason: None,
        active_contacts: 0,
        user_id: None,
    }
}

impl AgentFixture {
    /// In `state` (keeps the idle reason and contacts as they are).
    pub fn state(mut self, state: AgentState) -> Self {
        self.state = state;
        self
    }

    /// Available, with no contact.
    pub fn available(self) -> Self {
        self.state(AgentState::Available).contacts(0).reason(None)
    }

    /// Idle with this reason code.
    pub fn idle(self, reason: &str) -> Self {
        self.state(AgentState::Idle)
            .contacts(0)
            .reason(Some(reason.into()))
    }

    /// Engaged with `contacts` contacts.
    pub fn engaged(self, contacts: u32) -> Self {
        self.state(AgentState::Engaged)
            .contacts(contacts)
            .reason(None)
    }

    /// In wrap-up after one contact.
    pub fn wrap_up(self) -> Self {
        self.state(AgentState::WrapUp).contacts(1).reason(None)
    }

    /// In RONA (an offer went unanswered).
    pub fn rona(self) -> Self {
        self.state(AgentState::Rona).contacts(0).reason(None)
    }

    /// Not signed in.
    pub fn offline(self) -> Self {
        self.state(AgentState::Offline).contacts(0).reason(None)
    }

    /// Handling `n` contacts.
    pub fn contacts(mut self, n: u32) -> Self {
        self.active_contacts = n;
        self
    }

    fn reason(mut self, reason: Option<String>) -> Self {
        self.idle_reason = reason;
        self
    }

    /// In its state since this Unix time in ms.
    pub fn since_ms(mut self, ms: u64) -> Self {
        self.since = Since::At(ms);
        self
    }

    /// In its state for the last `secs` seconds of the harness's clock.
    pub fn for_secs(mut self, secs: u64) -> Self {
        self.since = Since::Ago(secs * 1000);
        self
    }

    /// The desktop user this agent is.
    pub fn user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    fn to_agent(&self, now_ms: u64) -> Agent {
        Agent {
            id: self.id.clone(),
            name: self.name.clone(),
            team_id: self.team_id.clone(),
            state: self.state,
            state_since_ms: match self.since {
                Since::Ago(ms) => now_ms.saturating_sub(ms),
                Since::At(ms) => ms,
            },
            idle_reason: self.idle_reason.clone(),
            active_contacts: self.active_contacts,
            user_id: self.user_id.clone(),
        }
    }
}

/// A queue for [`Fixtures::queue`]; make one with [`queue`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueueFixture(Queue);

/// A queue with nobody waiting, served by no team, at a service level of
/// 100% against a goal of 80% within 20 seconds.
pub fn queue(id: &str, name: &str) -> QueueFixture {
    QueueFixture(Queue {
        id: id.into(),
        name: name.into(),
        team_ids: Vec::new(),
        waiting: 0,
        longest_wait_seconds: 0,
        service_level: 1.0,
        service_level_goal: 0.8,
        target_seconds: 20,
    })
}

impl QueueFixture {
    /// Served by these teams.
    pub fn teams<S: Into<String>>(mut self, team_ids: impl IntoIterator<Item = S>) -> Self {
        self.0.team_ids = team_ids.into_iter().map(Into::into).collect();
        self
    }

    /// `n` contacts waiting now.
    pub fn waiting(mut self, n: u32) -> Self {
        self.0.waiting = n;
        self
    }

    /// The oldest waiting contact has waited `secs` seconds.
    pub fn longest_wait(mut self, secs: u32) -> Self {
        self.0.longest_wait_seconds = secs;
        self
    }

    /// Today's service level, 0 to 1.
    pub fn service_level(mut self, level: f64) -> Self {
        self.0.service_level = level;
        self
    }

    /// The service level goal, 0 to 1.
    pub fn goal(mut self, goal: f64) -> Self {
        self.0.service_level_goal = goal;
        self
    }

    /// The answer-time target in seconds.
    pub fn target_seconds(mut self, secs: u32) -> Self {
        self.0.target_seconds = secs;
        self
    }
}

/// One day's figures: contacts offered, handled and abandoned, and the
/// average handle time in seconds.
pub fn day(offered: u32, handled: u32, abandoned: u32, average_handle_seconds: u32) -> DayStats {
    DayStats {
        offered,
        handled,
        abandoned,
        average_handle_seconds,
    }
}

/// An agent state change a widget asked the contact center for, whether it
/// was accepted or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The agent.
    pub agent_id: String,
    /// The state asked for.
    pub state: AgentState,
    /// The idle reason given.
    pub idle_reason: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Data {
    teams: Vec<(String, String)>,
    agents: Vec<AgentFixture>,
    queues: Vec<Queue>,
    center: Option<Stats>,
    team_stats: BTreeMap<String, Stats>,
    queue_stats: BTreeMap<String, Stats>,
    own: Option<OwnState>,
    idle_reasons: Vec<String>,
    unavailable: Option<String>,
    changes: Vec<StateChange>,
}

/// A contact center made of plain data, for a [`Harness`](crate::Harness).
///
/// Build it with the methods below, then hand it to
/// [`HarnessBuilder::fixtures`](crate::HarnessBuilder::fixtures). It follows
/// the rules of the host's `ContactCenter` trait: agents come in the order
/// added; an unknown team, queue or agent is [`DataError::Unknown`]; only
/// Available and Idle (with a reason from the idle reasons) may be set, and
/// never on an engaged or wrapping-up agent. Accepted changes apply, so a
/// later render shows them; every change asked for is recorded
/// ([`Fixtures::state_changes`]).
#[derive(Debug)]
pub struct Fixtures {
    data: Mutex<Data>,
    now_ms: AtomicU64,
    version: AtomicU64,
}

impl Default for Fixtures {
    fn default() -> Self {
        Fixtures::new()
    }
}

impl Clone for Fixtures {
    fn clone(&self) -> Self {
        Fixtures {
            data: Mutex::new(self.lock().clone()),
            now_ms: AtomicU64::new(self.now_ms.load(Ordering::Relaxed)),
            version: AtomicU64::new(self.version.load(Ordering::Relaxed)),
        }
    }
}

impl Fixtures {
    /// An empty contact center: no team, agent or queue, all figures zero,
    /// the idle reasons `Break`, `Lunch` and `Training`, and no own state
    /// for the viewer.
    pub fn new() -> Self {
        Fixtures {
            data: Mutex::new(Data {
                idle_reasons: ["Break", "Lunch", "Training"].map(String::from).to_vec(),
                ..Data::default()
            }),
            now_ms: AtomicU64::new(DEFAULT_NOW_MS),
            version: AtomicU64::new(1),
        }
    }

    /// A small contact center, for widgets that need some of everything:
    ///
    /// | agent | team | state |
    /// |---|---|---|
    /// | `a1` Ana Lima | `sales` | available, 5 min |
    /// | `a2` Ben Okafor | `sales` | idle (`Lunch`), 12 min |
    /// | `a3` Chloé Martin | `sales` | engaged, 1 contact, 3 min |
    /// | `a4` Dev Patel | `sales` | offline |
    /// | `a5` Eva Novak | `support` | wrap-up, 1 min |
    /// | `a6` Femi Adeyemi | `support` | RONA, 30 s |
    /// | `a7` Gus Berg | `support` | available, 20 min |
    ///
    /// Teams `sales` (Sales) and `support` (Support). Queues `sales-voice`
    /// (Sales voice, team `sales`: 3 waiting, longest 95 s, service level
    /// 72% against 80% in 20 s) and `support-chat` (Support chat, team
    /// `support`: none waiting, 91% against 80% in 60 s). Today against
    /// yesterday (offered, handled, abandoned, average handle seconds):
    /// `sales` 80/70/8/290 against 70/66/3/300, `support` 60/50/4/340
    /// against 60/52/5/280, each queue as its team, and the whole center
    /// their sum.
    pub fn sample() -> Self {
        let sales = (day(80, 70, 8, 290), day(70, 66, 3, 300));
        let support = (day(60, 50, 4, 340), day(60, 52, 5, 280));
        Fixtures::new()
            .team("sales", "Sales")
            .team("support", "Support")
            .agent(agent("a1", "Ana Lima", "sales"))
            .agent(
                agent("a2", "Ben Okafor", "sales")
                    .idle("Lunch")
                    .for_secs(720),
            )
            .agent(
                agent("a3", "Chloé Martin", "sales")
                    .engaged(1)
                    .for_secs(180),
            )
            .agent(agent("a4", "Dev Patel", "sales").offline().for_secs(3600))
            .agent(agent("a5", "Eva Novak", "support").wrap_up().for_secs(60))
            .agent(agent("a6", "Femi Adeyemi", "support").rona().for_secs(30))
            .agent(agent("a7", "Gus Berg", "support").for_secs(1200))
            .queue(
                queue("sales-voice", "Sales voice")
                    .teams(["sales"])
                    .waiting(3)
                    .longest_wait(95)
                    .service_level(0.72),
            )
            .queue(
                queue("support-chat", "Support chat")
                    .teams(["support"])
                    .service_level(0.91)
                    .target_seconds(60),
            )
            .team_stats("sales", sales.0, sales.1)
            .team_stats("support", support.0, support.1)
            .queue_stats("sales-voice", sales.0, sales.1)
            .queue_stats("support-chat", support.0, support.1)
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with(self, f: impl FnOnce(&mut Data)) -> Self {
        f(&mut self.lock());
        self
    }

    /// Adds (or renames) team `id`.
    pub fn team(self, id: &str, name: &str) -> Self {
        self.with(|d| match d.teams.iter_mut().find(|(t, _)| t == id) {
            Some(team) => team.1 = name.into(),
            None => d.teams.push((id.into(), name.into())),
        })
    }

    /// Adds an agent (replacing one with the same id).
    pub fn agent(self, agent: AgentFixture) -> Self {
        self.with(|d| {
            if !d.teams.iter().any(|(t, _)| *t == agent.team_id) {
                d.teams.push((agent.team_id.clone(), agent.team_id.clone()));
            }
            match d.agents.iter_mut().find(|a| a.id == agent.id) {
                Some(a) => *a = agent,
                None => d.agents.push(agent),
            }
        })
    }

    /// Adds a queue (replacing one with the same id).
    pub fn queue(self, queue: QueueFixture) -> Self {
        self.with(|d| match d.queues.iter_mut().find(|q| q.id == queue.0.id) {
            Some(q) => *q = queue.0,
            None => d.queues.push(queue.0),
        })
    }

    /// The whole contact center's figures (`team-stats("")`). Without them
    /// they are the sum of the teams' figures.
    pub fn center_stats(self, today: DayStats, yesterday: DayStats) -> Self {
        self.with(|d| d.center = Some(Stats { today, yesterday }))
    }

    /// Team `team_id`'s figures (zero when not given). Declares the team
    /// if needed.
    pub fn team_stats(self, team_id: &str, today: DayStats, yesterday: DayStats) -> Self {
        self.with(|d| {
            if !d.teams.iter().any(|(t, _)| t == team_id) {
                d.teams.push((team_id.into(), team_id.into()));
            }
            d.team_stats
                .insert(team_id.into(), Stats { today, yesterday });
        })
    }

    /// Queue `queue_id`'s figures (zero when not given).
    pub fn queue_stats(self, queue_id: &str, today: DayStats, yesterday: DayStats) -> Self {
        self.with(|d| {
            d.queue_stats
                .insert(queue_id.into(), Stats { today, yesterday });
        })
    }

    /// The tenant's idle reason codes, in order.
    pub fn idle_reasons<S: Into<String>>(self, reasons: impl IntoIterator<Item = S>) -> Self {
        let reasons = reasons.into_iter().map(Into::into).collect();
        self.with(|d| d.idle_reasons = reasons)
    }

    /// The viewer's own agent state and tasks (`my-state`), whoever views.
    pub fn own_state(self, own: OwnState) -> Self {
        self.with(|d| d.own = Some(own))
    }

    /// Makes every call fail with [`DataError::Unavailable`] and this
    /// message, as a backend that is down would.
    pub fn unavailable(self, message: &str) -> Self {
        self.with(|d| d.unavailable = Some(message.into()))
    }

    /// Every state change asked for so far, in order, accepted or not.
    pub fn state_changes(&self) -> Vec<StateChange> {
        self.lock().changes.clone()
    }

    /// Agent `id`'s current state.
    pub fn agent_state(&self, id: &str) -> Option<AgentState> {
        self.lock()
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.state)
    }

    /// Agent `id` as widgets read it now.
    pub fn agent_now(&self, id: &str) -> Option<Agent> {
        let now = self.now_ms();
        self.lock()
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.to_agent(now))
    }

    /// The clock relative times ([`AgentFixture::for_secs`]) count from;
    /// the harness keeps it on its own clock.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn set_now_ms(&self, ms: u64) {
        self.now_ms.store(ms, Ordering::Relaxed);
    }

    /// Applies `f` to the data after the harness is built (a change the
    /// next render should see) and counts it as a data change.
    fn update<T>(&self, f: impl FnOnce(&mut Data) -> T) -> T {
        let out = f(&mut self.lock());
        self.version.fetch_add(1, Ordering::Relaxed);
        out
    }

    /// Adds or replaces an agent after the harness is built.
    pub fn put_agent(&self, agent: AgentFixture) {
        self.update(|d| match d.agents.iter_mut().find(|a| a.id == agent.id) {
            Some(a) => *a = agent,
            None => d.agents.push(agent),
        })
    }

    /// Adds or replaces a queue after the harness is built.
    pub fn put_queue(&self, queue: QueueFixture) {
        self.update(|d| match d.queues.iter_mut().find(|q| q.id == queue.0.id) {
            Some(q) => *q = queue.0,
            None => d.queues.push(queue.0),
        })
    }

    /// Turns the backend's unavailability on (with a message) or off after
    /// the harness is built.
    pub fn set_unavailable(&self, message: Option<&str>) {
        self.update(|d| d.unavailable = message.map(String::from))
    }

    fn read(&self) -> Result<MutexGuard<'_, Data>, DataError> {
        let d = self.lock();
        match &d.unavailable {
            Some(m) => Err(DataError::Unavailable(m.clone())),
            None => Ok(d),
        }
    }
}

fn sum(stats: &[&Stats]) -> Stats {
    fn add(days: impl Iterator<Item = DayStats>) -> DayStats {
        let mut total = DayStats::default();
        let mut handle_seconds = 0u64;
        for d in days {
            total.offered += d.offered;
            total.handled += d.handled;
            total.abandoned += d.abandoned;
            handle_seconds += u64::from(d.handled) * u64::from(d.average_handle_seconds);
        }
        if total.handled > 0 {
            total.average_handle_seconds = (handle_seconds / u64::from(total.handled)) as u32;
        }
        total
    }
    Stats {
        today: add(stats.iter().map(|s| s.today)),
        yesterday: add(stats.iter().map(|s| s.yesterday)),
    }
}

impl ContactCenter for Fixtures {
    fn agents(&self, team_ids: &[String]) -> Result<Vec<Agent>, DataError> {
        let d = self.read()?;
        if let Some(t) = team_ids
            .iter()
            .find(|t| !d.teams.iter().any(|(id, _)| id == *t))
        {
            return Err(DataError::Unknown(format!("no team `{t}`")));
        }
        let now = self.now_ms();
        Ok(d.agents
            .iter()
            .filter(|a| team_ids.is_empty() || team_ids.contains(&a.team_id))
            .map(|a| a.to_agent(now))
            .collect())
    }

    fn teams(&self) -> Result<Vec<Team>, DataError> {
        let d = self.read()?;
        Ok(d.teams
            .iter()
            .map(|(id, name)| Team {
                id: id.clone(),
                name: name.clone(),
                agent_count: d.agents.iter().filter(|a| a.team_id == *id).count() as u32,
            })
            .collect())
    }

    fn queues(&self) -> Result<Vec<Queue>, DataError> {
        Ok(self.read()?.queues.clone())
    }

    fn team_stats(&self, team_id: &str) -> Result<Stats, DataError> {
        let d = self.read()?;
        if team_id.is_empty() {
            return Ok(d
                .center
                .unwrap_or_else(|| sum(&d.team_stats.values().collect::<Vec<_>>())));
        }
        if !d.teams.iter().any(|(id, _)| id == team_id) {
            return Err(DataError::Unknown(format!("no team `{team_id}`")));
        }
        Ok(d.team_stats.get(team_id).copied().unwrap_or_default())
    }

    fn queue_stats(&self, queue_id: &str) -> Result<Stats, DataError> {
        let d = self.read()?;
        if !d.queues.iter().any(|q| q.id == queue_id) {
            return Err(DataError::Unknown(format!("no queue `{queue_id}`")));
        }
        Ok(d.queue_stats.get(queue_id).copied().unwrap_or_default())
    }

    fn own_state(&self, _user_id: &str) -> Result<Option<OwnState>, DataError> {
        Ok(self.read()?.own.clone())
    }

    fn idle_reasons(&self) -> Result<Vec<String>, DataError> {
        Ok(self.read()?.idle_reasons.clone())
    }

    fn set_agent_state(
        &self,
        agent_id: &str,
        state: AgentState,
        idle_reason: Option<&str>,
    ) -> Result<(), DataError> {
        let now = self.now_ms();
        self.update(|d| {
            d.changes.push(StateChange {
                agent_id: agent_id.into(),
                state,
                idle_reason: idle_reason.map(String::from),
            });
            if let Some(m) = &d.unavailable {
                return Err(DataError::Unavailable(m.clone()));
            }
            let reasons = d.idle_reasons.clone();
            let a = d
                .agents
                .iter_mut()
                .find(|a| a.id == agent_id)
                .ok_or_else(|| DataError::Unknown(format!("no agent `{agent_id}`")))?;
            if matches!(a.state, AgentState::Engaged | AgentState::WrapUp) {
                return Err(DataError::Refused(format!(
                    "{} is {} and cannot change state now",
                    a.name, a.state
                )));
            }
            a.idle_reason = match (state, idle_reason) {
                (AgentState::Available, _) => None,
                (AgentState::Idle, Some(r)) if reasons.iter().any(|x| x == r) => Some(r.into()),
                (AgentState::Idle, r) => {
                    return Err(DataError::Refused(format!(
                        "`{}` is not an idle reason (known: {})",
                        r.unwrap_or(""),
                        reasons.join(", ")
                    )));
                }
                (other, _) => {
                    return Err(DataError::Refused(format!(
                        "an agent cannot be set {other}"
                    )));
                }
            };
            a.state = state;
            a.since = Since::At(now);
            Ok(())
        })
    }

    fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    fn sign_in_agent(&self, _user_id: &str, _team_id: &str) -> Result<String, DataError> {
        Err(DataError::Refused(
            "fixtures do not sign desktop users in as agents".into(),
        ))
    }

    fn sign_out_agent(&self, _user_id: &str) -> Result<(), DataError> {
        Ok(())
    }

    fn set_rona(&self, _user_id: &str) -> Result<(), DataError> {
        Err(DataError::Refused("fixtures do not set RONA".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_figures_add_up_and_relative_times_follow_the_clock() {
        let f = Fixtures::sample();
        let center = ContactCenter::team_stats(&f, "").unwrap();
        assert_eq!(center.today, day(140, 120, 12, 310));
        assert_eq!(f.agents(&["support".into()]).unwrap().len(), 3);
        assert_eq!(f.teams().unwrap()[0].agent_count, 4);
        assert!(matches!(
            f.agents(&["nope".into()]),
            Err(DataError::Unknown(_))
        ));
        let ben = f.agent_now("a2").unwrap();
        assert_eq!(ben.state_since_ms, DEFAULT_NOW_MS - 720_000);
        f.set_now_ms(DEFAULT_NOW_MS + 1000);
        assert_eq!(
            f.agent_now("a2").unwrap().state_since_ms,
            DEFAULT_NOW_MS - 719_000
        );
    }

    #[test]
    fn state_changes_are_checked_applied_and_recorded() {
        let f = Fixtures::sample();
        let v = f.version();
        f.set_agent_state("a2", AgentState::Available, None)
            .unwrap();
        assert_eq!(f.agent_state("a2"), Some(AgentState::Available));
        assert!(f.version() > v);
        assert!(matches!(
            f.set_agent_state("a3", AgentState::Idle, Some("Lunch")),
            Err(DataError::Refused(_))
        ));
        assert!(matches!(
            f.set_agent_state("a1", AgentState::Idle, Some("Nap")),
            Err(DataError::Refused(_))
        ));
        f.set_agent_state("a1", AgentState::Idle, Some("Break"))
            .unwrap();
        assert_eq!(f.state_changes().len(), 4);
        assert_eq!(
            f.state_changes()[3],
            StateChange {
                agent_id: "a1".into(),
                state: AgentState::Idle,
                idle_reason: Some("Break".into())
            }
        );
        f.set_unavailable(Some("down"));
        assert!(matches!(f.queues(), Err(DataError::Unavailable(_))));
    }
}
