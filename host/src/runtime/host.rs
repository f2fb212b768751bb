//! What the host gives a plugin instance: the per-call store state, the
//! generated bindings of the `widget-plugin` world, and the implementations
//! of its imports (log, clock, and the granted capabilities).

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::contact_center::{self as cc, ContactCenter};
use crate::mail::Mailer;
use crate::plugin::PluginKind;
use crate::store::KvStore;

wasmtime::component::bindgen!({
    path: "../sdk/wit",
    world: "widget-plugin",
});

pub use self::deskhost::plugin::types;
use self::deskhost::plugin::{clock, contact_center, kv, log};

/// Largest key a plugin may store, in bytes.
pub const MAX_KV_KEY: usize = 256;
/// Largest value a plugin may store, in bytes.
pub const MAX_KV_VALUE: usize = 64 * 1024;
/// Longest log line kept from a plugin, in bytes.
const MAX_LOG_LINE: usize = 4096;

/// Which stations signed-in users hold; backs the `station-registry`
/// import of station providers.
pub trait StationRegistry: Send + Sync {
    /// Whether a signed-in user other than `user_id` holds `station_key`
    /// (`telephony:number`, as [`station_key`](crate::auth::station_key) builds it).
    fn taken(&self, user_id: &str, station_key: &str) -> bool;
}

/// Where plugins read the time: backs the `clock` import.
pub trait Clock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock, the host's clock outside tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        crate::now_ms()
    }
}

/// The host services plugins reach through their capabilities.
#[derive(Clone)]
pub struct Services {
    /// Backs the `kv` capability.
    pub kv: Arc<dyn KvStore>,
    /// Backs the `contact-center` and `agent-control` capabilities.
    pub contact_center: Arc<dyn ContactCenter>,
    /// Backs the `mail` capability.
    pub mail: Arc<dyn Mailer>,
    /// Backs the station providers' `station-registry` import.
    pub stations: Arc<dyn StationRegistry>,
    /// Backs the `clock` import ([`SystemClock`] but in tests).
    pub clock: Arc<dyn Clock>,
}

impl Services {
    /// Services without mail and with no signed-in stations: for checking
    /// layouts (`deskhost check`, `resolve`) and for widget tests, where no
    /// sign-in plugin runs.
    pub fn without_sign_in(kv: Arc<dyn KvStore>, contact_center: Arc<dyn ContactCenter>) -> Self {
        Services {
            kv,
            contact_center,
            mail: Arc::new(crate::mail::NoMail),
            stations: Arc::new(NoStations),
            clock: Arc::new(SystemClock),
        }
    }

    /// These services with plugins reading the time from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Services { clock, ..self }
    }
}

/// A station registry in which no station is taken.
struct NoStations;

impl StationRegistry for NoStations {
    fn taken(&self, _user_id: &str, _station_key: &str) -> bool {
        false
    }
}

/// The state of one plugin call's `Store`.
pub struct HostState {
    /// Made on the first WASI call: most calls make none, and making one
    /// seeds a random-number generator and reads the clocks.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    pub(crate) plugin: Arc<str>,
    pub(crate) kind: PluginKind,
    pub(crate) widget: Arc<str>,
    pub(crate) user: String,
    grants: Arc<[String]>,
    /// Origins the `http` import may reach (collaboration plugins).
    pub(crate) allowed_hosts: Arc<[String]>,
    pub(crate) services: Services,
}

impl HostState {
    /// State for a call of `plugin` on behalf of widget instance `widget`.
    pub fn new(
        plugin: Arc<str>,
        kind: PluginKind,
        widget: Arc<str>,
        user: String,
        grants: Arc<[String]>,
        services: Services,
        memory_bytes: usize,
    ) -> Self {
        HostState {
            wasi: None,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(32)
                .trap_on_grow_failure(true)
                .build(),
            plugin,
            kind,
            widget,
            user,
            grants,
            allowed_hosts: Arc::from([]),
            services,
        }
    }

