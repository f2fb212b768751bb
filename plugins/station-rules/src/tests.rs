use std::cell::RefCell;

use super::*;
use deskhost_sdk::{SettingValue, parse_settings, testing::default_setting_list};

const NUMBER: &str = "+14155550100";

fn user(profile: Profile, teams: &[&str], telephony: &[Telephony]) -> Identity {
    Identity {
        id: "u1".into(),
        display_name: "Ana".into(),
        email: "ana@example.com".into(),
        profile,
        teams: teams.iter().map(|t| t.to_string()).collect(),
        telephony: telephony.to_vec(),
    }
}

/// Supervisor and agent, teams `sales` and `care`, every telephony.
fn both() -> Identity {
    user(
        Profile::SupervisorAndAgent,
        &["sales", "care"],
        &[
            Telephony::DialNumber,
            Telephony::Extension,
            Telephony::Desktop,
        ],
    )
}

/// Supervisor only, same teams and telephony.
fn supervisor_only() -> Identity {
    Identity {
        profile: Profile::Supervisor,
        ..both()
    }
}

fn request(role: Role, telephony: Telephony, number: &str, team: Option<&str>) -> StationRequest {
    StationRequest {
        role,
        telephony,
        number: number.into(),
        team: team.map(Into::into),
        remember: false,
        microphone: Permission::Granted,
        e911_acknowledged: true,
    }
}

fn dial(number: &str) -> StationRequest {
    request(Role::Supervisor, Telephony::DialNumber, number, None)
}

fn ext(number: &str) -> StationRequest {
    request(Role::Supervisor, Telephony::Extension, number, None)
}

fn desktop() -> StationRequest {
    request(Role::Supervisor, Telephony::Desktop, "", None)
}

/// The declared defaults, as the host passes them, through serde.
fn default_settings() -> Settings {
    parse_settings(default_setting_list(&StationRules::metadata()))
        .unwrap_or_else(|e| panic!("{}", e.message))
}

/// Registration required, with these dial numbers and extensions.
fn registered(dial_numbers: &[&str], extensions: &[&str]) -> Settings {
    Settings {
        dial_numbers: dial_numbers.iter().map(|s| s.to_string()).collect(),
        extensions: extensions.iter().map(|s| s.to_string()).collect(),
        ..default_settings()
    }
}

fn open() -> Settings {
    Settings {
        require_registration: false,
        ..default_settings()
    }
}

fn free(_: Telephony, _: &str) -> bool {
    false
}

fn ok(s: &Settings, u: &Identity, r: StationRequest) -> Station {
    check_with(s, u, r, free).unwrap_or_else(|e| panic!("refused: {} {}", e.code, e.message))
}

fn refused(s: &Settings, u: &Identity, r: StationRequest) -> Refusal {
    match check_with(s, u, r, free) {
        Ok(st) => panic!("accepted: {:?}", st),
        Err(e) => e,
    }
}

fn assert_refusal(r: &Refusal, field: StationField, code: &str) {
    assert_eq!(r.code, code, "{}", r.message);
    assert_eq!(r.field, field, "{}", r.message);
    assert!(r.message.ends_with('.'), "{}", r.message);
    assert!(
        r.message
            .starts_with(|c: char| c.is_uppercase() || c == '"'),
        "{}",
        r.message
    );
}

// Metadata and settings.

#[test]
fn metadata_matches_manifest() {
    let manifest = include_str!("../plugin.toml");
    let m = StationRules::metadata();
    assert_eq!(m.id, ID);
    assert!(manifest.contains(&format!("id = \"{}\"", m.id)));
    assert!(manifest.contains(&format!("version = \"{}\"", m.version)));
    assert_eq!(m.version, "0.1.0");
    assert!(manifest.contains("kind = \"station-provider\""));
    assert!(manifest.contains("api = \"^0.1\""));
    assert!(manifest.contains("capabilities = []"));
    let names: Vec<&str> = m.settings.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dial_numbers",
            "extensions",
            "extension_min_digits",
            "extension_max_digits",
            "require_registration"
        ]
    );
    for s in &m.settings {
        assert!(!s.doc.is_empty(), "{}", s.name);
        assert!(s.default.is_some(), "{}", s.name);
        assert!(!s.required, "{}", s.name);
    }
}

