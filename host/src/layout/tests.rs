//! Unit tests for layout checking: a test catalog, valid layouts resolving
//! to the expected typed result, and each kind of diagnostic at its exact
//! line and column.

use std::path::Path;
use std::time::Duration;

use semver::{Version, VersionReq};

use super::*;
use crate::plugin::{
    PluginInfo, PluginKind, SettingKind, SettingSpec, SettingValue, StaticCatalog,
};

fn spec(
    name: &str,
    kind: SettingKind,
    default: Option<SettingValue>,
    required: bool,
    choices: &[&str],
) -> SettingSpec {
    SettingSpec {
        name: name.into(),
        kind,
        doc: format!("the {name}"),
        default,
        required,
        choices: choices.iter().map(|c| c.to_string()).collect(),
    }
}

fn hello(version: &str) -> PluginInfo {
    PluginInfo {
        kind: PluginKind::Widget,
        id: "hello".into(),
        version: Version::parse(version).unwrap(),
        name: "Hello".into(),
        description: "Greets the team".into(),
        settings: vec![
            spec(
                "greeting",
                SettingKind::Text,
                Some(SettingValue::Text("Hello".into())),
                false,
                &[],
            ),
            spec(
                "shout",
                SettingKind::Boolean,
                Some(SettingValue::Boolean(false)),
                false,
                &[],
            ),
            spec("mode", SettingKind::Text, None, true, &["a", "b"]),
            spec(
                "channels",
                SettingKind::TextList,
                Some(SettingValue::TextList(vec!["voice".into()])),
                false,
                &["voice", "chat", "email"],
            ),
            spec(
                "scale",
                SettingKind::Number,
                Some(SettingValue::Number(1.0)),
                false,
                &[],
            ),
            spec("max_items", SettingKind::Integer, None, false, &[]),
        ],
        default_width: 4,
        default_height: 3,
        refresh_seconds: 30,
        capabilities: vec!["kv".into()],
        api: VersionReq::parse("^0.1").unwrap(),
    }
}

fn queue_stats() -> PluginInfo {
    PluginInfo {
        kind: PluginKind::Widget,
        id: "queue-stats".into(),
        version: Version::new(0, 2, 0),
        name: "Queue stats".into(),
        description: "Calls waiting per queue".into(),
        settings: vec![],
        default_width: 6,
        default_height: 4,
        refresh_seconds: 0,
        capabilities: vec![],
        api: VersionReq::parse("^0.1").unwrap(),
    }
}

/// hello 0.1.0 and 0.1.2, queue-stats 0.2.0.
pub(crate) fn catalog() -> StaticCatalog {
    StaticCatalog(vec![hello("0.1.0"), hello("0.1.2"), queue_stats()])
}

fn run(src: &str) -> Checked {
    check(
        Path::new("layouts/x.toml"),
        src,
        &catalog(),
        &ValidateOptions::default(),
    )
}

/// The only diagnostic whose message contains `needle`.
fn find<'c>(c: &'c Checked, needle: &str) -> &'c Diagnostic {
    let found: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.message.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one diagnostic containing {needle:?}, got {:#?}",
        c.diagnostics
    );
    found[0]
}

fn pos(c: &Checked, src: &str, needle: &str) -> (usize, usize) {
    find(c, needle).line_col(src)
}

fn messages(c: &Checked) -> Vec<&str> {
    c.diagnostics.iter().map(|d| d.message.as_str()).collect()
}

const VALID: &str = r#"title = "Acme Contact Center"
logo = "/static/logo.svg"

[limits]
timeout = "250ms"
memory_mib = 32

[plugins.hello]
grants = ["kv"]

[supervisor.home]
[[supervisor.home.widgets]]
id = "welcome"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a", channels = ["chat", "email"], scale = 2, max_items = 5 }

[[supervisor.pages]]
id = "queues"
title = "Queues"
[[supervisor.pages.widgets]]
id = "stats"
plugin = "queue-stats"
version = "^0.2"
title = "Waiting"
column = 5
row = 2
width = 8
height = 6
refresh_interval = "0s"
visible = { roles = ["supervisor"], teams = ["Sales"] }
limits = { timeout = "100ms" }

[agent.home]
title = "Start"
[[agent.home.widgets]]
id = "hi"
plugin = "hello"
version = "=0.1.0"
column = 1
row = 1
refresh_interval = "5s"
settings.mode = "b"
settings.shout = true
"#;

