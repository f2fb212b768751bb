//! Microsoft Teams: connects a desktop user to Microsoft Teams (Microsoft
//! Graph) with the OAuth 2.0 authorization code flow, PKCE (S256) and
//! OpenID Connect, against the Microsoft identity platform, or any
//! OpenID provider mounted the same way.
//!
//! - The endpoints come from discovery, at
//!   `{authority}/{tenant}/v2.0/.well-known/openid-configuration`.
//! - `start` makes a random state, nonce and PKCE code verifier (32 bytes
//!   each, base64url) and the authorization URL; the host keeps them.
//! - `complete` checks the callback (error, state in constant time, code),
//!   redeems the code with the verifier, and reads the account from the
//!   ID token after checking its issuer, audience, nonce and expiry. The
//!   issuer of Microsoft's multi-tenant discovery (`common`,
//!   `organizations`, `consumers`) holds a `{tenantid}` placeholder, which
//!   stands for the token's `tid` claim.
//! - `refresh` redeems a refresh token; the old one is kept when the
//!   provider issues no new one.
//! - `status` says whether the access token has expired.
//! - `disconnect` revokes the refresh (else access) token where discovery
//!   names a `revocation_endpoint` (Microsoft has none).
//!
//! The plugin stores nothing and never logs a token, code or secret.
//!
//! Settings:
//! - `authority` (text, default `https://login.microsoftonline.com`);
//! - `tenant` (text, default `common`);
//! - `client_id` (text, default empty: nothing works until it is set);
//! - `client_secret` (text, default empty: a public client; when set it is
//!   sent with token requests, client_secret_post);
//! - `scopes` (text list, default `openid`, `profile`, `email`,
//!   `offline_access`, `User.Read`).
//!
//! Capabilities: `http`, to the authority's origin (the admin lists it in
//! `allowed_hosts` of the plugin's `[[collaboration]]` entry).

use std::fmt;

use deskhost_sdk::capability::{clock, log};
use deskhost_sdk::collaboration::http::{self, HttpError, Request, Response};
use deskhost_sdk::collaboration::{
    AuthError, Authorization, CollaborationAuth, Connection, Status, Tokens,
};
use deskhost_sdk::{Metadata, SettingSpec};
use serde::Deserialize;

pub mod oidc;

#[cfg(test)]
mod tests;

pub use oidc::{Client, Config, Discovery, Host};

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "microsoft-teams";

/// Default of the `authority` setting.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Default of the `tenant` setting.
pub const DEFAULT_TENANT: &str = "common";

/// Default of the `scopes` setting.
pub const DEFAULT_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "User.Read"];

/// Settings, from the plugin's `[[collaboration]]` entry (defaults filled
/// in by the host, and here too).
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Base URL of the identity provider.
    pub authority: String,
    /// Tenant path segment.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// Client secret; empty for a public client.
    pub client_secret: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            authority: DEFAULT_AUTHORITY.into(),
            tenant: DEFAULT_TENANT.into(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl Settings {
    /// Checks the settings.
    pub fn config(&self) -> Result<Config, AuthError> {
        Config::new(
            &self.authority,
            &self.tenant,
            &self.client_id,
            &self.client_secret,
            &self.scopes,
        )
    }
}

/// The host's `http`, `clock` and `log` imports and WASI random, as a
/// [`Host`]. Only usable inside the component: natively the imports are
/// stubs, which is why the tests use a fake [`Host`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities;

impl Host for Capabilities {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        http::send(&request)
    }
    fn now_ms(&self) -> u64 {
        clock::now_ms()
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String> {
        getrandom::fill(buf).map_err(|e| e.to_string())
    }
    fn log_info(&mut self, message: &str) {
        log::info(message);
    }
    fn log_warn(&mut self, message: &str) {
        log::warn(message);
    }
}

/// The plugin.
pub struct MicrosoftTeams;

impl MicrosoftTeams {
    /// The metadata, with every setting documented.
    pub fn describe() -> Metadata {
        Metadata::new(ID, "Microsoft Teams", env!("CARGO_PKG_VERSION"))
            .description(
                "Connects desktop users to Microsoft Teams: OAuth 2.0 sign-in with PKCE and OpenID Connect against the Microsoft identity platform.",
            )
            .setting(
                SettingSpec::text(
                    "authority",
                    "Base URL of the identity provider. Endpoints are discovered at `<authority>/<tenant>/v2.0/.well-known/openid-configuration`, so any OpenID Connect provider mounted that way works. Its origin must be in the entry's `allowed_hosts`.",
                )
                .default_text(DEFAULT_AUTHORITY),
            )
            .setting(
                SettingSpec::text(
                    "tenant",
                    "Microsoft Entra tenant: its id or domain name, `organizations` (work and school accounts), `consumers` (personal accounts) or `common` (both).",
                )
                .default_text(DEFAULT_TENANT),
            )
            .setting(
                SettingSpec::text(
                    "client_id",
                    "Application (client) id of the app registration, whose redirect URIs must include the host's callback. Nothing can be connected while it is empty.",
                )
                .default_text(""),
            )
            .setting(
                SettingSpec::text(
                    "client_secret",
                    "Client secret of the app registration, sent with token requests (client_secret_post). Leave empty for a public client, which relies on PKCE alone.",
                )
                .default_text(""),
            )
            .setting(
                SettingSpec::text_list(
                    "scopes",
                    "Scopes asked for. `openid` is required (the account is read from the ID token) and `offline_access` gets a refresh token; add Microsoft Graph scopes such as `Chat.ReadWrite` as needed.",
                )
                .default_list(&DEFAULT_SCOPES),
            )
    }
}

/// A client over the host's capabilities, or why the settings do not do.
fn client(settings: &Settings) -> Result<Client<Capabilities>, AuthError> {
    match settings.config() {
        Ok(config) => Ok(Client::new(Capabilities, config)),
        Err(e) => {
            log::warn(format!("not set up: {}", oidc::message(&e)));
            Err(e)
        }
    }
}

impl CollaborationAuth for MicrosoftTeams {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Self::describe()
    }

    fn start(settings: Settings, redirect_uri: &str) -> Result<Authorization, AuthError> {
        client(&settings)?.start(redirect_uri)
    }

    fn complete(
        settings: Settings,
        redirect_uri: &str,
        pending: Authorization,
        params: Vec<(String, String)>,
    ) -> Result<Connection, AuthError> {
        client(&settings)?.complete(redirect_uri, &pending, &params)
    }

    fn refresh(settings: Settings, refresh_token: &str) -> Result<Tokens, AuthError> {
        client(&settings)?.refresh(refresh_token)
    }

    fn status(_settings: Settings, tokens: Tokens, now_ms: u64) -> Status {
        oidc::status(&tokens, now_ms)
    }

    fn disconnect(settings: Settings, tokens: Tokens) -> Result<(), AuthError> {
        client(&settings)?.disconnect(&tokens)
    }
}

deskhost_sdk::export_collaboration_auth!(MicrosoftTeams);
