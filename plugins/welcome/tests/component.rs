//! The built `welcome` component on the host runtime, through
//! deskhost-harness: the greeting and local time follow the host clock in
//! the viewer's time zone.

use std::time::Duration;

use deskhost_harness::{CallError, DEFAULT_NOW_MS, Role, Widget};

fn welcome() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn greets_by_the_local_time_of_the_viewer() {
    // Friday 27 November 2026, 09:30 UTC: 10:30 in Paris.
    let h = welcome()
        .harness()
        .display_name("Ana Lima")
        .role(Role::Agent)
        .team("support")
        .clock(DEFAULT_NOW_MS, "Europe/Paris")
        .build()
        .unwrap();
    assert_eq!(
        h.render().unwrap().to_snapshot(),
        "heading \"Good morning, Ana Lima\"\n\
         key-values\n\
         \x20 \"Time\": \"10:30\"\n\
         \x20 \"Date\": \"Friday 27 November 2026\"\n\
         \x20 \"Time zone\": \"Europe/Paris (CET)\"\n\
         \x20 \"Signed in as\": \"Agent\"\n\
         \x20 \"Team\": \"support\"\n"
    );
    h.advance(Duration::from_secs(8 * 3600));
    let r = h.render().unwrap();
    assert_eq!(r.headings(), ["Good evening, Ana Lima"]);
    assert_eq!(r.value("Time"), Some("18:30"));
}

#[test]
fn unknown_zone_falls_back_to_utc_and_long_greetings_fail() {
    let r = welcome()
        .harness()
        .time_zone("Mars/Olympus")
        .setting("show_date", false)
        .build()
        .unwrap()
        .render()
        .unwrap();
    assert_eq!(r.value("Time"), Some("09:30"));
    assert_eq!(r.value("Date"), None);
    assert_eq!(
        r.texts(),
        ["Time zone `Mars/Olympus` is unknown, so times are in UTC."]
    );
    let err = welcome()
        .harness()
        .setting("greeting", "x".repeat(61))
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert_eq!(
        err,
        CallError::Widget("setting `greeting` must be at most 60 characters".into())
    );
}
