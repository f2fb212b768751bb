//! The built `announcements` component on the host runtime, through
//! deskhost-harness. It asks for no capability, so it needs no grant.

use deskhost_harness::{CallError, Error, Widget};

fn announcements() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn shows_messages_then_links_and_the_host_serves_them_escaped() {
    let r = announcements()
        .harness()
        .setting("messages", ["New returns policy from <b>Monday</b>"])
        .setting("links", ["Policy | https://intranet.example/policy"])
        .setting("tone", "warning")
        .build()
        .unwrap()
        .render()
        .unwrap();
    assert_eq!(
        r.to_snapshot(),
        "alert [warning] \"New returns policy from <b>Monday</b>\"\n\
         link \"Policy\" -> \"https://intranet.example/policy\"\n"
    );
    let html = r.html();
    assert!(html.contains("&lt;b&gt;Monday"), "{html}");
    assert!(
        html.contains("href=\"https://intranet.example/policy\""),
        "{html}"
    );
}

#[test]
fn empty_by_default_and_bad_settings_are_refused() {
    let h = announcements().harness().build().unwrap();
    assert_eq!(
        h.render().unwrap().to_snapshot(),
        "empty \"No announcements\"\n"
    );
    // The host refuses a tone outside the declared choices...
    let err = announcements()
        .harness()
        .setting("tone", "danger")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(e) if e[0].contains("danger")),
        "{err}"
    );
    // ...and the widget a malformed link, naming it.
    let err = announcements()
        .harness()
        .setting("links", ["Docs | javascript:alert(1)"])
        .build()
        .unwrap()
        .render()
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Widget(m) if m.contains("`Docs | javascript:alert(1)`")),
        "{err}"
    );
}
