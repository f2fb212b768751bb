//! The runtime against real components: the embedded plugins (hello above
//! all) and the hostile test plugin, whose every misbehaviour must end in
//! a clean error.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deskhost::config::Limits;
use deskhost::contact_center::Simulator;
use deskhost::embedded::{
    EMBEDDED_PLUGINS, PLUGIN_MODULES_DIR, REFUSED_PLUGINS_DIR, TEST_PLUGINS_DIR,
};
use deskhost::runtime::{
    Call, CallError, CallLimits, LoadedPlugin, MEMORY_KEPT_RESIDENT, Origin, Runtime, Services,
    types,
};
use deskhost::store::SqliteStore;

fn cache_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

fn runtime() -> Runtime {
    Runtime::new(
        &Limits::default(),
        Some(cache_dir()),
        Services::without_sign_in(
            Arc::new(SqliteStore::in_memory().unwrap()),
            Arc::new(Simulator::new(7, deskhost::now_ms())),
        ),
    )
    .unwrap()
}

fn context() -> types::Context {
    types::Context {
        user_id: "u1".into(),
        display_name: "Dana".into(),
        role: types::Role::Supervisor,
        team: Some("Sales".into()),
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    }
}

fn hostile(rt: &Runtime) -> LoadedPlugin {
    // Only the hostile plugin: loading the whole directory would compile
    // every test plugin in every test.
    rt.load_plugin_dir(&Path::new(TEST_PLUGINS_DIR).join("hostile"))
        .unwrap()
}

fn render_mode(
    rt: &Runtime,
    p: &LoadedPlugin,
    mode: &str,
    grants: &[&str],
) -> Result<types::View, CallError> {
    let settings = vec![types::Setting {
        name: "mode".into(),
        value: types::SettingValue::Text(mode.into()),
    }];
    let ctx = context();
    rt.render(
        p,
        &Call {
            widget: mode,
            grants: grants.iter().map(|g| g.to_string()).collect(),
            limits: CallLimits {
                timeout: Duration::from_millis(200),
                memory_mib: 16,
            },
            context: &ctx,
            settings: &settings,
        },
    )
}

#[test]
fn hello_loads_describes_itself_and_renders() {
    let rt = runtime();
    let (manifest, wasm) = EMBEDDED_PLUGINS
        .iter()
        .find(|(m, _)| m.contains("\"hello\""))
        .unwrap();
    let p = rt.load(manifest, wasm, "embedded:hello").unwrap();
    assert_eq!(p.info.name, "Hello");
    assert_eq!(p.info.settings.len(), 2);
    // Two wasm pages: the 64 KiB stack the workspace links plugins with,
    // then the data and the start of the heap.
    assert_eq!(p.starting_memory, 128 << 10);
    let ctx = context();
    let settings = vec![
        types::Setting {
            name: "greeting".into(),
            value: types::SettingValue::Text("Welcome".into()),
        },
        types::Setting {
            name: "show_details".into(),
            value: types::SettingValue::Boolean(true),
        },
    ];
    let view = rt
        .render(
            &p,
            &Call {
                widget: "w",
                grants: Arc::from([]),
                limits: rt.default_call_limits(),
                context: &ctx,
                settings: &settings,
            },
        )
        .unwrap();
    match &view.blocks[0] {
        types::Block::Heading(h) => assert_eq!(h, "Welcome, Dana"),
        other => panic!("unexpected first block {other:?}"),
    }
    // A second load of the same component comes from the cache.
    let again = rt.load(manifest, wasm, "embedded:hello").unwrap();
    assert_eq!(again.origin, Origin::Cached);
}

#[test]
fn first_party_plugins_start_small_enough_to_be_reset_in_place() {
    let rt = runtime();
    for (manifest, wasm) in EMBEDDED_PLUGINS {
        let p = rt.load(manifest, wasm, "embedded").unwrap();
        assert!(
            p.starting_memory <= MEMORY_KEPT_RESIDENT,
            "{} starts with {} KiB of linear memory",
            p.info.id,
            p.starting_memory >> 10
        );
    }
}

/// The interfaces `component` imports, without their versions (the names
/// of nested components' imports have no package, and are left out).
fn imported_interfaces(component: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        if let wasmparser::Payload::ComponentImportSection(section) = payload.unwrap() {
            for import in section {
                let name = import.unwrap().name.name;
                if name.contains(':') {
                    names.push(name.split('@').next().unwrap().to_string());
                }
            }
        }
    }
    names
}

#[test]
fn first_party_plugins_answer_the_standard_streams_inside_their_module() {
    for (manifest, wasm) in EMBEDDED_PLUGINS {
        let imports = imported_interfaces(wasm);
        let wasi: Vec<&String> = imports.iter().filter(|i| i.starts_with("wasi:")).collect();
        assert!(
            wasi.iter()
                .all(|i| ["wasi:cli/exit", "wasi:random/random"].contains(&i.as_str())),
            "{manifest}\nimports {wasi:?}"
        );
    }
}