    /// `Ok` when `capability` is granted, else the message naming the grant.
    pub(crate) fn check_grant(&self, capability: &str) -> Result<(), String> {
        if self.grants.iter().any(|g| g == capability) {
            return Ok(());
        }
        let message = match self.kind {
            PluginKind::Widget => format!(
                "capability `{capability}` is not granted to plugin `{plugin}`: add \
                 `grants = [\"{capability}\"]` under `[plugins.{plugin}]` in the layout, or \
                 `{plugin} = [\"{capability}\"]` under `[grants]` in the host config",
                plugin = self.plugin
            ),
            PluginKind::CollaborationAuth => format!(
                "capability `{capability}` is not granted to plugin `{plugin}`: give its \
                 [[collaboration]] entry in the host config the `allowed_hosts` it may reach",
                plugin = self.plugin
            ),
            PluginKind::IdentityProvider | PluginKind::StationProvider => format!(
                "capability `{capability}` is not granted to plugin `{plugin}`: add \
                 \"{capability}\" to `grants` under `[auth.{section}]` in the host config",
                plugin = self.plugin,
                section = if self.kind == PluginKind::IdentityProvider {
                    "identity"
                } else {
                    "station"
                }
            ),
        };
        tracing::warn!(plugin = %self.plugin, widget = %self.widget, capability, "denied: {message}");
        Err(message)
    }

    fn granted(&self, capability: &str) -> Result<(), kv::KvError> {
        self.check_grant(capability).map_err(kv::KvError::Denied)
    }

    fn data_granted(&self, capability: &str) -> Result<(), contact_center::DataError> {
        self.check_grant(capability)
            .map_err(contact_center::DataError::Denied)
    }
}

/// The WASI a plugin gets: no arguments, environment, files, sockets or
/// standard streams.
fn wasi_ctx() -> WasiCtx {
    WasiCtx::builder()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(wasi_ctx),
            table: &mut self.table,
        }
    }
}

/// Adds WASI and every deskhost import of every world to `linker`; what a
/// plugin may actually use is decided per call by its grants and kind.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    WidgetPlugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    super::auth::add_to_linker(linker)?;
    super::collab::add_to_linker(linker)
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, mut message: String) {
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let (plugin, widget) = (&*self.plugin, &*self.widget);
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, widget, "{message}"),
        }
    }
}

impl clock::Host for HostState {
    fn now(&mut self) -> u64 {
        self.services.clock.now_ms()
    }

    fn local_now(&mut self, time_zone: String) -> Result<clock::LocalTime, String> {
        let tz = jiff::tz::TimeZone::get(&time_zone).map_err(|_| {
            format!("unknown time zone `{time_zone}` (use an IANA name such as `Europe/Paris`)")
        })?;
        let now = jiff::Timestamp::from_millisecond(self.services.clock.now_ms() as i64)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_zoned(tz);
        let offset = now.offset().seconds();
        let abbreviation = now
            .time_zone()
            .to_offset_info(now.timestamp())
            .abbreviation()
            .to_string();
        Ok(clock::LocalTime {
            year: now.year().into(),
            month: now.month() as u8,
            day: now.day() as u8,
            hour: now.hour() as u8,
            minute: now.minute() as u8,
            second: now.second() as u8,
            weekday: now.weekday().to_monday_one_offset() as u8,
            utc_offset_seconds: offset,
            zone_abbreviation: abbreviation,
        })
    }
}

fn state_to_wit(s: cc::AgentState) -> contact_center::AgentState {
    use contact_center::AgentState as W;
    match s {
        cc::AgentState::Available => W::Available,
        cc::AgentState::Idle => W::Idle,
        cc::AgentState::Engaged => W::Engaged,
        cc::AgentState::WrapUp => W::WrapUp,
        cc::AgentState::Rona => W::Rona,
        cc::AgentState::Offline => W::Offline,
    }
}

fn data_error(e: cc::DataError) -> contact_center::DataError {
    match e {
        cc::DataError::Unknown(m) | cc::DataError::Refused(m) => {
            contact_center::DataError::Unknown(m)
        }
        cc::DataError::Unavailable(m) => contact_center::DataError::Unavailable(m),
    }
}

fn day_to_wit(d: cc::DayStats) -> contact_center::DayStats {
    contact_center::DayStats {
        offered: d.offered,
        handled: d.handled,
        abandoned: d.abandoned,
        average_handle_seconds: d.average_handle_seconds,
    }
}

fn stats_to_wit(s: cc::Stats) -> contact_center::Stats {
    contact_center::Stats {
        today: day_to_wit(s.today),
        yesterday: day_to_wit(s.yesterday),
    }
}

impl contact_center::Host for HostState {
    fn agents(
        &mut self,
        team_ids: Vec<String>,
    ) -> Result<Vec<contact_center::Agent>, contact_center::DataError> {
        self.data_granted("contact-center")?;
        let agents = self
            .services
            .contact_center
            .agents(&team_ids)
            .map_err(data_error)?;
        Ok(agents
            .into_iter()
            .map(|a| contact_center::Agent {
                id: a.id,
                name: a.name,
                team_id: a.team_id,
                state: state_to_wit(a.state),
                state_since: a.state_since_ms,
                idle_reason: a.idle_reason,
                active_contacts: a.active_contacts,
            })
            .collect())
    }

