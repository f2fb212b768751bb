//! The directory itself, independent of the host: accounts, seeding,
//! passwords and reset codes over a [`Store`] and a [`Host`]. The plugin
//! wires them to the `kv`, `clock` and `mail` capabilities and WASI random;
//! the unit tests to an in-memory map, a fake clock and a recording mailer.

use std::collections::BTreeSet;
use std::ops::Range;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use deskhost_sdk::identity::{Identity, NextStep, Profile, ResetError, SignInError, Telephony};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What the user is told for an address that is not an e-mail address.
pub const INVALID_EMAIL: &str = "Enter a valid e-mail address, such as name@example.com.";

/// Subject of the reset mail.
pub const RESET_SUBJECT: &str = "Your deskhost confirmation code";

/// Longest e-mail address accepted, in bytes: with the longest key prefix
/// (`account:`) a key stays within the 256 bytes the host's store allows.
pub const MAX_EMAIL_BYTES: usize = 240;

/// Longest new password accepted, in characters.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Bounds of the `min_password_length` setting.
pub const MIN_PASSWORD_LENGTH_RANGE: (i64, i64) = (8, 128);

/// Bounds of the `reset_code_minutes` setting.
pub const RESET_MINUTES_RANGE: (i64, i64) = (1, 24 * 60);

/// Bounds of the `reset_max_tries` setting.
pub const RESET_TRIES_RANGE: (i64, i64) = (1, 20);

/// Largest Argon2 memory cost (KiB) a seeded `password_hash` may ask for,
/// so that checking it fits in the plugin's memory limit.
pub const MAX_SEED_M_COST: u32 = 32 * 1024;

/// Largest Argon2 time cost a seeded `password_hash` may ask for.
pub const MAX_SEED_T_COST: u32 = 8;

/// Largest Argon2 parallelism a seeded `password_hash` may ask for.
pub const MAX_SEED_P_COST: u32 = 4;

/// Key of the digest of the last seed text applied.
pub const SEED_KEY: &str = "seed:applied";

/// An Argon2id hash (default parameters, fixed salt) of a password nobody
/// uses. Verified against for unknown e-mail addresses so that they take as
/// long as known ones.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZGVza2hvc3QtZHVtbXktc2FsdA$tO0GJenoNt67ZAF4H2qinTmCVRRddMX8SN8pHadqR5Y";

/// The password behind [`DUMMY_HASH`] (for the tests; knowing it gives nothing).
pub const DUMMY_PASSWORD: &str = "deskhost-dummy-password";

/// Key of the account of an e-mail address.
pub fn account_key(email: &str) -> String {
    format!("account:{email}")
}

/// Key of the pending reset code of an e-mail address.
pub fn reset_key(email: &str) -> String {
    format!("reset:{email}")
}

/// The plugin's persistent store (the `kv` capability). Errors are messages.
pub trait Store {
    /// Reads a value.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Writes a value.
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String>;
    /// Removes a value (no error when it is absent).
    fn delete(&mut self, key: &str) -> Result<(), String>;
}

/// What else the directory needs from the host: time, randomness, mail, log.
pub trait Host {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String>;
    /// Sends one plain-text message.
    fn send_mail(&mut self, to: &str, subject: &str, body: &str) -> Result<(), String>;
    /// Logs at info level. Never called with a code or a password.
    fn log_info(&mut self, message: &str);
    /// Logs at warn level. Never called with a code or a password.
    fn log_warn(&mut self, message: &str);
}

// ---------------------------------------------------------------------------
// Configuration

/// The validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// TOML text of the accounts to create.
    pub seed_accounts: String,
    /// Lifetime of a reset code.
    pub reset_code_minutes: u32,
    /// Wrong codes allowed per reset code.
    pub reset_max_tries: u8,
    /// Shortest new password, in characters.
    pub min_password_length: usize,
    /// `(domain, url)`: addresses at `domain` sign in at `url`.
    pub redirects: Vec<(String, String)>,
}

