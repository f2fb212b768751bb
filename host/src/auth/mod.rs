//! Sign-in, station credentials and sessions. Who may sign in and which
//! station credentials are accepted are decided by plugins (an identity
//! provider and a station provider, chosen in the host config); this module
//! runs the flow around them: the steps (e-mail, password or reset, station
//! credentials), sessions (tokens, CSRF tokens, idle and absolute expiry,
//! rotation at sign-in), attempt limits per account and per client address,
//! remembered station credentials, the one live window per user, and the
//! sign-out rules.
//!
//! Everything here blocks (SQLite, plugin calls): web handlers call it off
//! the async executor, except [`Auth::cached_session`], which answers from
//! memory or not at all.

pub mod instances;
pub mod providers;
pub mod session_cache;

use std::sync::Arc;

use arc_swap::ArcSwap;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::config::AuthConfig;
use crate::contact_center::{AgentState, ContactCenter};
use crate::desktop::Viewer;
use crate::layout::Role;
use crate::plugin::PluginKind;
use crate::runtime::auth::{self as wit, AuthCall};
use crate::runtime::{CallError, CallLimits, Plugins, Runtime, StationRegistry};
use crate::store::{Attempts, SessionStore, StoredSession};
pub use instances::{Instances, Presence};
use session_cache::CachedSession;

/// What the admin should check when signing in fails for a reason the user
/// cannot fix (the seed's list).
pub const ADMIN_CHECKLIST: &[&str] = &[
    "Is the dial number valid, registered and unique?",
    "Are the tenant, profile, skill and agent permissions and settings right?",
    "Are there network or API problems?",
];

/// What a user's profile allows them to sign in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Supervisor only.
    Supervisor,
    /// Supervisor, or supervisor and agent.
    SupervisorAndAgent,
    /// Agent only.
    Agent,
}

impl Profile {
    /// The roles this profile may pick, in the order the Role drop-down
    /// lists them.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Profile::Supervisor => &[Role::Supervisor],
            Profile::SupervisorAndAgent => &[Role::Supervisor, Role::SupervisorAgent],
            Profile::Agent => &[Role::Agent],
        }
    }
}

/// How the user takes calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Telephony {
    /// A phone number the platform dials.
    DialNumber,
    /// An extension of a calling-platform device.
    Extension,
    /// In the browser.
    Desktop,
}

impl Telephony {
    /// The name used in forms and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Telephony::DialNumber => "dial-number",
            Telephony::Extension => "extension",
            Telephony::Desktop => "desktop",
        }
    }

    /// The label the station credentials dialog shows.
    pub fn label(self) -> &'static str {
        match self {
            Telephony::DialNumber => "Dial number",
            Telephony::Extension => "Extension",
            Telephony::Desktop => "Desktop",
        }
    }

    /// Parses a form value.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Telephony::DialNumber,
            Telephony::Extension,
            Telephony::Desktop,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    fn to_wit(self) -> wit::Telephony {
        match self {
            Telephony::DialNumber => wit::Telephony::DialNumber,
            Telephony::Extension => wit::Telephony::Extension,
            Telephony::Desktop => wit::Telephony::Desktop,
        }
    }

    fn from_wit(t: wit::Telephony) -> Self {
        match t {
            wit::Telephony::DialNumber => Telephony::DialNumber,
            wit::Telephony::Extension => Telephony::Extension,
            wit::Telephony::Desktop => Telephony::Desktop,
        }
    }
}

/// The key under which a station is unique among signed-in users.
pub fn station_key(telephony: wit::Telephony, number: &str) -> String {
    format!("{}:{number}", Telephony::from_wit(telephony).as_str())
}

/// A signed-in person, as the identity provider described them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable id from the identity provider.
    pub id: String,
    /// Name shown in the header.
    pub display_name: String,
    /// E-mail address.
    pub email: String,
    /// What they may sign in as.
    pub profile: Profile,
    /// Teams they may pick.
    pub teams: Vec<String>,
    /// Telephony options their profile allows.
    pub telephony: Vec<Telephony>,
}

impl User {
    fn from_wit(i: wit::Identity) -> Self {
        User {
            id: i.id,
            display_name: i.display_name,
            email: i.email,
            profile: match i.profile {
                wit::Profile::Supervisor => Profile::Supervisor,
                wit::Profile::SupervisorAndAgent => Profile::SupervisorAndAgent,
                wit::Profile::Agent => Profile::Agent,
            },
            teams: i.teams,
            telephony: i.telephony.into_iter().map(Telephony::from_wit).collect(),
        }
    }

    fn to_wit(&self) -> wit::Identity {
        wit::Identity {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            profile: match self.profile {
                Profile::Supervisor => wit::Profile::Supervisor,
                Profile::SupervisorAndAgent => wit::Profile::SupervisorAndAgent,
                Profile::Agent => wit::Profile::Agent,
            },
            teams: self.teams.clone(),
            telephony: self.telephony.iter().map(|t| t.to_wit()).collect(),
        }
    }
}

/// Accepted station credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    /// The role signed in as.
    pub role: Role,
    /// How calls are taken.
    pub telephony: Telephony,
    /// Dial number (E.164) or extension; empty for desktop telephony.
    pub number: String,
    /// The team, for roles with agent work.
    pub team: Option<String>,
}

