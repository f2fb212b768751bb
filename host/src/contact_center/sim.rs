//! The embedded contact-center simulator: a deterministic, seedable model
//! of a small contact center that the host drives with the wall clock.
//!
//! Model, in fixed steps of one second:
//!
//! - **Arrivals.** Each queue receives contacts at a rate that follows a
//!   day curve on the UTC time of day (quiet at night, peaks mid-morning
//!   and early afternoon), drawn as a Poisson count per step. A contact has
//!   a channel (voice, chat, email), a patience, and a team it is routed to
//!   (drawn from the queue's team shares); after 15 s of waiting it
//!   overflows to every team of the queue. Team figures count the contacts
//!   routed to the team.
//! - **Routing.** The oldest waiting contacts are offered to the agent of
//!   an eligible team who has been available longest. The agent answers
//!   within a few seconds or, rarely, not at all: after 10 s
//!   the agent goes RONA and the contact returns to its queue.
//! - **Handling.** Engaged for a channel-dependent handle time, then
//!   wrap-up, then available again (sometimes idle).
//! - **Availability.** Available agents sometimes go idle with a reason or
//!   sign out; idle and signed-out agents come back after a while. Agents
//!   linked to a desktop user are left to that user: the simulator never
//!   makes them idle or signed out, nor brings them back.
//! - **Abandons.** Voice and chat contacts leave after their patience
//!   runs out.
//!
//! Figures: today's counters are simulated; when the simulator starts, and
//! when [`Simulator::advance_to`] skips time it does not simulate, the
//! missing part of today is filled with synthetic figures. Yesterday's
//! figures are synthetic too: derived from the seed and the day, scaled by
//! the share of the day curve elapsed at the current time of day, so that
//! today-versus-yesterday trends are meaningful.
//!
//! Determinism: all randomness comes from one seeded ChaCha8 generator, so
//! the same seed, start time and sequence of calls give the same state.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

use super::{
    Agent, AgentState, ContactCenter, DataError, DayStats, OwnState, Queue, Stats, Task, Team,
};

/// Length of one simulation step.
const STEP_MS: u64 = 1_000;
/// One day.
const DAY_MS: u64 = 86_400_000;
/// Most steps one [`Simulator::advance_to`] call simulates (one hour);
/// older time is skipped.
const MAX_CATCH_UP_STEPS: u64 = 3_600;
/// Time simulated before the start time, so the center is busy from the
/// first look.
const WARM_UP_MS: u64 = 10 * 60 * 1_000;
/// An offer not answered within this time makes the agent RONA.
const RING_TIMEOUT_MS: u64 = 10_000;
/// A contact waiting this long is offered to every team of its queue.
const OVERFLOW_MS: u64 = 15_000;
/// Chance that an agent does not answer an offer.
const NO_ANSWER_CHANCE: f64 = 0.03;
/// Per-second chance that an available agent goes idle.
const GO_IDLE_CHANCE: f64 = 1.0 / 5_400.0;
/// Per-second chance that an available agent signs out.
const SIGN_OUT_CHANCE: f64 = 1.0 / 28_800.0;
/// Chance that an agent goes idle rather than available after wrap-up.
const IDLE_AFTER_WRAP_CHANCE: f64 = 0.06;
/// Service-level goal of every queue.
const SERVICE_LEVEL_GOAL: f64 = 0.8;
/// Answer-time target of every queue, seconds.
const TARGET_SECONDS: u32 = 20;
/// The idle reason codes, with their weight and duration range in minutes.
const IDLE_REASONS: [(&str, f64, (u64, u64)); 5] = [
    ("Break", 0.45, (5, 15)),
    ("Lunch", 0.15, (30, 60)),
    ("Meeting", 0.12, (15, 45)),
    ("Training", 0.10, (30, 90)),
    ("Coaching", 0.18, (10, 30)),
];
/// The idle reason the system sets after a RONA. Not settable by users.
const MISSED_OFFER: &str = "Missed offer";

/// A team: id, name, number of agents.
const TEAMS: [(&str, &str, usize); 4] = [
    ("sales", "Sales", 14),
    ("support", "Support", 16),
    ("billing", "Billing", 10),
    ("retention", "Retention", 8),
];

/// A queue's fixed definition.
struct QueueDef {
    id: &'static str,
    name: &'static str,
    /// Team ids with the share of contacts routed to each (summing to 1).
    teams: &'static [(&'static str, f64)],
    /// Arrivals per hour at the top of the day curve.
    peak_per_hour: f64,
    /// Channels with their share of arrivals.
    channels: &'static [(Channel, f64)],
}

static QUEUES: [QueueDef; 4] = [
    QueueDef {
        id: "new-business",
        name: "New Business",
        teams: &[("sales", 1.0)],
        peak_per_hour: 90.0,
        channels: &[(Channel::Voice, 0.75), (Channel::Chat, 0.25)],
    },
    QueueDef {
        id: "tech-support",
        name: "Technical Support",
        teams: &[("support", 1.0)],
        peak_per_hour: 120.0,
        channels: &[
            (Channel::Voice, 0.5),
            (Channel::Chat, 0.35),
            (Channel::Email, 0.15),
        ],
    },
    QueueDef {
        id: "billing-enquiries",
        name: "Billing Enquiries",
        teams: &[("billing", 0.7), ("support", 0.3)],
        peak_per_hour: 75.0,
        channels: &[(Channel::Voice, 0.6), (Channel::Email, 0.4)],
    },
    QueueDef {
        id: "cancellations",
        name: "Cancellations",
        teams: &[("retention", 0.75), ("sales", 0.25)],
        peak_per_hour: 50.0,
        channels: &[(Channel::Voice, 0.9), (Channel::Chat, 0.1)],
    },
];

const FIRST_NAMES: [&str; 60] = [
    "Olivia", "Liam", "Amara", "Noah", "Sofia", "Mateo", "Priya", "Ethan", "Chloé", "Lucas",
    "Aisha", "Daniel", "Mei", "Samuel", "Fatima", "Jonas", "Isabel", "Kwame", "Hannah", "Diego",
    "Yuki", "Oliver", "Leila", "Marcus", "Elena", "Tomás", "Grace", "Arjun", "Nadia", "Felix",
    "Zoe", "Ibrahim", "Camille", "Ryan", "Ana", "Hugo", "Maya", "Kofi", "Laura", "Ravi", "Emma",
    "Omar", "Julia", "Chen", "Sara", "Luca", "Ingrid", "Mohammed", "Clara", "Andrei", "Nia",
    "Pablo", "Alice", "Tariq", "Eva", "Sven", "Rosa", "Hiroshi", "Lea", "Victor",
];

const LAST_NAMES: [&str; 60] = [
    "Martin",
    "Okafor",
    "Nguyen",
    "García",
    "Schmidt",
    "Patel",
    "Rossi",
    "Kowalski",
    "Dubois",
    "Silva",
    "Johansson",
    "Kim",
    "O'Brien",
    "Haddad",
    "Müller",
    "Tanaka",
    "Fernández",
    "Mensah",
    "Novak",
    "Lefebvre",
    "Andersen",
    "Costa",
    "Ivanova",
    "Moreau",
    "Singh",
    "Bianchi",
    "Larsen",
    "Yilmaz",
    "Murphy",
    "Santos",
    "Wagner",
    "Chowdhury",
    "Bernard",
    "Lopez",
    "Nakamura",
    "Adeyemi",
    "Jensen",
    "Romero",
    "Fischer",
    "Kaur",
    "Petit",
    "Horvat",
    "Walsh",
    "Ortiz",
    "Becker",
    "Zhang",
    "Laurent",
    "Mwangi",
    "Eriksson",
    "Ferreira",
    "Hughes",
    "Popescu",
    "Roux",
    "Khan",
    "Vargas",
    "Lindqvist",
    "Reyes",
    "Brennan",
    "Hoffmann",
    "Sato",
];