fn bounded(name: &str, value: i64, (lo, hi): (i64, i64)) -> Result<i64, String> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "setting `{name}` must be between {lo} and {hi}, not {value}"
        ))
    }
}

impl Config {
    /// Checks the settings.
    pub fn new(
        seed_accounts: String,
        reset_code_minutes: i64,
        reset_max_tries: i64,
        min_password_length: i64,
        redirects: &[String],
    ) -> Result<Config, String> {
        let minutes = bounded(
            "reset_code_minutes",
            reset_code_minutes,
            RESET_MINUTES_RANGE,
        )?;
        let tries = bounded("reset_max_tries", reset_max_tries, RESET_TRIES_RANGE)?;
        let min_len = bounded(
            "min_password_length",
            min_password_length,
            MIN_PASSWORD_LENGTH_RANGE,
        )?;
        let redirects = redirects
            .iter()
            .map(|entry| parse_redirect(entry))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            seed_accounts,
            // The bounds above make these conversions lossless.
            reset_code_minutes: minutes as u32,
            reset_max_tries: tries as u8,
            min_password_length: min_len as usize,
            redirects,
        })
    }

    fn code_lifetime_ms(&self) -> u64 {
        u64::from(self.reset_code_minutes) * 60_000
    }
}

/// Parses one `redirects` entry, `domain=https://url`.
pub fn parse_redirect(entry: &str) -> Result<(String, String), String> {
    let bad = |why: &str| {
        format!("setting `redirects`: entry `{entry}` must be `domain=https://url` ({why})")
    };
    let (domain, url) = entry.split_once('=').ok_or_else(|| bad("no `=`"))?;
    let domain = domain.trim().to_lowercase();
    let url = url.trim();
    if !valid_domain(&domain) {
        return Err(bad("the domain is not valid"));
    }
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| bad("the URL must start with https://"))?;
    if rest.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the URL is not valid"));
    }
    Ok((domain, url.to_string()))
}

// ---------------------------------------------------------------------------
// E-mail addresses

/// Trims and lowercases an e-mail address; `None` when it is not one.
///
/// Accepts `local@domain` where the local part is dot-separated atoms of
/// letters, digits and ``!#$%&'*+/=?^_`{|}~-`` (or any non-ASCII letter),
/// and the domain has at least two labels of letters, digits and inner
/// hyphens. Quoted local parts and address literals are refused.
pub fn normalize_email(input: &str) -> Option<String> {
    let email = input.trim().to_lowercase();
    if email.is_empty() || email.len() > MAX_EMAIL_BYTES {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    if local.len() > 64 || !valid_local_part(local) || !valid_domain(domain) {
        return None;
    }
    Some(email)
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || SPECIALS.contains(c)
                        || (!c.is_ascii() && c.is_alphanumeric())
                })
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c == '-' || c.is_ascii_alphanumeric() || (!c.is_ascii() && c.is_alphanumeric()))
        })
        // The top-level domain is never all digits (that is an IP address).
        && !labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

// ---------------------------------------------------------------------------
// Stored records

/// A profile, as stored and as written in the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    /// Supervisor only.
    Supervisor,
    /// Supervisor, or supervisor and agent.
    SupervisorAndAgent,
    /// Agent only.
    Agent,
}

impl From<ProfileName> for Profile {
    fn from(p: ProfileName) -> Profile {
        match p {
            ProfileName::Supervisor => Profile::Supervisor,
            ProfileName::SupervisorAndAgent => Profile::SupervisorAndAgent,
            ProfileName::Agent => Profile::Agent,
        }
    }
}

/// A telephony option, as stored and as written in the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TelephonyName {
    /// A number the platform dials.
    DialNumber,
    /// A device extension.
    Extension,
    /// In the browser.
    Desktop,
}

impl From<TelephonyName> for Telephony {
    fn from(t: TelephonyName) -> Telephony {
        match t {
            TelephonyName::DialNumber => Telephony::DialNumber,
            TelephonyName::Extension => Telephony::Extension,
            TelephonyName::Desktop => Telephony::Desktop,
        }
    }
}