#[test]
fn valid_layout_resolves() {
    let c = run(VALID);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let l = c.layout.expect("layout");
    assert_eq!(l.path, Path::new("layouts/x.toml"));
    assert_eq!(l.title, "Acme Contact Center");
    assert_eq!(l.logo.as_deref(), Some("/static/logo.svg"));
    assert_eq!(l.limits.timeout, Some(Duration::from_millis(250)));
    assert_eq!(l.limits.memory_mib, Some(32));
    assert_eq!(l.grants("hello"), ["kv".to_string()]);
    assert!(l.grants("queue-stats").is_empty());
    assert_eq!(
        l.roles.keys().copied().collect::<Vec<_>>(),
        [Role::Supervisor, Role::Agent]
    );

    let sup = &l.roles[&Role::Supervisor];
    assert_eq!(sup.home.id, "home");
    assert_eq!(sup.home.title, "Home");
    let w = &sup.home.widgets[0];
    assert_eq!(w.id, "welcome");
    // Default requirement `*`, highest installed version.
    assert_eq!(w.version_req, VersionReq::STAR);
    assert_eq!(w.version, Version::new(0, 1, 2));
    assert_eq!(w.title, "Hello");
    assert_eq!((w.column, w.row, w.width, w.height), (1, 1, 4, 3));
    assert_eq!(w.refresh, Some(Duration::from_secs(30)));
    assert_eq!(
        w.settings,
        vec![
            ("greeting".into(), SettingValue::Text("Hello".into())),
            ("shout".into(), SettingValue::Boolean(false)),
            ("mode".into(), SettingValue::Text("a".into())),
            (
                "channels".into(),
                SettingValue::TextList(vec!["chat".into(), "email".into()])
            ),
            ("scale".into(), SettingValue::Number(2.0)),
            ("max_items".into(), SettingValue::Integer(5)),
        ]
    );
    assert_eq!(w.visible, Visibility::default());
    assert_eq!(w.limits, l.limits);

    let (page, s) = sup.widget("stats").unwrap();
    assert_eq!(page.id, "queues");
    assert_eq!(sup.page("queues").unwrap().title, "Queues");
    assert!(sup.page("home").is_some());
    assert!(sup.page("nope").is_none());
    assert_eq!(s.version, Version::new(0, 2, 0));
    assert_eq!(s.title, "Waiting");
    assert_eq!((s.column, s.row, s.width, s.height), (5, 2, 8, 6));
    assert_eq!(s.refresh, None);
    assert!(s.settings.is_empty());
    assert_eq!(s.visible.roles, Some(vec![Role::Supervisor]));
    assert!(s.visible.allows(Role::Supervisor, Some("Sales")));
    assert!(!s.visible.allows(Role::Agent, Some("Sales")));
    // Own timeout, layout memory.
    assert_eq!(s.limits.timeout, Some(Duration::from_millis(100)));
    assert_eq!(s.limits.memory_mib, Some(32));

    let agent = &l.roles[&Role::Agent];
    assert_eq!(agent.home.title, "Start");
    let hi = &agent.home.widgets[0];
    assert_eq!(hi.version, Version::new(0, 1, 0));
    assert_eq!(hi.refresh, Some(Duration::from_secs(5)));
    assert_eq!(hi.setting("shout"), Some(&SettingValue::Boolean(true)));
    assert_eq!(hi.setting("mode"), Some(&SettingValue::Text("b".into())));
    assert_eq!(hi.setting("max_items"), None);

    // The result serializes (roles as their names).
    let json = serde_json::to_value(&l).unwrap();
    assert!(json["roles"]["supervisor"].is_object());
}

#[test]
fn demo_layout_is_clean() {
    let src = include_str!("testdata/fixture.toml");
    let c = run(src);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let l = c.layout.unwrap();
    let count = |r: Role| {
        l.roles[&r]
            .all_pages()
            .map(|p| p.widgets.len())
            .sum::<usize>()
    };
    assert_eq!(count(Role::Supervisor), 3);
    assert_eq!(count(Role::SupervisorAgent), 2);
    assert_eq!(count(Role::Agent), 1);
}

const TYPOS: &str = r#"title = "x"
[supervisor.home]
[[supervisor.home.widgets]]
id = "w"
plugin = "hello"
colum = 1
row = 1
  refresh = "30s"
setings = { mode = "a" }
"#;