#[test]
fn declared_defaults() {
    let s = default_settings();
    assert!(s.dial_numbers.is_empty());
    assert!(s.extensions.is_empty());
    assert_eq!(s.extension_min_digits, 3);
    assert_eq!(s.extension_max_digits, 8);
    assert!(s.require_registration);
    // Settings left out entirely get the same defaults.
    let empty: Settings = parse_settings(Vec::new()).unwrap();
    assert_eq!(empty.extension_min_digits, 3);
    assert!(empty.require_registration);
}

#[test]
fn settings_from_host_values() {
    let list = vec![
        deskhost_sdk::Setting {
            name: "dial_numbers".into(),
            value: SettingValue::TextList(vec!["+1 415-555-0100".into()]),
        },
        deskhost_sdk::Setting {
            name: "extension_max_digits".into(),
            value: SettingValue::Integer(5),
        },
        deskhost_sdk::Setting {
            name: "require_registration".into(),
            value: SettingValue::Boolean(false),
        },
    ];
    let s: Settings = parse_settings(list).unwrap();
    assert_eq!(s.dial_numbers, ["+1 415-555-0100"]);
    assert_eq!(s.extension_max_digits, 5);
    assert_eq!(s.extension_min_digits, 3);
    assert!(!s.require_registration);
}

// Rule 1: role.

#[test]
fn supervisor_always_allowed() {
    for u in [both(), supervisor_only()] {
        let st = ok(&open(), &u, dial(NUMBER));
        assert_eq!(st.role, Role::Supervisor);
    }
}

#[test]
fn supervisor_agent_needs_profile() {
    let r = refused(
        &open(),
        &supervisor_only(),
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            NUMBER,
            Some("sales"),
        ),
    );
    assert_refusal(&r, StationField::Role, "role-not-allowed");
    assert!(r.message.contains("supervisor and agent"));
    let st = ok(
        &open(),
        &both(),
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            NUMBER,
            Some("sales"),
        ),
    );
    assert_eq!(st.role, Role::SupervisorAgent);
}

#[test]
fn agent_never_allowed() {
    for u in [both(), supervisor_only()] {
        let r = refused(
            &open(),
            &u,
            request(Role::Agent, Telephony::DialNumber, NUMBER, Some("sales")),
        );
        assert_refusal(&r, StationField::Role, "role-not-allowed");
    }
    let r = refused(
        &open(),
        &supervisor_only(),
        request(Role::Agent, Telephony::DialNumber, NUMBER, None),
    );
    assert!(!r.message.contains("supervisor and agent"), "{}", r.message);
}

#[test]
fn agent_profile_signs_in_as_agent_only() {
    let u = Identity {
        profile: Profile::Agent,
        ..both()
    };
    for r in [
        request(Role::Supervisor, Telephony::DialNumber, NUMBER, None),
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            NUMBER,
            Some("sales"),
        ),
    ] {
        let r = refused(&open(), &u, r);
        assert_refusal(&r, StationField::Role, "role-not-allowed");
        assert!(r.message.contains("agent only"), "{}", r.message);
    }
    let ok = check_with(
        &open(),
        &u,
        request(Role::Agent, Telephony::DialNumber, NUMBER, Some("sales")),
        |_, _| false,
    )
    .unwrap();
    assert_eq!(ok.team.as_deref(), Some("sales"));
    let r = refused(
        &open(),
        &u,
        request(Role::Agent, Telephony::DialNumber, NUMBER, None),
    );
    assert_refusal(&r, StationField::Team, "team-required");
}

#[test]
fn role_checked_before_everything_else() {
    // Bad team, telephony and number too: the role is reported.
    let u = user(Profile::Supervisor, &[], &[Telephony::Extension]);
    let r = refused(
        &registered(&[], &[]),
        &u,
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            "x",
            Some("nope"),
        ),
    );
    assert_eq!(r.code, "role-not-allowed");
}

// Rule 2: team.

