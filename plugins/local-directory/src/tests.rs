//! Native tests over an in-memory store, a fake clock and a recording
//! mailer. Argon2 is slow on purpose, so the demo accounts are seeded once
//! and each test starts from a copy of that store.

use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;

use deskhost_sdk::identity::{
    IdentityProvider, NextStep, Profile, ResetError, SignInError, Telephony,
};
use deskhost_sdk::{SettingKind, SettingValue};

use crate::directory::*;
use crate::{DEMO_ACCOUNTS, LocalDirectory, Settings};

const START_MS: u64 = 1_800_000_000_000;
const DEMO_PASSWORD: &str = "deskhost-demo";
const SUPERVISOR: &str = "supervisor@example.com";
const LEAD: &str = "lead@example.com";
const GHOST: &str = "ghost@example.com";

#[derive(Debug, Clone, Default)]
struct MemStore {
    map: BTreeMap<String, Vec<u8>>,
    writes: usize,
}

impl Store for MemStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.map.get(key).cloned())
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        assert!(key.len() <= 256, "key too long: {key}");
        assert!(value.len() <= 64 * 1024, "value too large for {key}");
        self.writes += 1;
        self.map.insert(key.to_string(), value.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: &str) -> Result<(), String> {
        self.writes += 1;
        self.map.remove(key);
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct Mail {
    to: String,
    subject: String,
    body: String,
}

#[derive(Debug, Clone)]
struct FakeHost {
    now: u64,
    rng: u64,
    /// Bytes handed out before the generator's.
    forced: VecDeque<u8>,
    mails: Vec<Mail>,
    mail_error: Option<String>,
    logs: Vec<String>,
}

impl FakeHost {
    fn new(seed: u64) -> Self {
        FakeHost {
            now: START_MS,
            rng: seed,
            forced: VecDeque::new(),
            mails: Vec::new(),
            mail_error: None,
            logs: Vec::new(),
        }
    }

    /// splitmix64: deterministic, good enough for tests.
    fn next_byte(&mut self) -> u8 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u8
    }
}

impl Host for FakeHost {
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String> {
        for b in buf {
            *b = match self.forced.pop_front() {
                Some(f) => f,
                None => self.next_byte(),
            };
        }
        Ok(())
    }
    fn send_mail(&mut self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        if let Some(e) = &self.mail_error {
            return Err(e.clone());
        }
        self.mails.push(Mail {
            to: to.into(),
            subject: subject.into(),
            body: body.into(),
        });
        Ok(())
    }
    fn log_info(&mut self, message: &str) {
        self.logs.push(format!("info: {message}"));
    }
    fn log_warn(&mut self, message: &str) {
        self.logs.push(format!("warn: {message}"));
    }
}

type TestDir = Directory<MemStore, FakeHost>;

/// `assert_eq!` by `Debug` text: the generated WIT types have no `PartialEq`.
#[track_caller]
fn same<T: std::fmt::Debug>(left: T, right: T) {
    assert_eq!(format!("{left:?}"), format!("{right:?}"));
}
fn default_settings() -> Settings {
    let list = deskhost_sdk::testing::default_setting_list(&LocalDirectory::metadata());
    deskhost_sdk::parse_settings(list).unwrap_or_else(|e| panic!("{}", e.message))
}

fn config_with(seed: &str) -> Config {
    let mut s = default_settings();
    s.seed_accounts = seed.to_string();
    s.redirects = vec!["corp.example=https://sso.corp.example/start".into()];
    s.config().unwrap()
}

fn fresh(seed: &str) -> TestDir {
    Directory::new(MemStore::default(), FakeHost::new(7), config_with(seed))
}

/// A directory whose store holds the seeded demo accounts (seeded once).
fn seeded() -> TestDir {
    static SNAPSHOT: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    let map = SNAPSHOT.get_or_init(|| {
        let mut d = fresh(DEMO_ACCOUNTS);
        d.ensure_seeded().unwrap();
        d.store.map
    });
    Directory::new(
        MemStore {
            map: map.clone(),
            writes: 0,
        },
        FakeHost::new(42),
        config_with(DEMO_ACCOUNTS),
    )
}