#[test]
fn typo_keys_suggest_the_right_key() {
    let c = run(TYPOS);
    assert!(c.has_errors());
    assert!(c.layout.is_none());

    let d = find(&c, "unknown key `colum`");
    assert_eq!(d.line_col(TYPOS), (6, 1));
    assert_eq!(d.key_path, "supervisor.home.widgets[0].colum");
    assert_eq!(d.help.as_deref(), Some("did you mean `column`?"));

    let d = find(&c, "unknown key `refresh`");
    assert_eq!(d.line_col(TYPOS), (8, 3));
    assert_eq!(d.help.as_deref(), Some("did you mean `refresh_interval`?"));

    let d = find(&c, "unknown key `setings`");
    assert_eq!(d.line_col(TYPOS), (9, 1));
    assert_eq!(d.help.as_deref(), Some("did you mean `settings`?"));

    // The misspelt keys leave required ones missing: reported at the header.
    let d = find(&c, "missing required key `column`");
    assert_eq!(d.line_col(TYPOS), (3, 1));
    assert_eq!(d.key_path, "supervisor.home.widgets[0].column");
    let d = find(&c, "missing required setting `mode`");
    assert_eq!(d.line_col(TYPOS), (3, 1));

    // Sorted by position.
    let starts: Vec<_> = c.diagnostics.iter().map(|d| d.span.start).collect();
    assert!(starts.is_sorted());
}

#[test]
fn unknown_top_level_key_lists_known_keys_when_nothing_is_close() {
    let src = "title = \"x\"\nzzz = 1\n";
    let c = run(src);
    let d = find(&c, "unknown top-level key `zzz`");
    assert_eq!(d.line_col(src), (2, 1));
    assert!(d.help.as_deref().unwrap().contains("`supervisor-agent`"));
}

#[test]
fn wrong_types() {
    let src = r#"title = 5
[limits]
timeout = 250
[supervisor.home]
[[supervisor.home.widgets]]
id = "w"
plugin = "hello"
column = "1"
row = 1
settings = { mode = "a", shout = "yes", scale = 1.5 }
"#;
    let c = run(src);
    let d = find(&c, "expected a string, found an integer");
    assert_eq!(d.line_col(src), (1, 9));
    assert_eq!(d.key_path, "title");
    let d = find(&c, "expected a duration string, found an integer");
    assert_eq!(d.line_col(src), (3, 11));
    let d = find(&c, "expected an integer, found a string");
    assert_eq!(d.line_col(src), (8, 10));
    assert_eq!(d.key_path, "supervisor.home.widgets[0].column");
    let d = find(&c, "setting `shout` expects a boolean, found a string");
    assert_eq!(d.line_col(src), (10, 34));
    assert_eq!(d.key_path, "supervisor.home.widgets[0].settings.shout");
    // A float is fine for a number setting.
    assert_eq!(c.diagnostics.len(), 4, "{:#?}", messages(&c));
}

#[test]
fn overlapping_tiles_note_the_earlier_one() {
    let src = r#"title = "x"
[supervisor.home]
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[supervisor.home.widgets]]
id = "b"
plugin = "hello"
column = 4
row = 3
settings = { mode = "a" }
[[supervisor.home.widgets]]
id = "c"
plugin = "hello"
column = 9
row = 1
settings = { mode = "a" }
"#;
    let c = run(src);
    assert_eq!(c.diagnostics.len(), 1, "{:#?}", c.diagnostics);
    let d = find(&c, "widget `b` overlaps widget `a`");
    assert_eq!(d.line_col(src), (9, 1));
    assert_eq!(d.key_path, "supervisor.home.widgets[1]");
    assert_eq!(d.notes, ["`a` (line 3) covers columns 1-4, rows 1-3"]);
}

#[test]
fn tiles_on_different_pages_do_not_overlap() {
    let src = r#"title = "x"
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[supervisor.pages]]
id = "more"
title = "More"
[[supervisor.pages.widgets]]
id = "b"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
"#;
    let c = run(src);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
}

