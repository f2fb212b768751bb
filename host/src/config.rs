//! Host configuration: where the data lives, what to serve, and the limits
//! every plugin call runs under. Read from an optional TOML file
//! (`--config`), with command-line flags on top.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

/// Why the host configuration could not be read.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read host config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid host config.
    #[error("invalid host config {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

/// Limits for plugin calls. Layouts may lower them per widget, never raise
/// them above these.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock deadline of one plugin call.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Linear memory a plugin instance may grow to, in MiB.
    pub memory_mib: u64,
    /// Plugin instances that may run at once (pooling allocator slots).
    pub max_instances: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_millis(250),
            memory_mib: 64,
            max_instances: 128,
        }
    }
}

/// The whole host configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where SQLite, the compiled-component cache and the outbox live.
    pub data_dir: PathBuf,
    /// Layout files to serve; empty means the embedded demo layout.
    pub layouts: Vec<PathBuf>,
    /// Directories of installed plugins, each holding one directory per
    /// plugin (`plugin.toml` and the component).
    pub plugin_dirs: Vec<PathBuf>,
    /// Whether the first-party plugins embedded in the binary are installed.
    pub embedded_plugins: bool,
    /// Limits of plugin calls.
    pub limits: Limits,
    /// Capabilities granted per plugin id, on top of the layout's grants.
    pub grants: BTreeMap<String, Vec<String>>,
    /// Seed of the embedded contact-center simulator.
    pub simulator_seed: u64,
    /// Sign-in: providers, sessions and attempt limits.
    pub auth: AuthConfig,
    /// Outgoing mail (password reset codes).
    pub mail: MailConfig,
    /// Collaboration tools users connect to from Profile settings
    /// (`[[collaboration]]`, one per plugin).
    pub collaboration: Vec<CollaborationConfig>,
    /// The key that encrypts collaboration tokens at rest: a file holding
    /// 32 random bytes, created when missing. Default `<data_dir>/token.key`.
    pub token_key_file: Option<PathBuf>,
    /// E-mail addresses of the users granted the admin role: they see the
    /// status page (`/admin/status`). Default: the demo supervisor.
    pub admins: Vec<String>,
}

/// One collaboration auth plugin users can connect to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollaborationConfig {
    /// Plugin id.
    pub plugin: String,
    /// Versions accepted; the highest installed match is used.
    #[serde(default = "any_version")]
    pub version: semver::VersionReq,
    /// `scheme://host[:port]` the plugin may reach (`*` for any port).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Its settings (authority, tenant, client id and secret, scopes).
    #[serde(default)]
    pub settings: toml::Table,
}

impl CollaborationConfig {
    /// The embedded default: Microsoft Teams against the Microsoft
    /// identity platform, waiting for the admin's client id.
    pub fn microsoft_teams() -> Self {
        CollaborationConfig {
            plugin: "microsoft-teams".into(),
            version: any_version(),
            allowed_hosts: vec!["https://login.microsoftonline.com".into()],
            settings: toml::Table::new(),
        }
    }
}

/// Which installed plugin plays a sign-in part, with its grants and settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Plugin id.
    pub plugin: String,
    /// Versions accepted; the highest installed match is used.
    #[serde(default = "any_version")]
    pub version: semver::VersionReq,
    /// Capabilities granted to it.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Its settings, checked against what the plugin declares.
    #[serde(default)]
    pub settings: toml::Table,
}

fn any_version() -> semver::VersionReq {
    semver::VersionReq::STAR
}

/// Sign-in and sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The identity provider (who may sign in).
    pub identity: ProviderConfig,
    /// The station provider (which station credentials are accepted).
    pub station: ProviderConfig,
    /// A session ends after this long without a request.
    #[serde(with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    #[serde(with = "humantime_serde_compat")]
    pub absolute_timeout: Duration,
    /// Failed passwords for one account before it is locked for `lockout`.
    pub max_failures_per_account: u32,
    /// Failed passwords from one client address before it is locked.
    pub max_failures_per_address: u32,
    /// Addresses of reverse proxies in front of the host. A request from
    /// one of them is counted against the client address its
    /// `X-Forwarded-For` header names (the last one that is not itself a
    /// trusted proxy); from anywhere else the header is ignored, since a
    /// client could write anything in it.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a lock lasts (and the window failures are counted in).
    #[serde(with = "humantime_serde_compat")]
    pub lockout: Duration,
    /// Deadline of one call into a sign-in plugin (password hashing is slow
    /// on purpose).
    #[serde(with = "humantime_serde_compat")]
    pub call_timeout: Duration,
    /// Mark cookies `Secure`: set it when the desktop is served over https
    /// (directly or behind a TLS proxy).
    pub secure_cookies: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        let mut station = toml::Table::new();
        station.insert(
            "dial_numbers".into(),
            toml::Value::Array(vec!["+14155550100..+14155550109".into()]),
        );
        station.insert(
            "extensions".into(),
            toml::Value::Array(vec!["1001..1009".into()]),
        );
        AuthConfig {
            identity: ProviderConfig {
                plugin: "local-directory".into(),
                version: any_version(),
                grants: vec!["kv".into(), "mail".into()],
                settings: toml::Table::new(),
            },
            station: ProviderConfig {
                plugin: "station-rules".into(),
                version: any_version(),
                grants: Vec::new(),
                settings: station,
            },
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            trusted_proxies: Vec::new(),
            lockout: Duration::from_secs(15 * 60),
            call_timeout: Duration::from_secs(10),
            secure_cookies: false,
        }
    }
}

