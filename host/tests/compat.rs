//! Compatibility of the `deskhost:plugin` WIT package across versions
//! (`sdk/API-STABILITY.md`): a widget built against the frozen 0.1.0
//! (`sdk/wit-archive/0.1.0`, the `tests/plugins/compat-0-1-0` crate, which
//! uses wit-bindgen directly and not the SDK) loads on this host, whose
//! package is newer, renders, and each of its imports works. A plugin whose
//! manifest asks for an API this host does not provide is refused, naming
//! both versions.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use deskhost::config::Limits;
use deskhost::contact_center::{ContactCenter, Simulator};
use deskhost::embedded::TEST_PLUGINS_DIR;
use deskhost::plugin::HOST_API_VERSION;
use deskhost::runtime::{Call, CallError, CallLimits, LoadedPlugin, Runtime, Services, types};
use deskhost::store::SqliteStore;
use semver::Version;

/// The version the compat plugin was built against.
const OLD: Version = Version::new(0, 1, 0);

fn plugin_dir() -> PathBuf {
    Path::new(TEST_PLUGINS_DIR).join("compat-0-1-0")
}

fn manifest_text() -> String {
    std::fs::read_to_string(plugin_dir().join("plugin.toml")).unwrap()
}

fn wasm() -> Vec<u8> {
    std::fs::read(plugin_dir().join("plugin.wasm")).unwrap()
}

fn runtime() -> Runtime {
    logs();
    Runtime::new(
        &Limits::default(),
        Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")),
        Services::without_sign_in(
            Arc::new(SqliteStore::in_memory().unwrap()),
            Arc::new(Simulator::new(7, deskhost::now_ms())),
        ),
    )
    .unwrap()
}

/// The compat plugin, loaded the way the host loads a plugin directory.
fn compat(rt: &Runtime) -> LoadedPlugin {
    rt.load_plugin_dir(&plugin_dir()).unwrap()
}

fn context() -> types::Context {
    types::Context {
        user_id: "u1".into(),
        display_name: "Dana".into(),
        role: types::Role::Supervisor,
        team: None,
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    }
}

fn settings() -> Vec<types::Setting> {
    vec![types::Setting {
        name: "label".into(),
        value: types::SettingValue::Text("Old".into()),
    }]
}

fn call<'a>(ctx: &'a types::Context, settings: &'a [types::Setting], grants: &[&str]) -> Call<'a> {
    Call {
        widget: "compat",
        grants: grants.iter().map(|g| g.to_string()).collect(),
        limits: CallLimits {
            timeout: Duration::from_secs(2),
            memory_mib: 16,
        },
        context: ctx,
        settings,
    }
}

/// The view's key-values, as a map.
fn values(view: &types::View) -> std::collections::BTreeMap<String, String> {
    view.blocks
        .iter()
        .find_map(|b| match b {
            types::Block::KeyValues(kv) => Some(
                kv.iter()
                    .map(|kv| (kv.key.clone(), kv.value.clone()))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no key-values in {view:?}"))
}

fn heading(view: &types::View) -> &str {
    match &view.blocks[0] {
        types::Block::Heading(h) => h,
        other => panic!("unexpected first block {other:?}"),
    }
}

/// Everything the host has logged so far, from every test of this binary.
///
/// A global subscriber, installed before any plugin runs (by [`runtime`]):
/// a scoped one can miss events of callsites other threads hit first.
fn logs() -> String {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Buffer(buffer.clone());
        tracing_subscriber::fmt()
            .with_ansi(false)
            // Plugin log lines only: wasmtime and cranelift trace every
            // compiled function, which made these tests take minutes.
            .with_env_filter("plugin=trace")
            .with_writer(move || writer.clone())
            .init();
        buffer
    });
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

#[test]
fn the_host_is_newer_than_the_archived_package() {
    assert!(
        HOST_API_VERSION > OLD,
        "the compat test only proves something when the host's package ({HOST_API_VERSION}) is newer than {OLD}"
    );
    let live = include_str!("../../sdk/wit/widget.wit");
    assert!(
        live.lines()
            .any(|l| l.trim() == format!("package deskhost:plugin@{HOST_API_VERSION};")),
        "HOST_API_VERSION is not the version of sdk/wit"
    );
    let archived = include_str!("../../sdk/wit-archive/0.1.0/widget.wit");
    assert!(
        archived
            .lines()
            .any(|l| l.trim() == format!("package deskhost:plugin@{OLD};"))
    );
}

#[test]
fn the_compat_component_imports_and_exports_the_0_1_0_names() {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let component = wasmtime::component::Component::new(&engine, wasm()).unwrap();
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(&engine).map(|(n, _)| n.to_owned()).collect();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_owned()).collect();
    let ours = |names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter(|n| n.starts_with("deskhost:plugin/"))
            .cloned()
            .collect()
    };
    assert_eq!(ours(&exports), ["deskhost:plugin/widget@0.1.0"]);
    // What the host's bindings rely on: wasmtime looks exports up
    // semver-compatibly, so the live name finds the 0.1.0 export, and a
    // name of another track does not.
    let live = format!("deskhost:plugin/widget@{HOST_API_VERSION}");
    assert_ne!(live, "deskhost:plugin/widget@0.1.0");
    assert_eq!(
        component.get_export_index(None, live.as_str()),
        component.get_export_index(None, "deskhost:plugin/widget@0.1.0")
    );
    assert!(component.get_export_index(None, live.as_str()).is_some());
    assert!(
        component
            .get_export_index(None, "deskhost:plugin/widget@0.2.0")
            .is_none()
    );
    let mut imported = ours(&imports);
    imported.sort();
    assert_eq!(
        imported,
        [
            "deskhost:plugin/clock@0.1.0",
            "deskhost:plugin/contact-center@0.1.0",
            "deskhost:plugin/kv@0.1.0",
            "deskhost:plugin/log@0.1.0",
            "deskhost:plugin/types@0.1.0",
        ]
    );
}

