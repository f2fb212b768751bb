//! The built `agent-states` component on the host runtime, through
//! deskhost-harness, reading the sample contact center.

use deskhost_harness::{Fixtures, Widget};

fn agent_states() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn counts_the_agents_of_the_viewers_team_by_state() {
    // Sample team `sales`: Ana available, Ben idle, Chloé engaged, Dev offline.
    let h = agent_states()
        .harness()
        .grant("contact-center")
        .team("sales")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    assert_eq!(
        h.render().unwrap().to_snapshot(),
        "stats\n\
         \x20 stat \"Available\" = \"1\" [success]\n\
         \x20 stat \"Idle\" = \"1\" [warning]\n\
         \x20 stat \"Engaged\" = \"1\" [info]\n\
         \x20 stat \"Wrap-up\" = \"0\"\n\
         \x20 stat \"RONA\" = \"0\"\n\
         chart bar \"Agents by state (3 in all)\" unit \"agents\"\n\
         \x20 point \"Available\" = 1\n\
         \x20 point \"Idle\" = 1\n\
         \x20 point \"Engaged\" = 1\n\
         \x20 point \"Wrap-up\" = 0\n\
         \x20 point \"RONA\" = 0\n"
    );
}

#[test]
fn every_team_and_offline_agents_when_asked() {
    let r = agent_states()
        .harness()
        .grant("contact-center")
        .setting("include_offline", true)
        .fixtures(Fixtures::sample())
        .build()
        .unwrap()
        .render()
        .unwrap();
    let counts: Vec<(&str, &str)> = r
        .stats()
        .iter()
        .map(|s| (s.label.as_str(), s.value.as_str()))
        .collect();
    assert_eq!(
        counts,
        [
            ("Available", "2"),
            ("Idle", "1"),
            ("Engaged", "1"),
            ("Wrap-up", "1"),
            ("RONA", "1"),
            ("Offline", "1")
        ]
    );
}

#[test]
fn fails_without_its_grant() {
    let err = agent_states()
        .harness()
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert_eq!(err.missing_grant(), Some("contact-center"), "{err}");
}