#[test]
fn off_grid() {
    let src = r#"title = "x"
[supervisor.home]
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 10
row = 199
width = 4
settings = { mode = "a" }
[[supervisor.home.widgets]]
id = "b"
plugin = "hello"
column = 13
row = 0
height = 41
settings = { mode = "a" }
[[supervisor.home.widgets]]
id = "c"
plugin = "hello"
column = 11
row = 20
settings = { mode = "a" }
"#;
    let c = run(src);
    let d = find(
        &c,
        "tile runs past column 12: column 10 + width 4 ends at column 13",
    );
    assert_eq!(d.line_col(src), (8, 9));
    let d = find(
        &c,
        "tile runs past row 200: row 199 + height 3 ends at row 201",
    );
    assert_eq!(d.line_col(src), (7, 7));
    assert_eq!(
        pos(&c, src, "`column` must be between 1 and 12, found 13"),
        (13, 10)
    );
    assert_eq!(
        pos(&c, src, "`row` must be between 1 and 200, found 0"),
        (14, 7)
    );
    assert_eq!(
        pos(&c, src, "`height` must be between 1 and 40, found 41"),
        (15, 10)
    );
    // The plugin's default width (4) pushes `c` off the grid.
    let d = find(&c, "column 11 + width 4 (the plugin's default width)");
    assert_eq!(d.line_col(src), (20, 10));
    assert_eq!(c.diagnostics.len(), 6, "{:#?}", messages(&c));
}

#[test]
fn duplicate_ids() {
    let src = r#"title = "x"
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[supervisor.pages]]
id = "p"
title = "P"
[[supervisor.pages.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[supervisor.pages]]
id = "p"
title = "P2"
[[supervisor.pages]]
id = "home"
title = "Home again"
[[supervisor.pages]]
id = "Bad_Id"
title = "Bad"
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
"#;
    let c = run(src);
    let d = find(&c, "duplicate widget id `a`");
    assert_eq!(d.line_col(src), (12, 6));
    assert_eq!(d.key_path, "supervisor.pages[0].widgets[0].id");
    assert_eq!(d.notes, ["widget `a` is first defined at line 3"]);
    let d = find(&c, "duplicate page id `p`");
    assert_eq!(d.line_col(src), (18, 6));
    assert_eq!(d.notes, ["page `p` is first defined at line 9"]);
    assert_eq!(pos(&c, src, "page id `home` is reserved"), (21, 6));
    assert_eq!(pos(&c, src, "invalid page id `Bad_Id`"), (24, 6));
    // The same id in another role is fine.
    assert_eq!(c.diagnostics.len(), 4, "{:#?}", messages(&c));
}

#[test]
fn plugin_resolution_errors() {
    let src = r#"title = "x"
[[supervisor.home.widgets]]
id = "a"
plugin = "helo"
column = 1
row = 1
[[supervisor.home.widgets]]
id = "b"
plugin = "hello"
version = "^0.2"
column = 5
row = 1
[[supervisor.home.widgets]]
id = "c"
plugin = "hello"
version = "not a version"
column = 9
row = 1
[[supervisor.home.widgets]]
id = "d"
plugin = "zzzzzz"
column = 1
row = 5
"#;
    let c = run(src);
    let d = find(&c, "unknown plugin `helo`");
    assert_eq!(d.line_col(src), (4, 10));
    assert_eq!(d.help.as_deref(), Some("did you mean `hello`?"));
    let d = find(
        &c,
        "no installed version of `hello` matches `^0.2` (installed: 0.1.0, 0.1.2)",
    );
    assert_eq!(d.line_col(src), (10, 11));
    assert_eq!(d.key_path, "supervisor.home.widgets[1].version");
    assert_eq!(
        pos(&c, src, "invalid version requirement `not a version`"),
        (16, 11)
    );
    let d = find(&c, "unknown plugin `zzzzzz`");
    assert_eq!(
        d.help.as_deref(),
        Some("installed plugins: `hello`, `queue-stats`")
    );
    // Settings of unresolved plugins are not checked.
    assert_eq!(c.diagnostics.len(), 4, "{:#?}", messages(&c));
}

#[test]
fn settings_errors() {
    let src = r#"title = "x"
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { greting = "Hi", mode = "c", max_items = 1.5 }
[[supervisor.home.widgets]]
id = "b"
plugin = "hello"
column = 5
row = 1
[supervisor.home.widgets.settings]
channels = ["voice", "fax", 3]
"#;
    let c = run(src);
    let d = find(&c, "unknown setting `greting` for plugin `hello`");
    assert_eq!(d.line_col(src), (7, 14));
    assert_eq!(d.key_path, "supervisor.home.widgets[0].settings.greting");
    assert_eq!(d.help.as_deref(), Some("did you mean `greeting`?"));

    let d = find(&c, "`c` is not an allowed value for setting `mode`");
    assert_eq!(d.line_col(src), (7, 37));
    assert_eq!(d.notes, ["allowed values: `a`, `b`"]);

    let d = find(&c, "setting `max_items` expects an integer, found a float");
    assert_eq!(d.line_col(src), (7, 54));

    let d = find(&c, "`fax` is not an allowed value for setting `channels`");
    assert_eq!(d.line_col(src), (14, 22));
    assert_eq!(
        d.key_path,
        "supervisor.home.widgets[1].settings.channels[1]"
    );
    let d = find(&c, "expects an array of strings, found an integer in it");
    assert_eq!(d.line_col(src), (14, 29));

    // `b` gets its settings table from the header, and lacks `mode`.
    let d = find(&c, "missing required setting `mode`");
    assert_eq!(d.line_col(src), (13, 1));
    assert_eq!(d.key_path, "supervisor.home.widgets[1].settings.mode");
    assert_eq!(c.diagnostics.len(), 6, "{:#?}", messages(&c));
}