    fn teams(&mut self) -> Result<Vec<contact_center::Team>, contact_center::DataError> {
        self.data_granted("contact-center")?;
        let teams = self.services.contact_center.teams().map_err(data_error)?;
        Ok(teams
            .into_iter()
            .map(|t| contact_center::Team {
                id: t.id,
                name: t.name,
                agent_count: t.agent_count,
            })
            .collect())
    }

    fn queues(&mut self) -> Result<Vec<contact_center::Queue>, contact_center::DataError> {
        self.data_granted("contact-center")?;
        let queues = self.services.contact_center.queues().map_err(data_error)?;
        Ok(queues
            .into_iter()
            .map(|q| contact_center::Queue {
                id: q.id,
                name: q.name,
                team_ids: q.team_ids,
                waiting: q.waiting,
                longest_wait_seconds: q.longest_wait_seconds,
                service_level: q.service_level,
                service_level_goal: q.service_level_goal,
                target_seconds: q.target_seconds,
            })
            .collect())
    }

    fn team_stats(
        &mut self,
        team_id: String,
    ) -> Result<contact_center::Stats, contact_center::DataError> {
        self.data_granted("contact-center")?;
        self.services
            .contact_center
            .team_stats(&team_id)
            .map(stats_to_wit)
            .map_err(data_error)
    }

    fn queue_stats(
        &mut self,
        queue_id: String,
    ) -> Result<contact_center::Stats, contact_center::DataError> {
        self.data_granted("contact-center")?;
        self.services
            .contact_center
            .queue_stats(&queue_id)
            .map(stats_to_wit)
            .map_err(data_error)
    }

    fn my_state(&mut self) -> Result<Option<contact_center::OwnState>, contact_center::DataError> {
        self.data_granted("contact-center")?;
        let own = self
            .services
            .contact_center
            .own_state(&self.user)
            .map_err(data_error)?;
        Ok(own.map(|o| contact_center::OwnState {
            state: state_to_wit(o.state),
            since: o.since_ms,
            idle_reason: o.idle_reason,
            tasks: o
                .tasks
                .into_iter()
                .map(|t| contact_center::Task {
                    id: t.id,
                    channel: t.channel,
                    queue_id: t.queue_id,
                    since: t.since_ms,
                    wrap_up: t.wrap_up,
                })
                .collect(),
        }))
    }

    fn idle_reasons(&mut self) -> Result<Vec<String>, contact_center::DataError> {
        self.data_granted("contact-center")?;
        self.services
            .contact_center
            .idle_reasons()
            .map_err(data_error)
    }

    fn set_agent_state(
        &mut self,
        agent_id: String,
        state: contact_center::AgentState,
        idle_reason: Option<String>,
    ) -> Result<(), contact_center::DataError> {
        self.data_granted("contact-center")?;
        self.data_granted("agent-control")?;
        let state = match state {
            contact_center::AgentState::Available => cc::AgentState::Available,
            contact_center::AgentState::Idle => cc::AgentState::Idle,
            other => {
                return Err(contact_center::DataError::Unknown(format!(
                    "a widget may only set agents available or idle, not {other:?}"
                )));
            }
        };
        tracing::info!(plugin = %self.plugin, widget = %self.widget, user = %self.user, agent = %agent_id, ?state, "agent state change");
        self.services
            .contact_center
            .set_agent_state(&agent_id, state, idle_reason.as_deref())
            .map_err(data_error)
    }
}

fn check_key(key: &str) -> Result<(), kv::KvError> {
    if key.len() > MAX_KV_KEY {
        return Err(kv::KvError::TooLarge(format!(
            "key of {} bytes is over the {MAX_KV_KEY}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

impl kv::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        self.services
            .kv
            .get(&self.plugin, &key)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        if value.len() > MAX_KV_VALUE {
            return Err(kv::KvError::TooLarge(format!(
                "value of {} bytes is over the {MAX_KV_VALUE}-byte limit",
                value.len()
            )));
        }
        self.services
            .kv
            .set(&self.plugin, &key, &value)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }

    fn delete(&mut self, key: String) -> Result<(), kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        self.services
            .kv
            .delete(&self.plugin, &key)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }
}
