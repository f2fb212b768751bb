//! The built `queue-stats` component on the host runtime, through
//! deskhost-harness, reading the sample contact center.

use deskhost_harness::{Fixtures, Widget};

fn queue_stats() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn every_queue_with_its_wait_and_service_level() {
    // Sample: Sales voice 3 waiting, 95 s, 72% of 80%; Support chat 0
    // waiting, 91% of 80% within 60 s.
    let h = queue_stats()
        .harness()
        .grant("contact-center")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    assert_eq!(
        h.render().unwrap().to_snapshot(),
        "table \"Queues now\"\n\
         \x20 columns \"Queue\" | \"Waiting\" | \"Longest wait\" | \"Service level\"\n\
         \x20 row \"Sales voice\" | 3 | \"1:35\" | badge \"72% (goal 80%)\" [warning]\n\
         \x20 row \"Support chat\" | 0 | \"0:00\" | badge \"91% (goal 80%)\" [success]\n\
         progress gauge \"Sales voice: service level (20 s target)\" 72/100 target 80 [warning]\n\
         progress gauge \"Support chat: service level (60 s target)\" 91/100 target 80 [success]\n"
    );
}

#[test]
fn long_waits_unknown_queues_and_an_own_goal() {
    let r = queue_stats()
        .harness()
        .grant("contact-center")
        .setting("queues", ["sales-voice", "billing"])
        .setting("max_wait_alert_seconds", 60)
        .setting("service_level_goal", 95)
        .fixtures(Fixtures::sample())
        .build()
        .unwrap()
        .render()
        .unwrap();
    let alerts: Vec<&str> = r.alerts().iter().map(|a| a.message.as_str()).collect();
    assert_eq!(
        alerts,
        [
            "Queue `billing` does not exist; check the `queues` setting.",
            "The oldest contact has waited 1:35 (alert above 1:00)."
        ]
    );
    assert_eq!(
        r.table_rows(),
        [["Sales voice", "3", "1:35", "72% (goal 95%)"]]
    );
}

#[test]
fn fails_without_its_grant() {
    let err = queue_stats()
        .harness()
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert_eq!(err.missing_grant(), Some("contact-center"), "{err}");
}