#[test]
fn grants_and_plugin_config() {
    let src = r#"title = "x"
[plugins.hello]
grants = ["kv", "net"]
[plugins.ghost]
grants = []
[plugins.queue-stats]
grant = ["kv"]
"#;
    let c = run(src);
    let d = find(&c, "unknown capability `net`");
    assert_eq!(d.line_col(src), (3, 17));
    assert_eq!(d.key_path, "plugins.hello.grants[1]");
    assert!(d.notes[0].contains("`kv`"));
    let d = find(&c, "configures `ghost`, which is not installed");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line_col(src), (4, 10));
    let d = find(&c, "unknown key `grant`");
    assert_eq!(d.help.as_deref(), Some("did you mean `grants`?"));
    assert_eq!(c.diagnostics.len(), 3);
}

#[test]
fn limits_out_of_range() {
    let src = r#"title = "x"
[limits]
timeout = "20s"
memory_mib = 0
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
limits = { timeout = "0s", memory_mib = 512 }
"#;
    let c = run(src);
    assert_eq!(
        pos(&c, src, "`timeout` of 20s exceeds the maximum of 10s"),
        (3, 11)
    );
    assert_eq!(
        pos(&c, src, "`memory_mib` must be between 1 and 256, found 0"),
        (4, 14)
    );
    assert_eq!(
        pos(&c, src, "`timeout` must be greater than zero"),
        (11, 22)
    );
    assert_eq!(
        pos(&c, src, "`memory_mib` must be between 1 and 256, found 512"),
        (11, 41)
    );
}

#[test]
fn bad_visibility_and_duration() {
    let src = r#"title = "x"
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
refresh_interval = "soon"
settings = { mode = "a" }
visible = { roles = ["supervisr"], teams = "Sales" }
"#;
    let c = run(src);
    let d = find(&c, "unknown role `supervisr`");
    assert_eq!(d.line_col(src), (9, 22));
    assert_eq!(d.help.as_deref(), Some("did you mean `supervisor`?"));
    assert_eq!(
        pos(&c, src, "expected an array of strings, found a string"),
        (9, 44)
    );
    assert_eq!(pos(&c, src, "invalid duration `soon`"), (7, 20));
}

#[test]
fn syntax_errors_are_located() {
    let src = "title = \"x\"\n[supervisor.home\nrow = 1\n";
    let c = run(src);
    assert!(c.has_errors());
    let d = &c.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.message, "unclosed table, expected `]`");
    assert_eq!(d.line_col(src), (2, 17));
    assert_eq!(d.key_path, "");
    let text = render_text(&c.diagnostics[..1], "l.toml", src, false);
    assert_eq!(
        text.lines().next(),
        Some("l.toml:2:17: error: unclosed table, expected `]`")
    );
}

#[test]
fn many_errors_in_one_file_are_all_reported() {
    let src = r#"title = "x"
bogus = true
[[supervisor.home.widgets]]
id = "a"
plugin = "nope"
column = 0
row = 1
[[supervisor.home.widgets]]
id = "b"
plugin = "hello"
column = 1
row = 1
settings = { mode = 1 }
[plugins.hello]
grants = ["disk"]
"#;
    let c = run(src);
    let got: Vec<_> = c
        .diagnostics
        .iter()
        .map(|d| (d.line_col(src), d.severity, d.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ((2, 1), Severity::Error, "unknown top-level key `bogus`"),
            ((5, 10), Severity::Error, "unknown plugin `nope`"),
            (
                (6, 10),
                Severity::Error,
                "`column` must be between 1 and 12, found 0"
            ),
            (
                (13, 21),
                Severity::Error,
                "setting `mode` expects a string, found an integer"
            ),
            ((15, 11), Severity::Error, "unknown capability `disk`"),
        ]
    );
}