/// A contact's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Voice,
    Chat,
    Email,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
        }
    }

    /// Talk (or writing) time range, seconds.
    fn talk_range(self) -> (u64, u64) {
        match self {
            Channel::Voice => (180, 480),
            Channel::Chat => (240, 540),
            Channel::Email => (120, 360),
        }
    }

    /// Time an agent takes to answer an offer, seconds.
    fn ring_range(self) -> (u64, u64) {
        match self {
            Channel::Voice => (2, 8),
            Channel::Chat => (1, 5),
            Channel::Email => (1, 3),
        }
    }

    /// How long a waiting contact stays before abandoning; `None` never.
    fn patience_ms(self, rng: &mut ChaCha8Rng) -> Option<u64> {
        let (base_s, mean_s, cap_s) = match self {
            Channel::Voice => (30.0, 90.0, 900.0),
            Channel::Chat => (60.0, 180.0, 1_800.0),
            Channel::Email => return None,
        };
        let s = (base_s + exponential(rng, mean_s)).min(cap_s);
        Some((s * 1_000.0) as u64)
    }

    /// Handle time drawn for one contact (talk, wrap-up), ms.
    fn draw_handle_ms(self, rng: &mut ChaCha8Rng) -> (u64, u64) {
        let (lo, hi) = self.talk_range();
        // Triangular: the sum of two uniforms, centred in the range.
        let u = (rng.random::<f64>() + rng.random::<f64>()) / 2.0;
        let talk = lo as f64 + (hi - lo) as f64 * u;
        let wrap = rng.random_range(20_000..=90_000);
        ((talk * 1_000.0) as u64, wrap)
    }

    /// Mean handle time (talk plus wrap-up), seconds.
    fn mean_handle_seconds(self) -> f64 {
        let (lo, hi) = self.talk_range();
        (lo + hi) as f64 / 2.0 + 55.0
    }
}

/// A contact, from arrival to the end of wrap-up.
#[derive(Debug, Clone, PartialEq)]
struct Contact {
    id: u64,
    queue: usize,
    /// Index into the queue's teams: the team the contact is routed to.
    slot: usize,
    channel: Channel,
    arrived_ms: u64,
    patience_ms: Option<u64>,
    accepted_ms: u64,
    talk_ms: u64,
    wrap_ms: u64,
}

/// A contact being offered to an agent.
#[derive(Debug, Clone, PartialEq)]
struct Offer {
    contact: Contact,
    offered_ms: u64,
    /// When the agent answers; `None` if the agent will not answer.
    answer_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
struct SimAgent {
    id: String,
    name: String,
    team: usize,
    state: AgentState,
    since_ms: u64,
    idle_reason: Option<String>,
    user_id: Option<String>,
    /// When the current timed state (engaged, wrap-up, RONA, idle, offline)
    /// ends.
    until_ms: u64,
    offer: Option<Offer>,
    /// The contact being handled (engaged or wrap-up).
    contact: Option<Contact>,
}

impl SimAgent {
    fn set(&mut self, state: AgentState, now: u64, until: u64, reason: Option<&str>) {
        self.state = state;
        self.since_ms = now;
        self.until_ms = until;
        self.idle_reason = reason.map(str::to_owned);
    }

    /// Linked agents are driven by their desktop user.
    fn manual(&self) -> bool {
        self.user_id.is_some()
    }
}

/// Day counters of one queue-team pair.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counters {
    offered: u64,
    handled: u64,
    abandoned: u64,
    answered: u64,
    answered_in_target: u64,
    handle_ms: u64,
}

impl Counters {
    fn add(&mut self, o: &Counters) {
        self.offered += o.offered;
        self.handled += o.handled;
        self.abandoned += o.abandoned;
        self.answered += o.answered;
        self.answered_in_target += o.answered_in_target;
        self.handle_ms += o.handle_ms;
    }

    fn saturating_sub(&self, o: &Counters) -> Counters {
        Counters {
            offered: self.offered.saturating_sub(o.offered),
            handled: self.handled.saturating_sub(o.handled),
            abandoned: self.abandoned.saturating_sub(o.abandoned),
            answered: self.answered.saturating_sub(o.answered),
            answered_in_target: self.answered_in_target.saturating_sub(o.answered_in_target),
            handle_ms: self.handle_ms.saturating_sub(o.handle_ms),
        }
    }

    /// Restores the counters' invariants after adding synthetic figures.
    fn clamp(&mut self) {
        self.offered = self.offered.max(self.handled + self.abandoned);
        self.answered_in_target = self.answered_in_target.min(self.answered);
    }

    fn day_stats(&self) -> DayStats {
        let aht = self.handle_ms.checked_div(self.handled).unwrap_or(0) / 1_000;
        DayStats {
            offered: to_u32(self.offered),
            handled: to_u32(self.handled),
            abandoned: to_u32(self.abandoned),
            average_handle_seconds: to_u32(aht),
        }
    }

    fn service_level(&self) -> f64 {
        if self.answered == 0 {
            1.0
        } else {
            self.answered_in_target as f64 / self.answered as f64
        }
    }
}

struct SimQueue {
    def: &'static QueueDef,
    /// Team indexes, parallel to `def.teams`.
    teams: Vec<usize>,
    /// Waiting contacts, oldest first.
    waiting: VecDeque<Contact>,
    /// Today's counters, parallel to `teams`.
    today: Vec<Counters>,
}

impl SimQueue {
    fn mean_handle_seconds(&self) -> f64 {
        self.def
            .channels
            .iter()
            .map(|(c, w)| c.mean_handle_seconds() * w)
            .sum()
    }

    /// Puts a contact back in the queue, keeping the oldest first.
    fn requeue(&mut self, contact: Contact) {
        let at = self
            .waiting
            .iter()
            .position(|c| c.arrived_ms > contact.arrived_ms)
            .unwrap_or(self.waiting.len());
        self.waiting.insert(at, contact);
    }
}

struct State {
    seed: u64,
    rng: ChaCha8Rng,
    now_ms: u64,
    version: u64,
    /// Day number (days since the Unix epoch) of today's counters.
    day: u64,
    next_contact: u64,
    /// Cumulative day curve by minute, in curve-hours; 1441 entries.
    curve_cumulative: Vec<f64>,
    teams: Vec<(&'static str, &'static str)>,
    agents: Vec<SimAgent>,
    queues: Vec<SimQueue>,
}

/// The embedded contact-center simulator. See the module documentation for
/// the model.
///
/// It does not move on its own: the host calls [`Simulator::advance_to`]
/// with the wall clock (say once a second). Queries answer for the time of
/// the last advance.
pub struct Simulator {
    state: Mutex<State>,
}

impl Simulator {
    /// A simulated contact center of 48 agents in 4 teams and 4 queues,
    /// seeded with `seed`, running from `start_ms` (Unix ms). No desktop
    /// user is an agent; see [`Simulator::link_user`] and
    /// [`Simulator::demo`].
    pub fn new(seed: u64, start_ms: u64) -> Self {
        Self::build(seed, start_ms, &[])
    }

    /// Like [`Simulator::new`], with the desktop's demo users linked to
    /// three agents of the sales team: `lead@example.com` (`agent-01`),
    /// `dev-supervisor-agent` (`agent-02`) and `dev-agent` (`agent-03`).
    /// They start available.
    pub fn demo(seed: u64, start_ms: u64) -> Self {
        Self::build(
            seed,
            start_ms,
            &[
                ("lead@example.com", "agent-01"),
                ("dev-supervisor-agent", "agent-02"),
                ("dev-agent", "agent-03"),
            ],
        )
    }

