//! The built `team-performance` component on the host runtime, through
//! deskhost-harness: the viewer's team from the sample contact center, and
//! state changes from its row buttons.

use deskhost_harness::{AgentState, Fixtures, StateChange, Widget};

fn team_performance() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

const GRANTS: [&str; 2] = ["contact-center", "agent-control"];

#[test]
fn lists_the_viewers_team_needing_attention_first() {
    // Sample team `sales`: Ben idle (12 min), Ana available (5 min), Chloé
    // engaged (3 min); Dev is offline, so not listed.
    let h = team_performance()
        .harness()
        .grants(GRANTS)
        .team("sales")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    let r = h.render().unwrap();
    let table = r.to_snapshot();
    let table = &table[table.find("table").unwrap()..];
    assert_eq!(
        table,
        "table \"Agents of team Sales\"\n\
         \x20 columns \"Agent\" | \"State\" | \"Time in state\" | \"Reason / contacts\" | \"Action\"\n\
         \x20 row \"Ben Okafor\" | badge \"Idle\" [warning] | since now-12m00s | \"Lunch\" | button \"Make available\" -> available:a2 [success]\n\
         \x20 row \"Ana Lima\" | badge \"Available\" [success] | since now-5m00s | \"—\" | button \"Set idle\" -> idle:a1 [warning]\n\
         \x20 row \"Chloé Martin\" | badge \"Engaged\" [info] | since now-3m00s | \"1 contact\" | \"—\"\n"
    );
    assert!(r.button("apply").is_some());
}

#[test]
fn row_buttons_change_states_through_the_contact_center() {
    let h = team_performance()
        .harness()
        .grants(GRANTS)
        .team("sales")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    let r = h.action("available:a2").unwrap();
    assert_eq!(h.fixtures().agent_state("a2"), Some(AgentState::Available));
    // Available now: after Ana, available for longer.
    let rows = r.table_rows();
    assert_eq!(
        rows[1][..3],
        ["Ben Okafor", "Available", &h.now_ms().to_string()]
    );
    h.action("idle:a1").unwrap();
    assert_eq!(
        h.fixtures().state_changes(),
        [
            StateChange {
                agent_id: "a2".into(),
                state: AgentState::Available,
                idle_reason: None
            },
            StateChange {
                agent_id: "a1".into(),
                state: AgentState::Idle,
                idle_reason: Some("Break".into())
            },
        ]
    );
    // Apply re-renders with the submitted filter.
    let r = h.action_with("apply", [("state_filter", "idle")]).unwrap();
    let names: Vec<String> = r.table_rows().into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(names, ["Ana Lima"]);
}

#[test]
fn needs_agent_control_to_change_and_contact_center_to_read() {
    let h = team_performance()
        .harness()
        .grant("contact-center")
        .team("sales")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    assert!(h.render().is_ok());
    let err = h.action("available:a2").unwrap_err();
    assert_eq!(err.missing_grant(), Some("agent-control"), "{err}");
    assert_eq!(h.fixtures().agent_state("a2"), Some(AgentState::Idle));
    let err = team_performance()
        .harness()
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert_eq!(err.missing_grant(), Some("contact-center"), "{err}");
}