/// The browser's time zone and language, as the station page read them
/// (`Intl.DateTimeFormat().resolvedOptions().timeZone`,
/// `navigator.language`): widgets get them in their context, so that a
/// supervisor in Paris is greeted by Paris time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// IANA time zone name.
    pub time_zone: String,
    /// BCP 47 language tag.
    pub locale: String,
}

impl Default for Place {
    fn default() -> Self {
        Place {
            time_zone: "UTC".into(),
            locale: "en-US".into(),
        }
    }
}

impl Place {
    /// The place a browser reported; what is missing or not understood
    /// (an unknown time zone, a malformed tag) stays at the default.
    pub fn from_browser(time_zone: Option<&str>, locale: Option<&str>) -> Self {
        let mut place = Place::default();
        if let Some(tz) = time_zone
            .map(str::trim)
            .filter(|tz| tz.len() <= 64 && jiff::tz::TimeZone::get(tz).is_ok())
        {
            place.time_zone = tz.to_owned();
        }
        if let Some(tag) = locale.map(str::trim).filter(|t| is_language_tag(t)) {
            place.locale = tag.to_owned();
        }
        place
    }
}

/// Whether `tag` has the shape of a BCP 47 language tag: subtags of one
/// to eight ASCII letters or digits joined by `-`, the first letters only.
fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let first_ok = subtags
        .next()
        .is_some_and(|s| (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()));
    tag.len() <= 35
        && first_ok
        && subtags
            .all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Where a session is in the sign-in flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// Asking for the e-mail address.
    Email,
    /// Asking for the password of `email`.
    Password {
        /// The address given.
        email: String,
    },
    /// Signed in; asking for station credentials.
    Station {
        /// Who signed in.
        user: User,
    },
    /// Using the desktop.
    Active {
        /// Who signed in.
        user: User,
        /// With which station credentials.
        station: Station,
        /// Where the browser is (sessions older than this field: UTC, en-US).
        #[serde(default)]
        place: Place,
    },
}

/// A session's state, stored as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    /// The CSRF token every state-changing request must carry.
    pub csrf: String,
    /// Where the flow is.
    #[serde(flatten)]
    pub step: Step,
    /// A message to show once on the next page.
    #[serde(default)]
    pub notice: Option<String>,
}

/// A loaded session.
#[derive(Debug, Clone)]
pub struct Session {
    id_hash: Vec<u8>,
    /// Its state.
    pub data: SessionData,
    created_ms: u64,
    last_seen_ms: u64,
}

impl Session {
    /// The viewer of an active session.
    pub fn viewer(&self) -> Option<Viewer> {
        match &self.data.step {
            Step::Active {
                user,
                station,
                place,
            } => Some(Viewer {
                user_id: user.id.clone(),
                display_name: user.display_name.clone(),
                role: station.role,
                team: station.team.clone(),
                locale: place.locale.clone(),
                time_zone: place.time_zone.clone(),
            }),
            _ => None,
        }
    }

    /// The signed-in user, from the password step on.
    pub fn user(&self) -> Option<&User> {
        match &self.data.step {
            Step::Station { user } | Step::Active { user, .. } => Some(user),
            _ => None,
        }
    }
}

/// How often a session's last request time is written back: a few seconds
/// of precision is enough for the idle timeout.
const SEEN_PRECISION_MS: u64 = 15_000;

/// A stored session judged at a request.
enum Judged {
    /// Live, and seen recently enough.
    Live(Box<Session>),
    /// Live; its last request time needs writing back.
    LiveButStale(Box<Session>),
    /// Idle too long, too old, or unreadable: to remove.
    Ended(Vec<u8>),
}

/// What a session cookie leads to.
#[derive(Debug)]
pub enum Lookup {
    /// No session cookie.
    None,
    /// The cookie's session ended (expired, signed out elsewhere, unknown).
    Expired,
    /// A live session.
    Found(Box<Session>),
}

/// Why a sign-in step did not succeed. The text is what the user is told.
#[derive(Debug, Clone, Error)]
pub enum AuthError {
    /// The e-mail address is malformed.
    #[error("Enter a valid e-mail address, such as name@example.com.")]
    BadEmail,
    /// Wrong e-mail address or password (never says which).
    #[error("The e-mail address or password is not correct.")]
    InvalidCredentials,
    /// Too many failures for the account or the client address.
    #[error(
        "Too many failed sign-ins. Try again in {minutes} minutes, or use Forgot password to set a new password."
    )]
    Locked {
        /// Minutes until it may be tried again.
        minutes: u64,
    },
    /// The provider refused, with its reason.
    #[error("{0}")]
    Refused(String),
    /// The provider or store failed; the admin needs the tracking ID.
    #[error(
        "Signing in is not possible right now. Share tracking ID {tracking_id} with your administrator."
    )]
    Unavailable {
        /// Logged with the cause.
        tracking_id: String,
    },
    /// The reset code is wrong, used or unknown.
    #[error("{}", invalid_code_message(*.tries_left))]
    InvalidCode {
        /// Tries left on the current code.
        tries_left: u8,
    },
    /// The reset code is too old.
    #[error("That code has expired. Request a new code.")]
    CodeExpired,
    /// Too many wrong codes.
    #[error("Too many wrong codes. Request a new code.")]
    TooManyTries,
    /// The new password breaks a rule.
    #[error("{0}")]
    WeakPassword(String),
    /// The two new passwords differ.
    #[error("The two passwords do not match.")]
    PasswordMismatch,
    /// Station credentials refused.
    #[error("{message}")]
    Station {
        /// The form field it is about (`role`, `telephony`, `number`,
        /// `team`, `microphone`, `e911`).
        field: &'static str,
        /// Stable code.
        code: String,
        /// What the user is told.
        message: String,
    },
    /// The request does not fit the session's step.
    #[error("This step is not available now. Start again from the sign-in page.")]
    WrongStep,
    /// The CSRF token is missing or wrong.
    #[error(
        "This form has expired or did not come from this desktop. Reload the page and try again."
    )]
    Csrf,
    /// Sign-out refused while work is in progress.
    #[error("{0}")]
    SignOutRefused(String),
}