fn all_telephony() -> Vec<TelephonyName> {
    vec![
        TelephonyName::DialNumber,
        TelephonyName::Extension,
        TelephonyName::Desktop,
    ]
}

/// An account, stored as JSON under [`account_key`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stable id (a random UUID made at creation).
    pub id: String,
    /// Name shown in the desktop.
    pub display_name: String,
    /// Lowercase e-mail address.
    pub email: String,
    /// What the user may sign in as.
    pub profile: ProfileName,
    /// Team ids.
    pub teams: Vec<String>,
    /// Telephony options, in the order to offer them.
    pub telephony: Vec<TelephonyName>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// When the account was created (Unix ms).
    pub created_ms: u64,
    /// When the password was last set (Unix ms).
    pub password_changed_ms: u64,
}

impl Account {
    /// The identity the host gets (no secret).
    pub fn identity(&self) -> Identity {
        Identity {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            profile: self.profile.into(),
            teams: self.teams.clone(),
            telephony: self.telephony.iter().map(|&t| t.into()).collect(),
        }
    }
}

/// A pending reset code, stored as JSON under [`reset_key`]. Records for
/// unknown addresses look the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    /// Random salt, hex.
    pub salt: String,
    /// SHA-256 of the salt and the code, hex.
    pub code_hash: String,
    /// When the code was made (Unix ms).
    pub created_ms: u64,
    /// Wrong codes still allowed.
    pub tries_left: u8,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn code_digest(salt: &[u8], code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(code.as_bytes());
    h.finalize().into()
}

// ---------------------------------------------------------------------------
// Seed file

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    account: Vec<toml::Spanned<SeedAccount>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedAccount {
    email: String,
    display_name: String,
    profile: ProfileName,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default = "all_telephony")]
    telephony: Vec<TelephonyName>,
    password: Option<String>,
    password_hash: Option<String>,
}

/// A seed account's secret: a password to hash, or a hash as given.
#[derive(Debug, Clone)]
enum Secret {
    Password(String),
    Hash(String),
}

/// A checked seed account.
#[derive(Debug, Clone)]
struct SeedEntry {
    email: String,
    display_name: String,
    profile: ProfileName,
    teams: Vec<String>,
    telephony: Vec<TelephonyName>,
    secret: Secret,
}

/// "line 3, column 7" for a byte offset of `text`.
fn position(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("line {line}, column {column}")
}

fn seed_error(text: &str, span: Option<Range<usize>>, message: &str) -> String {
    match span {
        Some(span) => format!(
            "setting `seed_accounts` is invalid at {}: {}",
            position(text, span.start),
            message.trim()
        ),
        None => format!("setting `seed_accounts` is invalid: {}", message.trim()),
    }
}

/// Checks that a hash is an Argon2id PHC string this plugin can verify.
fn check_phc(hash: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(hash).map_err(|e| format!("not a PHC string ({e})"))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(format!("uses {}, not argon2id", parsed.algorithm));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("has no salt or no hash".into());
    }
    let params = Params::try_from(&parsed).map_err(|e| format!("bad parameters ({e})"))?;
    if params.m_cost() > MAX_SEED_M_COST
        || params.t_cost() > MAX_SEED_T_COST
        || params.p_cost() > MAX_SEED_P_COST
    {
        return Err(format!(
            "costs more than this plugin allows (m={MAX_SEED_M_COST}, t={MAX_SEED_T_COST}, p={MAX_SEED_P_COST} at most)"
        ));
    }
    Ok(())
}