#[test]
fn warnings_do_not_block() {
    let src = r#"title = "x"
[supervisor-agent]
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
refresh_interval = "500ms"
settings = { mode = "a" }
"#;
    let c = run(src);
    assert!(!c.has_errors());
    assert_eq!(c.diagnostics.len(), 2, "{:#?}", c.diagnostics);
    let d = find(&c, "role `supervisor-agent` has no widgets");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line_col(src), (2, 2));
    let d = find(&c, "refresh interval of 500ms is under one second");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line_col(src), (8, 20));
    let l = c.layout.expect("warnings keep the layout");
    assert_eq!(
        l.roles[&Role::Agent].home.widgets[0].refresh,
        Some(Duration::from_millis(500))
    );
    assert!(l.roles[&Role::SupervisorAgent].home.widgets.is_empty());
}

#[test]
fn missing_title_and_page_keys() {
    let src = r#"logo = "x.svg"
[[agent.pages]]
title = "No id"
"#;
    let c = run(src);
    let d = find(&c, "missing required top-level key `title`");
    assert_eq!(d.line_col(src), (1, 1));
    let d = find(&c, "missing required key `id` in `agent.pages[0]`");
    assert_eq!(d.line_col(src), (2, 1));
    assert_eq!(d.key_path, "agent.pages[0].id");
}

#[test]
fn render_text_format() {
    let src = r#"title = "x"
[supervisor.home]
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
row = 1
colum = 2
column = 1
settings = { mode = "a" }
"#;
    let c = run(src);
    assert_eq!(c.diagnostics.len(), 1, "{:#?}", c.diagnostics);
    let text = render_text(&c.diagnostics, "layouts/x.toml", src, false);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "layouts/x.toml:7:1: error: unknown key `colum` in `supervisor.home.widgets[0]` \
             (at `supervisor.home.widgets[0].colum`)"
        )
    );
    assert!(text.contains("colum = 2"), "{text}");
    assert!(text.contains("^^^^^ unknown key"), "{text}");
    assert!(text.contains("help: did you mean `column`?"), "{text}");
    // codespan's own header is replaced by ours.
    assert!(!text.contains("\nerror:"), "{text}");

    let colored = render_text(&c.diagnostics, "layouts/x.toml", src, true);
    assert!(colored.starts_with("layouts/x.toml:7:1: error: "));
    assert!(colored.contains("\u{1b}["));

    let json = render_json(&c.diagnostics, "layouts/x.toml", src);
    assert_eq!(json[0]["line"], 7);
    assert_eq!(json[0]["column"], 1);
    assert_eq!(json[0]["end_line"], 7);
    assert_eq!(json[0]["end_column"], 6);
    assert_eq!(json[0]["key_path"], "supervisor.home.widgets[0].colum");
    assert_eq!(json[0]["help"], "did you mean `column`?");
}

#[test]
fn widgets_must_be_an_array_of_tables() {
    let src = r#"title = "x"
[supervisor.home.widgets]
id = "a"
"#;
    let c = run(src);
    let d = find(&c, "expected an array of tables, found a table");
    assert_eq!(d.line_col(src), (2, 1));
    assert_eq!(
        d.help.as_deref(),
        Some("write each widget as `[[supervisor.home.widgets]]`")
    );
}

#[test]
fn a_widget_hidden_from_its_own_role_is_a_warning() {
    let src = r#"title = "x"
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
visible = { roles = ["supervisor"] }
"#;
    let c = run(src);
    assert!(!c.has_errors(), "{:#?}", c.diagnostics);
    let d = find(&c, "no one will see this widget");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line_col(src), (8, 11));
    assert!(
        d.help
            .as_deref()
            .unwrap()
            .contains("add \"agent\" to `roles`")
    );
}

// ---- composition: [all], role sections, overlays ------------------------