fn invalid_code_message(tries_left: u8) -> String {
    match tries_left {
        0 => "That code is not valid. Request a new code.".into(),
        1 => "That code is not valid. 1 try left.".into(),
        n => format!("That code is not valid. {n} tries left."),
    }
}

impl AuthError {
    /// Whether the admin checklist and tracking ID belong with this error.
    pub fn needs_admin(&self) -> bool {
        matches!(self, AuthError::Unavailable { .. })
    }
}

/// What the identity provider says comes after the e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// The password step.
    Password,
    /// Sign in elsewhere.
    Redirect(String),
}

/// What the station credentials dialog offers and pre-fills.
#[derive(Debug, Clone)]
pub struct StationForm {
    /// Roles to choose from (the Role drop-down shows when there are two).
    pub roles: Vec<Role>,
    /// Telephony options.
    pub telephony: Vec<Telephony>,
    /// Teams to choose from: (id, name).
    pub teams: Vec<(String, String)>,
    /// Pre-filled role.
    pub role: Role,
    /// Pre-filled telephony option.
    pub selected: Telephony,
    /// Pre-filled dial number or extension.
    pub number: String,
    /// Pre-filled team.
    pub team: Option<String>,
    /// Whether these are remembered credentials.
    pub remembered: bool,
}

impl StationForm {
    /// Keeps what the user submitted, so a refused form is not emptied.
    pub fn apply(&mut self, input: &StationInput) {
        if let Some(role) = input.role.as_deref().and_then(|r| r.parse::<Role>().ok())
            && self.roles.contains(&role)
        {
            self.role = role;
        }
        if let Some(t) = Telephony::parse(&input.telephony) {
            self.selected = t;
        }
        self.number = input.number.trim().to_owned();
        if let Some(team) = input.team.as_deref().filter(|t| !t.is_empty()) {
            self.team = Some(team.to_owned());
        }
        self.remembered = input.remember.is_some();
    }
}

/// The station credentials as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StationInput {
    /// `supervisor`, `supervisor-agent` or `agent`; missing means the only
    /// role the profile allows.
    #[serde(default)]
    pub role: Option<String>,
    /// `dial-number`, `extension` or `desktop`.
    #[serde(default)]
    pub telephony: String,
    /// The dial number or extension (the Dial number/Extension field);
    /// ignored for desktop telephony.
    #[serde(default)]
    pub number: String,
    /// The team.
    #[serde(default)]
    pub team: Option<String>,
    /// "on" when Remember my credentials is checked.
    #[serde(default)]
    pub remember: Option<String>,
    /// The browser's microphone permission as the page read it.
    #[serde(default)]
    pub microphone: Option<String>,
    /// "on" when the E911 notice is acknowledged.
    #[serde(default)]
    pub e911: Option<String>,
    /// The browser's IANA time zone (filled in by the page's script).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The browser's language (filled in by the page's script).
    #[serde(default)]
    pub locale: Option<String>,
}

/// What submitting station credentials led to.
#[derive(Debug, Clone)]
pub struct StationOutcome {
    /// Remember was asked for but the credentials could not be saved.
    pub remember_failed: bool,
}

/// The sign-in service.
pub struct Auth {
    config: AuthConfig,
    runtime: Arc<Runtime>,
    plugins: Arc<ArcSwap<Plugins>>,
    store: Arc<dyn SessionStore>,
    contact_center: Arc<dyn ContactCenter>,
    instances: Arc<Instances>,
    /// Live sessions, kept in step with every session write below.
    cache: session_cache::SessionCache,
    /// Resets run one at a time: the provider's store has no atomic
    /// update, so parallel guesses could each see the same tries left.
    resets: std::sync::Mutex<()>,
}

/// The station registry the station providers read: stations held by
/// sessions seen within the idle timeout.
pub struct Registry {
    store: Arc<dyn SessionStore>,
    idle_ms: u64,
}

impl Registry {
    /// A registry over `store`'s sessions.
    pub fn new(store: Arc<dyn SessionStore>, config: &AuthConfig) -> Self {
        Registry {
            store,
            idle_ms: config.idle_timeout.as_millis() as u64,
        }
    }
}

impl StationRegistry for Registry {
    fn taken(&self, user_id: &str, station_key: &str) -> bool {
        let since = crate::now_ms().saturating_sub(self.idle_ms);
        self.store
            .station_taken(station_key, user_id, since)
            .unwrap_or_else(|e| {
                tracing::error!("station registry: {e}; treating the station as taken");
                true
            })
    }
}

/// A new random token: 32 bytes, URL-safe base64.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn tracking(cause: &str) -> AuthError {
    let tracking_id = uuid::Uuid::new_v4().to_string();
    tracing::error!(tracking_id = %tracking_id, "sign-in failed: {cause}");
    crate::admin::journal().incident(&tracking_id, "sign-in", cause);
    AuthError::Unavailable { tracking_id }
}

