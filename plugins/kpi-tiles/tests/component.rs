//! The built `kpi-tiles` component on the host runtime, through
//! deskhost-harness, reading the sample contact center.

use deskhost_harness::{CallError, Fixtures, Widget, day};

fn kpis() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn shows_the_centers_figures_against_yesterday() {
    // Sample center: today 140 offered, 120 handled, 12 abandoned, AHT
    // 310 s; yesterday 130, 118, 8, 291 s.
    let h = kpis()
        .harness()
        .grant("contact-center")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap();
    assert_eq!(
        h.render().unwrap().to_snapshot(),
        "stats\n\
         \x20 stat \"Handled\" = \"120\" (+1.7% vs yesterday, higher is better)\n\
         \x20 stat \"Abandoned\" = \"12\" (+50.0% vs yesterday, lower is better)\n\
         \x20 stat \"Abandon rate\" = \"8.6\" unit \"%\" (+39.3% vs yesterday, lower is better)\n\
         \x20 stat \"Avg handle time\" = \"5:10\" (+6.5% vs yesterday, lower is better)\n\
         text \"Today so far for the whole contact center, 140 offered, against yesterday at the same time.\"\n"
    );
}

#[test]
fn one_teams_figures_and_no_trend_without_yesterday() {
    let h = kpis()
        .harness()
        .grant("contact-center")
        .setting("scope", "sales")
        .fixtures(Fixtures::new().team("sales", "Sales").team_stats(
            "sales",
            day(50, 45, 5, 200),
            day(0, 0, 0, 0),
        ))
        .build()
        .unwrap();
    let r = h.render().unwrap();
    let handled = r.stat("Handled").unwrap();
    assert_eq!(handled.value, "45");
    assert!(handled.trend.is_none());
    assert_eq!(r.stat("Avg handle time").unwrap().value, "3:20");
    assert!(r.texts()[0].contains("for team Sales, 50 offered"));
}

#[test]
fn fails_without_its_grant_or_with_an_unknown_team() {
    let err = kpis().harness().build().unwrap().render().unwrap_err();
    assert_eq!(err.missing_grant(), Some("contact-center"), "{err}");
    let err = kpis()
        .harness()
        .grant("contact-center")
        .setting("scope", "billing")
        .fixtures(Fixtures::sample())
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert_eq!(err, CallError::Widget("no team `billing`".into()));
}
