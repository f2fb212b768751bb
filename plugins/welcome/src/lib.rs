//! Welcome: greets the signed-in user by name ("Good morning, Ana", by the
//! hour in their time zone, or the admin's own greeting), with their local
//! time (HH:MM), the date ("Friday 27 November 2026"), their time zone, the
//! desk they signed in as (Supervisor, Supervisor and agent, Agent) and
//! their team. When the user's time zone is unknown to the host, times are
//! shown in UTC with a note saying so.
//!
//! It reads only the viewer's context and the host clock: it asks for no
//! capability and shows no agent state.
//!
//! Settings:
//! - `show_date` (boolean, default `true`): show today's date.
//! - `greeting` (text, default `""`): the greeting word, such as
//!   "Welcome back"; empty means "Good morning/afternoon/evening".
//!
//! Capabilities: none.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

use clock::LocalTime;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "welcome";

/// Longest `greeting` accepted, in characters.
pub const MAX_GREETING: usize = 60;

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Whether to show today's date.
    pub show_date: bool,
    /// Greeting word; empty: by time of day.
    pub greeting: String,
}

/// The time the view shows, with the zone it is in.
#[derive(Debug, Clone)]
pub struct Now {
    /// Local wall-clock time.
    pub local: LocalTime,
    /// The IANA zone `local` is in (`UTC` after a fallback).
    pub zone: String,
    /// The viewer's zone when the host did not know it (and `local` is UTC).
    pub unknown_zone: Option<String>,
}

/// "Good morning" before noon, "Good afternoon" until 18:00, then
/// "Good evening".
pub fn time_of_day_greeting(hour: u8) -> &'static str {
    match hour {
        0..=11 => "Good morning",
        12..=17 => "Good afternoon",
        _ => "Good evening",
    }
}

/// "Friday 27 November 2026". Out-of-range fields show as `?`.
pub fn format_date(t: &LocalTime) -> String {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let weekday = DAYS
        .get(usize::from(t.weekday).wrapping_sub(1))
        .unwrap_or(&"?");
    let month = MONTHS
        .get(usize::from(t.month).wrapping_sub(1))
        .unwrap_or(&"?");
    format!("{weekday} {} {month} {}", t.day, t.year)
}

/// "HH:MM".
pub fn format_time(t: &LocalTime) -> String {
    format!("{:02}:{:02}", t.hour, t.minute)
}

/// The label of a sign-in role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Supervisor => "Supervisor",
        Role::SupervisorAgent => "Supervisor and agent",
        Role::Agent => "Agent",
    }
}

/// Checks the settings.
pub fn validate(s: &Settings) -> Result<(), Error> {
    if s.greeting.chars().count() > MAX_GREETING {
        return Err(Error::new(format!(
            "setting `greeting` must be at most {MAX_GREETING} characters"
        )));
    }
    Ok(())
}

/// The widget's view.
pub fn view(ctx: &Context, s: &Settings, now: &Now) -> View {
    let greeting = match s.greeting.trim() {
        "" => time_of_day_greeting(now.local.hour),
        custom => custom,
    };
    let heading = match ctx.display_name.trim() {
        "" => greeting.to_string(),
        name => format!("{greeting}, {name}"),
    };
    let abbreviation = now.local.zone_abbreviation.trim();
    let zone = if abbreviation.is_empty() || abbreviation == now.zone {
        now.zone.clone()
    } else {
        format!("{} ({abbreviation})", now.zone)
    };
    let mut pairs = vec![("Time", format_time(&now.local))];
    if s.show_date {
        pairs.push(("Date", format_date(&now.local)));
    }
    pairs.push(("Time zone", zone));
    pairs.push(("Signed in as", role_label(ctx.role).to_string()));
    pairs.push((
        "Team",
        ctx.team
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "None".into()),
    ));
    let v = View::new().heading(heading).key_values(pairs);
    match &now.unknown_zone {
        Some(z) => v.text(format!("Time zone `{z}` is unknown, so times are in UTC.")),
        None => v,
    }
}

/// The widget.
pub struct Welcome;

impl Widget for Welcome {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Welcome", env!("CARGO_PKG_VERSION"))
            .description("Greets the user with their local time, date, role and team.")
            .setting(SettingSpec::boolean("show_date", "Show today's date.").default_bool(true))
            .setting(
                SettingSpec::text(
                    "greeting",
                    "Greeting word, such as \"Welcome back\" (at most 60 characters). Empty: good morning, afternoon or evening by the user's local time.",
                )
                .default_text(""),
            )
            .size(4, 3)
            .refresh_seconds(30)
    }

    fn render(ctx: &Context, s: Settings) -> Result<View, Error> {
        validate(&s)?;
        let now = match clock::local_now(&ctx.time_zone) {
            Ok(local) => Now {
                local,
                zone: ctx.time_zone.clone(),
                unknown_zone: None,
            },
            Err(_) => Now {
                local: clock::local_now("UTC")?,
                zone: "UTC".into(),
                unknown_zone: Some(ctx.time_zone.clone()),
            },
        };
        Ok(view(ctx, &s, &now))
    }
}