#[test]
fn supervisor_agent_needs_a_team() {
    for team in [None, Some(""), Some("   ")] {
        let r = refused(
            &open(),
            &both(),
            request(Role::SupervisorAgent, Telephony::DialNumber, NUMBER, team),
        );
        assert_refusal(&r, StationField::Team, "team-required");
        assert_eq!(r.message, "Pick a team.");
    }
    let no_teams = Identity {
        teams: Vec::new(),
        ..both()
    };
    let r = refused(
        &open(),
        &no_teams,
        request(Role::SupervisorAgent, Telephony::DialNumber, NUMBER, None),
    );
    assert_refusal(&r, StationField::Team, "team-required");
    assert!(r.message.starts_with("Pick a team."));
}

#[test]
fn supervisor_agent_team_must_be_theirs() {
    let r = refused(
        &open(),
        &both(),
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            NUMBER,
            Some("billing"),
        ),
    );
    assert_refusal(&r, StationField::Team, "team-not-allowed");
    assert!(r.message.contains("\"billing\""), "{}", r.message);
    let st = ok(
        &open(),
        &both(),
        request(
            Role::SupervisorAgent,
            Telephony::DialNumber,
            NUMBER,
            Some(" care "),
        ),
    );
    assert_eq!(st.team.as_deref(), Some("care"));
}

#[test]
fn supervisor_team_is_dropped() {
    let st = ok(
        &open(),
        &both(),
        request(
            Role::Supervisor,
            Telephony::DialNumber,
            NUMBER,
            Some("billing"),
        ),
    );
    assert_eq!(st.team, None);
}

#[test]
fn team_checked_before_telephony() {
    let u = Identity {
        telephony: vec![Telephony::Extension],
        ..both()
    };
    let r = refused(
        &open(),
        &u,
        request(Role::SupervisorAgent, Telephony::DialNumber, NUMBER, None),
    );
    assert_eq!(r.code, "team-required");
}

// Rule 3: telephony.

#[test]
fn telephony_must_be_allowed() {
    let u = user(
        Profile::Supervisor,
        &[],
        &[Telephony::Extension, Telephony::Desktop],
    );
    let r = refused(&open(), &u, dial(NUMBER));
    assert_refusal(&r, StationField::Telephony, "telephony-not-allowed");
    assert!(r.message.contains("dial number"), "{}", r.message);
    assert!(r.message.contains("extension or desktop"), "{}", r.message);

    let none = user(Profile::Supervisor, &[], &[]);
    for req in [dial(NUMBER), ext("1001"), desktop()] {
        let r = refused(&open(), &none, req);
        assert_refusal(&r, StationField::Telephony, "telephony-not-allowed");
    }
}

#[test]
fn telephony_checked_before_number() {
    let u = user(Profile::Supervisor, &[], &[Telephony::Desktop]);
    let r = refused(&registered(&[], &[]), &u, dial("garbage"));
    assert_eq!(r.code, "telephony-not-allowed");
}

// Rule 4: dial number.

#[test]
fn normalisation() {
    assert_eq!(normalise_dial_number("+1 415 555 0100"), NUMBER);
    assert_eq!(normalise_dial_number("+1-415-555-0100"), NUMBER);
    assert_eq!(normalise_dial_number("+1 (415) 555.0100"), NUMBER);
    assert_eq!(normalise_dial_number(" 001 415 555 0100 "), NUMBER);
    assert_eq!(normalise_dial_number("0014155550100"), NUMBER);
    assert_eq!(normalise_dial_number("\t+1\u{a0}415 555 0100\n"), NUMBER);
    // Only a leading 00 is a prefix.
    assert_eq!(normalise_dial_number("+1400555"), "+1400555");
    assert_eq!(normalise_dial_number("0415"), "0415");
    assert_eq!(normalise_dial_number(" - "), "");
}

#[test]
fn e164_bounds() {
    assert!(is_e164("+1234567")); // 7 digits: the shortest
    assert!(!is_e164("+123456")); // 6
    assert!(is_e164("+123456789012345")); // 15 digits: the longest
    assert!(!is_e164("+1234567890123456")); // 16
    assert!(!is_e164("+0234567")); // leading zero
    assert!(!is_e164("1234567")); // no plus
    assert!(!is_e164("+12345x7"));
    assert!(!is_e164("++1234567"));
    assert!(!is_e164("+"));
    assert!(!is_e164(""));
    assert!(!is_e164("+１２３４５６７")); // full-width digits
}

