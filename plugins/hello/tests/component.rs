//! The built `hello` component on the host runtime, through
//! deskhost-harness. It asks for no capability, so it needs no grant.

use deskhost_harness::{Error, Role, Widget};

fn hello() -> Widget {
    Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap()
}

#[test]
fn greets_the_viewer_with_their_role_and_team() {
    let h = hello()
        .harness()
        .display_name("Ana Lima")
        .role(Role::SupervisorAgent)
        .team("sales")
        .build()
        .unwrap();
    let r = h.render().unwrap();
    assert_eq!(
        r.to_snapshot(),
        "heading \"Hello, Ana Lima\"\n\
         key-values\n  \"Signed in as\": \"Supervisor and agent\"\n  \"Team\": \"sales\"\n"
    );
    // Its only action re-renders.
    assert_eq!(h.action("refresh").unwrap().to_snapshot(), r.to_snapshot());
}

#[test]
fn follows_its_settings_and_refuses_unknown_ones() {
    let r = hello()
        .harness()
        .setting("greeting", "Welcome")
        .setting("show_details", false)
        .build()
        .unwrap()
        .render()
        .unwrap();
    assert_eq!(r.to_snapshot(), "heading \"Welcome, Sam Rivera\"\n");
    let err = hello()
        .harness()
        .setting("colour", "red")
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(e) if e[0].contains("unknown setting `colour`")),
        "{err}"
    );
}
