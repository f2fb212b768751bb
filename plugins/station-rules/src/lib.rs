//! Station rules: decides which station credentials (role, team, telephony,
//! dial number or extension) a user may sign in to the desktop with.
//!
//! Rules, checked in this order; the first that fails refuses the station
//! with the form field it is about, a stable code and a sentence for the
//! user:
//!
//! 1. Role: supervisor is allowed to every supervisor profile (supervisor,
//!    supervisor and agent); supervisor and agent needs the
//!    supervisor-and-agent profile; agent needs the agent profile, which
//!    allows nothing else (`role-not-allowed` otherwise).
//! 2. Team: supervisor and agent must pick one of the user's teams
//!    (`team-required`, `team-not-allowed`). A supervisor signs in without
//!    a team: any team sent is dropped.
//! 3. Telephony: must be one the user's profile allows
//!    (`telephony-not-allowed`).
//! 4. Dial number: normalised (spaces, `-`, `.`, `(` and `)` removed, a
//!    leading `00` turned into `+`), then it must be E.164
//!    (`dial-number-required`, `dial-number-invalid`), registered when
//!    registration is required (`dial-number-not-registered`) and not held
//!    by another signed-in user (`dial-number-in-use`).
//! 5. Extension: digits only, of the allowed length (`extension-required`,
//!    `extension-invalid`), registered (`extension-not-registered`) and
//!    free (`extension-in-use`).
//! 6. Desktop: the number is ignored; the microphone permission must be
//!    granted (`microphone-permission`) and the E911 notice acknowledged
//!    (`e911-not-acknowledged`).
//!
//! Settings the admin gets wrong (an entry that is not a number, a range
//! ending below its start, fewer than one extension digit) refuse every
//! station with `invalid-settings`, like settings of the wrong type do.
//!
//! Settings:
//! - `dial_numbers` (text list, default empty): registered dial numbers in
//!   E.164, written with spaces or dashes if wished; an entry may be an
//!   inclusive range of numbers of the same length,
//!   `+14155550100..+14155550109`.
//! - `extensions` (text list, default empty): registered extensions; ranges
//!   such as `1001..1009` too.
//! - `extension_min_digits` (integer, default 3) and `extension_max_digits`
//!   (integer, default 8): the allowed length of an extension.
//! - `require_registration` (boolean, default `true`): whether dial numbers
//!   and extensions must be in the lists above.
//!
//! Capabilities: none. Refusals are logged at info level.

use deskhost_sdk::station::{
    Identity, Permission, Profile, Refusal, Station, StationDefaults, StationField,
    StationProvider, StationRequest, Telephony,
};
use deskhost_sdk::{Metadata, Role, SettingSpec};
use serde::Deserialize;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "station-rules";

/// The dial number the messages give as an example.
pub const EXAMPLE_DIAL_NUMBER: &str = "+14155550100";

/// Longest part of a typed value repeated in a message, in characters.
const SHOWN_MAX: usize = 32;

/// Settings the admin writes in the host config.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Registered dial numbers (E.164) and ranges of them.
    pub dial_numbers: Vec<String>,
    /// Registered extensions and ranges of them.
    pub extensions: Vec<String>,
    /// Fewest digits in an extension.
    pub extension_min_digits: i64,
    /// Most digits in an extension.
    pub extension_max_digits: i64,
    /// Whether dial numbers and extensions must be registered.
    pub require_registration: bool,
}

impl Default for Settings {
    /// The declared defaults.
    fn default() -> Self {
        Settings {
            dial_numbers: Vec::new(),
            extensions: Vec::new(),
            extension_min_digits: 3,
            extension_max_digits: 8,
            require_registration: true,
        }
    }
}

/// A list of registered numbers: single values and inclusive ranges, all
/// normalised. A value is in a range when it has the length of the range's
/// ends and sorts between them (for digit strings of one length, the
/// numeric order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register {
    /// `(first, last)`; a single value is `(v, v)`.
    entries: Vec<(String, String)>,
}