#[test]
fn standard_streams_answered_inside_the_module_answer_as_the_host_does() {
    let rt = runtime();
    let dir = Path::new(TEST_PLUGINS_DIR).join("stdio-probe");
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let by_host = std::fs::read(dir.join("plugin.wasm")).unwrap();
    let module = std::fs::read(Path::new(PLUGIN_MODULES_DIR).join("stdio_probe.wasm")).unwrap();
    let inside = deskhost_componentize::componentize(&module).unwrap();
    assert!(imported_interfaces(&by_host).contains(&"wasi:cli/stderr".to_string()));
    assert_eq!(
        imported_interfaces(&inside),
        ["deskhost:plugin/types", "wasi:cli/exit"]
    );

    let by_host = rt.load(&manifest, &by_host, "stdio-probe").unwrap();
    let inside = rt.load(&manifest, &inside, "stdio-probe").unwrap();
    let report = render_mode(&rt, &by_host, "report", &[]).unwrap();
    let text = format!("{report:?}");
    for seen in [
        "stdout write: ok 1",
        "stdout flush: ok ()",
        "stderr write_all: ok ()",
        "environment: 0 variables",
        "arguments: 0",
        "RUST_BACKTRACE: None",
        "terminals: stdin false, stdout false, stderr false",
    ] {
        assert!(text.contains(seen), "{seen:?} not in {text}");
    }
    assert_eq!(
        format!("{:?}", render_mode(&rt, &inside, "report", &[]).unwrap()),
        text
    );
    // The panic hook reads the environment and writes to stderr.
    for p in [&by_host, &inside] {
        let e = render_mode(&rt, p, "panic", &[]).unwrap_err();
        assert!(
            matches!(&e, CallError::Trap(m) if m == "the plugin panicked"),
            "{e:?}"
        );
    }
}

#[test]
fn misbehaviour_becomes_a_specific_error() {
    let rt = runtime();
    let p = hostile(&rt);
    assert!(render_mode(&rt, &p, "ok", &[]).is_ok());

    let started = Instant::now();
    let e = render_mode(&rt, &p, "loop", &[]).unwrap_err();
    assert!(matches!(e, CallError::Timeout(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "deadline not enforced: {:?}",
        started.elapsed()
    );

    let e = render_mode(&rt, &p, "trap", &[]).unwrap_err();
    assert!(matches!(e, CallError::Trap(_)), "{e:?}");

    let e = render_mode(&rt, &p, "grow", &[]).unwrap_err();
    assert!(matches!(e, CallError::Memory(16)), "{e:?}");

    // Deep recursion overflows either wasm's own stack or, first, the
    // shadow stack Rust keeps in linear memory: both are contained traps.
    let e = render_mode(&rt, &p, "recurse", &[]).unwrap_err();
    assert!(
        matches!(e, CallError::StackOverflow | CallError::Trap(_)),
        "{e:?}"
    );

    let e = render_mode(&rt, &p, "error", &[]).unwrap_err();
    assert_eq!(e.to_string(), "the hostile widget failed on purpose");

    // The plugin still works after all that.
    assert!(render_mode(&rt, &p, "ok", &[]).is_ok());
}

#[test]
fn capability_without_grant_names_the_grant() {
    let rt = runtime();
    let p = hostile(&rt);
    let e = render_mode(&rt, &p, "kv", &[]).unwrap_err().to_string();
    assert!(
        e.contains("capability `kv` is not granted to plugin `hostile`"),
        "{e}"
    );
    assert!(e.contains("grants = [\"kv\"]"), "{e}");
    let first = render_mode(&rt, &p, "kv", &["kv"]).unwrap();
    let second = render_mode(&rt, &p, "kv", &["kv"]).unwrap();
    assert!(
        matches!(&first.blocks[0], types::Block::Text(t) if t == "kv count 1"),
        "{first:?}"
    );
    assert!(
        matches!(&second.blocks[0], types::Block::Text(t) if t == "kv count 2"),
        "{second:?}"
    );
}

#[test]
fn manifest_claiming_another_id_is_refused() {
    let rt = runtime();
    let wasm = std::fs::read(Path::new(TEST_PLUGINS_DIR).join("hostile/plugin.wasm")).unwrap();
    let e = rt
        .load(
            "id = \"hello\"\nversion = \"0.1.0\"\nkind = \"widget\"\napi = \"^0.1\"\n",
            &wasm,
            "x",
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("says it is `hostile`, but plugin.toml says `hello`"),
        "{e}"
    );
}

#[test]
fn a_plugin_importing_what_the_host_does_not_provide_is_refused_by_name() {
    let rt = runtime();
    let (loaded, errors) = rt.load_dir(Path::new(REFUSED_PLUGINS_DIR));
    assert!(loaded.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].to_string();
    assert!(
        e.contains("refused-unknown-import"),
        "names the plugin: {e}"
    );
    assert!(
        e.contains("imports something this host does not provide"),
        "{e}"
    );
    assert!(e.contains("test:vault/secrets"), "names the import: {e}");
}

#[test]
fn wasi_gives_no_files_environment_arguments_or_sockets() {
    let rt = runtime();
    let p = hostile(&rt);
    let view = render_mode(&rt, &p, "probe", &[]).unwrap();
    let types::Block::Items(items) = &view.blocks[0] else {
        panic!("{view:?}");
    };
    let lines: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    assert!(lines[0].starts_with("fs: denied"), "{lines:?}");
    assert_eq!(lines[1], "env: 0 variables");
    assert_eq!(lines[2], "args: 0");
    assert!(lines[3].starts_with("net: denied"), "{lines:?}");
}
