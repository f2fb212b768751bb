//! {{title}}: a deskhost identity provider, which decides who may sign in.
//!
//! The accounts are in the `accounts` setting, written by the admin in the
//! host config. Passwords are stored as Argon2id hashes (PHC strings),
//! never as text, and checked by the `argon2` crate in constant time. An
//! unknown e-mail address costs the same Argon2 work as a known one and
//! gets the same answer as a wrong password, so neither the answer nor its
//! timing tells whether an account exists.
//!
//! Passwords are set by the admin, so there is no password reset: asking
//! for one says so, the same way for every address.
//!
//! Settings (`[auth.identity] settings` in the host config):
//! - `accounts` (text list, default empty): one entry per account,
//!   `email | display name | profile | teams | argon2id hash`, where the
//!   profile is `supervisor`, `supervisor-and-agent` or `agent` and teams
//!   is a comma-separated list of team ids (may be empty).
//!
//! Capabilities: none.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use deskhost_sdk::identity::{
    Identity, IdentityProvider, NextStep, Profile, ResetError, SignInError, Telephony,
};
use deskhost_sdk::{Metadata, SettingSpec};
use serde::Deserialize;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "{{name}}";

/// An Argon2id hash (default cost) of a password nobody uses: checked for
/// unknown addresses, so that they take as long as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZGVza2hvc3QtZHVtbXktc2FsdA$tO0GJenoNt67ZAF4H2qinTmCVRRddMX8SN8pHadqR5Y";

/// What a password reset answers.
const NO_RESET: &str = "Passwords here are set by your administrator: ask them to reset yours.";

/// Settings, from the host config (defaults filled in).
#[derive(Debug, Deserialize)]
pub struct Settings {
    /// `email | display name | profile | teams | argon2id hash` entries.
    pub accounts: Vec<String>,
}

/// One account of the `accounts` setting.
#[derive(Debug)]
pub struct Account {
    /// Who it is (carries no secret).
    pub identity: Identity,
    /// Its Argon2id PHC string.
    pub password_hash: String,
}

/// Lowercase and trimmed, if it looks like an e-mail address.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace))
        .then_some(email)
}

/// Reads entry number `n` (from 1) of the `accounts` setting. Errors never
/// quote the entry, which holds a hash.
pub fn parse_account(n: usize, entry: &str) -> Result<Account, String> {
    let fields: Vec<&str> = entry.split('|').map(str::trim).collect();
    let [email, name, profile, teams, hash] = fields[..] else {
        return Err(format!(
            "entry {n} has {} fields; write `email | display name | profile | teams | argon2id hash`",
            fields.len()
        ));
    };
    let email = normalize_email(email)
        .ok_or_else(|| format!("entry {n}: `{email}` is not an e-mail address"))?;
    let profile = match profile {
        "supervisor" => Profile::Supervisor,
        "supervisor-and-agent" => Profile::SupervisorAndAgent,
        "agent" => Profile::Agent,
        other => {
            return Err(format!(
                "entry {n}: profile `{other}` is not supervisor, supervisor-and-agent or agent"
            ));
        }
    };
    let parsed = PasswordHash::new(hash)
        .map_err(|e| format!("entry {n}: the password hash is not a PHC string ({e})"))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(format!(
            "entry {n}: the password hash uses {}, not argon2id",
            parsed.algorithm
        ));
    }
    Ok(Account {
        identity: Identity {
            id: email.clone(),
            display_name: name.to_string(),
            email,
            profile,
            teams: teams
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            telephony: vec![
                Telephony::DialNumber,
                Telephony::Extension,
                Telephony::Desktop,
            ],
        },
        password_hash: hash.to_string(),
    })
}