impl Register {
    /// Parses the entries of the setting `setting`. `normalise` turns one
    /// number as written into its normal form, or `None` when it is not
    /// valid; `what` names such a number in the error. Blank entries are
    /// skipped.
    fn parse(
        setting: &str,
        entries: &[String],
        what: &str,
        normalise: impl Fn(&str) -> Option<String>,
    ) -> Result<Register, String> {
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let one = |s: &str| {
                normalise(s).ok_or_else(|| {
                    format!("the `{setting}` entry \"{}\" is not {what}", shown(entry))
                })
            };
            match entry.split_once("..") {
                None => {
                    let v = one(entry)?;
                    out.push((v.clone(), v));
                }
                Some((first, last)) => {
                    let (first, last) = (one(first)?, one(last)?);
                    if first.len() != last.len() {
                        return Err(format!(
                            "the `{setting}` range \"{}\" has ends of different lengths",
                            shown(entry)
                        ));
                    }
                    if first > last {
                        return Err(format!(
                            "the `{setting}` range \"{}\" ends below where it starts",
                            shown(entry)
                        ));
                    }
                    out.push((first, last));
                }
            }
        }
        Ok(Register { entries: out })
    }

    /// Whether the normalised `value` is registered.
    pub fn contains(&self, value: &str) -> bool {
        self.entries.iter().any(|(first, last)| {
            first.len() == value.len() && first.as_str() <= value && value <= last.as_str()
        })
    }
}

/// The settings, checked and ready to apply.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Registered dial numbers.
    pub dial_numbers: Register,
    /// Registered extensions.
    pub extensions: Register,
    /// Fewest digits in an extension (at least 1).
    pub extension_min_digits: usize,
    /// Most digits in an extension (at least the minimum).
    pub extension_max_digits: usize,
    /// Whether dial numbers and extensions must be registered.
    pub require_registration: bool,
}

impl Rules {
    /// Checks the settings. The error says what is wrong, for the admin.
    pub fn new(s: &Settings) -> Result<Rules, String> {
        if s.extension_min_digits < 1 {
            return Err(format!(
                "`extension_min_digits` is {}, but must be at least 1",
                s.extension_min_digits
            ));
        }
        if s.extension_max_digits < s.extension_min_digits {
            return Err(format!(
                "`extension_max_digits` is {}, below `extension_min_digits` ({})",
                s.extension_max_digits, s.extension_min_digits
            ));
        }
        let dial_numbers = Register::parse(
            "dial_numbers",
            &s.dial_numbers,
            "a dial number in international format, such as +14155550100",
            |v| Some(normalise_dial_number(v)).filter(|n| is_e164(n)),
        )?;
        let extensions = Register::parse(
            "extensions",
            &s.extensions,
            "an extension (digits only)",
            |v| {
                let v = v.trim();
                (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then(|| v.to_string())
            },
        )?;
        let digits = |n: i64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(Rules {
            dial_numbers,
            extensions,
            extension_min_digits: digits(s.extension_min_digits),
            extension_max_digits: digits(s.extension_max_digits),
            require_registration: s.require_registration,
        })
    }
}

/// A dial number as typed, normalised: whitespace, `-`, `.`, `(` and `)`
/// removed, and a leading `00` (the international call prefix) turned into
/// `+`. The result is not checked; see [`is_e164`].
pub fn normalise_dial_number(input: &str) -> String {
    let compact: String = input
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')))
        .collect();
    match compact.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => compact,
    }
}

/// Whether `s` is an E.164 number: `+`, a non-zero digit, then 6 to 14
/// more digits (`^\+[1-9][0-9]{6,14}$`).
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// `s` trimmed and cut to a length fit for a message.
fn shown(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() <= SHOWN_MAX {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(SHOWN_MAX).collect();
        cut.push('…');
        cut
    }
}

fn refuse(field: StationField, code: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        code: code.into(),
        message: message.into(),
    }
}

/// How the messages name a telephony option.
pub fn telephony_label(t: Telephony) -> &'static str {
    match t {
        Telephony::DialNumber => "dial number",
        Telephony::Extension => "extension",
        Telephony::Desktop => "desktop",
    }
}