deskhost_sdk::export_widget!(Welcome);

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(role: Role, team: Option<&str>) -> Context {
        Context {
            user_id: "u1".into(),
            display_name: "Ana".into(),
            role,
            team: team.map(Into::into),
            locale: "en-GB".into(),
            time_zone: "Europe/Paris".into(),
        }
    }

    fn local(hour: u8) -> LocalTime {
        LocalTime {
            year: 2026,
            month: 11,
            day: 27,
            hour,
            minute: 5,
            second: 9,
            weekday: 5,
            utc_offset_seconds: 3600,
            zone_abbreviation: "CET".into(),
        }
    }

    fn now(hour: u8) -> Now {
        Now {
            local: local(hour),
            zone: "Europe/Paris".into(),
            unknown_zone: None,
        }
    }

    fn defaults() -> Settings {
        deskhost_sdk::testing::default_settings::<Welcome>()
    }

    fn pairs(v: &View) -> Vec<(String, String)> {
        v.blocks
            .iter()
            .find_map(|b| match b {
                Block::KeyValues(kv) => Some(
                    kv.iter()
                        .map(|p| (p.key.clone(), p.value.clone()))
                        .collect(),
                ),
                _ => None,
            })
            .expect("key-values")
    }

    #[test]
    fn metadata_matches_manifest_and_settings() {
        let manifest = include_str!("../plugin.toml");
        deskhost_sdk::testing::assert_manifest_matches::<Welcome>(manifest);
        assert!(manifest.contains("capabilities = []"));
        let s = defaults();
        assert!(s.show_date);
        assert_eq!(s.greeting, "");
    }

    #[test]
    fn greets_by_time_of_day() {
        let c = ctx(Role::Supervisor, Some("sales"));
        for (hour, word) in [
            (0, "Good morning"),
            (11, "Good morning"),
            (12, "Good afternoon"),
            (17, "Good afternoon"),
            (18, "Good evening"),
            (23, "Good evening"),
        ] {
            let v = view(&c, &defaults(), &now(hour));
            assert!(
                matches!(&v.blocks[0], Block::Heading(h) if *h == format!("{word}, Ana")),
                "{hour}"
            );
        }
    }

    #[test]
    fn custom_greeting() {
        let s = Settings {
            show_date: true,
            greeting: "Welcome back".into(),
        };
        let v = view(&ctx(Role::Agent, None), &s, &now(9));
        assert!(matches!(&v.blocks[0], Block::Heading(h) if h == "Welcome back, Ana"));
    }

    #[test]
    fn details() {
        let v = view(
            &ctx(Role::SupervisorAgent, Some("sales")),
            &defaults(),
            &now(14),
        );
        let p = pairs(&v);
        let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Time"), Some("14:05"));
        assert_eq!(get("Date"), Some("Friday 27 November 2026"));
        assert_eq!(get("Time zone"), Some("Europe/Paris (CET)"));
        assert_eq!(get("Signed in as"), Some("Supervisor and agent"));
        assert_eq!(get("Team"), Some("sales"));
        assert_eq!(v.blocks.len(), 2);
    }

    #[test]
    fn date_can_be_hidden() {
        let s = Settings {
            show_date: false,
            greeting: String::new(),
        };
        let v = view(&ctx(Role::Agent, None), &s, &now(8));
        let p = pairs(&v);
        assert!(p.iter().all(|(k, _)| k != "Date"));
        assert!(p.contains(&("Team".into(), "None".into())));
        assert!(p.contains(&("Signed in as".into(), "Agent".into())));
    }

    #[test]
    fn unknown_zone_falls_back_to_utc_with_note() {
        let mut l = local(7);
        l.zone_abbreviation = "UTC".into();
        let n = Now {
            local: l,
            zone: "UTC".into(),
            unknown_zone: Some("Mars/Base".into()),
        };
        let v = view(&ctx(Role::Supervisor, None), &defaults(), &n);
        let p = pairs(&v);
        assert!(p.contains(&("Time zone".into(), "UTC".into())));
        assert!(matches!(v.blocks.last(), Some(Block::Text(t)) if t.contains("`Mars/Base`")));
    }

    #[test]
    fn long_greeting_rejected() {
        let s = Settings {
            show_date: true,
            greeting: "x".repeat(61),
        };
        assert!(
            validate(&s)
                .unwrap_err()
                .message
                .starts_with("setting `greeting` must")
        );
    }

    #[test]
    fn odd_clock_fields_do_not_panic() {
        let mut l = local(1);
        l.weekday = 0;
        l.month = 13;
        assert_eq!(format_date(&l), "? 27 ? 2026");
    }
}