/// Normalises and checks an e-mail address's shape.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@')
        });
    if ok {
        Ok(email)
    } else {
        Err(AuthError::BadEmail)
    }
}

impl Auth {
    /// The sign-in service over the host's runtime, plugins and store.
    pub fn new(
        config: AuthConfig,
        runtime: Arc<Runtime>,
        plugins: Arc<ArcSwap<Plugins>>,
        store: Arc<dyn SessionStore>,
        contact_center: Arc<dyn ContactCenter>,
    ) -> Self {
        Auth {
            config,
            runtime,
            plugins,
            store,
            contact_center,
            instances: Arc::new(Instances::default()),
            cache: Default::default(),
            resets: std::sync::Mutex::new(()),
        }
    }

    /// The auth configuration.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The users' live windows.
    pub fn instances(&self) -> &Arc<Instances> {
        &self.instances
    }

    /// Checks that the configured providers are installed and their
    /// settings valid; the error says what to fix in the host config.
    pub fn check_providers(&self) -> Result<(), String> {
        let plugins = self.plugins.load();
        for (config, kind, section) in [
            (
                &self.config.identity,
                PluginKind::IdentityProvider,
                "auth.identity",
            ),
            (
                &self.config.station,
                PluginKind::StationProvider,
                "auth.station",
            ),
        ] {
            providers::resolve(&plugins, config, kind, section)?;
        }
        Ok(())
    }

    fn limits(&self) -> CallLimits {
        CallLimits {
            timeout: self.config.call_timeout,
            memory_mib: self.runtime.limits().memory_mib,
        }
    }

    /// The configured provider of `kind`, resolved now (a reload may have
    /// replaced it); a set-up problem gets a tracking ID.
    fn provider(&self, kind: PluginKind) -> Result<providers::Provider, AuthError> {
        let (config, section) = match kind {
            PluginKind::IdentityProvider => (&self.config.identity, "auth.identity"),
            _ => (&self.config.station, "auth.station"),
        };
        providers::resolve(&self.plugins.load(), config, kind, section).map_err(|e| tracking(&e))
    }

    fn identity<T>(
        &self,
        user: &str,
        f: impl FnOnce(
            &wit::identity::exports::deskhost::plugin::accounts::Guest,
            &mut wasmtime::Store<crate::runtime::host::HostState>,
            &[crate::runtime::types::Setting],
        ) -> wasmtime::Result<T>,
    ) -> Result<T, AuthError> {
        let p = self.provider(PluginKind::IdentityProvider)?;
        let call = AuthCall {
            user,
            grants: p.grants.clone(),
            limits: self.limits(),
        };
        self.runtime
            .call_identity(&p.plugin, &call, |g, store| f(g, store, &p.settings))
            .map_err(|e| provider_failed(&p.plugin.info.id, &e))
    }

    fn station<T>(
        &self,
        user: &str,
        f: impl FnOnce(
            &wit::station::exports::deskhost::plugin::stations::Guest,
            &mut wasmtime::Store<crate::runtime::host::HostState>,
            &[crate::runtime::types::Setting],
        ) -> wasmtime::Result<T>,
    ) -> Result<T, AuthError> {
        let p = self.provider(PluginKind::StationProvider)?;
        let call = AuthCall {
            user,
            grants: p.grants.clone(),
            limits: self.limits(),
        };
        self.runtime
            .call_station(&p.plugin, &call, |g, store| f(g, store, &p.settings))
            .map_err(|e| provider_failed(&p.plugin.info.id, &e))
    }

    // ---- sessions ----