#[test]
fn dial_number_normalised_in_station() {
    for typed in [
        "+1 415 555 0100",
        "+1-415-555-0100",
        "001 415-555-0100",
        "+1 (415) 555.0100",
    ] {
        let st = ok(&open(), &both(), dial(typed));
        assert_eq!(st.number, NUMBER, "{typed}");
        assert_eq!(st.telephony, Telephony::DialNumber);
    }
}

#[test]
fn dial_number_required() {
    for typed in ["", "   ", " - ( ) "] {
        let r = refused(&open(), &both(), dial(typed));
        assert_refusal(&r, StationField::Number, "dial-number-required");
    }
}

#[test]
fn dial_number_invalid() {
    for typed in [
        "4155550100",
        "+123456",
        "+1234567890123456",
        "+04155550100",
        "+1 415 CALL NOW",
        "00",
        "+",
    ] {
        let r = refused(&open(), &both(), dial(typed));
        assert_refusal(&r, StationField::Number, "dial-number-invalid");
        assert!(
            r.message
                .ends_with("Enter the dial number in international format, such as +14155550100."),
            "{}",
            r.message
        );
        assert!(r.message.contains(typed.trim()), "{}", r.message);
    }
    // Bounds accepted.
    ok(&open(), &both(), dial("+1234567"));
    ok(&open(), &both(), dial("+123456789012345"));
}

#[test]
fn long_input_is_cut_in_messages() {
    let typed = "9".repeat(500);
    let r = refused(&open(), &both(), dial(&typed));
    assert_eq!(r.code, "dial-number-invalid");
    assert!(r.message.len() < 200, "{}", r.message);
    assert!(r.message.contains('…'));
}

#[test]
fn dial_number_must_be_registered() {
    let s = registered(&["+1 415 555 0100"], &[]);
    ok(&s, &both(), dial("+14155550100"));
    ok(&s, &both(), dial("0014155550100"));
    let r = refused(&s, &both(), dial("+1 415 555 0101"));
    assert_refusal(&r, StationField::Number, "dial-number-not-registered");
    assert_eq!(
        r.message,
        "The dial number +14155550101 is not registered. Ask your administrator to register it."
    );
    // Empty register with registration required: nothing is registered.
    let r = refused(&default_settings(), &both(), dial(NUMBER));
    assert_eq!(r.code, "dial-number-not-registered");
    // Without registration anything valid goes.
    ok(&open(), &both(), dial("+442071838750"));
}

#[test]
fn dial_number_ranges() {
    let s = registered(
        &[
            "+14155550100..+14155550109",
            " +44 20 7183 8750 .. +44 20 7183 8759 ",
        ],
        &[],
    );
    for n in [
        "+14155550100",
        "+14155550105",
        "+14155550109",
        "+442071838755",
    ] {
        ok(&s, &both(), dial(n));
    }
    for n in [
        "+14155550099",
        "+14155550110",
        "+1415555010",
        "+141555501000",
    ] {
        let r = refused(&s, &both(), dial(n));
        assert_eq!(r.code, "dial-number-not-registered", "{n}");
    }
}

#[test]
fn dial_number_in_use() {
    let asked = RefCell::new(Vec::new());
    let taken = |t: Telephony, n: &str| {
        asked.borrow_mut().push((t, n.to_string()));
        n == NUMBER
    };
    let s = registered(&["+14155550100..+14155550109"], &[]);
    let r = check_with(&s, &both(), dial("+1 415 555 0100"), taken).unwrap_err();
    assert_refusal(&r, StationField::Number, "dial-number-in-use");
    assert!(
        r.message.starts_with(
            "The dial number +14155550100 is already in use by another signed-in user."
        ),
        "{}",
        r.message
    );
    // The registry is asked with the normalised number.
    assert_eq!(
        asked.borrow().as_slice(),
        [(Telephony::DialNumber, NUMBER.to_string())]
    );
    assert!(check_with(&s, &both(), dial("+14155550101"), taken).is_ok());
}

#[test]
fn unregistered_number_is_not_looked_up() {
    let s = registered(&[], &[]);
    let r = check_with(&s, &both(), dial(NUMBER), |_, _| {
        panic!("taken asked for an unregistered number")
    })
    .unwrap_err();
    assert_eq!(r.code, "dial-number-not-registered");
}