/// Checks `password` for `email` against the accounts of `settings`.
pub fn verify(settings: &Settings, email: &str, password: &str) -> Result<Identity, SignInError> {
    let accounts = settings
        .accounts
        .iter()
        .enumerate()
        .map(|(i, entry)| parse_account(i + 1, entry))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SignInError::Unavailable(format!("the accounts setting is invalid: {e}")))?;
    let email = normalize_email(email).unwrap_or_default();
    let account = accounts.into_iter().find(|a| a.identity.email == email);
    let hash = account
        .as_ref()
        .map_or(DUMMY_HASH, |a| a.password_hash.as_str());
    let parsed = PasswordHash::new(hash)
        .map_err(|e| SignInError::Unavailable(format!("unreadable password hash: {e}")))?;
    // The hash names its own cost parameters; verification compares in
    // constant time.
    let matches = match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::Password) => false,
        Err(e) => {
            return Err(SignInError::Unavailable(format!(
                "cannot check the password: {e}"
            )));
        }
    };
    match account {
        Some(a) if matches => Ok(a.identity),
        _ => Err(SignInError::InvalidCredentials),
    }
}

/// The plugin.
pub struct {{type}};

impl IdentityProvider for {{type}} {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "{{title}}", env!("CARGO_PKG_VERSION"))
            .description("Accounts listed in the settings, with Argon2id password hashes.")
            .setting(
                SettingSpec::text_list(
                    "accounts",
                    "One entry per account: `email | display name | profile | teams | argon2id hash`; profile is supervisor, supervisor-and-agent or agent, teams a comma-separated list.",
                )
                .default_list(&[]),
            )
    }

    fn lookup(_settings: Settings, _email: &str) -> Result<NextStep, SignInError> {
        // The same answer for every address: it must not tell whether an
        // account exists.
        Ok(NextStep::Password)
    }

    fn verify_password(
        settings: Settings,
        email: &str,
        password: &str,
    ) -> Result<Identity, SignInError> {
        verify(&settings, email, password)
    }

    fn start_reset(_settings: Settings, _email: &str) -> Result<(), SignInError> {
        Err(SignInError::Refused(NO_RESET.into()))
    }

    fn finish_reset(
        _settings: Settings,
        _email: &str,
        _code: &str,
        _new_password: &str,
    ) -> Result<(), ResetError> {
        Err(ResetError::Unavailable(NO_RESET.into()))
    }
}

deskhost_sdk::export_identity_provider!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, SaltString};
    use deskhost_sdk::parse_settings;
    use deskhost_sdk::testing::default_setting_list;

    fn hash(password: &str) -> String {
        let salt = SaltString::encode_b64(b"a fixed test salt").unwrap();
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    fn settings() -> Settings {
        Settings {
            accounts: vec![format!(
                "Ana@Example.com | Ana Lima | supervisor-and-agent | sales, support | {}",
                hash("correct horse")
            )],
        }
    }

    #[test]
    fn metadata_agrees_with_plugin_toml() {
        let manifest = include_str!("../plugin.toml");
        let m = {{type}}::metadata();
        assert!(manifest.contains(&format!("id = \"{}\"", m.id)));
        assert!(manifest.contains(&format!("version = \"{}\"", m.version)));
        assert!(manifest.contains("kind = \"identity-provider\""));
        assert!(m.settings.iter().all(|s| !s.doc.is_empty()));
    }

    #[test]
    fn defaults_parse() {
        let s: Settings = parse_settings(default_setting_list(&{{type}}::metadata())).unwrap();
        assert!(s.accounts.is_empty());
    }

    #[test]
    fn the_right_password_signs_in_and_nothing_else_does() {
        let s = settings();
        let who = verify(&s, " ana@example.COM ", "correct horse").unwrap();
        assert_eq!(who.email, "ana@example.com");
        assert_eq!(who.display_name, "Ana Lima");
        assert_eq!(who.teams, ["sales", "support"]);
        assert!(matches!(who.profile, Profile::SupervisorAndAgent));
        for (email, password) in [
            ("ana@example.com", "wrong horse"),
            ("ana@example.com", ""),
            ("bob@example.com", "correct horse"),
        ] {
            assert!(
                matches!(
                    verify(&s, email, password),
                    Err(SignInError::InvalidCredentials)
                ),
                "{email} / {password}"
            );
        }
    }

    #[test]
    fn bad_entries_are_reported_without_their_hash() {
        let s = Settings {
            accounts: vec!["ana@example.com | Ana | boss | | $argon2id$secret".into()],
        };
        match verify(&s, "ana@example.com", "x") {
            Err(SignInError::Unavailable(m)) => {
                assert!(m.contains("profile `boss`"), "{m}");
                assert!(!m.contains("secret"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
