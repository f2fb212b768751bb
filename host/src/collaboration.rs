//! Collaboration tools (Microsoft Teams and the like) for signed-in users:
//! the Retry flow (authorization code with PKCE, run by a
//! `collaboration-auth` plugin), the custody of the tokens (server side
//! only, encrypted at rest with a key from the host config, never sent to
//! the browser or a widget), refreshes one at a time per user and plugin,
//! and the status the Profile settings page shows.
//!
//! Everything here blocks (SQLite, plugin calls, outbound HTTP): web
//! handlers call it off the async executor.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::auth::providers;
use crate::config::CollaborationConfig;
use crate::plugin::PluginKind;
use crate::runtime::auth::AuthCall;
use crate::runtime::collab::{self as wit, AuthError, ConnectionStatus};
use crate::runtime::{CallLimits, Plugins, Runtime, types};
use crate::store::{TokenRow, TokenStore};

/// How long a started authorization may take to come back.
const PENDING_TTL_MS: u64 = 10 * 60 * 1000;

/// What a user sees of one collaboration tool.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Never connected, or disconnected.
    NotConnected,
    /// Connected.
    Success,
    /// The access token expired and cannot be refreshed: Retry.
    Expired,
    /// Connecting or refreshing failed; the reason is for the user.
    Failed(String),
}

impl State {
    /// The word the Profile settings page shows.
    pub fn label(&self) -> &'static str {
        match self {
            State::NotConnected => "Not connected",
            State::Success => "Success",
            State::Expired => "Expired",
            State::Failed(_) => "Failed",
        }
    }
}

/// One collaboration tool on the Profile settings page.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Plugin id.
    pub plugin: String,
    /// Its name, such as "Microsoft Teams".
    pub name: String,
    /// The user's state.
    pub state: State,
    /// Unix ms of the last successful connect or refresh.
    pub last_success_ms: Option<u64>,
    /// Who the user is there (name, e-mail), when connected.
    pub account: Option<(String, String)>,
}

/// Why a collaboration step did not succeed. The text is for the user.
#[derive(Debug, Clone, Error)]
pub enum CollabError {
    /// No such collaboration tool is configured.
    #[error("There is no collaboration tool `{0}` on this desktop.")]
    Unknown(String),
    /// The callback matches no authorization in progress.
    #[error(
        "This answer does not belong to a connection in progress (it may have been used already). Click Retry to start again."
    )]
    NoPending,
    /// The plugin refused or failed; its text says why.
    #[error("{0}")]
    Failed(String),
}

/// The tokens and account, as sealed in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    access_token: String,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_at: u64,
    scope: String,
    subject: String,
    name: String,
    email: String,
}

impl Sealed {
    fn tokens(&self) -> wit::Tokens {
        wit::Tokens {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            id_token: self.id_token.clone(),
            expires_at: self.expires_at,
            scope: self.scope.clone(),
        }
    }
}

struct Pending {
    user_id: String,
    plugin: String,
    authorization: wit::Authorization,
    created_ms: u64,
}

/// The collaboration service.
pub struct Collaboration {
    entries: Vec<CollaborationConfig>,
    runtime: Arc<Runtime>,
    plugins: Arc<ArcSwap<Plugins>>,
    store: Arc<dyn TokenStore>,
    cipher: XChaCha20Poly1305,
    call_timeout: Duration,
    pending: Mutex<HashMap<String, Pending>>,
    /// One refresh at a time per (user, plugin): parallel tabs must not
    /// race a rotating refresh token into a failure.
    refreshing: Mutex<HashMap<(String, String), RefreshLock>>,
    /// (user, plugin) found connected, until when: a layout that requires
    /// the tool checks it on every page load, and this keeps the plugin
    /// call off the page path for [`CONNECTED_FOR`].
    connected: Mutex<HashMap<(String, String), std::time::Instant>>,
}

/// How long a tool found connected is taken as connected without asking
/// its plugin again (a disconnect or failure forgets it at once).
pub const CONNECTED_FOR: Duration = Duration::from_secs(30);

