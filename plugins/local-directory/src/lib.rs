//! Local directory: deskhost's built-in identity provider. Accounts live in
//! the plugin's own key-value store, with Argon2id password hashes; a
//! forgotten password is reset with a six-digit code sent by e-mail.
//!
//! On first start (and whenever the `seed_accounts` text changes) the
//! accounts of the seed are created, unless an account with the same e-mail
//! address exists already: a password changed since is never overwritten,
//! and an account removed from the seed is not deleted.
//!
//! The host makes a fresh instance for every call, so all state is in `kv`:
//!
//! - `account:<email>`: the account, JSON (id, display name, e-mail,
//!   profile, teams, telephony, Argon2id PHC hash, timestamps);
//! - `reset:<email>`: the pending reset code, JSON (salted SHA-256 of the
//!   code, creation time, tries left). A reset for an unknown address
//!   stores a record that looks the same, with a code nobody gets, so that
//!   every later answer is the same as for a known one;
//! - `seed:applied`: SHA-256 of the seed text applied last.
//!
//! Settings:
//! - `seed_accounts` (text, default: the demo accounts in
//!   `demo-accounts.toml`): TOML `[[account]]` tables to create.
//! - `reset_code_minutes` (integer, default 10): lifetime of a reset code.
//! - `reset_max_tries` (integer, default 5): wrong codes before the code is
//!   dropped.
//! - `min_password_length` (integer, default 10): shortest new password.
//! - `redirects` (text list, default empty): `domain=https://url` entries;
//!   addresses at `domain` are sent to `url` to sign in.
//!
//! Capabilities: `kv` (accounts and codes) and `mail` (reset codes).

use deskhost_sdk::capability::{clock, kv, log, mail};
use deskhost_sdk::identity::{Identity, IdentityProvider, NextStep, ResetError, SignInError};
use deskhost_sdk::{Metadata, SettingSpec};
use serde::Deserialize;

pub mod directory;

#[cfg(test)]
mod tests;

pub use directory::{Config, Directory, Host, Store};

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "local-directory";

/// The default seed: three demo accounts (supervisor, supervisor and
/// agent, agent).
pub const DEMO_ACCOUNTS: &str = include_str!("../demo-accounts.toml");

/// Settings, from the host's `[auth.identity.settings]` (defaults filled in).
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// TOML text of the accounts to create.
    pub seed_accounts: String,
    /// Lifetime of a reset code, in minutes.
    pub reset_code_minutes: i64,
    /// Wrong codes allowed per reset code.
    pub reset_max_tries: i64,
    /// Shortest new password, in characters.
    pub min_password_length: i64,
    /// `domain=https://url` entries.
    pub redirects: Vec<String>,
}

impl Settings {
    /// Checks the settings.
    pub fn config(self) -> Result<Config, String> {
        Config::new(
            self.seed_accounts,
            self.reset_code_minutes,
            self.reset_max_tries,
            self.min_password_length,
            &self.redirects,
        )
    }
}

/// The `kv` capability as a [`Store`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KvStore;

impl Store for KvStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        kv::get(key).map_err(|e| format!("store: {}", e.message))
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        kv::set(key, value).map_err(|e| format!("store: {}", e.message))
    }
    fn delete(&mut self, key: &str) -> Result<(), String> {
        kv::delete(key).map_err(|e| format!("store: {}", e.message))
    }
}

/// The host's clock, mail and log, and WASI random, as a [`Host`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities;

impl Host for Capabilities {
    fn now_ms(&self) -> u64 {
        clock::now_ms()
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String> {
        getrandom::fill(buf).map_err(|e| e.to_string())
    }
    fn send_mail(&mut self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        mail::send(to, subject, body).map_err(|e| e.message)
    }
    fn log_info(&mut self, message: &str) {
        log::info(message);
    }
    fn log_warn(&mut self, message: &str) {
        log::warn(message);
    }
}

/// The plugin.
pub struct LocalDirectory;

fn directory(settings: Settings) -> Result<Directory<KvStore, Capabilities>, String> {
    Ok(Directory::new(KvStore, Capabilities, settings.config()?))
}

impl IdentityProvider for LocalDirectory {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Local directory", env!("CARGO_PKG_VERSION"))
            .description(
                "Accounts kept by deskhost itself: Argon2id passwords, reset codes sent by e-mail.",
            )
            .setting(
                SettingSpec::text(
                    "seed_accounts",
                    "TOML `[[account]]` tables (email, display_name, profile, teams, telephony, and password or an Argon2id password_hash) created when no account with that e-mail exists; existing accounts are never overwritten. Default: three demo accounts with the password `deskhost-demo`; replace them in production.",
                )
                .default_text(DEMO_ACCOUNTS),
            )
            .setting(
                SettingSpec::integer(
                    "reset_code_minutes",
                    "Minutes a password reset code stays valid (1 to 1440).",
                )
                .default_integer(10),
            )
            .setting(
                SettingSpec::integer(
                    "reset_max_tries",
                    "Wrong codes allowed before a reset code is dropped and a new one must be asked for (1 to 20).",
                )
                .default_integer(5),
            )
            .setting(
                SettingSpec::integer(
                    "min_password_length",
                    "Shortest new password, in characters (8 to 128).",
                )
                .default_integer(10),
            )
            .setting(
                SettingSpec::text_list(
                    "redirects",
                    "Entries `domain=https://url`: e-mail addresses at that domain are sent to the URL to sign in instead of entering a password here.",
                )
                .default_list(&[]),
            )
    }

    fn lookup(settings: Settings, email: &str) -> Result<NextStep, SignInError> {
        directory(settings)
            .map_err(SignInError::Unavailable)?
            .lookup(email)
    }

    fn verify_password(
        settings: Settings,
        email: &str,
        password: &str,
    ) -> Result<Identity, SignInError> {
        directory(settings)
            .map_err(SignInError::Unavailable)?
            .verify_password(email, password)
    }

    fn start_reset(settings: Settings, email: &str) -> Result<(), SignInError> {
        directory(settings)
            .map_err(SignInError::Unavailable)?
            .start_reset(email)
    }

    fn finish_reset(
        settings: Settings,
        email: &str,
        code: &str,
        new_password: &str,
    ) -> Result<(), ResetError> {
        directory(settings)
            .map_err(ResetError::Unavailable)?
            .finish_reset(email, code, new_password)
    }
}

deskhost_sdk::export_identity_provider!(LocalDirectory);