/// Parses and checks the seed text. Every problem names where it is.
fn parse_seed(text: &str) -> Result<Vec<SeedEntry>, String> {
    let file: SeedFile =
        toml::from_str(text).map_err(|e| seed_error(text, e.span(), e.message()))?;
    let mut seen = BTreeSet::new();
    let mut entries = Vec::with_capacity(file.account.len());
    for spanned in file.account {
        let span = spanned.span();
        let a = spanned.into_inner();
        let fail = |why: String| seed_error(text, Some(span.clone()), &why);
        let email = normalize_email(&a.email)
            .ok_or_else(|| fail(format!("`{}` is not a valid e-mail address", a.email)))?;
        if !seen.insert(email.clone()) {
            return Err(fail(format!("account `{email}` appears twice")));
        }
        let display_name = a.display_name.trim().to_string();
        if display_name.is_empty() {
            return Err(fail(format!("account `{email}` has an empty display_name")));
        }
        let mut teams = Vec::new();
        for team in &a.teams {
            let team = team.trim();
            if team.is_empty() {
                return Err(fail(format!("account `{email}` has an empty team id")));
            }
            if !teams.iter().any(|t| t == team) {
                teams.push(team.to_string());
            }
        }
        let mut telephony = Vec::new();
        for t in a.telephony {
            if !telephony.contains(&t) {
                telephony.push(t);
            }
        }
        let secret = match (a.password, a.password_hash) {
            (Some(p), None) if !p.is_empty() => Secret::Password(p),
            (Some(_), None) => {
                return Err(fail(format!("account `{email}` has an empty password")));
            }
            (None, Some(h)) => {
                check_phc(&h).map_err(|why| fail(format!("password_hash of `{email}` {why}")))?;
                Secret::Hash(h)
            }
            (Some(_), Some(_)) => {
                return Err(fail(format!(
                    "account `{email}` has both password and password_hash; give one"
                )));
            }
            (None, None) => {
                return Err(fail(format!(
                    "account `{email}` needs a password or a password_hash"
                )));
            }
        };
        entries.push(SeedEntry {
            email,
            display_name,
            profile: a.profile,
            teams,
            telephony,
            secret,
        });
    }
    Ok(entries)
}

// ---------------------------------------------------------------------------
// The directory

/// Why an internal step failed: always "the directory could not answer".
type Fail = String;

/// The accounts, over a store and a host.
#[derive(Debug)]
pub struct Directory<S, H> {
    /// Where accounts and reset codes live.
    pub store: S,
    /// Clock, randomness, mail and log.
    pub host: H,
    /// The validated settings.
    pub config: Config,
}

impl<S: Store, H: Host> Directory<S, H> {
    /// A directory over `store` and `host`.
    pub fn new(store: S, host: H, config: Config) -> Self {
        Directory {
            store,
            host,
            config,
        }
    }

    // -- store helpers ------------------------------------------------------