const LAYERED: &str = r#"title = "Layered"
[[all.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[all.home.widgets]]
id = "b"
plugin = "hello"
column = 5
row = 1
settings = { mode = "a" }
[[all.pages]]
id = "more"
title = "More"
[[all.pages.widgets]]
id = "m"
plugin = "queue-stats"
column = 1
row = 1

[supervisor]
remove = ["b"]
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
title = "Supervisor's a"
column = 1
row = 1
settings = { mode = "b" }

[agent.home]
title = "Start"
"#;

fn ids(desk: &RoleDesk) -> Vec<(String, Vec<String>)> {
    desk.all_pages()
        .map(|p| {
            (
                format!("{}:{}", p.id, p.title),
                p.widgets.iter().map(|w| w.id.clone()).collect(),
            )
        })
        .collect()
}

fn owned(pages: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    pages
        .iter()
        .map(|(p, w)| (p.to_string(), w.iter().map(|s| s.to_string()).collect()))
        .collect()
}

#[test]
fn all_is_the_base_of_every_role_and_role_sections_replace_and_remove() {
    let c = run(LAYERED);
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let l = c.layout.unwrap();
    // Every role gets [all]; supervisor replaces `a` and removes `b`.
    assert_eq!(l.roles.len(), 3);
    let sup = &l.roles[&Role::Supervisor];
    assert_eq!(
        ids(sup),
        owned(&[("home:Home", &["a"]), ("more:More", &["m"])])
    );
    assert_eq!(sup.home.widgets[0].title, "Supervisor's a");
    assert_eq!(
        sup.home.widgets[0].setting("mode"),
        Some(&SettingValue::Text("b".into()))
    );
    assert_eq!(
        ids(&l.roles[&Role::SupervisorAgent]),
        owned(&[("home:Home", &["a", "b"]), ("more:More", &["m"])])
    );
    // The agent's section only renames the home page.
    assert_eq!(
        ids(&l.roles[&Role::Agent]),
        owned(&[("home:Start", &["a", "b"]), ("more:More", &["m"])])
    );
}

#[test]
fn layers_that_collide_are_reported_in_the_upper_layer() {
    let src = r#"title = "x"
[[all.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[agent]
remove = ["a", "ghost"]
[[supervisor.home.widgets]]
id = "z"
plugin = "hello"
column = 3
row = 2
settings = { mode = "a" }
"#;
    let c = run(src);
    let d = find(&c, "widget `z` overlaps widget `a` of a lower layer");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.line_col(src), (10, 1));
    assert_eq!(d.notes, ["`a` (line 2) covers columns 1-4, rows 1-3"]);
    assert_eq!(
        d.help.as_deref(),
        Some("move this tile, or add \"a\" to this section's `remove`")
    );
    let w = find(&c, "`remove` names `ghost`, which no lower layer places");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(w.line_col(src), (9, 16));
    assert!(c.layout.is_none());
}

const GLOBAL: &str = r#"title = "Global"
logo = "/static/global.svg"
required_collaboration = ["microsoft-teams"]
[limits]
timeout = "300ms"
memory_mib = 40
[plugins.hello]
grants = ["kv"]
[[all.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
[[supervisor.home.widgets]]
id = "s"
plugin = "hello"
column = 5
row = 1
settings = { mode = "a" }
[[agent.home.widgets]]
id = "g"
plugin = "queue-stats"
column = 1
row = 4
"#;

const OVERLAY: &str = r#"teams = ["sales"]
extends = "global"
[limits]
timeout = "100ms"
[plugins.queue-stats]
grants = ["contact-center"]
[[all.home.widgets]]
id = "s"
plugin = "hello"
title = "Sales s"
column = 9
row = 1
settings = { mode = "b" }
[supervisor]
remove = ["a"]
[[supervisor.pages]]
id = "sales"
title = "Sales"
[[supervisor.pages.widgets]]
id = "q"
plugin = "queue-stats"
column = 1
row = 1
"#;

fn layouts(files: &[(&str, &str)]) -> Vec<Layout> {
    files
        .iter()
        .map(|(name, src)| {
            let c = check(
                Path::new(name),
                src,
                &catalog(),
                &ValidateOptions::default(),
            );
            c.layout
                .unwrap_or_else(|| panic!("{name}: {:#?}", c.diagnostics))
        })
        .collect()
}

#[test]
fn an_overlay_stacks_on_the_global_layout_in_the_documented_order() {
    let mut ls = layouts(&[("global.toml", GLOBAL), ("sales.toml", OVERLAY)]);
    let found = compose::compose(&mut ls);
    assert!(found.is_empty(), "{found:#?}");
    let (global, sales) = (&ls[0], &ls[1]);
    // The global layout is untouched.
    assert_eq!(
        ids(&global.roles[&Role::Supervisor]),
        owned(&[("home:Home", &["a", "s"])])
    );
    // Supervisor: global [all] (a), global supervisor (s), overlay [all]
    // (s replaced, moved to column 9), overlay supervisor (a removed, a
    // page added).
    let sup = &sales.roles[&Role::Supervisor];
    assert_eq!(
        ids(sup),
        owned(&[("home:Home", &["s"]), ("sales:Sales", &["q"])])
    );
    assert_eq!(sup.home.widgets[0].title, "Sales s");
    assert_eq!(sup.home.widgets[0].column, 9);
    // Agent: global [all] and agent, plus the overlay's [all].
    assert_eq!(
        ids(&sales.roles[&Role::Agent]),
        owned(&[("home:Home", &["a", "g", "s"])])
    );
    // supervisor-agent has no global section: global [all] and overlay [all].
    assert_eq!(
        ids(&sales.roles[&Role::SupervisorAgent]),
        owned(&[("home:Home", &["a", "s"])])
    );
    // Root keys: title and logo fall back, limits fill in, grants merge,
    // required tools add up.
    assert_eq!(sales.title, "Global");
    assert_eq!(sales.logo.as_deref(), Some("/static/global.svg"));
    assert_eq!(sales.limits.timeout, Some(Duration::from_millis(100)));
    assert_eq!(sales.limits.memory_mib, Some(40));
    assert_eq!(sales.grants("hello"), ["kv".to_string()]);
    assert_eq!(sales.grants("queue-stats"), ["contact-center".to_string()]);
    assert_eq!(sales.required_collaboration, ["microsoft-teams"]);
    // An overlay widget without limits gets the overlay's, then the global's.
    let q = &sup.pages[0].widgets[0];
    assert_eq!(q.limits.timeout, Some(Duration::from_millis(100)));
    assert_eq!(q.limits.memory_mib, Some(40));
}

#[test]
fn overlay_mistakes_are_reported() {
    // `extends` needs teams, and names the global layout.
    let src = "title = \"x\"\nextends = \"global\"\n";
    let c = run(src);
    assert_eq!(
        pos(&c, src, "only a team layout can extend the global layout"),
        (2, 11)
    );
    let src = "teams = [\"sales\"]\nextends = \"base\"\n";
    let c = run(src);
    let d = find(&c, "unknown layout `base` in `extends`");
    assert_eq!(d.line_col(src), (2, 11));
    // Alone, an overlay has nothing to extend.
    let mut ls = layouts(&[("sales.toml", OVERLAY)]);
    let found = compose::compose(&mut ls);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1.message, "there is no global layout to extend");
    assert_eq!(found[0].1.line_col(OVERLAY), (2, 11));
    // An overlay tile on top of a global tile.
    let clash = OVERLAY.replace("column = 9", "column = 3");
    let mut ls = layouts(&[("global.toml", GLOBAL), ("sales.toml", &clash)]);
    let found = compose::compose(&mut ls);
    let msgs: Vec<&str> = found.iter().map(|(_, d)| d.message.as_str()).collect();
    assert_eq!(
        msgs, ["widget `s` overlaps widget `a` of a lower layer on page `home`"; 2],
        "agent and supervisor-agent keep `a`"
    );
    assert_eq!(found[0].0, 1);
    assert_eq!(
        found[0].1.notes,
        ["`a` (global.toml line 9) covers columns 1-4, rows 1-3"]
    );
}

#[test]
fn teams_the_contact_center_does_not_have_are_warned_about() {
    let src = r#"title = "x"
teams = ["sales", "suport"]
[[agent.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
visible = { teams = ["retention", "bling"] }
"#;
    let opts = ValidateOptions {
        known_teams: Some(vec![
            "sales".into(),
            "support".into(),
            "billing".into(),
            "retention".into(),
        ]),
        ..ValidateOptions::default()
    };
    let c = check(Path::new("x.toml"), src, &catalog(), &opts);
    assert!(c.layout.is_some(), "warnings only");
    let d = find(&c, "no team `suport` in the contact center");
    assert_eq!(d.line_col(src), (2, 19));
    assert_eq!(d.help.as_deref(), Some("did you mean `support`?"));
    let d = find(&c, "no team `bling` in the contact center");
    assert_eq!(d.key_path, "agent.home.widgets[0].visible.teams[1]");
    // Without the contact center's teams, nothing is said.
    assert!(run(src).diagnostics.is_empty());
}

#[test]
fn a_team_layouts_supervisor_section_is_warned_about() {
    let src = r#"title = "x"
teams = ["sales"]
[[supervisor.home.widgets]]
id = "a"
plugin = "hello"
column = 1
row = 1
settings = { mode = "a" }
"#;
    let c = run(src);
    assert!(c.layout.is_some(), "a warning only");
    let d = find(
        &c,
        "no one sees this section: supervisors sign in without a team",
    );
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(d.line_col(src), (3, 3));
}