/// "a", "a or b", "a, b or c".
fn one_of(labels: &[&str]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn check_role(user: &Identity, role: Role) -> Result<(), Refusal> {
    let refused = |message: &str| Err(refuse(StationField::Role, "role-not-allowed", message));
    match (user.profile, role) {
        (Profile::Supervisor | Profile::SupervisorAndAgent, Role::Supervisor)
        | (Profile::SupervisorAndAgent, Role::SupervisorAgent)
        | (Profile::Agent, Role::Agent) => Ok(()),
        (Profile::Supervisor, Role::SupervisorAgent) => refused(
            "Your profile does not allow signing in as supervisor and agent. Sign in as supervisor, or ask your administrator to change your profile.",
        ),
        (Profile::Supervisor, Role::Agent) => {
            refused("Your profile does not allow signing in as agent. Sign in as supervisor.")
        }
        (Profile::SupervisorAndAgent, Role::Agent) => refused(
            "Your profile does not allow signing in as agent only. Sign in as supervisor, or as supervisor and agent.",
        ),
        (Profile::Agent, _) => refused(
            "Your profile allows signing in as agent only. Pick the Agent role, or ask your administrator to change your profile.",
        ),
    }
}

fn check_team(user: &Identity, team: Option<&str>) -> Result<String, Refusal> {
    let picked = team.map(str::trim).unwrap_or("");
    if picked.is_empty() {
        return Err(refuse(
            StationField::Team,
            "team-required",
            if user.teams.is_empty() {
                "Pick a team. You are not a member of any team: sign in as supervisor, or ask your administrator to add you to a team."
            } else {
                "Pick a team."
            },
        ));
    }
    match user.teams.iter().find(|t| t.as_str() == picked) {
        Some(t) => Ok(t.clone()),
        None => Err(refuse(
            StationField::Team,
            "team-not-allowed",
            format!(
                "You are not a member of the team \"{}\". Pick one of your teams.",
                shown(picked)
            ),
        )),
    }
}

fn check_telephony(user: &Identity, telephony: Telephony) -> Result<(), Refusal> {
    if user.telephony.contains(&telephony) {
        return Ok(());
    }
    let allowed: Vec<&str> = user.telephony.iter().map(|t| telephony_label(*t)).collect();
    let what_to_do = if allowed.is_empty() {
        "Your profile allows no telephony; ask your administrator to allow one.".to_string()
    } else {
        format!("Choose {}.", one_of(&allowed))
    };
    Err(refuse(
        StationField::Telephony,
        "telephony-not-allowed",
        format!(
            "Your profile does not allow {} telephony. {what_to_do}",
            telephony_label(telephony)
        ),
    ))
}

fn check_dial_number(
    rules: &Rules,
    typed: &str,
    taken: &impl Fn(Telephony, &str) -> bool,
) -> Result<String, Refusal> {
    let number = normalise_dial_number(typed);
    if number.is_empty() {
        return Err(refuse(
            StationField::Number,
            "dial-number-required",
            format!(
                "Enter your dial number in international format, such as {EXAMPLE_DIAL_NUMBER}."
            ),
        ));
    }
    if !is_e164(&number) {
        return Err(refuse(
            StationField::Number,
            "dial-number-invalid",
            format!(
                "\"{}\" is not a valid dial number. Enter the dial number in international format, such as {EXAMPLE_DIAL_NUMBER}.",
                shown(typed)
            ),
        ));
    }
    if rules.require_registration && !rules.dial_numbers.contains(&number) {
        return Err(refuse(
            StationField::Number,
            "dial-number-not-registered",
            format!(
                "The dial number {number} is not registered. Ask your administrator to register it."
            ),
        ));
    }
    if taken(Telephony::DialNumber, &number) {
        return Err(refuse(
            StationField::Number,
            "dial-number-in-use",
            format!(
                "The dial number {number} is already in use by another signed-in user. Enter another dial number, or ask that user to sign out."
            ),
        ));
    }
    Ok(number)
}

fn check_extension(
    rules: &Rules,
    typed: &str,
    taken: &impl Fn(Telephony, &str) -> bool,
) -> Result<String, Refusal> {
    let ext = typed.trim();
    if ext.is_empty() {
        return Err(refuse(
            StationField::Number,
            "extension-required",
            "Enter your extension.",
        ));
    }
    let (min, max) = (rules.extension_min_digits, rules.extension_max_digits);
    if !ext.bytes().all(|b| b.is_ascii_digit()) || !(min..=max).contains(&ext.len()) {
        let length = if min == max {
            format!("exactly {min} digits")
        } else {
            format!("{min} to {max} digits")
        };
        return Err(refuse(
            StationField::Number,
            "extension-invalid",
            format!(
                "\"{}\" is not a valid extension. Enter {length}, with nothing else.",
                shown(typed)
            ),
        ));
    }
    if rules.require_registration && !rules.extensions.contains(ext) {
        return Err(refuse(
            StationField::Number,
            "extension-not-registered",
            format!(
                "The extension {ext} is not registered. Ask your administrator to register it."
            ),
        ));
    }
    if taken(Telephony::Extension, ext) {
        return Err(refuse(
            StationField::Number,
            "extension-in-use",
            format!(
                "The extension {ext} is already in use by another signed-in user. Enter another extension, or ask that user to sign out."
            ),
        ));
    }
    Ok(ext.to_string())
}

fn check_desktop(request: &StationRequest) -> Result<(), Refusal> {
    if request.microphone != Permission::Granted {
        return Err(refuse(
            StationField::Microphone,
            "microphone-permission",
            "Desktop telephony needs access to your microphone. Allow it in your browser's site settings, or contact your administrator.",
        ));
    }
    if !request.e911_acknowledged {
        return Err(refuse(
            StationField::E911,
            "e911-not-acknowledged",
            "Desktop telephony needs your acknowledgement of the E911 emergency-calling notice. Read the notice and tick the box to acknowledge it.",
        ));
    }
    Ok(())
}

/// Accepts (normalised) or refuses station credentials. `taken` says
/// whether another signed-in user holds a dial number or extension now
/// (the host's station registry in the plugin, a closure in tests).
pub fn check_with(
    settings: &Settings,
    user: &Identity,
    request: StationRequest,
    taken: impl Fn(Telephony, &str) -> bool,
) -> Result<Station, Refusal> {
    let rules = Rules::new(settings).map_err(|e| {
        refuse(
            StationField::Telephony,
            "invalid-settings",
            format!(
                "The station settings are not valid: {e}. Ask your administrator to correct them."
            ),
        )
    })?;
    check_role(user, request.role)?;
    let team = match request.role {
        Role::SupervisorAgent | Role::Agent => Some(check_team(user, request.team.as_deref())?),
        Role::Supervisor => None,
    };
    check_telephony(user, request.telephony)?;
    let number = match request.telephony {
        Telephony::DialNumber => check_dial_number(&rules, &request.number, &taken)?,
        Telephony::Extension => check_extension(&rules, &request.number, &taken)?,
        Telephony::Desktop => {
            check_desktop(&request)?;
            String::new()
        }
    };
    Ok(Station {
        role: request.role,
        telephony: request.telephony,
        number,
        team,
    })
}

/// Values to pre-fill: dial number telephony when allowed (else the first
/// allowed option), no number, and the user's team when they have just one.
pub fn defaults(user: &Identity) -> StationDefaults {
    let telephony = if user.telephony.contains(&Telephony::DialNumber) {
        Some(Telephony::DialNumber)
    } else {
        user.telephony.first().copied()
    };
    let team = match user.teams.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };
    StationDefaults {
        telephony,
        number: None,
        team,
    }
}