fn account(d: &TestDir, email: &str) -> Account {
    d.account(email).unwrap().expect("account")
}

fn reset_record(d: &TestDir, email: &str) -> Option<ResetRecord> {
    d.store
        .map
        .get(&reset_key(email))
        .map(|b| serde_json::from_slice(b).unwrap())
}

/// The code in the last mail, checking the mail on the way.
fn mailed_code(d: &TestDir, to: &str) -> String {
    let mail = d.host.mails.last().expect("a mail");
    assert_eq!(mail.to, to);
    assert_eq!(mail.subject, RESET_SUBJECT);
    let code: String = mail
        .body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("six-digit code")
        .to_string();
    code
}

/// A wrong code for `right`.
fn wrong(right: &str) -> String {
    let n: u32 = right.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

// -- metadata and settings --------------------------------------------------

#[test]
fn metadata_matches_manifest() {
    let manifest = include_str!("../plugin.toml");
    let m = LocalDirectory::metadata();
    assert_eq!(m.id, crate::ID);
    assert!(manifest.contains(&format!("id = \"{}\"", m.id)));
    assert!(manifest.contains(&format!("version = \"{}\"", m.version)));
    assert!(manifest.contains("kind = \"identity-provider\""));
    assert!(manifest.contains("capabilities = [\"kv\", \"mail\"]"));
    for spec in &m.settings {
        assert!(!spec.doc.is_empty(), "setting `{}` has no doc", spec.name);
        assert!(
            spec.default.is_some(),
            "setting `{}` has no default",
            spec.name
        );
    }
    let kinds: Vec<(&str, SettingKind)> = m
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert!(matches!(
        kinds.as_slice(),
        [
            ("seed_accounts", SettingKind::Text),
            ("reset_code_minutes", SettingKind::Integer),
            ("reset_max_tries", SettingKind::Integer),
            ("min_password_length", SettingKind::Integer),
            ("redirects", SettingKind::TextList),
        ]
    ));
    assert!(matches!(&m.settings[0].default, Some(SettingValue::Text(t)) if t == DEMO_ACCOUNTS));
}

#[test]
fn default_settings_are_valid() {
    let c = default_settings().config().unwrap();
    assert_eq!(c.seed_accounts, DEMO_ACCOUNTS);
    assert_eq!(c.reset_code_minutes, 10);
    assert_eq!(c.reset_max_tries, 5);
    assert_eq!(c.min_password_length, 10);
    assert!(c.redirects.is_empty());
}

#[test]
fn bad_settings_are_named() {
    let mut s = default_settings();
    s.reset_code_minutes = 0;
    assert!(s.config().unwrap_err().contains("`reset_code_minutes`"));
    let mut s = default_settings();
    s.reset_max_tries = 300;
    assert!(s.config().unwrap_err().contains("`reset_max_tries`"));
    let mut s = default_settings();
    s.min_password_length = 4;
    assert!(s.config().unwrap_err().contains("`min_password_length`"));
    for entry in [
        "example.org",
        "example.org=http://sso.example.org",
        "=https://sso.example.org",
        "not a domain=https://x.example",
        "example.org=https://",
    ] {
        let mut s = default_settings();
        s.redirects = vec![entry.into()];
        let e = s.config().unwrap_err();
        assert!(
            e.contains("`redirects`") && e.contains(entry),
            "{entry}: {e}"
        );
    }
    // Through the plugin entry point: unavailable, not a panic.
    let mut s = default_settings();
    s.reset_max_tries = -1;
    assert!(matches!(
        LocalDirectory::lookup(s, SUPERVISOR),
        Err(SignInError::Unavailable(m)) if m.contains("reset_max_tries")
    ));
}

// -- e-mail addresses -------------------------------------------------------

#[test]
fn emails_are_trimmed_lowercased_and_checked() {
    assert_eq!(
        normalize_email("  Dana.Supervisor@Example.COM \n").as_deref(),
        Some("dana.supervisor@example.com")
    );
    assert_eq!(
        normalize_email("a+tag@sub.example.co.uk").as_deref(),
        Some("a+tag@sub.example.co.uk")
    );
    for bad in [
        "",
        "plain",
        "@example.com",
        "name@",
        "name@localhost",
        "name@@example.com",
        "na me@example.com",
        ".name@example.com",
        "na..me@example.com",
        "name@-example.com",
        "name@example..com",
        "name@192.168.0.1",
        "\"quoted\"@example.com",
        "name@exa_mple.com",
    ] {
        assert_eq!(normalize_email(bad), None, "{bad:?}");
    }
    let long = format!("{}@example.com", "a".repeat(64));
    assert!(normalize_email(&long).is_some());
    let too_long_local = format!("{}@example.com", "a".repeat(65));
    assert!(normalize_email(&too_long_local).is_none());
    let too_long = format!("a@{}.com", "b.".repeat(120));
    assert!(normalize_email(&too_long).is_none());
}

// -- seeding ----------------------------------------------------------------

#[test]
fn seeding_creates_both_demo_accounts() {
    let d = seeded();
    let dana = account(&d, SUPERVISOR);
    assert_eq!(dana.display_name, "Dana Supervisor");
    assert_eq!(dana.email, SUPERVISOR);
    assert_eq!(dana.profile, ProfileName::Supervisor);
    assert!(dana.teams.is_empty());
    assert_eq!(
        dana.telephony,
        [
            TelephonyName::DialNumber,
            TelephonyName::Extension,
            TelephonyName::Desktop
        ]
    );
    assert!(
        dana.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(!dana.password_hash.contains(DEMO_PASSWORD));

    let lee = account(&d, LEAD);
    assert_eq!(lee.display_name, "Lee Lead");
    assert_eq!(lee.profile, ProfileName::SupervisorAndAgent);
    assert_eq!(lee.teams, ["sales", "support"]);
    assert_ne!(lee.id, dana.id);
    assert_ne!(lee.password_hash, dana.password_hash, "salts differ");
    // A UUID v4.
    assert_eq!(lee.id.len(), 36);
    assert_eq!(&lee.id[14..15], "4");

    assert_eq!(
        d.store.map.keys().cloned().collect::<Vec<_>>(),
        [
            account_key("agent@example.com"),
            account_key(LEAD),
            account_key(SUPERVISOR),
            SEED_KEY.to_string()
        ]
    );
    let alex = account(&d, "agent@example.com");
    assert_eq!(alex.profile, ProfileName::Agent);
    assert_eq!(alex.teams, ["sales"]);
}

#[test]
fn seeding_is_idempotent() {
    let mut d = seeded();
    let before = d.store.map.clone();
    d.ensure_seeded().unwrap();
    d.ensure_seeded().unwrap();
    assert_eq!(d.store.writes, 0, "the applied seed is not parsed again");
    assert_eq!(d.store.map, before);
    // The flag is checked before parsing: a lookup costs no write either.
    same(d.lookup(SUPERVISOR), Ok(NextStep::Password));
    assert_eq!(d.store.writes, 0);
}

#[test]
fn seeding_never_overwrites_an_account() {
    let mut d = seeded();
    // The password was changed since (to the dummy's, for a cheap check).
    let mut lee = account(&d, LEAD);
    lee.password_hash = DUMMY_HASH.into();
    d.store
        .set(&account_key(LEAD), &serde_json::to_vec(&lee).unwrap())
        .unwrap();
    // A changed seed: same accounts with new details, plus a new one given
    // by hash (no Argon2 work).
    let seed = format!(
        "{}\n[[account]]\nemail = \"NEW@example.com\"\ndisplay_name = \"New One\"\nprofile = \"supervisor\"\npassword_hash = \"{DUMMY_HASH}\"\n",
        DEMO_ACCOUNTS.replace("Lee Lead", "Someone Else")
    );
    d.config = config_with(&seed);
    d.ensure_seeded().unwrap();
    assert_eq!(account(&d, LEAD), lee, "untouched");
    let new = account(&d, "new@example.com");
    assert_eq!(new.display_name, "New One");
    assert_eq!(new.password_hash, DUMMY_HASH);
    assert_eq!(new.telephony.len(), 3, "telephony defaults to all three");
    assert!(new.teams.is_empty());
    assert_eq!(
        d.store.writes, 3,
        "one account, the flag and the test's own write"
    );
    assert!(
        d.host
            .logs
            .iter()
            .any(|l| l.contains("1 created, 3 already existed"))
    );
}

#[test]
fn seeded_hash_signs_in() {
    let seed = format!(
        "[[account]]\nemail = \"hash@example.com\"\ndisplay_name = \"By Hash\"\nprofile = \"supervisor-and-agent\"\nteams = [\"sales\"]\ntelephony = [\"desktop\"]\npassword_hash = \"{DUMMY_HASH}\"\n"
    );
    let mut d = fresh(&seed);
    let id = d
        .verify_password("Hash@Example.com", DUMMY_PASSWORD)
        .unwrap();
    assert_eq!(id.email, "hash@example.com");
    assert_eq!(id.display_name, "By Hash");
    assert_eq!(id.profile, Profile::SupervisorAndAgent);
    assert_eq!(id.teams, ["sales"]);
    assert_eq!(id.telephony, [Telephony::Desktop]);
}

#[test]
fn malformed_seed_is_unavailable_and_says_where() {
    let cases: &[(&str, &[&str])] = &[
        ("[[account]\nemail = 1", &["line 1"]),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"boss\"\npassword = \"x\"\n",
            &["line 4", "boss"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\n",
            &["line 1", "needs a password or a password_hash"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword = \"x\"\npassword_hash = \"y\"\n",
            &["both password and password_hash"],
        ),
        (
            "[[account]]\nemail = \"not-an-address\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword = \"x\"\n",
            &["`not-an-address` is not a valid e-mail address"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword = \"x\"\n\n[[account]]\nemail = \"A@example.com\"\ndisplay_name = \"B\"\nprofile = \"supervisor\"\npassword = \"y\"\n",
            &["line 7", "appears twice"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword_hash = \"$argon2i$v=19$m=19456,t=2,p=1$ZGVza2hvc3QtZHVtbXktc2FsdA$tO0GJenoNt67ZAF4H2qinTmCVRRddMX8SN8pHadqR5Y\"\n",
            &["not argon2id"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword_hash = \"secret\"\n",
            &["not a PHC string"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\npassword = \"x\"\nrole = \"agent\"\n",
            &["line 6", "role"],
        ),
        (
            "[[account]]\nemail = \"a@example.com\"\ndisplay_name = \"A\"\nprofile = \"supervisor\"\ntelephony = [\"fax\"]\npassword = \"x\"\n",
            &["line 5", "fax"],
        ),
    ];
    for (seed, needles) in cases {
        let mut d = fresh(seed);
        let err = d.verify_password(SUPERVISOR, DEMO_PASSWORD).unwrap_err();
        let SignInError::Unavailable(message) = err else {
            panic!("{seed}: {err:?}");
        };
        assert!(
            message.starts_with("setting `seed_accounts` is invalid"),
            "{message}"
        );
        for needle in *needles {
            assert!(
                message.contains(needle),
                "{seed}\n=> {message}\nlacks {needle}"
            );
        }
        assert_eq!(d.store.writes, 0, "nothing written for a bad seed");
        assert!(matches!(
            d.finish_reset(SUPERVISOR, "000000", "x"),
            Err(ResetError::Unavailable(_))
        ));
    }
}

#[test]
fn empty_seed_is_fine() {
    let mut d = fresh("# no accounts\n");
    same(d.lookup(SUPERVISOR), Ok(NextStep::Password));
    assert_eq!(d.store.map.len(), 1, "only the flag");
}

// -- sign-in ----------------------------------------------------------------

#[test]
fn verify_right_password() {
    let mut d = seeded();
    let id = d
        .verify_password("  Lead@Example.com ", DEMO_PASSWORD)
        .unwrap();
    let lee = account(&d, LEAD);
    assert_eq!(id.id, lee.id);
    assert_eq!(id.display_name, "Lee Lead");
    assert_eq!(id.email, LEAD);
    assert_eq!(id.profile, Profile::SupervisorAndAgent);
    assert_eq!(id.teams, ["sales", "support"]);
    assert_eq!(
        id.telephony,
        [
            Telephony::DialNumber,
            Telephony::Extension,
            Telephony::Desktop
        ]
    );
}

#[test]
fn verify_wrong_and_unknown_are_alike() {
    let mut d = seeded();
    same(
        d.verify_password(SUPERVISOR, "deskhost-demo!"),
        Err(SignInError::InvalidCredentials),
    );
    // The dummy hash is checked (its own password would match it), and
    // still an unknown address is refused.
    same(
        d.verify_password(GHOST, DUMMY_PASSWORD),
        Err(SignInError::InvalidCredentials),
    );
    same(
        d.verify_password("not an address", DEMO_PASSWORD),
        Err(SignInError::Refused(INVALID_EMAIL.into())),
    );
}

#[test]
fn dummy_hash_has_default_costs() {
    use argon2::password_hash::PasswordHash;
    let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
    let params = argon2::Params::try_from(&parsed).unwrap();
    let default = argon2::Params::default();
    assert_eq!(parsed.algorithm, argon2::ARGON2ID_IDENT);
    assert_eq!(
        (params.m_cost(), params.t_cost(), params.p_cost()),
        (default.m_cost(), default.t_cost(), default.p_cost())
    );
    assert_eq!(
        (default.m_cost(), default.t_cost(), default.p_cost()),
        (19456, 2, 1)
    );
}

#[test]
fn lookup_password_redirect_and_invalid() {
    let mut d = seeded();
    same(d.lookup(SUPERVISOR), Ok(NextStep::Password));
    same(
        d.lookup(GHOST),
        Ok(NextStep::Password), // unknown looks the same
    );
    same(
        d.lookup(" Ana@Corp.Example "),
        Ok(NextStep::Redirect("https://sso.corp.example/start".into())),
    );
    same(d.lookup("ana@sub.corp.example"), Ok(NextStep::Password));
    same(
        d.lookup("ana@"),
        Err(SignInError::Refused(INVALID_EMAIL.into())),
    );
    same(
        d.lookup(""),
        Err(SignInError::Refused(INVALID_EMAIL.into())),
    );
}

// -- password reset ---------------------------------------------------------

#[test]
fn reset_code_is_six_uniform_digits() {
    let mut d = seeded();
    // u32::MAX is above the last whole block of 10^6 and is drawn again.
    d.host.forced.extend(u32::MAX.to_le_bytes());
    d.host.forced.extend(1_000_042u32.to_le_bytes());
    assert_eq!(d.random_code().unwrap(), "000042");
    assert!(d.host.forced.is_empty());
    // 4_293_999_999 is the last accepted value.
    d.host.forced.extend(4_293_999_999u32.to_le_bytes());
    assert_eq!(d.random_code().unwrap(), "999999");
    for _ in 0..200 {
        let c = d.random_code().unwrap();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
    }
}

#[test]
fn reset_happy_path_works_once() {
    let mut d = seeded();
    let old_hash = account(&d, LEAD).password_hash;
    d.start_reset(" LEAD@example.com").unwrap();
    let code = mailed_code(&d, LEAD);
    let body = &d.host.mails[0].body;
    assert!(body.contains("expires in 10 minutes"), "{body}");
    assert!(body.contains("used once"), "{body}");
    let record = reset_record(&d, LEAD).unwrap();
    assert_eq!(record.tries_left, 5);
    let raw = String::from_utf8(d.store.map[&reset_key(LEAD)].clone()).unwrap();
    assert!(
        !raw.contains(&code),
        "only a hash of the code is stored: {raw}"
    );

    // Spaces typed in the code are ignored.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    d.host.now += 9 * 60_000;
    d.finish_reset(LEAD, &spaced, "a new passphrase").unwrap();
    let lee = account(&d, LEAD);
    assert_ne!(lee.password_hash, old_hash);
    assert_eq!(lee.password_changed_ms, START_MS + 9 * 60_000);
    assert!(reset_record(&d, LEAD).is_none(), "single use");
    same(
        d.finish_reset(LEAD, &code, "another passphrase"),
        Err(ResetError::InvalidCode(0)),
    );
    assert_eq!(
        d.verify_password(LEAD, "a new passphrase").unwrap().email,
        LEAD
    );

    // Nothing secret in the log.
    for line in &d.host.logs {
        assert!(
            !line.contains(&code) && !line.contains("passphrase"),
            "{line}"
        );
    }
    assert!(
        d.host
            .logs
            .iter()
            .any(|l| l.contains("reset started for lead@example.com"))
    );
    assert!(
        d.host
            .logs
            .iter()
            .any(|l| l.contains("reset finished for lead@example.com"))
    );
}

#[test]
fn a_new_code_replaces_the_old_one() {
    let mut d = seeded();
    d.start_reset(SUPERVISOR).unwrap();
    let first = mailed_code(&d, SUPERVISOR);
    d.start_reset(SUPERVISOR).unwrap();
    let second = mailed_code(&d, SUPERVISOR);
    assert_eq!(d.host.mails.len(), 2);
    if first != second {
        same(
            d.finish_reset(SUPERVISOR, &first, "long enough pw"),
            Err(ResetError::InvalidCode(4)),
        );
    }
    // A weak password shows the code was right without any hashing.
    assert!(matches!(
        d.finish_reset(SUPERVISOR, &second, "short"),
        Err(ResetError::WeakPassword(_))
    ));
}

#[test]
fn expired_code() {
    let mut d = seeded();
    d.start_reset(SUPERVISOR).unwrap();
    let code = mailed_code(&d, SUPERVISOR);
    d.host.now += 10 * 60_000;
    same(
        d.finish_reset(SUPERVISOR, &code, "long enough pw"),
        Err(ResetError::Expired),
    );
    assert!(reset_record(&d, SUPERVISOR).is_none());
    same(
        d.finish_reset(SUPERVISOR, &code, "long enough pw"),
        Err(ResetError::InvalidCode(0)),
    );
}

#[test]
fn wrong_codes_count_down_to_too_many_tries() {
    let mut d = seeded();
    d.start_reset(SUPERVISOR).unwrap();
    let code = mailed_code(&d, SUPERVISOR);
    let bad = wrong(&code);
    for left in (1..=4).rev() {
        same(
            d.finish_reset(SUPERVISOR, &bad, "long enough pw"),
            Err(ResetError::InvalidCode(left)),
        );
    }
    same(
        d.finish_reset(SUPERVISOR, "not a code", "long enough pw"),
        Err(ResetError::TooManyTries),
    );
    assert!(reset_record(&d, SUPERVISOR).is_none());
    // Even the right code is gone now.
    same(
        d.finish_reset(SUPERVISOR, &code, "long enough pw"),
        Err(ResetError::InvalidCode(0)),
    );
}

#[test]
fn weak_password_keeps_the_code() {
    let mut d = seeded();
    d.start_reset(SUPERVISOR).unwrap();
    let code = mailed_code(&d, SUPERVISOR);
    let before = reset_record(&d, SUPERVISOR).unwrap();
    same(
        d.finish_reset(SUPERVISOR, &code, "123456789"),
        Err(ResetError::WeakPassword(
            "Choose a password of at least 10 characters.".into(),
        )),
    );
    same(
        d.finish_reset(SUPERVISOR, &code, "Supervisor@Example.com"),
        Err(ResetError::WeakPassword(
            "Choose a password other than your e-mail address.".into(),
        )),
    );
    assert!(matches!(
        d.finish_reset(SUPERVISOR, &code, &"x".repeat(MAX_PASSWORD_CHARS + 1)),
        Err(ResetError::WeakPassword(m)) if m.contains("at most")
    ));
    assert_eq!(reset_record(&d, SUPERVISOR), Some(before), "no try used");
    same(
        d.finish_reset(SUPERVISOR, &wrong(&code), "long enough pw"),
        Err(ResetError::InvalidCode(4)),
    );
}

#[test]
fn unknown_address_gets_the_same_answers() {
    // Run the same script for a known and an unknown address.
    fn script(d: &mut TestDir, email: &str) -> Vec<String> {
        let mut answers = vec![format!(
            "{:?}",
            d.finish_reset(email, "123456", "long enough pw")
        )];
        answers.push(format!("{:?}", d.start_reset(email)));
        let record = reset_record(d, email).unwrap();
        answers.push(format!(
            "salt {} hash {} tries {}",
            record.salt.len(),
            record.code_hash.len(),
            record.tries_left
        ));
        for _ in 0..5 {
            // The code "-" is never right.
            answers.push(format!(
                "{:?}",
                d.finish_reset(email, "-", "long enough pw")
            ));
        }
        answers.push(format!(
            "{:?}",
            d.finish_reset(email, "-", "long enough pw")
        ));
        answers.push(format!("{:?}", d.start_reset(email)));
        d.host.now += 10 * 60_000;
        answers.push(format!(
            "{:?}",
            d.finish_reset(email, "-", "long enough pw")
        ));
        answers.push(format!(
            "{:?}",
            d.finish_reset(email, "-", "long enough pw")
        ));
        answers
    }
    let mut known = seeded();
    let mut unknown = seeded();
    let a = script(&mut known, SUPERVISOR);
    let b = script(&mut unknown, GHOST);
    assert_eq!(a, b);
    assert_eq!(
        a,
        [
            "Err(ResetError::InvalidCode(0))",
            "Ok(())",
            "salt 32 hash 64 tries 5",
            "Err(ResetError::InvalidCode(4))",
            "Err(ResetError::InvalidCode(3))",
            "Err(ResetError::InvalidCode(2))",
            "Err(ResetError::InvalidCode(1))",
            "Err(ResetError::TooManyTries)",
            "Err(ResetError::InvalidCode(0))",
            "Ok(())",
            "Err(ResetError::Expired)",
            "Err(ResetError::InvalidCode(0))",
        ]
    );
    assert_eq!(known.host.mails.len(), 2);
    assert!(
        unknown.host.mails.is_empty(),
        "nothing sent to unknown addresses"
    );
    assert!(unknown.account(GHOST).unwrap().is_none(), "no account made");
}

#[test]
fn reset_with_an_invalid_address() {
    let mut d = seeded();
    same(
        d.start_reset("nobody"),
        Err(SignInError::Refused(INVALID_EMAIL.into())),
    );
    same(
        d.finish_reset("nobody", "123456", "long enough pw"),
        Err(ResetError::InvalidCode(0)),
    );
    assert_eq!(d.store.writes, 0);
}

#[test]
fn mail_failure_is_unavailable() {
    let mut d = seeded();
    d.host.mail_error = Some("smtp down".into());
    assert!(matches!(
        d.start_reset(LEAD),
        Err(SignInError::Unavailable(m)) if m.contains("smtp down")
    ));
    assert!(
        reset_record(&d, LEAD).is_none(),
        "no code kept that nobody got"
    );
    assert!(
        d.host
            .logs
            .iter()
            .any(|l| l.starts_with("warn:") && l.contains("smtp down"))
    );
}

#[test]
fn reset_minutes_setting_is_used() {
    let mut d = seeded();
    d.config.reset_code_minutes = 1;
    d.config.reset_max_tries = 2;
    d.start_reset(LEAD).unwrap();
    assert!(d.host.mails[0].body.contains("expires in 1 minute and"));
    assert_eq!(reset_record(&d, LEAD).unwrap().tries_left, 2);
    d.host.now += 59_999;
    same(
        d.finish_reset(LEAD, "-", "long enough pw"),
        Err(ResetError::InvalidCode(1)),
    );
    d.host.now += 1;
    same(
        d.finish_reset(LEAD, "-", "long enough pw"),
        Err(ResetError::Expired),
    );
}