    /// Makes desktop user `user_id` the agent `agent_id` (see
    /// [`ContactCenter::own_state`]), unlinking the user from any other
    /// agent. From then on the simulator leaves that agent's availability
    /// to the user: it still offers contacts, but never makes the agent
    /// idle or signed out on its own, and after a missed offer the agent
    /// stays idle ("Missed offer") until set available. Fails with
    /// [`DataError::Unknown`] for an unknown agent.
    pub fn link_user(&self, user_id: &str, agent_id: &str) -> Result<(), DataError> {
        let mut st = self.lock();
        let i = st.agent_index(agent_id)?;
        for a in &mut st.agents {
            if a.user_id.as_deref() == Some(user_id) {
                a.user_id = None;
            }
        }
        st.agents[i].user_id = Some(user_id.to_owned());
        st.version += 1;
        Ok(())
    }

    /// Connects a contact to desktop user `user_id`'s agent now, as if a
    /// customer had called and the agent answered: the agent is engaged
    /// for `talk_ms`, then in wrap-up for `wrap_ms`. For demos and tests of
    /// what the desktop does during a conversation. Fails with
    /// [`DataError::Unknown`] when the user is not an agent and
    /// [`DataError::Refused`] when the agent is already handling one.
    pub fn connect_contact(
        &self,
        user_id: &str,
        talk_ms: u64,
        wrap_ms: u64,
    ) -> Result<(), DataError> {
        let mut st = self.lock();
        let Some(i) = Self::linked_index(&st, user_id) else {
            return Err(DataError::Unknown(format!(
                "user `{user_id}` is not signed in as an agent"
            )));
        };
        if st.agents[i].contact.is_some() {
            return Err(DataError::Refused(
                "the agent is already handling a contact".into(),
            ));
        }
        let team = st.teams[st.agents[i].team].0;
        let (queue, slot) = st
            .queues
            .iter()
            .enumerate()
            .find_map(|(qi, q)| {
                q.def
                    .teams
                    .iter()
                    .position(|(t, _)| *t == team)
                    .map(|s| (qi, s))
            })
            .ok_or_else(|| DataError::Unknown(format!("no queue serves team `{team}`")))?;
        let now = st.now_ms;
        let contact = Contact {
            id: st.next_contact,
            queue,
            slot,
            channel: st.queues[queue].def.channels[0].0,
            arrived_ms: now,
            patience_ms: None,
            accepted_ms: now,
            talk_ms,
            wrap_ms,
        };
        st.next_contact += 1;
        st.queues[queue].today[slot].offered += 1;
        let agent = &mut st.agents[i];
        if let Some(offer) = agent.offer.take() {
            st.queues[offer.contact.queue].requeue(offer.contact);
        }
        let agent = &mut st.agents[i];
        agent.set(AgentState::Engaged, now, now + talk_ms, None);
        agent.contact = Some(contact);
        st.version += 1;
        Ok(())
    }

    fn linked_index(st: &State, user_id: &str) -> Option<usize> {
        st.agents
            .iter()
            .position(|a| !user_id.is_empty() && a.user_id.as_deref() == Some(user_id))
    }

    /// Moves the simulation forward to `now_ms` (Unix ms) in steps of one
    /// second. At most one hour is simulated per call: older time is
    /// skipped as if the center had paused, and today's figures for it are
    /// filled in synthetically. Times at or before the current simulation
    /// time are ignored.
    pub fn advance_to(&self, now_ms: u64) {
        let mut st = self.lock();
        let steps = now_ms.saturating_sub(st.now_ms) / STEP_MS;
        if steps == 0 {
            return;
        }
        let mut changed = false;
        if steps > MAX_CATCH_UP_STEPS {
            st.skip((steps - MAX_CATCH_UP_STEPS) * STEP_MS);
            changed = true;
        }
        for _ in 0..steps.min(MAX_CATCH_UP_STEPS) {
            changed |= st.step();
        }
        if changed {
            st.version += 1;
        }
    }

    /// The simulation time, Unix ms: the start time or the last time
    /// advanced to, on the one-second grid.
    pub fn now_ms(&self) -> u64 {
        self.lock().now_ms
    }

    fn build(seed: u64, start_ms: u64, links: &[(&str, &str)]) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let warm_up = start_ms.min(WARM_UP_MS) / STEP_MS * STEP_MS;
        let t0 = start_ms - warm_up;

        let mut firsts = FIRST_NAMES;
        let mut lasts = LAST_NAMES;
        firsts.shuffle(&mut rng);
        lasts.shuffle(&mut rng);
        let mut agents = Vec::new();
        for (team, &(_, _, count)) in TEAMS.iter().enumerate() {
            for _ in 0..count {
                let n = agents.len();
                agents.push(SimAgent {
                    id: format!("agent-{:02}", n + 1),
                    name: format!("{} {}", firsts[n], lasts[n]),
                    team,
                    state: AgentState::Available,
                    since_ms: t0,
                    idle_reason: None,
                    user_id: None,
                    until_ms: 0,
                    offer: None,
                    contact: None,
                });
            }
        }
        for &(user, agent) in links {
            if let Some(a) = agents.iter_mut().find(|a| a.id == agent) {
                a.user_id = Some(user.to_owned());
            }
        }
        // Start of day: a few signed out, the others idle or available.
        let hour = hour_of_day(t0);
        for a in &mut agents {
            if a.manual() {
                continue;
            }
            let since = t0.saturating_sub(rng.random_range(0..=20 * 60_000));
            let r: f64 = rng.random();
            if r < 0.1 {
                let until = t0 + rng.random_range(10 * 60_000..=90 * 60_000);
                a.set(AgentState::Offline, since, until, None);
            } else if r < 0.55 {
                let (reason, duration) = draw_idle(&mut rng, hour);
                let until = t0 + rng.random_range(0..=duration);
                a.set(AgentState::Idle, since, until, Some(reason));
            } else {
                a.set(AgentState::Available, since, 0, None);
            }
        }

        let teams: Vec<_> = TEAMS.iter().map(|&(id, name, _)| (id, name)).collect();
        let queues = QUEUES
            .iter()
            .map(|def| SimQueue {
                def,
                teams: def
                    .teams
                    .iter()
                    .map(|(t, _)| {
                        teams
                            .iter()
                            .position(|(id, _)| id == t)
                            .expect("queue team is defined")
                    })
                    .collect(),
                waiting: VecDeque::new(),
                today: vec![Counters::default(); def.teams.len()],
            })
            .collect();

