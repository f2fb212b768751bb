//! {{title}}: a deskhost station provider, which decides the station
//! credentials (telephony, number, team) users may sign in with.
//!
//! The host itself makes sure the role and the team are ones the user's
//! profile allows. The rules here, checked in this order:
//!
//! 1. Roles with agent work need a team (`team-required`).
//! 2. A dial number is written in international format (E.164, spaces and
//!    dashes allowed) and starts with one of `dial_prefixes`
//!    (`dial-number-invalid`, `dial-number-not-allowed`).
//! 3. An extension is 3 to 8 digits (`extension-invalid`).
//! 4. Neither may be held by another signed-in user (`number-in-use`).
//! 5. Desktop telephony needs the microphone and the E911 acknowledgement
//!    (`microphone-permission`, `e911-not-acknowledged`).
//!
//! Settings (`[auth.station] settings` in the host config):
//! - `dial_prefixes` (text list, default `+1`): the prefixes dial numbers
//!   may start with, such as `+1` or `+4420`.
//!
//! Capabilities: none.

use deskhost_sdk::station::{
    Identity, Permission, Refusal, Station, StationDefaults, StationField, StationProvider,
    StationRequest, Telephony,
};
use deskhost_sdk::{Metadata, Role, SettingSpec};
use serde::Deserialize;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "{{name}}";

/// Settings, from the host config (defaults filled in).
#[derive(Debug, Deserialize)]
pub struct Settings {
    /// Prefixes dial numbers may start with.
    pub dial_prefixes: Vec<String>,
}

fn refuse(field: StationField, code: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        code: code.into(),
        message: message.into(),
    }
}

/// A dial number without spaces, dashes, dots or brackets, if it is E.164:
/// `+`, then 8 to 15 digits, the first not 0.
pub fn e164(typed: &str) -> Option<String> {
    let number: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = number.strip_prefix('+')?;
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then_some(number)
}

/// Accepts (normalised) or refuses station credentials. `taken` says
/// whether another signed-in user holds a number now (the host's station
/// registry in the plugin, a closure in the tests).
pub fn check_with(
    settings: &Settings,
    request: StationRequest,
    taken: impl Fn(Telephony, &str) -> bool,
) -> Result<Station, Refusal> {
    let team = match request.role {
        Role::Supervisor => None,
        Role::SupervisorAgent | Role::Agent => Some(
            request
                .team
                .clone()
                .filter(|t| !t.trim().is_empty())
                .ok_or_else(|| refuse(StationField::Team, "team-required", "Pick a team."))?,
        ),
    };
    let number = match request.telephony {
        Telephony::DialNumber => {
            let number = e164(&request.number).ok_or_else(|| {
                refuse(
                    StationField::Number,
                    "dial-number-invalid",
                    "Enter your dial number in international format, such as +14155550100.",
                )
            })?;
            if !settings
                .dial_prefixes
                .iter()
                .any(|p| number.starts_with(p.trim()))
            {
                return Err(refuse(
                    StationField::Number,
                    "dial-number-not-allowed",
                    format!(
                        "Dial numbers must start with {}.",
                        settings.dial_prefixes.join(" or ")
                    ),
                ));
            }
            number
        }
        Telephony::Extension => {
            let ext = request.number.trim().to_string();
            if !(3..=8).contains(&ext.len()) || !ext.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refuse(
                    StationField::Number,
                    "extension-invalid",
                    "Enter your extension: 3 to 8 digits.",
                ));
            }
            ext
        }
        Telephony::Desktop => {
            if request.microphone != Permission::Granted {
                return Err(refuse(
                    StationField::Microphone,
                    "microphone-permission",
                    "Desktop telephony needs your microphone: allow it in the browser's site settings.",
                ));
            }
            if !request.e911_acknowledged {
                return Err(refuse(
                    StationField::E911,
                    "e911-not-acknowledged",
                    "Desktop telephony needs your acknowledgement of the E911 notice.",
                ));
            }
            String::new()
        }
    };
    if !number.is_empty() && taken(request.telephony, &number) {
        return Err(refuse(
            StationField::Number,
            "number-in-use",
            format!("{number} is in use by another signed-in user. Enter another one."),
        ));
    }
    Ok(Station {
        role: request.role,
        telephony: request.telephony,
        number,
        team,
    })
}