/// Held while one refresh of a user's tokens for one plugin runs.
type RefreshLock = Arc<Mutex<()>>;

/// Reads the token key from `path`, creating it (32 random bytes, owner
/// read/write only) when missing. The key is never logged.
pub fn load_key(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) => bytes.as_slice().try_into().map_err(|_| {
            anyhow::anyhow!(
                "the token key {} must hold exactly 32 bytes (it holds {}); remove it to \
                 have a new one made (saved collaboration sign-ins are then lost)",
                path.display(),
                bytes.len()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            use std::io::Write as _;
            options
                .open(path)
                .and_then(|mut f| f.write_all(&key))
                .map_err(|e| {
                    anyhow::anyhow!("cannot create the token key {}: {e}", path.display())
                })?;
            tracing::info!(file = %path.display(), "created the key that encrypts collaboration tokens");
            Ok(key)
        }
        Err(e) => Err(anyhow::anyhow!(
            "cannot read the token key {}: {e}",
            path.display()
        )),
    }
}

impl Collaboration {
    /// The service for the configured tools, sealing tokens with `key`.
    pub fn new(
        entries: Vec<CollaborationConfig>,
        runtime: Arc<Runtime>,
        plugins: Arc<ArcSwap<Plugins>>,
        store: Arc<dyn TokenStore>,
        key: [u8; 32],
        call_timeout: Duration,
    ) -> Self {
        Collaboration {
            entries,
            runtime,
            plugins,
            store,
            cipher: XChaCha20Poly1305::new(&key.into()),
            call_timeout,
            pending: Mutex::new(HashMap::new()),
            refreshing: Mutex::new(HashMap::new()),
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// Checks that every configured tool is installed with valid settings.
    pub fn check(&self) -> Result<(), String> {
        for entry in &self.entries {
            self.provider(entry)?;
        }
        Ok(())
    }

    fn entry(&self, plugin: &str) -> Result<&CollaborationConfig, CollabError> {
        self.entries
            .iter()
            .find(|e| e.plugin == plugin)
            .ok_or_else(|| CollabError::Unknown(plugin.to_owned()))
    }

    fn provider(&self, entry: &CollaborationConfig) -> Result<providers::Provider, String> {
        let config = crate::config::ProviderConfig {
            plugin: entry.plugin.clone(),
            version: entry.version.clone(),
            grants: if entry.allowed_hosts.is_empty() {
                Vec::new()
            } else {
                vec!["http".into()]
            },
            settings: entry.settings.clone(),
        };
        providers::resolve(
            &self.plugins.load(),
            &config,
            PluginKind::CollaborationAuth,
            &format!("collaboration.{}", entry.plugin),
        )
    }

    fn call<T>(
        &self,
        user: &str,
        entry: &CollaborationConfig,
        f: impl FnOnce(
            &wit::bindings::exports::deskhost::plugin::collaboration::Guest,
            &mut wasmtime::Store<crate::runtime::host::HostState>,
            &[types::Setting],
        ) -> wasmtime::Result<T>,
    ) -> Result<T, CollabError> {
        let p = self.provider(entry).map_err(|e| {
            tracing::error!("collaboration: {e}");
            CollabError::Failed(format!("The administrator must fix the set-up: {e}"))
        })?;
        let call = AuthCall {
            user,
            grants: p.grants.clone(),
            limits: CallLimits {
                timeout: self.call_timeout,
                memory_mib: self.runtime.limits().memory_mib,
            },
        };
        self.runtime
            .call_collaboration(
                &p.plugin,
                &call,
                entry.allowed_hosts.clone().into(),
                |g, store| f(g, store, &p.settings),
            )
            .map_err(|e| {
                let tracking_id = uuid::Uuid::new_v4().to_string();
                tracing::error!(tracking_id = %tracking_id, plugin = %entry.plugin, "collaboration plugin failed: {e}");
                crate::admin::journal().incident(
                    &tracking_id,
                    format!("collaboration tool {}", entry.plugin),
                    e.to_string(),
                );
                CollabError::Failed(format!(
                    "The {} plugin failed. Share tracking ID {tracking_id} with your administrator.",
                    entry.plugin
                ))
            })
    }

    fn seal(&self, row: &mut TokenRow, sealed: &Sealed) {
        let nonce: [u8; 24] = rand::random();
        let aad = format!("{}\u{0}{}", row.user_id, row.plugin);
        let json = serde_json::to_vec(sealed).expect("tokens encode");
        match self.cipher.encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &json,
                aad: aad.as_bytes(),
            },
        ) {
            Ok(ciphertext) => {
                row.nonce = nonce.to_vec();
                row.sealed = ciphertext;
            }
            Err(_) => {
                row.nonce.clear();
                row.sealed.clear();
            }
        }
    }