        let mut st = State {
            seed,
            rng,
            now_ms: t0,
            version: 1,
            day: t0 / DAY_MS,
            next_contact: 1,
            curve_cumulative: curve_cumulative(),
            teams,
            agents,
            queues,
        };
        st.fill_today(0, t0 % DAY_MS);
        for _ in 0..warm_up / STEP_MS {
            st.step();
        }
        tracing::debug!(seed, start_ms, "contact-center simulator started");
        Simulator {
            state: Mutex::new(st),
        }
    }

    /// The state; a panic while holding the lock leaves plain data behind,
    /// so a poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn agent_index(&self, agent_id: &str) -> Result<usize, DataError> {
        self.agents
            .iter()
            .position(|a| a.id == agent_id)
            .ok_or_else(|| DataError::Unknown(format!("no agent `{agent_id}`")))
    }

    fn team_index(&self, team_id: &str) -> Result<usize, DataError> {
        self.teams
            .iter()
            .position(|(id, _)| *id == team_id)
            .ok_or_else(|| DataError::Unknown(format!("no team `{team_id}`")))
    }

    fn queue_index(&self, queue_id: &str) -> Result<usize, DataError> {
        self.queues
            .iter()
            .position(|q| q.def.id == queue_id)
            .ok_or_else(|| DataError::Unknown(format!("no queue `{queue_id}`")))
    }

    /// One step of the simulation. Returns whether anything visible
    /// changed.
    fn step(&mut self) -> bool {
        let t = self.now_ms + STEP_MS;
        self.now_ms = t;
        let mut changed = false;
        if t / DAY_MS != self.day {
            self.new_day(t / DAY_MS);
            changed = true;
        }
        changed |= self.arrivals(t);
        changed |= self.abandons(t);
        changed |= self.agent_timers(t);
        changed |= self.route(t);
        // Waiting times grow while anything waits.
        changed
            || self.queues.iter().any(|q| !q.waiting.is_empty())
            || self.agents.iter().any(|a| a.offer.is_some())
    }

    /// Starts the counters of a new day. Contacts in progress count as
    /// offered on the new day, so that handled and abandoned never exceed
    /// offered.
    fn new_day(&mut self, day: u64) {
        self.day = day;
        for q in &mut self.queues {
            q.today.iter_mut().for_each(|c| *c = Counters::default());
            for c in &q.waiting {
                q.today[c.slot].offered += 1;
            }
        }
        for a in &self.agents {
            if let Some(c) = a.contact.as_ref().or(a.offer.as_ref().map(|o| &o.contact)) {
                self.queues[c.queue].today[c.slot].offered += 1;
            }
        }
    }

    /// Skips `delta_ms` without simulating it: every timestamp moves
    /// forward, as if the center had paused, and today's figures for the
    /// skipped time are synthesized.
    fn skip(&mut self, delta_ms: u64) {
        let from = self.now_ms;
        let to = from + delta_ms;
        tracing::debug!(
            skipped_seconds = delta_ms / 1_000,
            "contact-center simulator skipping time it cannot catch up with"
        );
        let shift = |c: &mut Contact| {
            c.arrived_ms += delta_ms;
            c.accepted_ms += delta_ms;
        };
        for q in &mut self.queues {
            q.waiting.iter_mut().for_each(shift);
        }
        for a in &mut self.agents {
            a.since_ms += delta_ms;
            if a.until_ms != 0 {
                a.until_ms += delta_ms;
            }
            if let Some(o) = &mut a.offer {
                o.offered_ms += delta_ms;
                o.answer_ms = o.answer_ms.map(|t| t + delta_ms);
                shift(&mut o.contact);
            }
            if let Some(c) = &mut a.contact {
                shift(c);
            }
        }
        self.now_ms = to;
        if to / DAY_MS == self.day {
            self.fill_today(from % DAY_MS, to % DAY_MS);
        } else {
            self.new_day(to / DAY_MS);
            self.fill_today(0, to % DAY_MS);
        }
    }

    /// Adds synthetic figures for today between two times of day (ms).
    fn fill_today(&mut self, from_tod_ms: u64, to_tod_ms: u64) {
        let (from, to) = (self.curve_share(from_tod_ms), self.curve_share(to_tod_ms));
        for q in 0..self.queues.len() {
            for slot in 0..self.queues[q].teams.len() {
                let hi = self.synthetic(self.day, q, slot, to);
                let lo = self.synthetic(self.day, q, slot, from);
                let c = &mut self.queues[q].today[slot];
                c.add(&hi.saturating_sub(&lo));
                c.clamp();
            }
        }
    }

    /// Plausible figures of a queue-team pair on `day`, up to the point
    /// where `share` of the day curve has elapsed. Depends only on the
    /// seed and the arguments.
    fn synthetic(&self, day: u64, q: usize, slot: usize, share: f64) -> Counters {
        let queue = &self.queues[q];
        let unit = |salt: u64| unit_hash(self.seed, day, q as u64, slot as u64, salt);
        let total_hours = self.curve_cumulative[1_440];
        let daily = queue.def.peak_per_hour
            * total_hours
            * queue.def.teams[slot].1
            * (0.85 + 0.3 * unit(1));
        let offered = (daily * share).round();
        let abandon_rate = 0.015 + 0.04 * unit(2);
        let abandoned = (offered * abandon_rate).round();
        let handled = (offered * (1.0 - abandon_rate) * 0.985)
            .floor()
            .min(offered - abandoned);
        let aht_seconds = queue.mean_handle_seconds() * (0.9 + 0.2 * unit(3));
        let service_level = 0.72 + 0.2 * unit(4);
        Counters {
            offered: offered as u64,
            handled: handled as u64,
            abandoned: abandoned as u64,
            answered: handled as u64,
            answered_in_target: (handled * service_level).round() as u64,
            handle_ms: (handled * aht_seconds * 1_000.0) as u64,
        }
    }

    /// Share of the day curve elapsed at a time of day (ms), 0 to 1.
    fn curve_share(&self, tod_ms: u64) -> f64 {
        let minute = (tod_ms / 60_000).min(1_439) as usize;
        let within = (tod_ms % 60_000) as f64 / 60_000.0;
        let lo = self.curve_cumulative[minute];
        let hi = self.curve_cumulative[minute + 1];
        ((lo + (hi - lo) * within) / self.curve_cumulative[1_440]).clamp(0.0, 1.0)
    }

    fn arrivals(&mut self, t: u64) -> bool {
        let level = day_curve(hour_of_day(t));
        let mut any = false;
        for (qi, q) in self.queues.iter_mut().enumerate() {
            let lambda = q.def.peak_per_hour * level / 3_600.0;
            for _ in 0..poisson(&mut self.rng, lambda) {
                let channel = pick(&mut self.rng, q.def.channels);
                let slot = pick_index(&mut self.rng, q.def.teams.iter().map(|(_, w)| *w));
                let patience_ms = channel.patience_ms(&mut self.rng);
                q.waiting.push_back(Contact {
                    id: self.next_contact,
                    queue: qi,
                    slot,
                    channel,
                    arrived_ms: t,
                    patience_ms,
                    accepted_ms: 0,
                    talk_ms: 0,
                    wrap_ms: 0,
                });
                self.next_contact += 1;
                q.today[slot].offered += 1;
                any = true;
            }
        }
        any
    }

    fn abandons(&mut self, t: u64) -> bool {
        let mut any = false;
        for q in &mut self.queues {
            q.waiting.retain(|c| match c.patience_ms {
                Some(p) if t - c.arrived_ms >= p => {
                    q.today[c.slot].abandoned += 1;
                    any = true;
                    false
                }
                _ => true,
            });
        }
        any
    }

    fn agent_timers(&mut self, t: u64) -> bool {
        let hour = hour_of_day(t);
        let mut any = false;
        for a in &mut self.agents {
            let rng = &mut self.rng;
            if let Some(offer) = &a.offer {
                let answered = offer.answer_ms.is_some_and(|at| t >= at);
                let missed = offer.answer_ms.is_none() && t >= offer.offered_ms + RING_TIMEOUT_MS;
                if answered {
                    let mut contact = a.offer.take().expect("checked").contact;
                    let counters = &mut self.queues[contact.queue].today[contact.slot];
                    counters.answered += 1;
                    if t - contact.arrived_ms <= u64::from(TARGET_SECONDS) * 1_000 {
                        counters.answered_in_target += 1;
                    }
                    let (talk, wrap) = contact.channel.draw_handle_ms(rng);
                    contact.accepted_ms = t;
                    contact.talk_ms = talk;
                    contact.wrap_ms = wrap;
                    a.set(AgentState::Engaged, t, t + talk, None);
                    a.contact = Some(contact);
                    any = true;
                } else if missed {
                    let contact = a.offer.take().expect("checked").contact;
                    self.queues[contact.queue].requeue(contact);
                    let until = t + rng.random_range(15_000..=45_000);
                    a.set(AgentState::Rona, t, until, None);
                    any = true;
                }
                continue;
            }
            let due = t >= a.until_ms;
            match a.state {
                AgentState::Engaged if due => {
                    let wrap = a.contact.as_ref().map_or(0, |c| c.wrap_ms);
                    a.set(AgentState::WrapUp, t, t + wrap, None);
                    any = true;
                }
                AgentState::WrapUp if due => {
                    if let Some(c) = a.contact.take() {
                        let counters = &mut self.queues[c.queue].today[c.slot];
                        counters.handled += 1;
                        counters.handle_ms += t - c.accepted_ms;
                    }
                    if !a.manual() && rng.random_bool(IDLE_AFTER_WRAP_CHANCE) {
                        let (reason, duration) = draw_idle(rng, hour);
                        a.set(AgentState::Idle, t, t + duration, Some(reason));
                    } else {
                        a.set(AgentState::Available, t, 0, None);
                    }
                    any = true;
                }
                AgentState::Rona if due => {
                    if a.manual() || rng.random_bool(0.5) {
                        let until = t + rng.random_range(30_000..=120_000);
                        a.set(AgentState::Idle, t, until, Some(MISSED_OFFER));
                    } else {
                        a.set(AgentState::Available, t, 0, None);
                    }
                    any = true;
                }
                AgentState::Idle | AgentState::Offline if due && !a.manual() => {
                    a.set(AgentState::Available, t, 0, None);
                    any = true;
                }
                AgentState::Available if !a.manual() => {
                    let r: f64 = rng.random();
                    if r < GO_IDLE_CHANCE {
                        let (reason, duration) = draw_idle(rng, hour);
                        a.set(AgentState::Idle, t, t + duration, Some(reason));
                        any = true;
                    } else if r < GO_IDLE_CHANCE + SIGN_OUT_CHANCE {
                        let until = t + rng.random_range(20 * 60_000..=90 * 60_000);
                        a.set(AgentState::Offline, t, until, None);
                        any = true;
                    }
                }
                _ => {}
            }
        }
        any
    }

    /// Offers waiting contacts, oldest first, to the eligible agent who
    /// has been available longest.
    fn route(&mut self, t: u64) -> bool {
        let free = |a: &SimAgent| a.state == AgentState::Available && a.offer.is_none();
        if !self.agents.iter().any(free) {
            return false;
        }
        let mut order: Vec<(u64, u64, usize)> = self
            .queues
            .iter()
            .enumerate()
            .flat_map(|(qi, q)| q.waiting.iter().map(move |c| (c.arrived_ms, c.id, qi)))
            .collect();
        order.sort_unstable();
        let mut any = false;
        for (arrived, id, qi) in order {
            let queue = &self.queues[qi];
            let pos = queue
                .waiting
                .iter()
                .position(|c| c.id == id)
                .expect("contact is waiting");
            let slot = queue.waiting[pos].slot;
            let overflow = t - arrived >= OVERFLOW_MS;
            let agent = self
                .agents
                .iter()
                .enumerate()
                .filter(|(_, a)| free(a))
                .filter(|(_, a)| {
                    if overflow {
                        queue.teams.contains(&a.team)
                    } else {
                        a.team == queue.teams[slot]
                    }
                })
                .min_by_key(|(i, a)| (a.since_ms, *i))
                .map(|(i, _)| i);
            let Some(ai) = agent else { continue };
            let contact = self.queues[qi]
                .waiting
                .remove(pos)
                .expect("contact is waiting");
            let answer_ms = if self.rng.random_bool(NO_ANSWER_CHANCE) {
                None
            } else {
                let (lo, hi) = contact.channel.ring_range();
                Some(t + self.rng.random_range(lo..=hi) * 1_000)
            };
            self.agents[ai].offer = Some(Offer {
                contact,
                offered_ms: t,
                answer_ms,
            });
            any = true;
        }
        any
    }

    fn stats(&self, include: impl Fn(usize, usize) -> bool) -> Stats {
        let mut today = Counters::default();
        let mut yesterday = Counters::default();
        let share = self.curve_share(self.now_ms % DAY_MS);
        let prev = self.day.wrapping_sub(1);
        for (qi, q) in self.queues.iter().enumerate() {
            for (slot, &team) in q.teams.iter().enumerate() {
                if include(qi, team) {
                    today.add(&q.today[slot]);
                    yesterday.add(&self.synthetic(prev, qi, slot, share));
                }
            }
        }
        Stats {
            today: today.day_stats(),
            yesterday: yesterday.day_stats(),
        }
    }

    fn queue_view(&self, qi: usize) -> Queue {
        let q = &self.queues[qi];
        let offered = self
            .agents
            .iter()
            .filter_map(|a| a.offer.as_ref())
            .filter(|o| o.contact.queue == qi)
            .map(|o| o.contact.arrived_ms);
        let waiting_since = q.waiting.iter().map(|c| c.arrived_ms);
        let (count, oldest) = offered
            .chain(waiting_since)
            .fold((0u64, u64::MAX), |(n, m), at| (n + 1, m.min(at)));
        let mut today = Counters::default();
        q.today.iter().for_each(|c| today.add(c));
        Queue {
            id: q.def.id.to_owned(),
            name: q.def.name.to_owned(),
            team_ids: q
                .teams
                .iter()
                .map(|&t| self.teams[t].0.to_owned())
                .collect(),
            waiting: to_u32(count),
            longest_wait_seconds: if count == 0 {
                0
            } else {
                to_u32(self.now_ms.saturating_sub(oldest) / 1_000)
            },
            service_level: today.service_level(),
            service_level_goal: SERVICE_LEVEL_GOAL,
            target_seconds: TARGET_SECONDS,
        }
    }

    fn agent_view(&self, a: &SimAgent) -> Agent {
        Agent {
            id: a.id.clone(),
            name: a.name.clone(),
            team_id: self.teams[a.team].0.to_owned(),
            state: a.state,
            state_since_ms: a.since_ms,
            idle_reason: a.idle_reason.clone(),
            active_contacts: u32::from(a.contact.is_some()),
            user_id: a.user_id.clone(),
        }
    }
}