// Rule 5: extension.

#[test]
fn extension_accepted_trimmed() {
    let st = ok(&open(), &both(), ext(" 1001 "));
    assert_eq!(st.number, "1001");
    assert_eq!(st.telephony, Telephony::Extension);
}

#[test]
fn extension_required() {
    for typed in ["", "  "] {
        let r = refused(&open(), &both(), ext(typed));
        assert_refusal(&r, StationField::Number, "extension-required");
    }
}

#[test]
fn extension_invalid() {
    for typed in [
        "12",
        "123456789",
        "10-01",
        "1 001",
        "ext1001",
        "+1001",
        "１００１",
    ] {
        let r = refused(&open(), &both(), ext(typed));
        assert_refusal(&r, StationField::Number, "extension-invalid");
        assert!(r.message.contains("3 to 8 digits"), "{}", r.message);
    }
    ok(&open(), &both(), ext("100"));
    ok(&open(), &both(), ext("12345678"));
    let four = Settings {
        extension_min_digits: 4,
        extension_max_digits: 4,
        ..open()
    };
    ok(&four, &both(), ext("1234"));
    let r = refused(&four, &both(), ext("123"));
    assert_eq!(r.code, "extension-invalid");
    assert!(r.message.contains("exactly 4 digits"), "{}", r.message);
    assert_eq!(
        refused(&four, &both(), ext("12345")).code,
        "extension-invalid"
    );
}

#[test]
fn extension_must_be_registered() {
    let s = registered(&[], &["1001", "2000..2099", " 0100 .. 0199 "]);
    for e in ["1001", "2000", "2042", "2099", "0150"] {
        ok(&s, &both(), ext(e));
    }
    for e in ["1002", "1999", "2100", "200", "20000", "150"] {
        let r = refused(&s, &both(), ext(e));
        assert_refusal(&r, StationField::Number, "extension-not-registered");
    }
    let r = refused(&s, &both(), ext("1002"));
    assert_eq!(
        r.message,
        "The extension 1002 is not registered. Ask your administrator to register it."
    );
    ok(&open(), &both(), ext("5555"));
}

#[test]
fn extension_in_use() {
    let s = registered(&[], &["1001..1009"]);
    let taken = |t: Telephony, n: &str| t == Telephony::Extension && n == "1001";
    let r = check_with(&s, &both(), ext(" 1001"), taken).unwrap_err();
    assert_refusal(&r, StationField::Number, "extension-in-use");
    assert!(
        r.message
            .starts_with("The extension 1001 is already in use by another signed-in user."),
        "{}",
        r.message
    );
    assert!(check_with(&s, &both(), ext("1002"), taken).is_ok());
    // A dial number taken with the same digits does not block an extension.
    let other = |t: Telephony, _: &str| t == Telephony::DialNumber;
    assert!(check_with(&s, &both(), ext("1001"), other).is_ok());
}

// Rule 6: desktop.

#[test]
fn desktop_ignores_number() {
    let mut r = desktop();
    r.number = "whatever 123".into();
    let st = ok(&registered(&[], &[]), &both(), r);
    assert_eq!(st.number, "");
    assert_eq!(st.telephony, Telephony::Desktop);
    // The registry is not asked.
    assert!(
        check_with(&registered(&[], &[]), &both(), desktop(), |_, _| panic!(
            "asked"
        ))
        .is_ok()
    );
}

#[test]
fn desktop_needs_microphone() {
    for p in [Permission::Denied, Permission::Prompt, Permission::Unknown] {
        let mut r = desktop();
        r.microphone = p;
        r.e911_acknowledged = false;
        let refusal = refused(&open(), &both(), r);
        assert_refusal(&refusal, StationField::Microphone, "microphone-permission");
        assert_eq!(
            refusal.message,
            "Desktop telephony needs access to your microphone. Allow it in your browser's site settings, or contact your administrator."
        );
    }
}