    /// The session a cookie token leads to; expired sessions are removed.
    pub fn session(&self, token: Option<&str>) -> Lookup {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Lookup::None;
        };
        let id_hash = hash_token(token);
        let stored = match self
            .cache
            .get_or_load(&id_hash, || self.store.session(&id_hash))
        {
            Ok(Some(s)) => s,
            Ok(None) => return Lookup::Expired,
            Err(e) => {
                tracing::error!("cannot read a session: {e}");
                return Lookup::Expired;
            }
        };
        let now = crate::now_ms();
        match self.judge(id_hash, stored, now) {
            Judged::Live(session) => Lookup::Found(session),
            Judged::LiveButStale(session) => {
                if let Err(e) = self.store.touch_session(&session.id_hash, now) {
                    tracing::error!("cannot update a session: {e}");
                }
                self.cache.touch(&session.id_hash, now);
                Lookup::Found(session)
            }
            Judged::Ended(id_hash) => {
                if let Err(e) = self
                    .cache
                    .remove_with(&id_hash, || self.store.delete_session(&id_hash))
                {
                    tracing::error!("cannot remove an expired session: {e}");
                }
                Lookup::Expired
            }
        }
    }

    /// [`Auth::session`] from memory alone, without blocking: `None` when
    /// answering needs the store (a session not cached, one to mark as
    /// seen, one to remove), and the caller should then call
    /// [`Auth::session`] off the async executor.
    pub fn cached_session(&self, token: Option<&str>) -> Option<Lookup> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Some(Lookup::None);
        };
        let id_hash = hash_token(token);
        let stored = self.cache.get(&id_hash)?;
        match self.judge(id_hash, stored, crate::now_ms()) {
            Judged::Live(session) => Some(Lookup::Found(session)),
            Judged::LiveButStale(_) | Judged::Ended(_) => None,
        }
    }

    /// Whether a stored session is still live at `now`.
    fn judge(&self, id_hash: Vec<u8>, stored: CachedSession, now: u64) -> Judged {
        let idle =
            now.saturating_sub(stored.last_seen_ms) > self.config.idle_timeout.as_millis() as u64;
        let old =
            now.saturating_sub(stored.created_ms) > self.config.absolute_timeout.as_millis() as u64;
        let Some(data) = stored.data.filter(|_| !idle && !old) else {
            return Judged::Ended(id_hash);
        };
        let session = Box::new(Session {
            id_hash,
            data,
            created_ms: stored.created_ms,
            last_seen_ms: now,
        });
        // Writing on every request would make reads pay for a write; a
        // few seconds of precision is enough for the idle timeout.
        if now.saturating_sub(stored.last_seen_ms) > SEEN_PRECISION_MS {
            Judged::LiveButStale(session)
        } else {
            Judged::Live(session)
        }
    }

    /// Starts an anonymous session (the e-mail step); returns its token.
    pub fn start(&self) -> Result<(String, Session), AuthError> {
        let token = random_token();
        let now = crate::now_ms();
        let session = Session {
            id_hash: hash_token(&token),
            data: SessionData {
                csrf: random_token(),
                step: Step::Email,
                notice: None,
            },
            created_ms: now,
            last_seen_ms: now,
        };
        self.save(&session)?;
        Ok((token, session))
    }

    fn save(&self, session: &Session) -> Result<(), AuthError> {
        let station_key = match &session.data.step {
            Step::Active { station, .. } if station.telephony != Telephony::Desktop => {
                Some(station_key(station.telephony.to_wit(), &station.number))
            }
            _ => None,
        };
        let stored = StoredSession {
            id_hash: session.id_hash.clone(),
            user_id: session.user().map(|u| u.id.clone()),
            station_key,
            data: serde_json::to_string(&session.data)
                .map_err(|e| tracking(&format!("cannot encode a session: {e}")))?,
            created_ms: session.created_ms,
            last_seen_ms: session.last_seen_ms,
        };
        self.store
            .put_session(&stored)
            .map_err(|e| tracking(&format!("cannot save a session: {e}")))?;
        self.cache.put(
            stored.id_hash,
            CachedSession {
                data: Some(session.data.clone()),
                created_ms: session.created_ms,
                last_seen_ms: session.last_seen_ms,
            },
        );
        Ok(())
    }

    /// Checks a request's CSRF token against the session's, in constant time.
    pub fn check_csrf(&self, session: &Session, given: Option<&str>) -> Result<(), AuthError> {
        let given = given.unwrap_or_default().as_bytes();
        let expected = session.data.csrf.as_bytes();
        if given.len() == expected.len() && bool::from(given.ct_eq(expected)) {
            Ok(())
        } else {
            tracing::warn!("request refused: missing or wrong CSRF token");
            Err(AuthError::Csrf)
        }
    }

    /// Saves a session changed outside a step (such as a new notice);
    /// failures are logged.
    pub fn keep(&self, session: &Session) {
        if let Err(e) = self.save(session) {
            tracing::error!("cannot save a session: {e}");
        }
    }

    /// Takes the one-shot notice of a session.
    pub fn take_notice(&self, session: &mut Session) -> Option<String> {
        let notice = session.data.notice.take()?;
        if let Err(e) = self.save(session) {
            tracing::error!("cannot clear a notice: {e}");
        }
        Some(notice)
    }

    /// Removes outdated sessions; returns how many.
    pub fn purge(&self) -> usize {
        let now = crate::now_ms();
        self.cache.clear();
        self.store
            .purge_sessions(
                now.saturating_sub(self.config.idle_timeout.as_millis() as u64),
                now.saturating_sub(self.config.absolute_timeout.as_millis() as u64),
            )
            .unwrap_or_else(|e| {
                tracing::error!("cannot purge sessions: {e}");
                0
            })
    }

    // ---- e-mail and password ----

    /// The e-mail step.
    pub fn submit_email(&self, session: &mut Session, email: &str) -> Result<NextStep, AuthError> {
        let email = normalize_email(email)?;
        let next = self.identity("", |g, store, settings| {
            g.call_lookup_account(store, settings, &email)
        })?;
        match next {
            Ok(wit::NextStep::Password) => {
                session.data.step = Step::Password { email };
                self.save(session)?;
                Ok(NextStep::Password)
            }
            Ok(wit::NextStep::Redirect(url)) => Ok(NextStep::Redirect(url)),
            Err(e) => Err(sign_in_error(e)),
        }
    }

    /// Back from the password step to the e-mail step.
    pub fn back_to_email(&self, session: &mut Session) -> Result<(), AuthError> {
        if let Step::Password { .. } = session.data.step {
            session.data.step = Step::Email;
            self.save(session)?;
        }
        Ok(())
    }

    fn locked(&self, key: &str, now: u64) -> Option<u64> {
        let a = self.store.attempts(key).ok()?;
        (a.locked_until_ms > now).then(|| (a.locked_until_ms - now).div_ceil(60_000))
    }

    fn count_failure(&self, key: &str, max: u32, now: u64) {
        let window = self.config.lockout.as_millis() as u64;
        let mut a = self.store.attempts(key).unwrap_or_default();
        if now.saturating_sub(a.window_start_ms) > window {
            a = Attempts {
                failures: 0,
                window_start_ms: now,
                locked_until_ms: 0,
            };
        }
        a.failures += 1;
        if a.failures >= max {
            a.locked_until_ms = now + window;
            tracing::warn!(key, "sign-in locked after {} failures", a.failures);
        }
        if let Err(e) = self.store.set_attempts(key, a) {
            tracing::error!("cannot count a failed sign-in: {e}");
        }
    }

    /// The password step. On success the session id is rotated: the
    /// returned token replaces the old one, which stops working.
    pub fn submit_password(
        &self,
        session: &mut Session,
        password: &str,
        client: &str,
    ) -> Result<String, AuthError> {
        let Step::Password { email } = &session.data.step else {
            return Err(AuthError::WrongStep);
        };
        let email = email.clone();
        let now = crate::now_ms();
        let account_key = format!("account:{email}");
        let client_key = format!("address:{client}");
        if let Some(minutes) = self
            .locked(&account_key, now)
            .or_else(|| self.locked(&client_key, now))
        {
            tracing::warn!(email, client, "sign-in refused: locked");
            return Err(AuthError::Locked { minutes });
        }
        let result = self.identity("", |g, store, settings| {
            g.call_verify_password(store, settings, &email, password)
        })?;
        let identity = match result {
            Ok(i) => i,
            Err(e) => {
                let err = sign_in_error(e);
                if matches!(err, AuthError::InvalidCredentials) {
                    tracing::info!(email, client, "wrong password");
                    self.count_failure(&account_key, self.config.max_failures_per_account, now);
                    self.count_failure(&client_key, self.config.max_failures_per_address, now);
                }
                return Err(err);
            }
        };
        if let Err(e) = self.store.set_attempts(&account_key, Attempts::default()) {
            tracing::error!("cannot reset sign-in failures: {e}");
        }
        let user = User::from_wit(identity);
        tracing::info!(user = %user.id, email, client, "password accepted");
        // Rotate: a new id for the signed-in session, the old one removed.
        if let Err(e) = self.cache.remove_with(&session.id_hash, || {
            self.store.delete_session(&session.id_hash)
        }) {
            tracing::error!("cannot remove the pre-sign-in session: {e}");
        }
        let token = random_token();
        session.id_hash = hash_token(&token);
        session.data.csrf = random_token();
        session.data.step = Step::Station { user };
        session.created_ms = now;
        session.last_seen_ms = now;
        self.save(session)?;
        Ok(token)
    }

    /// Forgot password: sends a code (or, for an unknown address, silently
    /// nothing). Remembers the address in the session for the next step.
    pub fn start_reset(&self, session: &mut Session, email: &str) -> Result<String, AuthError> {
        let email = normalize_email(email)?;
        let result = {
            let _one_at_a_time = self.resets.lock().unwrap_or_else(|p| p.into_inner());
            self.identity("", |g, store, settings| {
                g.call_start_reset(store, settings, &email)
            })?
        };
        result.map_err(sign_in_error)?;
        tracing::info!(email, "password reset requested");
        session.data.step = Step::Password {
            email: email.clone(),
        };
        self.save(session)?;
        Ok(email)
    }

    /// Finishes a reset: back to the password step with a notice.
    pub fn finish_reset(
        &self,
        session: &mut Session,
        email: &str,
        code: &str,
        new_password: &str,
        confirm: &str,
        client: &str,
    ) -> Result<(), AuthError> {
        let email = normalize_email(email)?;
        if new_password != confirm {
            return Err(AuthError::PasswordMismatch);
        }
        let now = crate::now_ms();
        let client_key = format!("address:{client}");
        if let Some(minutes) = self.locked(&client_key, now) {
            return Err(AuthError::Locked { minutes });
        }
        let code = code.trim();
        let result = {
            let _one_at_a_time = self.resets.lock().unwrap_or_else(|p| p.into_inner());
            self.identity("", |g, store, settings| {
                g.call_finish_reset(store, settings, &email, code, new_password)
            })?
        };
        if let Err(wit::ResetError::InvalidCode(_) | wit::ResetError::TooManyTries) = &result {
            self.count_failure(&client_key, self.config.max_failures_per_address, now);
        }
        result.map_err(|e| match e {
            wit::ResetError::InvalidCode(n) => AuthError::InvalidCode { tries_left: n },
            wit::ResetError::Expired => AuthError::CodeExpired,
            wit::ResetError::TooManyTries => AuthError::TooManyTries,
            wit::ResetError::WeakPassword(m) => AuthError::WeakPassword(m),
            wit::ResetError::Unavailable(m) => tracking(&m),
        })?;
        tracing::info!(email, "password reset finished");
        if let Err(e) = self
            .store
            .set_attempts(&format!("account:{email}"), Attempts::default())
        {
            tracing::error!("cannot reset sign-in failures: {e}");
        }
        session.data.step = Step::Password { email };
        session.data.notice =
            Some("Your password was changed. Sign in with your new password.".into());
        self.save(session)
    }

    // ---- station credentials ----

    /// The station credentials dialog for the signed-in user: remembered
    /// credentials first, else the station provider's defaults.
    pub fn station_form(&self, session: &Session) -> Result<StationForm, AuthError> {
        let Step::Station { user } = &session.data.step else {
            return Err(AuthError::WrongStep);
        };
        let names: Vec<(String, String)> = self
            .contact_center
            .teams()
            .map(|ts| ts.into_iter().map(|t| (t.id, t.name)).collect())
            .unwrap_or_default();
        let teams = user
            .teams
            .iter()
            .map(|id| {
                let name = names
                    .iter()
                    .find(|(i, _)| i == id)
                    .map_or_else(|| id.clone(), |(_, n)| n.clone());
                (id.clone(), name)
            })
            .collect();
        let roles = user.profile.roles().to_vec();
        let mut form = StationForm {
            role: roles[0],
            roles,
            telephony: user.telephony.clone(),
            teams,
            selected: user
                .telephony
                .first()
                .copied()
                .unwrap_or(Telephony::DialNumber),
            number: String::new(),
            team: None,
            remembered: false,
        };
        let remembered: Option<Station> = self
            .store
            .remembered_station(&user.id)
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok());
        if let Some(r) = remembered.filter(|r| form.roles.contains(&r.role)) {
            form.role = r.role;
            form.selected = r.telephony;
            form.number = r.number;
            form.team = r.team;
            form.remembered = true;
            return Ok(form);
        }
        let wit_user = user.to_wit();
        let defaults = self.station(&user.id, |g, store, settings| {
            g.call_defaults(store, settings, &wit_user)
        })?;
        if let Some(t) = defaults.telephony {
            form.selected = Telephony::from_wit(t);
        }
        form.number = defaults.number.unwrap_or_default();
        form.team = defaults.team;
        Ok(form)
    }

    /// Checks station credentials with the station provider; on success
    /// the session becomes active (and the user an agent of the team, for
    /// roles with agent work).
    pub fn submit_station(
        &self,
        session: &mut Session,
        input: &StationInput,
    ) -> Result<StationOutcome, AuthError> {
        let Step::Station { user } = &session.data.step else {
            return Err(AuthError::WrongStep);
        };
        let user = user.clone();
        let refuse = |field: &'static str, code: &str, message: String| AuthError::Station {
            field,
            code: code.into(),
            message,
        };
        let allowed = user.profile.roles();
        let role = match input.role.as_deref().filter(|r| !r.is_empty()) {
            None => allowed[0],
            Some(r) => r
                .parse::<Role>()
                .map_err(|_| refuse("role", "role-unknown", format!("`{r}` is not a role.")))?,
        };
        // Authorisation stays with the host whatever the plugin says.
        if !allowed.contains(&role) {
            return Err(refuse(
                "role",
                "role-not-allowed",
                format!(
                    "Your profile does not allow signing in as {}.",
                    role_label(role)
                ),
            ));
        }
        let team = input
            .team
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && role != Role::Supervisor)
            .map(String::from);
        if let Some(t) = &team
            && !user.teams.contains(t)
        {
            return Err(refuse(
                "team",
                "team-not-allowed",
                format!("You are not a member of the team `{t}`. Pick one of your teams."),
            ));
        }
        let telephony = Telephony::parse(&input.telephony).ok_or_else(|| {
            refuse(
                "telephony",
                "telephony-unknown",
                "Pick Dial number, Extension or Desktop.".into(),
            )
        })?;
        let number = match telephony {
            Telephony::DialNumber | Telephony::Extension => input.number.trim().to_owned(),
            Telephony::Desktop => String::new(),
        };
        let microphone = match input.microphone.as_deref() {
            Some("granted") => wit::Permission::Granted,
            Some("denied") => wit::Permission::Denied,
            Some("prompt") => wit::Permission::Prompt,
            _ => wit::Permission::Unknown,
        };
        let request = wit::StationRequest {
            role: match role {
                Role::Supervisor => crate::runtime::types::Role::Supervisor,
                Role::SupervisorAgent => crate::runtime::types::Role::SupervisorAgent,
                Role::Agent => crate::runtime::types::Role::Agent,
            },
            telephony: telephony.to_wit(),
            number,
            team,
            remember: input.remember.is_some(),
            microphone,
            e911_acknowledged: input.e911.is_some(),
        };
        let wit_user = user.to_wit();
        let accepted = self
            .station(&user.id, |g, store, settings| {
                g.call_check(store, settings, &wit_user, &request)
            })?
            .map_err(|r| {
                tracing::info!(user = %user.id, code = %r.code, "station credentials refused");
                refuse(field_name(r.field), &r.code, r.message)
            })?;
        let station = Station {
            role,
            telephony: Telephony::from_wit(accepted.telephony),
            number: accepted.number,
            team: if role == Role::Supervisor {
                None
            } else {
                accepted.team
            },
        };
        if role != Role::Supervisor {
            let Some(team) = &station.team else {
                return Err(refuse("team", "team-required", "Pick a team.".into()));
            };
            self.contact_center
                .sign_in_agent(&user.id, team)
                .map_err(|e| tracking(&format!("cannot sign in as an agent of {team}: {e}")))?;
        }
        let mut remember_failed = false;
        if request.remember {
            let saved = serde_json::to_string(&station)
                .map_err(|e| e.to_string())
                .and_then(|json| {
                    self.store
                        .remember_station(&user.id, &json)
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = saved {
                tracing::warn!(user = %user.id, "station credentials not remembered: {e}");
                remember_failed = true;
            }
        } else if let Err(e) = self.store.forget_station(&user.id) {
            tracing::warn!(user = %user.id, "cannot forget station credentials: {e}");
        }
        tracing::info!(user = %user.id, role = %role, telephony = station.telephony.as_str(), "signed in");
        let place = Place::from_browser(input.time_zone.as_deref(), input.locale.as_deref());
        session.data.step = Step::Active {
            user,
            station,
            place,
        };
        session.data.notice = remember_failed.then(|| {
            "Your station credentials could not be saved. Enter them again the next time you sign in."
                .to_owned()
        });
        self.save(session)?;
        Ok(StationOutcome { remember_failed })
    }

    // ---- the desktop ----

    /// Signs out, unless work is in progress: an active conversation, a
    /// wrap-up task, or a state other than Idle.
    pub fn sign_out(&self, session: &Session) -> Result<(), AuthError> {
        if let Some(viewer) = session.viewer() {
            if viewer.role != Role::Supervisor {
                let own = self
                    .contact_center
                    .own_state(&viewer.user_id)
                    .ok()
                    .flatten();
                if let Some(own) = own {
                    if own.tasks.iter().any(|t| t.wrap_up) || own.state == AgentState::WrapUp {
                        return Err(AuthError::SignOutRefused(
                            "You cannot sign out while a wrap-up task is in progress. Finish the wrap-up first.".into(),
                        ));
                    }
                    if !own.tasks.is_empty() || own.state == AgentState::Engaged {
                        return Err(AuthError::SignOutRefused(
                            "You cannot sign out during an active conversation. End the conversation first.".into(),
                        ));
                    }
                    if own.state != AgentState::Idle {
                        return Err(AuthError::SignOutRefused(
                            "Set your state to Idle before you sign out.".into(),
                        ));
                    }
                }
                if let Err(e) = self.contact_center.sign_out_agent(&viewer.user_id) {
                    tracing::error!("cannot sign the agent out: {e}");
                }
            }
            self.instances.forget(&viewer.user_id);
            tracing::info!(user = %viewer.user_id, "signed out");
        }
        self.cache
            .remove_with(&session.id_hash, || {
                self.store.delete_session(&session.id_hash)
            })
            .map_err(|e| tracking(&format!("cannot remove a session: {e}")))
    }

    /// Desktop telephony failed in the browser after sign-in: the agent is
    /// put in RONA and the failure gets a tracking ID for the admin.
    pub fn telephony_failed(&self, session: &Session, reason: &str) -> String {
        let tracking_id = uuid::Uuid::new_v4().to_string();
        let reason: String = reason.chars().take(200).collect();
        let user = session.user().map(|u| u.id.as_str()).unwrap_or_default();
        tracing::error!(tracking_id = %tracking_id, user, "desktop telephony failed: {reason}");
        crate::admin::journal().incident(
            &tracking_id,
            format!("desktop telephony of {user}"),
            &reason,
        );
        if let Some(v) = session.viewer()
            && v.role != Role::Supervisor
            && let Err(e) = self.contact_center.set_rona(&v.user_id)
        {
            tracing::error!(tracking_id = %tracking_id, "cannot set RONA: {e}");
        }
        tracking_id
    }
}