impl ContactCenter for Simulator {
    fn agents(&self, team_ids: &[String]) -> Result<Vec<Agent>, DataError> {
        let st = self.lock();
        let teams = team_ids
            .iter()
            .map(|t| st.team_index(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(st
            .agents
            .iter()
            .filter(|a| teams.is_empty() || teams.contains(&a.team))
            .map(|a| st.agent_view(a))
            .collect())
    }

    fn teams(&self) -> Result<Vec<Team>, DataError> {
        let st = self.lock();
        Ok(st
            .teams
            .iter()
            .enumerate()
            .map(|(i, (id, name))| Team {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                agent_count: to_u32(st.agents.iter().filter(|a| a.team == i).count() as u64),
            })
            .collect())
    }

    fn queues(&self) -> Result<Vec<Queue>, DataError> {
        let st = self.lock();
        Ok((0..st.queues.len()).map(|q| st.queue_view(q)).collect())
    }

    fn team_stats(&self, team_id: &str) -> Result<Stats, DataError> {
        let st = self.lock();
        if team_id.is_empty() {
            return Ok(st.stats(|_, _| true));
        }
        let team = st.team_index(team_id)?;
        Ok(st.stats(|_, t| t == team))
    }

    fn queue_stats(&self, queue_id: &str) -> Result<Stats, DataError> {
        let st = self.lock();
        let queue = st.queue_index(queue_id)?;
        Ok(st.stats(|q, _| q == queue))
    }

    fn own_state(&self, user_id: &str) -> Result<Option<OwnState>, DataError> {
        let st = self.lock();
        let Some(a) = st
            .agents
            .iter()
            .find(|a| !user_id.is_empty() && a.user_id.as_deref() == Some(user_id))
        else {
            return Ok(None);
        };
        let tasks = a
            .contact
            .iter()
            .map(|c| Task {
                id: format!("task-{}", c.id),
                channel: c.channel.as_str().to_owned(),
                queue_id: st.queues[c.queue].def.id.to_owned(),
                since_ms: c.accepted_ms,
                wrap_up: a.state == AgentState::WrapUp,
            })
            .collect();
        Ok(Some(OwnState {
            state: a.state,
            since_ms: a.since_ms,
            idle_reason: a.idle_reason.clone(),
            tasks,
        }))
    }

    fn idle_reasons(&self) -> Result<Vec<String>, DataError> {
        Ok(IDLE_REASONS
            .iter()
            .map(|(r, _, _)| (*r).to_owned())
            .collect())
    }

    fn set_agent_state(
        &self,
        agent_id: &str,
        state: AgentState,
        idle_reason: Option<&str>,
    ) -> Result<(), DataError> {
        let mut st = self.lock();
        let i = st.agent_index(agent_id)?;
        let duration = match (state, idle_reason) {
            (AgentState::Available, None) => 0,
            (AgentState::Available, Some(r)) => {
                return Err(DataError::Refused(format!(
                    "an idle reason (`{r}`) goes only with the idle state"
                )));
            }
            (AgentState::Idle, reason) => {
                let known = reason.and_then(|r| IDLE_REASONS.iter().find(|(n, _, _)| *n == r));
                let Some(&(_, _, (lo, hi))) = known else {
                    let names: Vec<&str> = IDLE_REASONS.iter().map(|(n, _, _)| *n).collect();
                    return Err(DataError::Refused(match reason {
                        None => format!("idle needs a reason: one of {}", names.join(", ")),
                        Some(r) => {
                            format!("unknown idle reason `{r}`: use one of {}", names.join(", "))
                        }
                    }));
                };
                st.rng.random_range(lo * 60_000..=hi * 60_000)
            }
            (other, _) => {
                return Err(DataError::Refused(format!(
                    "only available and idle can be set; `{other}` is set by the contact center"
                )));
            }
        };
        let now = st.now_ms;
        let a = &mut st.agents[i];
        match a.state {
            AgentState::Engaged => {
                return Err(DataError::Refused(format!(
                    "agent {} is engaged in a contact; the state can change after the contact and its wrap-up",
                    a.name
                )));
            }
            AgentState::WrapUp => {
                return Err(DataError::Refused(format!(
                    "agent {} is in wrap-up after a contact; the state can change when wrap-up ends",
                    a.name
                )));
            }
            _ => {}
        }
        if a.state == state && a.idle_reason.as_deref() == idle_reason {
            return Ok(());
        }
        let cancelled = a.offer.take();
        a.set(state, now, now + duration, idle_reason);
        tracing::debug!(agent = agent_id, state = %state, reason = ?idle_reason, "agent state set");
        if let Some(offer) = cancelled {
            let q = offer.contact.queue;
            st.queues[q].requeue(offer.contact);
        }
        st.version += 1;
        Ok(())
    }

    fn version(&self) -> u64 {
        self.lock().version
    }

    fn sign_in_agent(&self, user_id: &str, team_id: &str) -> Result<String, DataError> {
        let mut st = self.lock();
        let team = st
            .teams
            .iter()
            .position(|(id, _)| *id == team_id)
            .ok_or_else(|| DataError::Unknown(format!("unknown team `{team_id}`")))?;
        let now = st.now_ms;
        let current = Self::linked_index(&st, user_id).filter(|&i| st.agents[i].team == team);
        let free = || {
            st.agents.iter().position(|a| {
                a.team == team && a.user_id.is_none() && a.contact.is_none() && a.offer.is_none()
            })
        };
        let Some(i) = current.or_else(free) else {
            return Err(DataError::Unavailable(format!(
                "team `{team_id}` has no free agent seat"
            )));
        };
        for a in &mut st.agents {
            if a.user_id.as_deref() == Some(user_id) {
                a.user_id = None;
            }
        }
        let agent = &mut st.agents[i];
        agent.user_id = Some(user_id.to_owned());
        if agent.contact.is_none() {
            agent.offer = None;
            agent.set(AgentState::Idle, now, u64::MAX, Some(IDLE_REASONS[0].0));
        }
        let id = agent.id.clone();
        st.version += 1;
        Ok(id)
    }

    fn sign_out_agent(&self, user_id: &str) -> Result<(), DataError> {
        let mut st = self.lock();
        let Some(i) = Self::linked_index(&st, user_id) else {
            return Ok(());
        };
        let now = st.now_ms;
        let agent = &mut st.agents[i];
        agent.user_id = None;
        if agent.contact.is_none() {
            agent.offer = None;
            agent.set(AgentState::Offline, now, now + 30 * 60_000, None);
        }
        st.version += 1;
        Ok(())
    }

    fn set_rona(&self, user_id: &str) -> Result<(), DataError> {
        let mut st = self.lock();
        let Some(i) = Self::linked_index(&st, user_id) else {
            return Err(DataError::Unknown(format!(
                "user `{user_id}` is not signed in as an agent"
            )));
        };
        let now = st.now_ms;
        let agent = &mut st.agents[i];
        if let Some(offer) = agent.offer.take() {
            let q = offer.contact.queue;
            st.queues[q].requeue(offer.contact);
        }
        st.agents[i].set(AgentState::Rona, now, u64::MAX, None);
        st.version += 1;
        Ok(())
    }
}

/// The arrival rate at an hour of the UTC day (fractional), relative to
/// the peak: quiet at night, a mid-morning peak, a lunch dip and a smaller
/// early-afternoon peak.
fn day_curve(hour: f64) -> f64 {
    let bump = |centre: f64, width: f64| (-((hour - centre) / width).powi(2)).exp();
    0.04 + bump(10.5, 1.6) + 0.8 * bump(14.5, 1.8)
}

/// The day curve integrated by minute: entry `m` is the integral over the
/// first `m` minutes, in hours at the curve's level.
fn curve_cumulative() -> Vec<f64> {
    let mut cumulative = Vec::with_capacity(1_441);
    let mut sum = 0.0;
    cumulative.push(sum);
    for minute in 0..1_440 {
        sum += day_curve((minute as f64 + 0.5) / 60.0) / 60.0;
        cumulative.push(sum);
    }
    cumulative
}

fn hour_of_day(ms: u64) -> f64 {
    (ms % DAY_MS) as f64 / 3_600_000.0
}

/// An idle reason and its duration in ms; lunch is likelier around noon.
fn draw_idle(rng: &mut ChaCha8Rng, hour: f64) -> (&'static str, u64) {
    let lunchtime = (11.0..14.0).contains(&hour);
    let weights = IDLE_REASONS.iter().map(|&(r, w, _)| {
        if r == "Lunch" && lunchtime {
            w * 3.0
        } else {
            w
        }
    });
    let (reason, _, (lo, hi)) = IDLE_REASONS[pick_index(rng, weights)];
    (reason, rng.random_range(lo * 60_000..=hi * 60_000))
}

/// Picks one of `choices` by weight.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, choices: &[(T, f64)]) -> T {
    choices[pick_index(rng, choices.iter().map(|(_, w)| *w))].0
}

/// Picks an index by weight.
fn pick_index(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut r = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if r < w {
            return i;
        }
        r -= w;
        last = i;
    }
    last
}