    fn get_json<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Option<T>, Fail> {
        match self.store.get(key)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("record `{key}` is unreadable: {e}")),
        }
    }

    fn set_json<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), Fail> {
        let bytes = serde_json::to_vec(value).map_err(|e| e.to_string())?;
        self.store.set(key, &bytes)
    }

    /// The account of a normalised e-mail address.
    pub fn account(&self, email: &str) -> Result<Option<Account>, Fail> {
        self.get_json(&account_key(email))
    }

    fn random_bytes<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut buf = [0u8; N];
        self.host
            .fill_random(&mut buf)
            .map_err(|e| format!("no randomness: {e}"))?;
        Ok(buf)
    }

    /// A random UUID (version 4), for account ids.
    fn new_id(&mut self) -> Result<String, Fail> {
        let mut b: [u8; 16] = self.random_bytes()?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }

    /// A six-digit code, uniform over 000000–999999 (rejection sampling).
    pub fn random_code(&mut self) -> Result<String, Fail> {
        // The largest multiple of 10^6 that fits in a u32's range.
        const LIMIT: u32 = (u32::MAX / 1_000_000) * 1_000_000;
        loop {
            let n = u32::from_le_bytes(self.random_bytes()?);
            if n < LIMIT {
                return Ok(format!("{:06}", n % 1_000_000));
            }
        }
    }

    /// Hashes a password with Argon2id (default parameters) and a random salt.
    pub fn hash_password(&mut self, password: &str) -> Result<String, Fail> {
        let salt_bytes: [u8; 16] = self.random_bytes()?;
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| format!("cannot hash the password: {e}"))
    }

    // -- seeding ------------------------------------------------------------

    /// Creates the seed accounts that do not exist yet, unless this exact
    /// seed text was applied already. Never overwrites an account.
    pub fn ensure_seeded(&mut self) -> Result<(), Fail> {
        let digest = hex(&Sha256::digest(self.config.seed_accounts.as_bytes()));
        if self.store.get(SEED_KEY)?.as_deref() == Some(digest.as_bytes()) {
            return Ok(());
        }
        let entries = parse_seed(&self.config.seed_accounts)?;
        let (mut created, mut kept) = (0, 0);
        for entry in entries {
            if self.store.get(&account_key(&entry.email))?.is_some() {
                kept += 1;
                continue;
            }
            let password_hash = match entry.secret {
                Secret::Password(p) => self.hash_password(&p)?,
                Secret::Hash(h) => h,
            };
            let now = self.host.now_ms();
            let account = Account {
                id: self.new_id()?,
                display_name: entry.display_name,
                email: entry.email,
                profile: entry.profile,
                teams: entry.teams,
                telephony: entry.telephony,
                password_hash,
                created_ms: now,
                password_changed_ms: now,
            };
            self.set_json(&account_key(&account.email), &account)?;
            created += 1;
        }
        self.store.set(SEED_KEY, digest.as_bytes())?;
        self.host.log_info(&format!(
            "seed accounts applied: {created} created, {kept} already existed"
        ));
        Ok(())
    }

    // -- sign-in ------------------------------------------------------------

    /// The step after the e-mail address: a redirect for the configured
    /// domains, else the password. Reads no account.
    pub fn lookup(&mut self, email: &str) -> Result<NextStep, SignInError> {
        self.ensure_seeded().map_err(SignInError::Unavailable)?;
        let email = normalize_email(email).ok_or(SignInError::Refused(INVALID_EMAIL.into()))?;
        let domain = email.rsplit('@').next().unwrap_or_default();
        Ok(self
            .config
            .redirects
            .iter()
            .find(|(d, _)| d == domain)
            .map_or(NextStep::Password, |(_, url)| {
                NextStep::Redirect(url.clone())
            }))
    }

    /// Checks a password. Unknown addresses cost the same Argon2 work.
    pub fn verify_password(
        &mut self,
        email: &str,
        password: &str,
    ) -> Result<Identity, SignInError> {
        self.ensure_seeded().map_err(SignInError::Unavailable)?;
        let email = normalize_email(email).ok_or(SignInError::Refused(INVALID_EMAIL.into()))?;
        let account = self.account(&email).map_err(SignInError::Unavailable)?;
        let stored = account
            .as_ref()
            .map_or(DUMMY_HASH, |a| a.password_hash.as_str());
        let parsed = PasswordHash::new(stored).map_err(|e| {
            SignInError::Unavailable(format!("the password hash of `{email}` is unreadable: {e}"))
        })?;
        let matches = match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => true,
            Err(argon2::password_hash::Error::Password) => false,
            Err(e) => {
                return Err(SignInError::Unavailable(format!(
                    "cannot check the password of `{email}`: {e}"
                )));
            }
        };
        match account {
            Some(a) if matches => Ok(a.identity()),
            _ => Err(SignInError::InvalidCredentials),
        }
    }

    // -- password reset -----------------------------------------------------

    /// Starts a reset: stores a new code (replacing any earlier one) and
    /// mails it to a known address. An unknown address gets a record that
    /// looks the same, with a code nobody is sent.
    pub fn start_reset(&mut self, email: &str) -> Result<(), SignInError> {
        self.ensure_seeded().map_err(SignInError::Unavailable)?;
        let email = normalize_email(email).ok_or(SignInError::Refused(INVALID_EMAIL.into()))?;
        self.start_reset_inner(&email)
            .map_err(SignInError::Unavailable)
    }

    fn start_reset_inner(&mut self, email: &str) -> Result<(), Fail> {
        let known = self.store.get(&account_key(email))?.is_some();
        let code = self.random_code()?;
        let salt: [u8; 16] = self.random_bytes()?;
        let record = ResetRecord {
            salt: hex(&salt),
            code_hash: hex(&code_digest(&salt, &code)),
            created_ms: self.host.now_ms(),
            tries_left: self.config.reset_max_tries,
        };
        let key = reset_key(email);
        self.set_json(&key, &record)?;
        if !known {
            self.host.log_info(&format!(
                "password reset asked for unknown address {email}: no code sent"
            ));
            return Ok(());
        }
        let body = reset_body(&code, self.config.reset_code_minutes);
        if let Err(e) = self.host.send_mail(email, RESET_SUBJECT, &body) {
            // Nobody has this code: do not keep it.
            let _ = self.store.delete(&key);
            self.host
                .log_warn(&format!("password reset for {email}: mail failed: {e}"));
            return Err(format!("the confirmation code could not be sent: {e}"));
        }
        self.host
            .log_info(&format!("password reset started for {email}: code sent"));
        Ok(())
    }

    /// Finishes a reset. Answers are the same for unknown addresses.
    pub fn finish_reset(
        &mut self,
        email: &str,
        code: &str,
        new_password: &str,
    ) -> Result<(), ResetError> {
        self.ensure_seeded().map_err(ResetError::Unavailable)?;
        let Some(email) = normalize_email(email) else {
            return Err(ResetError::InvalidCode(0));
        };
        let key = reset_key(&email);
        let unavailable = ResetError::Unavailable;
        let Some(mut record) = self.get_json::<ResetRecord>(&key).map_err(unavailable)? else {
            return Err(ResetError::InvalidCode(0));
        };

        if self.host.now_ms().saturating_sub(record.created_ms) >= self.config.code_lifetime_ms() {
            self.store.delete(&key).map_err(unavailable)?;
            return Err(ResetError::Expired);
        }

        let (Some(salt), Some(expected)) = (unhex(&record.salt), unhex(&record.code_hash)) else {
            return Err(unavailable(format!("record `{key}` is unreadable")));
        };
        let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let actual = code_digest(&salt, &typed);
        if !bool::from(actual.as_slice().ct_eq(&expected)) {
            record.tries_left = record.tries_left.saturating_sub(1);
            if record.tries_left == 0 {
                self.store.delete(&key).map_err(unavailable)?;
                self.host.log_info(&format!(
                    "password reset for {email}: too many wrong codes, code dropped"
                ));
                return Err(ResetError::TooManyTries);
            }
            self.set_json(&key, &record).map_err(unavailable)?;
            return Err(ResetError::InvalidCode(record.tries_left));
        }

        check_new_password(&email, new_password, self.config.min_password_length)
            .map_err(ResetError::WeakPassword)?;

        if let Some(mut account) = self.account(&email).map_err(unavailable)? {
            account.password_hash = self.hash_password(new_password).map_err(unavailable)?;
            account.password_changed_ms = self.host.now_ms();
            self.set_json(&account_key(&email), &account)
                .map_err(unavailable)?;
        }
        self.store.delete(&key).map_err(unavailable)?;
        self.host.log_info(&format!(
            "password reset finished for {email}: password changed"
        ));
        Ok(())
    }
}

/// The reset mail's body.
pub fn reset_body(code: &str, minutes: u32) -> String {
    let lifetime = if minutes == 1 {
        "1 minute".to_string()
    } else {
        format!("{minutes} minutes")
    };
    format!(
        "Your deskhost confirmation code is {code}.\n\n\
         Enter it on the sign-in page to choose a new password. It expires in \
         {lifetime} and can be used once.\n\n\
         If you did not ask to reset your password, ignore this message: your \
         password stays the same.\n"
    )
}

/// Checks a new password; the error says which rule it breaks.
pub fn check_new_password(email: &str, password: &str, min_len: usize) -> Result<(), String> {
    let len = password.chars().count();
    if len < min_len {
        return Err(format!(
            "Choose a password of at least {min_len} characters."
        ));
    }
    if len > MAX_PASSWORD_CHARS {
        return Err(format!(
            "Choose a password of at most {MAX_PASSWORD_CHARS} characters."
        ));
    }
    if password.trim().to_lowercase() == email {
        return Err("Choose a password other than your e-mail address.".into());
    }
    Ok(())
}
