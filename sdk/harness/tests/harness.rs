//! The harness against real components: the SDK example `hello` and the
//! test plugin `hostile`, whose misbehaviours must come back typed.

use std::path::Path;
use std::time::Duration;

use deskhost_harness::{CallError, DEFAULT_NOW_MS, Error, Role, Widget};

fn widget(dir: &str) -> Widget {
    Widget::build(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir),
    )
    .unwrap()
}

#[test]
fn hello_renders_for_the_viewer_with_defaults_and_given_settings() {
    let hello = widget("plugins/hello");
    assert_eq!(hello.id(), "hello");
    let h = hello
        .harness()
        .display_name("Ana Lima")
        .role(Role::Agent)
        .team("sales")
        .build()
        .unwrap();
    assert_eq!(h.info().name, "Hello");
    assert_eq!(h.settings().len(), 2, "both defaults filled in");
    let r = h.render().unwrap();
    assert_eq!(
        r.to_snapshot(),
        "heading \"Hello, Ana Lima\"\n\
         key-values\n  \"Signed in as\": \"Agent\"\n  \"Team\": \"sales\"\n"
    );
    assert!(
        r.html().contains("<h3>Hello, Ana Lima</h3>"),
        "{}",
        r.html()
    );

    let r = hello
        .harness()
        .setting("greeting", "Welcome")
        .setting("show_details", false)
        .build()
        .unwrap()
        .render()
        .unwrap();
    assert_eq!(r.headings(), ["Welcome, Sam Rivera"]);
    assert_eq!(r.blocks().len(), 1);
}

#[test]
fn settings_and_grants_are_checked_as_a_layouts_are() {
    let hello = widget("plugins/hello");
    let Err(Error::Config(errors)) = hello.harness().setting("greting", "Hi").build() else {
        panic!("an unknown setting was accepted");
    };
    assert!(
        errors[0].contains("unknown setting `greting`"),
        "{errors:?}"
    );
    assert!(errors[0].contains("greeting"), "did you mean: {errors:?}");
    let Err(Error::Config(errors)) = hello.harness().setting("show_details", "yes").build() else {
        panic!("a string was accepted for a boolean");
    };
    assert!(errors[0].contains("expects a boolean"), "{errors:?}");
    let Err(Error::Config(errors)) = hello.harness().grant("telepathy").build() else {
        panic!("an unknown capability was accepted");
    };
    assert!(
        errors[0].contains("unknown capability `telepathy`"),
        "{errors:?}"
    );
}

#[test]
fn misbehaviour_comes_back_typed() {
    let hostile = widget("tests/plugins/hostile");
    let mode = |m: &str| {
        hostile
            .harness()
            .setting("mode", m)
            .timeout(Duration::from_millis(if m == "loop" { 100 } else { 250 }))
            .memory_mib(16)
            .build()
            .unwrap()
            .render()
    };
    assert_eq!(
        mode("error").unwrap_err(),
        CallError::Widget("the hostile widget failed on purpose".into())
    );
    assert!(matches!(mode("trap"), Err(CallError::Trap(_))));
    assert_eq!(
        mode("loop").unwrap_err(),
        CallError::Timeout(Duration::from_millis(100))
    );
    assert!(matches!(mode("grow"), Err(CallError::Memory(_))));
    let denied = mode("kv").unwrap_err();
    assert_eq!(denied.missing_grant(), Some("kv"), "{denied:?}");
    assert!(denied.message().contains("is not granted"), "{denied}");
}

#[test]
fn the_clock_stands_still_and_the_store_keeps_its_values() {
    let hostile = widget("tests/plugins/hostile");
    let h = hostile.harness().setting("mode", "tick").build().unwrap();
    assert_eq!(
        h.render().unwrap().texts(),
        [format!("tick {}", DEFAULT_NOW_MS / 1000)]
    );
    h.advance(Duration::from_secs(90));
    assert_eq!(
        h.render().unwrap().texts(),
        [format!("tick {}", DEFAULT_NOW_MS / 1000 + 90)]
    );

    let h = hostile
        .harness()
        .setting("mode", "kv")
        .grant("kv")
        .kv("count", 41u64.to_le_bytes())
        .build()
        .unwrap();
    assert_eq!(h.render().unwrap().texts(), ["kv count 42"]);
    assert_eq!(h.render().unwrap().texts(), ["kv count 43"]);
    assert_eq!(h.kv_get("count"), Some(43u64.to_le_bytes().to_vec()));
}