/// A Poisson-distributed count with mean `lambda` (Knuth's method; meant
/// for small means).
fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p: f64 = rng.random();
    while p > limit && k < 100 {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

/// An exponentially distributed value with mean `mean`.
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// A number in [0, 1) from the arguments alone (SplitMix64 finalizer).
fn unit_hash(seed: u64, day: u64, a: u64, b: u64, salt: u64) -> f64 {
    let mut h = seed;
    for v in [day, a, b, salt] {
        h = splitmix(h ^ splitmix(v.wrapping_add(0x9E37_79B9_7F4A_7C15)));
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-04 00:00:00 UTC, a Monday.
    const MIDNIGHT: u64 = 1_709_510_400_000;
    const HOUR: u64 = 3_600_000;

    fn all_teams(sim: &Simulator) -> Vec<String> {
        sim.teams().unwrap().into_iter().map(|t| t.id).collect()
    }

    fn snapshot(sim: &Simulator) -> String {
        let mut out = format!("{} {}\n", sim.now_ms(), sim.version());
        out += &format!(
            "{:?}\n{:?}\n",
            sim.agents(&[]).unwrap(),
            sim.queues().unwrap()
        );
        for t in all_teams(sim) {
            out += &format!("{:?}\n", sim.team_stats(&t).unwrap());
        }
        out += &format!("{:?}\n", sim.team_stats("").unwrap());
        out += &format!("{:?}\n", sim.own_state("dev-agent").unwrap());
        out
    }

    fn check_invariants(sim: &Simulator) {
        let agents = sim.agents(&[]).unwrap();
        assert_eq!(agents.len(), 48);
        for a in &agents {
            assert!(AgentState::ALL.contains(&a.state));
            assert!(a.state_since_ms <= sim.now_ms(), "{a:?}");
            match a.state {
                AgentState::Engaged | AgentState::WrapUp => {
                    assert!(a.active_contacts >= 1, "{a:?}");
                }
                _ => assert_eq!(a.active_contacts, 0, "{a:?}"),
            }
            assert_eq!(
                a.idle_reason.is_some(),
                a.state == AgentState::Idle,
                "{a:?}"
            );
        }
        let mut ids: Vec<String> = all_teams(sim);
        ids.push(String::new());
        let mut stats: Vec<Stats> = ids.iter().map(|t| sim.team_stats(t).unwrap()).collect();
        for q in sim.queues().unwrap() {
            assert!((0.0..=1.0).contains(&q.service_level), "{q:?}");
            assert_eq!(q.service_level_goal, 0.8);
            assert_eq!(q.target_seconds, 20);
            stats.push(sim.queue_stats(&q.id).unwrap());
        }
        for s in stats {
            for d in [s.today, s.yesterday] {
                assert!(d.handled <= d.offered, "{d:?}");
                assert!(d.abandoned <= d.offered, "{d:?}");
                assert!(d.handled + d.abandoned <= d.offered, "{d:?}");
            }
        }
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Simulator>();
        let _: Box<dyn ContactCenter> = Box::new(Simulator::new(1, MIDNIGHT));
    }

    #[test]
    fn same_seed_same_calls_same_state() {
        let run = |seed| {
            let sim = Simulator::demo(seed, MIDNIGHT + 9 * HOUR);
            let mut snaps = Vec::new();
            for step in 1..=6u64 {
                sim.advance_to(MIDNIGHT + 9 * HOUR + step * 600_000 + 123);
                if step == 3 {
                    let a = sim
                        .agents(&[])
                        .unwrap()
                        .into_iter()
                        .find(|a| matches!(a.state, AgentState::Available | AgentState::Idle))
                        .unwrap();
                    sim.set_agent_state(&a.id, AgentState::Idle, Some("Coaching"))
                        .unwrap();
                }
                snaps.push(snapshot(&sim));
            }
            snaps
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn a_simulated_day_keeps_its_invariants() {
        let sim = Simulator::demo(7, MIDNIGHT);
        check_invariants(&sim);
        let mut arrivals = Vec::new();
        let mut last = sim.team_stats("").unwrap().today.offered;
        for hour in 1..=24 {
            sim.advance_to(MIDNIGHT + hour * HOUR);
            assert_eq!(sim.now_ms(), MIDNIGHT + hour * HOUR);
            check_invariants(&sim);
            let offered = sim.team_stats("").unwrap().today.offered;
            arrivals.push(offered.saturating_sub(last));
            last = offered;
        }
        // Arrivals in hour h are arrivals[h] (00:00-01:00 is arrivals[0]).
        let night: u32 = arrivals[1..5].iter().sum();
        let morning: u32 = arrivals[9..12].iter().sum();
        let afternoon: u32 = arrivals[14..16].iter().sum();
        assert!(morning > 10 * night.max(1), "{arrivals:?}");
        assert!(afternoon > 5 * night.max(1), "{arrivals:?}");
        assert!(arrivals[10] > arrivals[20], "{arrivals:?}");
    }

    #[test]
    fn a_busy_hour_looks_like_a_contact_center() {
        let sim = Simulator::new(11, MIDNIGHT + 10 * HOUR);
        sim.advance_to(MIDNIGHT + 11 * HOUR);
        let agents = sim.agents(&[]).unwrap();
        let count = |s: AgentState| agents.iter().filter(|a| a.state == s).count();
        assert!(count(AgentState::Engaged) >= 10, "{agents:#?}");
        assert!(count(AgentState::Offline) < 15);
        let stats = sim.team_stats("").unwrap();
        assert!(stats.today.handled > 0);
        let aht = stats.today.average_handle_seconds;
        assert!((120..=700).contains(&aht), "{stats:?}");
        // Yesterday is comparable to today at the same time of day.
        let ratio = f64::from(stats.today.offered) / f64::from(stats.yesterday.offered);
        assert!((0.6..=1.6).contains(&ratio), "{stats:?}");
        let sl: Vec<f64> = sim
            .queues()
            .unwrap()
            .iter()
            .map(|q| q.service_level)
            .collect();
        assert!(sl.iter().all(|s| (0.3..=1.0).contains(s)), "{sl:?}");
    }

    #[test]
    fn start_of_day_is_mostly_idle_or_available() {
        let sim = Simulator::new(3, MIDNIGHT + 2 * HOUR);
        let agents = sim.agents(&[]).unwrap();
        let offline = agents
            .iter()
            .filter(|a| a.state == AgentState::Offline)
            .count();
        let ready = agents
            .iter()
            .filter(|a| matches!(a.state, AgentState::Idle | AgentState::Available))
            .count();
        assert!((1..=12).contains(&offline), "{offline}");
        assert!(ready >= 30, "{ready}");
    }

    #[test]
    fn yesterday_grows_with_the_time_of_day() {
        let sim = Simulator::new(5, MIDNIGHT + 9 * HOUR);
        let morning = sim.team_stats("").unwrap().yesterday;
        sim.advance_to(MIDNIGHT + 17 * HOUR);
        let evening = sim.team_stats("").unwrap().yesterday;
        assert!(morning.offered > 0);
        assert!(
            evening.offered > 2 * morning.offered,
            "{morning:?} {evening:?}"
        );
        assert!(evening.average_handle_seconds > 100);
    }

    #[test]
    fn teams_and_agents() {
        let sim = Simulator::new(1, MIDNIGHT);
        let teams = sim.teams().unwrap();
        assert_eq!(teams.len(), 4);
        let total: u32 = teams.iter().map(|t| t.agent_count).sum();
        assert!((30..=100).contains(&total));
        assert_eq!(sim.agents(&[]).unwrap().len() as u32, total);
        let sales = sim.agents(&["sales".to_owned()]).unwrap();
        assert_eq!(sales.len() as u32, teams[0].agent_count);
        assert!(sales.iter().all(|a| a.team_id == "sales"));
        let two = sim
            .agents(&["sales".to_owned(), "billing".to_owned()])
            .unwrap();
        assert_eq!(
            two.len() as u32,
            teams[0].agent_count + teams[2].agent_count
        );
        let mut names: Vec<String> = sim
            .agents(&[])
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len() as u32, total, "agent names are unique");
        let queues = sim.queues().unwrap();
        assert_eq!(queues.len(), 4);
        for q in &queues {
            assert!((1..=2).contains(&q.team_ids.len()));
            assert!(q.team_ids.iter().all(|t| teams.iter().any(|x| &x.id == t)));
        }
        assert_eq!(
            sim.idle_reasons().unwrap(),
            ["Break", "Lunch", "Meeting", "Training", "Coaching"]
        );
    }

    #[test]
    fn unknown_ids_are_errors() {
        let sim = Simulator::new(1, MIDNIGHT);
        assert_eq!(
            sim.agents(&["sales".to_owned(), "nope".to_owned()]),
            Err(DataError::Unknown("no team `nope`".into()))
        );
        assert!(matches!(sim.team_stats("nope"), Err(DataError::Unknown(_))));
        assert!(matches!(
            sim.queue_stats("nope"),
            Err(DataError::Unknown(_))
        ));
        assert!(matches!(
            sim.set_agent_state("agent-999", AgentState::Available, None),
            Err(DataError::Unknown(_))
        ));
        assert!(matches!(
            sim.link_user("someone", "agent-999"),
            Err(DataError::Unknown(_))
        ));
        assert!(sim.team_stats("").is_ok());
        assert!(sim.queue_stats("tech-support").is_ok());
    }

    #[test]
    fn set_agent_state_rules() {
        let sim = Simulator::new(9, MIDNIGHT + 10 * HOUR);
        sim.advance_to(MIDNIGHT + 10 * HOUR + 600_000);
        let agents = sim.agents(&[]).unwrap();
        let engaged = agents
            .iter()
            .find(|a| a.state == AgentState::Engaged)
            .expect("someone is engaged at 10:10");
        let err = sim
            .set_agent_state(&engaged.id, AgentState::Idle, Some("Break"))
            .unwrap_err();
        assert!(matches!(&err, DataError::Refused(m) if m.contains("is engaged in a contact")));
        assert!(matches!(
            sim.set_agent_state(&engaged.id, AgentState::Available, None),
            Err(DataError::Refused(_))
        ));

        let free = agents
            .iter()
            .find(|a| matches!(a.state, AgentState::Available | AgentState::Offline))
            .expect("someone is available or offline");
        for (state, reason) in [
            (AgentState::Idle, None),
            (AgentState::Idle, Some("Nap")),
            (AgentState::Available, Some("Break")),
            (AgentState::Engaged, None),
            (AgentState::WrapUp, None),
            (AgentState::Rona, None),
            (AgentState::Offline, None),
        ] {
            assert!(
                matches!(
                    sim.set_agent_state(&free.id, state, reason),
                    Err(DataError::Refused(_))
                ),
                "{state} {reason:?}"
            );
        }

        let v = sim.version();
        sim.set_agent_state(&free.id, AgentState::Idle, Some("Training"))
            .unwrap();
        assert_eq!(sim.version(), v + 1);
        let a = sim
            .agents(&[])
            .unwrap()
            .into_iter()
            .find(|a| a.id == free.id)
            .unwrap();
        assert_eq!(a.state, AgentState::Idle);
        assert_eq!(a.idle_reason.as_deref(), Some("Training"));
        assert_eq!(a.state_since_ms, sim.now_ms());
        sim.set_agent_state(&free.id, AgentState::Available, None)
            .unwrap();
        assert_eq!(sim.version(), v + 2);
        let a = sim
            .agents(&[])
            .unwrap()
            .into_iter()
            .find(|a| a.id == free.id)
            .unwrap();
        assert_eq!((a.state, a.idle_reason), (AgentState::Available, None));
    }

    #[test]
    fn version_moves_with_the_data() {
        let sim = Simulator::new(2, MIDNIGHT + 10 * HOUR);
        let v0 = sim.version();
        sim.advance_to(MIDNIGHT + 10 * HOUR + 60_000);
        let v1 = sim.version();
        assert!(v1 > v0);
        // Not a whole step later: nothing happens.
        sim.advance_to(MIDNIGHT + 10 * HOUR + 60_500);
        assert_eq!(sim.version(), v1);
        // The past is ignored.
        sim.advance_to(MIDNIGHT);
        assert_eq!(sim.version(), v1);
        assert_eq!(sim.now_ms(), MIDNIGHT + 10 * HOUR + 60_000);
    }

    #[test]
    fn own_state_follows_linked_agents() {
        let sim = Simulator::demo(4, MIDNIGHT + 10 * HOUR);
        assert_eq!(sim.own_state("dev-supervisor").unwrap(), None);
        assert_eq!(sim.own_state("").unwrap(), None);
        let linked: Vec<Agent> = sim
            .agents(&["sales".to_owned()])
            .unwrap()
            .into_iter()
            .filter(|a| a.user_id.is_some())
            .collect();
        assert_eq!(linked.len(), 3);
        let mut seen_task = false;
        for minute in 1..=120 {
            sim.advance_to(MIDNIGHT + 10 * HOUR + minute * 60_000);
            for user in ["lead@example.com", "dev-supervisor-agent", "dev-agent"] {
                let own = sim.own_state(user).unwrap().expect("linked user");
                match own.state {
                    AgentState::Engaged | AgentState::WrapUp => {
                        assert_eq!(own.tasks.len(), 1);
                        let task = &own.tasks[0];
                        assert_eq!(task.wrap_up, own.state == AgentState::WrapUp);
                        assert!(["voice", "chat", "email"].contains(&task.channel.as_str()));
                        assert!(task.since_ms <= sim.now_ms());
                        seen_task = true;
                    }
                    AgentState::Idle => {
                        // Linked agents only go idle after a missed offer.
                        assert_eq!(own.idle_reason.as_deref(), Some(MISSED_OFFER));
                        assert!(own.tasks.is_empty());
                        sim.set_agent_state(
                            &linked
                                .iter()
                                .find(|a| a.user_id.as_deref() == Some(user))
                                .unwrap()
                                .id,
                            AgentState::Available,
                            None,
                        )
                        .unwrap();
                    }
                    AgentState::Offline => panic!("linked agents do not sign out on their own"),
                    _ => assert!(own.tasks.is_empty()),
                }
            }
        }
        assert!(seen_task);

        sim.link_user("dev-agent", "agent-20").unwrap();
        let agents = sim.agents(&[]).unwrap();
        let holders: Vec<&str> = agents
            .iter()
            .filter(|a| a.user_id.as_deref() == Some("dev-agent"))
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(holders, ["agent-20"]);
    }

    #[test]
    fn long_gaps_are_skipped_cheaply() {
        let sim = Simulator::new(8, MIDNIGHT + 8 * HOUR);
        sim.advance_to(MIDNIGHT + 8 * HOUR + 5 * 60_000);
        // Three days and a bit later, in one call.
        let later = MIDNIGHT + 3 * 24 * HOUR + 12 * HOUR + 777;
        sim.advance_to(later);
        assert_eq!(sim.now_ms(), later - 777);
        check_invariants(&sim);
        let stats = sim.team_stats("").unwrap();
        // Today holds a (partly synthetic) noon's worth of contacts.
        assert!(stats.today.offered > 200, "{stats:?}");
        // A short gap within the day.
        sim.advance_to(later + 2 * HOUR);
        check_invariants(&sim);
        assert!(sim.team_stats("").unwrap().today.offered > stats.today.offered);
    }

    #[test]
    fn starts_near_the_epoch() {
        let sim = Simulator::new(1, 1_234);
        sim.advance_to(HOUR);
        check_invariants(&sim);
    }

    #[test]
    fn state_names() {
        let names: Vec<&str> = AgentState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["available", "idle", "engaged", "wrap-up", "rona", "offline"]
        );
        assert_eq!(AgentState::Rona.to_string(), "rona");
    }

    #[test]
    #[ignore = "prints a day of figures, for a look"]
    fn print_a_day() {
        let sim = Simulator::demo(7, MIDNIGHT);
        for hour in 1..=24 {
            sim.advance_to(MIDNIGHT + hour * HOUR);
            let agents = sim.agents(&[]).unwrap();
            let count: Vec<usize> = AgentState::ALL
                .iter()
                .map(|s| agents.iter().filter(|a| a.state == *s).count())
                .collect();
            let q: Vec<(u32, u32, u32)> = sim
                .queues()
                .unwrap()
                .iter()
                .map(|q| {
                    (
                        q.waiting,
                        q.longest_wait_seconds,
                        (q.service_level * 100.0) as u32,
                    )
                })
                .collect();
            println!("{hour:02}h states {count:?} queues {q:?}");
            println!("     center {:?}", sim.team_stats("").unwrap());
        }
    }
}