/// The station provider.
pub struct StationRules;

impl StationProvider for StationRules {
    type Settings = Settings;

    fn metadata() -> Metadata {
        let d = Settings::default();
        Metadata::new(ID, "Station rules", env!("CARGO_PKG_VERSION"))
            .description("Checks the role, team, telephony and dial number or extension users sign in with.")
            .setting(
                SettingSpec::text_list(
                    "dial_numbers",
                    "Registered dial numbers in international format, such as +14155550100 (spaces and dashes are allowed). An entry may be an inclusive range of numbers of the same length, such as +14155550100..+14155550109.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::text_list(
                    "extensions",
                    "Registered extensions, digits only, such as 1001. An entry may be an inclusive range of extensions of the same length, such as 1001..1009.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::integer(
                    "extension_min_digits",
                    "Fewest digits an extension may have (at least 1).",
                )
                .default_integer(d.extension_min_digits),
            )
            .setting(
                SettingSpec::integer(
                    "extension_max_digits",
                    "Most digits an extension may have (at least extension_min_digits).",
                )
                .default_integer(d.extension_max_digits),
            )
            .setting(
                SettingSpec::boolean(
                    "require_registration",
                    "When on, users may only sign in with a dial number from dial_numbers or an extension from extensions.",
                )
                .default_bool(d.require_registration),
            )
    }

    fn defaults(_settings: Settings, user: &Identity) -> StationDefaults {
        defaults(user)
    }

    fn check(
        settings: Settings,
        user: &Identity,
        request: StationRequest,
    ) -> Result<Station, Refusal> {
        let result = check_with(&settings, user, request, deskhost_sdk::station::taken);
        if let Err(refusal) = &result {
            deskhost_sdk::capability::log::info(format!(
                "station refused for user `{}`: {} ({:?})",
                user.id, refusal.code, refusal.field
            ));
        }
        result
    }
}

deskhost_sdk::export_station_provider!(StationRules);

#[cfg(test)]
mod tests;