#[test]
fn a_widget_built_against_0_1_0_loads_and_describes_itself() {
    let rt = runtime();
    let p = compat(&rt);
    assert_eq!(p.info.name, "Compat 0.1.0");
    assert_eq!(p.info.version, Version::new(0, 1, 0));
    assert_eq!(p.info.settings.len(), 1);
    assert_eq!(p.info.settings[0].name, "label");
    assert_eq!((p.info.default_width, p.info.default_height), (3, 3));
    assert_eq!(p.info.capabilities, ["kv", "contact-center"]);
    // The same bytes through `load` (as embedded plugins are loaded).
    let again = rt.load(&manifest_text(), &wasm(), "compat-0-1-0").unwrap();
    assert_eq!(again.info.name, "Compat 0.1.0");
}

#[test]
fn a_widget_built_against_0_1_0_renders_and_its_imports_work() {
    let rt = runtime();
    let p = compat(&rt);
    let ctx = types::Context {
        user_id: "u-logged".into(),
        ..context()
    };
    let settings = settings();
    let grants = ["kv", "contact-center"];
    let before = deskhost::now_ms();
    let first = rt.render(&p, &call(&ctx, &settings, &grants)).unwrap();
    let after = deskhost::now_ms();
    assert_eq!(heading(&first), "Old: built against deskhost:plugin@0.1.0");
    let v = values(&first);
    assert_eq!(v["viewer"], "Dana");
    // clock.now and clock.local-now
    let now: u64 = v["now"].parse().unwrap();
    assert!(
        (before..=after).contains(&now),
        "{now} not in {before}..={after}"
    );
    assert!(v["local time"].ends_with(" UTC"), "{v:?}");
    // kv: a counter kept across calls
    assert_eq!(v["renders"], "1");
    // contact-center
    let teams = Simulator::new(7, deskhost::now_ms()).teams().unwrap().len();
    assert!(teams > 0);
    assert_eq!(v["teams"], teams.to_string());
    // log: the host's log line, tagged with the plugin id
    let logs = logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("compat widget rendering for u-logged")
                && l.contains("compat-widget")
                && l.contains("INFO")),
        "the plugin's log line is missing from:\n{logs}"
    );

    let second = rt.render(&p, &call(&ctx, &settings, &grants)).unwrap();
    assert_eq!(values(&second)["renders"], "2");
}

#[test]
fn a_widget_built_against_0_1_0_is_refused_capabilities_it_was_not_granted() {
    let rt = runtime();
    let p = compat(&rt);
    let (ctx, settings) = (context(), settings());
    let view = rt.render(&p, &call(&ctx, &settings, &[])).unwrap();
    let v = values(&view);
    assert!(
        v["renders"]
            .starts_with("denied: capability `kv` is not granted to plugin `compat-widget`"),
        "{v:?}"
    );
    assert!(
        v["teams"].starts_with(
            "denied: capability `contact-center` is not granted to plugin `compat-widget`"
        ),
        "{v:?}"
    );
    // Log and clock need no grant.
    assert!(v["now"].parse::<u64>().unwrap() > 0);
}

#[test]
fn a_widget_built_against_0_1_0_handles_actions() {
    let rt = runtime();
    let p = compat(&rt);
    let (ctx, settings) = (context(), settings());
    let action = |id: &str| types::Action {
        id: id.into(),
        values: vec![("note".into(), "x".into())],
    };
    let view = rt
        .on_action(&p, &call(&ctx, &settings, &["kv"]), &action("refresh"))
        .unwrap();
    assert!(
        view.blocks
            .iter()
            .any(|b| matches!(b, types::Block::Text(t) if t == "action refresh")),
        "{view:?}"
    );
    match rt.on_action(&p, &call(&ctx, &settings, &[]), &action("fail")) {
        Err(CallError::Widget(m)) => assert_eq!(m, "the compat widget failed on request"),
        other => panic!("expected the widget's own error, got {other:?}"),
    }
}

#[test]
fn a_plugin_needing_an_api_this_host_lacks_is_refused_naming_both_versions() {
    let rt = runtime();
    let original = manifest_text();
    assert!(original.contains("api = \"^0.1\""), "{original}");
    let next_minor = format!(
        "^{}.{}.{}",
        HOST_API_VERSION.major,
        HOST_API_VERSION.minor,
        HOST_API_VERSION.patch + 1
    );
    for api in ["^0.2", "^1", "=0.1.0", next_minor.as_str()] {
        let manifest = original.replace("api = \"^0.1\"", &format!("api = \"{api}\""));
        let err = rt
            .load(&manifest, &wasm(), "plugins/compat-0-1-0")
            .unwrap_err();
        assert_eq!(err.origin, "plugins/compat-0-1-0");
        assert!(
            err.message.contains(&format!("needs host API `{api}`")),
            "{api}: {err}"
        );
        assert!(
            err.message
                .contains(&format!("provides deskhost:plugin {HOST_API_VERSION}")),
            "{api}: {err}"
        );
    }
}