/// The Role drop-down's label for a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Supervisor => "Supervisor",
        Role::SupervisorAgent => "Supervisor and Agent",
        Role::Agent => "Agent",
    }
}

fn field_name(f: wit::StationField) -> &'static str {
    match f {
        wit::StationField::Role => "role",
        wit::StationField::Telephony => "telephony",
        wit::StationField::Number => "number",
        wit::StationField::Team => "team",
        wit::StationField::Microphone => "microphone",
        wit::StationField::E911 => "e911",
    }
}

fn sign_in_error(e: wit::SignInError) -> AuthError {
    match e {
        wit::SignInError::InvalidCredentials => AuthError::InvalidCredentials,
        wit::SignInError::Refused(m) => AuthError::Refused(m),
        wit::SignInError::Unavailable(m) => tracking(&m),
    }
}

fn provider_failed(plugin: &str, e: &CallError) -> AuthError {
    tracking(&format!("plugin `{plugin}` {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Lee@Example.COM ").unwrap(),
            "lee@example.com"
        );
        for bad in [
            "",
            "lee",
            "lee@",
            "@example.com",
            "lee@example",
            "a b@c.d",
            "a@b@c.d",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_data_round_trips_through_json() {
        let data = SessionData {
            csrf: "c".into(),
            step: Step::Password {
                email: "a@b.c".into(),
            },
            notice: Some("n".into()),
        };
        let json = serde_json::to_string(&data).unwrap();
        assert!(json.contains("\"step\":\"password\""), "{json}");
        assert_eq!(serde_json::from_str::<SessionData>(&json).unwrap(), data);
    }

    #[test]
    fn error_texts_say_what_to_do() {
        assert!(
            AuthError::InvalidCode { tries_left: 3 }
                .to_string()
                .contains("3 tries left")
        );
        assert!(
            AuthError::Locked { minutes: 15 }
                .to_string()
                .contains("15 minutes")
        );
    }

    #[test]
    fn the_browsers_place_is_taken_only_when_it_makes_sense() {
        let paris = Place::from_browser(Some("Europe/Paris"), Some("fr-FR"));
        assert_eq!(
            (paris.time_zone.as_str(), paris.locale.as_str()),
            ("Europe/Paris", "fr-FR")
        );
        let odd = Place::from_browser(Some("Mars/Olympus_Mons"), Some("<script>"));
        assert_eq!(odd, Place::default());
        assert_eq!(Place::from_browser(None, Some("")), Place::default());
        assert_eq!(
            Place::from_browser(Some("UTC"), Some("zh-Hant-TW")).locale,
            "zh-Hant-TW"
        );
        assert_eq!(Place::from_browser(None, Some("en-")).locale, "en-US");
    }
}