/// The plugin.
pub struct {{type}};

impl StationProvider for {{type}} {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "{{title}}", env!("CARGO_PKG_VERSION"))
            .description("Dial numbers with allowed prefixes, extensions of 3 to 8 digits.")
            .setting(
                SettingSpec::text_list(
                    "dial_prefixes",
                    "Prefixes dial numbers may start with, in international format, such as +1.",
                )
                .default_list(&["+1"]),
            )
    }

    fn defaults(_settings: Settings, user: &Identity) -> StationDefaults {
        StationDefaults {
            telephony: user.telephony.first().copied(),
            number: None,
            team: match user.teams.as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            },
        }
    }

    fn check(
        settings: Settings,
        _user: &Identity,
        request: StationRequest,
    ) -> Result<Station, Refusal> {
        check_with(&settings, request, deskhost_sdk::station::taken)
    }
}

deskhost_sdk::export_station_provider!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use deskhost_sdk::parse_settings;
    use deskhost_sdk::testing::default_setting_list;

    fn request(telephony: Telephony, number: &str) -> StationRequest {
        StationRequest {
            role: Role::Supervisor,
            telephony,
            number: number.into(),
            team: None,
            remember: false,
            microphone: Permission::Granted,
            e911_acknowledged: true,
        }
    }

    fn defaults() -> Settings {
        parse_settings(default_setting_list(&{{type}}::metadata())).unwrap()
    }

    #[test]
    fn metadata_agrees_with_plugin_toml() {
        let manifest = include_str!("../plugin.toml");
        let m = {{type}}::metadata();
        assert!(manifest.contains(&format!("id = \"{}\"", m.id)));
        assert!(manifest.contains(&format!("version = \"{}\"", m.version)));
        assert!(manifest.contains("kind = \"station-provider\""));
        assert!(m.settings.iter().all(|s| !s.doc.is_empty()));
    }

    #[test]
    fn defaults_parse() {
        assert_eq!(defaults().dial_prefixes, ["+1"]);
    }

    #[test]
    fn dial_numbers_are_normalised_and_checked() {
        let free = |_: Telephony, _: &str| false;
        let ok = check_with(
            &defaults(),
            request(Telephony::DialNumber, "+1 415-555-0100"),
            free,
        );
        assert_eq!(ok.unwrap().number, "+14155550100");
        for (typed, code) in [
            ("4155550100", "dial-number-invalid"),
            ("+33 1 23 45 67 89", "dial-number-not-allowed"),
        ] {
            let r = check_with(&defaults(), request(Telephony::DialNumber, typed), free);
            assert_eq!(r.unwrap_err().code, code, "{typed}");
        }
        let held = |_: Telephony, n: &str| n == "+14155550100";
        let r = check_with(
            &defaults(),
            request(Telephony::DialNumber, "+14155550100"),
            held,
        );
        assert_eq!(r.unwrap_err().code, "number-in-use");
    }

    #[test]
    fn agents_need_a_team_and_desktop_needs_the_microphone() {
        let free = |_: Telephony, _: &str| false;
        let mut r = request(Telephony::Desktop, "");
        r.role = Role::Agent;
        let refused = check_with(&defaults(), r, free).unwrap_err();
        assert_eq!(refused.code, "team-required");
        let mut r = request(Telephony::Desktop, "");
        r.microphone = Permission::Denied;
        let refused = check_with(&defaults(), r, free).unwrap_err();
        assert_eq!(refused.code, "microphone-permission");
    }
}