#[test]
fn desktop_needs_e911_acknowledged() {
    let mut r = desktop();
    r.e911_acknowledged = false;
    let refusal = refused(&open(), &both(), r);
    assert_refusal(&refusal, StationField::E911, "e911-not-acknowledged");
    assert!(refusal.message.contains("E911"), "{}", refusal.message);
    assert!(
        refusal.message.contains("acknowledge"),
        "{}",
        refusal.message
    );
}

#[test]
fn microphone_and_e911_only_matter_on_desktop() {
    let mut r = dial(NUMBER);
    r.microphone = Permission::Denied;
    r.e911_acknowledged = false;
    ok(&open(), &both(), r);
}

#[test]
fn supervisor_agent_on_desktop() {
    let st = ok(
        &open(),
        &both(),
        request(Role::SupervisorAgent, Telephony::Desktop, "", Some("sales")),
    );
    assert_eq!(st.role, Role::SupervisorAgent);
    assert_eq!(st.team.as_deref(), Some("sales"));
    assert_eq!(st.number, "");
}

// Settings the admin got wrong.

#[test]
fn invalid_settings_refuse() {
    let cases: Vec<(Settings, &str)> = vec![
        (
            registered(&["+1 415"], &[]),
            "`dial_numbers` entry \"+1 415\"",
        ),
        (registered(&["4155550100"], &[]), "`dial_numbers` entry"),
        (
            registered(&["+14155550109..+14155550100"], &[]),
            "ends below where it starts",
        ),
        (
            registered(&["+14155550100..+141555501000"], &[]),
            "different lengths",
        ),
        (registered(&["+14155550100.."], &[]), "`dial_numbers` entry"),
        (registered(&[], &["10a1"]), "`extensions` entry \"10a1\""),
        (
            registered(&[], &["1009..1001"]),
            "ends below where it starts",
        ),
        (registered(&[], &["100..1000"]), "different lengths"),
        (
            Settings {
                extension_min_digits: 0,
                ..open()
            },
            "`extension_min_digits` is 0",
        ),
        (
            Settings {
                extension_min_digits: 5,
                extension_max_digits: 4,
                ..open()
            },
            "`extension_max_digits` is 4",
        ),
    ];
    for (s, needle) in cases {
        let r = refused(&s, &both(), desktop());
        assert_refusal(&r, StationField::Telephony, "invalid-settings");
        assert!(r.message.contains(needle), "{needle}: {}", r.message);
        assert!(r.message.contains("administrator"), "{}", r.message);
    }
}

#[test]
fn blank_setting_entries_are_skipped() {
    let s = registered(&["", "  ", "+14155550100"], &[" "]);
    ok(&s, &both(), dial(NUMBER));
}

#[test]
fn register_contains() {
    let r = Register::parse("x", &["5..7".to_string(), "10".to_string()], "n", |v| {
        Some(v.trim().to_string())
    })
    .unwrap();
    assert!(r.contains("5") && r.contains("6") && r.contains("7") && r.contains("10"));
    assert!(!r.contains("4") && !r.contains("8") && !r.contains("55") && !r.contains("11"));
}

// Defaults.

#[test]
fn defaults_prefer_dial_number() {
    let d = defaults(&both());
    assert_eq!(d.telephony, Some(Telephony::DialNumber));
    assert_eq!(d.number, None);
    assert_eq!(d.team, None); // two teams

    let u = user(
        Profile::Supervisor,
        &["sales"],
        &[Telephony::Extension, Telephony::DialNumber],
    );
    let d = defaults(&u);
    assert_eq!(d.telephony, Some(Telephony::DialNumber));
    assert_eq!(d.team.as_deref(), Some("sales"));
}

#[test]
fn defaults_first_allowed_otherwise() {
    let u = user(
        Profile::SupervisorAndAgent,
        &[],
        &[Telephony::Desktop, Telephony::Extension],
    );
    let d = defaults(&u);
    assert_eq!(d.telephony, Some(Telephony::Desktop));
    assert_eq!(d.team, None); // no team
    assert_eq!(d.number, None);

    let d = defaults(&user(Profile::Supervisor, &[], &[]));
    assert_eq!(d.telephony, None);
}

#[test]
fn provider_defaults_use_user_only() {
    let d = <StationRules as StationProvider>::defaults(registered(&[], &[]), &both());
    assert_eq!(d.telephony, Some(Telephony::DialNumber));
}