/// Outgoing mail. Without `smtp`, each message is written to the outbox
/// folder (`outbox` in the data dir) and logged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The sender address.
    pub from: String,
    /// Where messages go when there is no SMTP server; default
    /// `<data_dir>/outbox`.
    pub outbox: Option<PathBuf>,
    /// An SMTP server for real delivery.
    pub smtp: Option<SmtpConfig>,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "deskhost <no-reply@deskhost.localhost>".into(),
            outbox: None,
            smtp: None,
        }
    }
}

/// An SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port; default 587 (submission with STARTTLS).
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (local relays only).
    #[serde(default = "default_smtp_security")]
    pub security: String,
    /// User name, if the relay needs one.
    pub username: Option<String>,
    /// Password, if the relay needs one.
    pub password: Option<String>,
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_security() -> String {
    "starttls".into()
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            layouts: Vec::new(),
            plugin_dirs: Vec::new(),
            embedded_plugins: true,
            limits: Limits::default(),
            grants: BTreeMap::new(),
            simulator_seed: 1,
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            collaboration: vec![CollaborationConfig::microsoft_teams()],
            token_key_file: None,
            admins: vec!["supervisor@example.com".into()],
        }
    }
}

impl HostConfig {
    /// How to sign in to the demo, when the local directory seeds its demo
    /// accounts (no `seed_accounts` setting), as lines for the terminal;
    /// `None` otherwise.
    pub fn demo_sign_in(&self) -> Option<String> {
        let identity = &self.auth.identity;
        if identity.plugin != "local-directory" || identity.settings.contains_key("seed_accounts") {
            return None;
        }
        let mut text = String::from(
            "  Demo accounts (password `deskhost-demo`):\n\
             \x20   supervisor@example.com  supervisor only\n\
             \x20   lead@example.com        supervisor and agent (teams sales, support)\n\
             \x20   agent@example.com       agent (team sales)\n\
             \x20 Dial numbers +14155550100 to +14155550109 and extensions 1001 to 1009 are registered.",
        );
        if !self.admins.is_empty() {
            text.push_str(&format!(
                "\n  Status page (/admin/status) for: {}",
                self.admins.join(", ")
            ));
        }
        Some(text)
    }

    /// Whether the user with this e-mail address has the admin role.
    pub fn is_admin(&self, email: &str) -> bool {
        self.admins.iter().any(|a| a.eq_ignore_ascii_case(email))
    }

    /// Reads a host config file. Relative paths in it are taken relative to
    /// the file's directory.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: HostConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        rebase(&mut config.data_dir);
        config.layouts.iter_mut().for_each(rebase);
        config.plugin_dirs.iter_mut().for_each(rebase);
        if let Some(outbox) = &mut config.mail.outbox {
            rebase(outbox);
        }
        if let Some(key) = &mut config.token_key_file {
            rebase(key);
        }
        Ok(config)
    }
}

/// Durations written as "250ms" or "2s" in host config.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_and_rebases_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deskhost.toml");
        std::fs::write(
            &path,
            "data_dir = \"d\"\nlayouts = [\"l.toml\"]\n[limits]\ntimeout = \"100ms\"\nmemory_mib = 16\n",
        )
        .unwrap();
        let c = HostConfig::from_file(&path).unwrap();
        assert_eq!(c.limits.timeout, Duration::from_millis(100));
        assert_eq!(c.limits.memory_mib, 16);
        assert_eq!(c.data_dir, dir.path().join("d"));
        assert_eq!(c.layouts, vec![dir.path().join("l.toml")]);
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deskhost.toml");
        std::fs::write(&path, "[limits]\ntimeout_ms = 100\n").unwrap();
        let err = HostConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("timeout_ms"), "{err}");
    }
}