    fn open(&self, row: &TokenRow) -> Option<Sealed> {
        if row.sealed.is_empty() || row.nonce.len() != 24 {
            return None;
        }
        let aad = format!("{}\u{0}{}", row.user_id, row.plugin);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(&row.nonce),
                Payload {
                    msg: &row.sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| {
                tracing::error!(
                    user = %row.user_id,
                    plugin = %row.plugin,
                    "saved collaboration tokens cannot be decrypted (was the token key replaced?)"
                );
            })
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }

    fn row(&self, user_id: &str, plugin: &str) -> TokenRow {
        self.store
            .token_row(user_id, plugin)
            .unwrap_or_else(|e| {
                tracing::error!("cannot read collaboration tokens: {e}");
                None
            })
            .unwrap_or_else(|| TokenRow {
                user_id: user_id.to_owned(),
                plugin: plugin.to_owned(),
                ..TokenRow::default()
            })
    }

    fn save(&self, row: &TokenRow) {
        if let Err(e) = self.store.put_token_row(row) {
            tracing::error!("cannot save collaboration tokens: {e}");
        }
    }

    /// Forgets that the user's tool was found connected.
    fn forget_connected(&self, user_id: &str, plugin: &str) {
        self.connected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(user_id.to_owned(), plugin.to_owned()));
    }

    fn fail(&self, row: &mut TokenRow, reason: &str, keep_tokens: bool) {
        self.forget_connected(&row.user_id, &row.plugin);
        row.status = "failed".into();
        row.reason = Some(reason.to_owned());
        if !keep_tokens {
            row.nonce.clear();
            row.sealed.clear();
        }
        self.save(row);
    }

    /// Every configured tool with the user's state, refreshing an expired
    /// access token when there is a refresh token.
    pub fn summaries(&self, user_id: &str) -> Vec<Summary> {
        self.entries
            .iter()
            .map(|entry| self.summary(user_id, entry))
            .collect()
    }

    /// Of the `required` tools, those the user has not connected (a tool
    /// the host config does not set up is logged and not required).
    pub fn missing(&self, user_id: &str, required: &[String]) -> Vec<Summary> {
        let now = std::time::Instant::now();
        required
            .iter()
            .filter(|plugin| {
                let key = (user_id.to_owned(), plugin.to_string());
                let connected = self.connected.lock().unwrap_or_else(|p| p.into_inner());
                connected.get(&key).is_none_or(|until| *until <= now)
            })
            .filter_map(|plugin| match self.entry(plugin) {
                Ok(entry) => {
                    let summary = self.summary(user_id, entry);
                    if summary.state == State::Success {
                        self.connected
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert((user_id.to_owned(), plugin.clone()), now + CONNECTED_FOR);
                    }
                    Some(summary)
                }
                Err(_) => {
                    tracing::warn!(
                        plugin = %plugin,
                        "the layout requires a collaboration tool the host config does not set up ([[collaboration]])"
                    );
                    None
                }
            })
            .filter(|s| s.state != State::Success)
            .collect()
    }

    fn summary(&self, user_id: &str, entry: &CollaborationConfig) -> Summary {
        let name = self
            .provider(entry)
            .map(|p| p.plugin.info.name.clone())
            .unwrap_or_else(|_| entry.plugin.clone());
        let row = self.current(user_id, entry);
        let sealed = self.open(&row);
        let state = match (row.status.as_str(), &sealed) {
            ("failed", _) => State::Failed(row.reason.clone().unwrap_or_default()),
            ("success", Some(s)) => {
                let tokens = s.tokens();
                let now = crate::now_ms();
                match self.call(user_id, entry, |g, store, settings| {
                    g.call_status(store, settings, &tokens, now)
                }) {
                    Ok(ConnectionStatus::Success) => State::Success,
                    Ok(ConnectionStatus::Expired) => State::Expired,
                    Ok(ConnectionStatus::NotConnected) => State::NotConnected,
                    Ok(ConnectionStatus::Failed(m)) => State::Failed(m),
                    Err(e) => State::Failed(e.to_string()),
                }
            }
            _ => State::NotConnected,
        };
        Summary {
            plugin: entry.plugin.clone(),
            name,
            account: sealed
                .filter(|_| state == State::Success)
                .map(|s| (s.name, s.email)),
            state,
            last_success_ms: row.last_success_ms,
        }
    }

    /// The user's row, with an expired access token refreshed first (one
    /// refresh at a time per user and plugin).
    fn current(&self, user_id: &str, entry: &CollaborationConfig) -> TokenRow {
        let row = self.row(user_id, &entry.plugin);
        let Some(sealed) = self.open(&row) else {
            return row;
        };
        if row.status != "success" || sealed.expires_at > crate::now_ms() {
            return row;
        }
        let Some(refresh_token) = sealed.refresh_token.clone() else {
            return row;
        };
        let lock = self
            .refreshing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((user_id.to_owned(), entry.plugin.clone()))
            .or_default()
            .clone();
        let _one_at_a_time = lock.lock().unwrap_or_else(|p| p.into_inner());
        // Another request may have refreshed while this one waited.
        let mut row = self.row(user_id, &entry.plugin);
        let Some(mut sealed) = self.open(&row) else {
            return row;
        };
        if row.status != "success" || sealed.expires_at > crate::now_ms() {
            return row;
        }
        let token = sealed
            .refresh_token
            .clone()
            .unwrap_or_else(|| refresh_token.clone());
        let _span =
            tracing::info_span!("collaboration_refresh", user = user_id, plugin = %entry.plugin)
                .entered();
        match self.call(user_id, entry, |g, store, settings| {
            g.call_refresh(store, settings, &token)
        }) {
            Ok(Ok(tokens)) => {
                sealed.access_token = tokens.access_token;
                if tokens.refresh_token.is_some() {
                    sealed.refresh_token = tokens.refresh_token;
                }
                if tokens.id_token.is_some() {
                    sealed.id_token = tokens.id_token;
                }
                sealed.expires_at = tokens.expires_at;
                sealed.scope = tokens.scope;
                row.last_success_ms = Some(crate::now_ms());
                row.reason = None;
                self.seal(&mut row, &sealed);
                self.save(&row);
                tracing::info!("collaboration tokens refreshed");
            }
            Ok(Err(e)) => {
                let keep = matches!(e, AuthError::Unavailable(_));
                tracing::warn!("collaboration refresh failed: {}", auth_error_text(&e));
                self.fail(&mut row, &auth_error_text(&e), keep);
            }
            Err(e) => self.fail(&mut row, &e.to_string(), true),
        }
        row
    }

    /// Retry: starts an authorization and returns the URL to send the
    /// browser to.
    pub fn start(
        &self,
        user_id: &str,
        plugin: &str,
        redirect_uri: &str,
    ) -> Result<String, CollabError> {
        let entry = self.entry(plugin)?;
        let result = self.call(user_id, entry, |g, store, settings| {
            g.call_start(store, settings, redirect_uri)
        });
        let authorization = match result {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                let text = auth_error_text(&e);
                let mut row = self.row(user_id, plugin);
                self.fail(&mut row, &text, true);
                return Err(CollabError::Failed(text));
            }
            Err(e) => {
                let mut row = self.row(user_id, plugin);
                self.fail(&mut row, &e.to_string(), true);
                return Err(e);
            }
        };
        let url = authorization.url.clone();
        let now = crate::now_ms();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.retain(|_, p| now.saturating_sub(p.created_ms) < PENDING_TTL_MS);
        pending.insert(
            authorization.state.clone(),
            Pending {
                user_id: user_id.to_owned(),
                plugin: plugin.to_owned(),
                authorization,
                created_ms: now,
            },
        );
        tracing::info!(
            user = user_id,
            plugin,
            "collaboration authorization started"
        );
        Ok(url)
    }

    /// The callback: completes the authorization its `state` names (single
    /// use) and keeps the tokens.
    pub fn complete(
        &self,
        user_id: &str,
        plugin: &str,
        redirect_uri: &str,
        params: Vec<(String, String)>,
    ) -> Result<(), CollabError> {
        let entry = self.entry(plugin)?;
        let state = params
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let pending = {
            let mut all = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            match all.get(&state) {
                Some(p) if p.user_id == user_id && p.plugin == plugin => all.remove(&state),
                _ => None,
            }
        };
        let Some(pending) =
            pending.filter(|p| crate::now_ms().saturating_sub(p.created_ms) < PENDING_TTL_MS)
        else {
            tracing::warn!(
                user = user_id,
                plugin,
                "collaboration callback without a matching authorization"
            );
            return Err(CollabError::NoPending);
        };
        let result = self.call(user_id, entry, |g, store, settings| {
            g.call_complete(
                store,
                settings,
                redirect_uri,
                &pending.authorization,
                &params,
            )
        });
        let mut row = self.row(user_id, plugin);
        match result {
            Ok(Ok(connection)) => {
                let t = connection.tokens;
                let a = connection.account;
                let sealed = Sealed {
                    access_token: t.access_token,
                    refresh_token: t.refresh_token,
                    id_token: t.id_token,
                    expires_at: t.expires_at,
                    scope: t.scope,
                    subject: a.subject,
                    name: a.name,
                    email: a.email,
                };
                row.status = "success".into();
                row.reason = None;
                row.last_success_ms = Some(crate::now_ms());
                self.seal(&mut row, &sealed);
                self.save(&row);
                tracing::info!(user = user_id, plugin, "collaboration connected");
                Ok(())
            }
            Ok(Err(e)) => {
                let text = auth_error_text(&e);
                tracing::warn!(
                    user = user_id,
                    plugin,
                    "collaboration connect failed: {text}"
                );
                self.fail(&mut row, &text, false);
                Err(CollabError::Failed(text))
            }
            Err(e) => {
                self.fail(&mut row, &e.to_string(), false);
                Err(e)
            }
        }
    }

    /// Disconnects: revokes at the provider where it can, then forgets.
    pub fn disconnect(&self, user_id: &str, plugin: &str) -> Result<(), CollabError> {
        let entry = self.entry(plugin)?;
        let row = self.row(user_id, plugin);
        if let Some(sealed) = self.open(&row) {
            let tokens = sealed.tokens();
            match self.call(user_id, entry, |g, store, settings| {
                g.call_disconnect(store, settings, &tokens)
            }) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!("revoking at the provider failed: {}", auth_error_text(&e))
                }
                Err(e) => tracing::warn!("revoking at the provider failed: {e}"),
            }
        }
        self.forget_connected(user_id, plugin);
        self.store
            .delete_token_row(user_id, plugin)
            .map_err(|e| CollabError::Failed(format!("cannot forget the connection: {e}")))?;
        tracing::info!(user = user_id, plugin, "collaboration disconnected");
        Ok(())
    }
}

/// The user's text of a plugin's error.
fn auth_error_text(e: &AuthError) -> String {
    match e {
        AuthError::Denied(m)
        | AuthError::Mismatch(m)
        | AuthError::Rejected(m)
        | AuthError::Unavailable(m)
        | AuthError::Misconfigured(m) => m.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.key");
        let a = load_key(&path).unwrap();
        let b = load_key(&path).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        let err = load_key(&path).unwrap_err().to_string();
        assert!(err.contains("exactly 32 bytes"), "{err}");
    }
}
