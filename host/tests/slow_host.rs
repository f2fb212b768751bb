//! A host call that does not come back in time (a slow data source): the
//! page renders within the widget's deadline, only that tile fails, and
//! the other tiles are unaffected.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deskhost::app;
use deskhost::config::HostConfig;
use deskhost::contact_center::Simulator;
use deskhost::desktop::{Changes, Desktop, Viewer};
use deskhost::embedded::TEST_PLUGINS_DIR;
use deskhost::layout::{self, Role, ValidateOptions};
use deskhost::runtime::Services;
use deskhost::store::{KvStore, SqliteStore, StoreError};

/// A key-value store that takes `delay` to answer each read.
struct SlowKv {
    inner: SqliteStore,
    delay: Duration,
}

impl KvStore for SlowKv {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        std::thread::sleep(self.delay);
        self.inner.get(plugin, key)
    }
    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.set(plugin, key, value)
    }
    fn delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        self.inner.delete(plugin, key)
    }
}

const LAYOUT: &str = r#"title = "Slow desk"
[limits]
timeout = "250ms"
[plugins.hostile]
grants = ["kv"]
[[supervisor.home.widgets]]
id = "slow"
plugin = "hostile"
column = 1
row = 1
settings = { mode = "kv" }
[[supervisor.home.widgets]]
id = "fine"
plugin = "hostile"
column = 5
row = 1
settings = { mode = "ok" }
"#;

#[test]
fn a_slow_host_call_fails_only_its_tile_within_the_deadline() {
    let sim = Arc::new(Simulator::new(1, 1_795_687_200_000));
    let kv = SlowKv {
        inner: SqliteStore::in_memory().unwrap(),
        delay: Duration::from_secs(5),
    };
    let config = HostConfig {
        data_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("slow-host-data"),
        plugin_dirs: vec![TEST_PLUGINS_DIR.into()],
        embedded_plugins: false,
        ..HostConfig::default()
    };
    let rt = app::runtime(
        &config,
        Services::without_sign_in(Arc::new(kv), sim.clone()),
    )
    .unwrap();
    let (plugins, errors) = app::install_plugins(&rt, &config);
    assert!(errors.is_empty(), "{errors:?}");
    let checked = layout::check(
        Path::new("slow.toml"),
        LAYOUT,
        &plugins,
        &ValidateOptions::default(),
    );
    let desktop = Desktop::new(
        checked.layout.expect("valid layout"),
        Arc::new(plugins),
        Arc::new(rt),
        sim,
        Changes::default(),
        &Default::default(),
    );
    let viewer = Viewer {
        user_id: "dana".into(),
        display_name: "Dana".into(),
        role: Role::Supervisor,
        team: None,
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let page = tokio.block_on(desktop.page(&viewer, "home")).unwrap();
    let took = started.elapsed();
    // Far less than the 5 s the store takes: the deadline (250 ms) plus
    // its grace, with room for a loaded machine.
    assert!(took < Duration::from_secs(3), "the page waited {took:?}");
    let tile = |id: &str| page.tiles.iter().find(|t| t.widget.id == id).unwrap();
    let err = tile("slow").result.as_ref().unwrap_err();
    assert!(
        err.reason.contains("did not answer within 250 ms"),
        "{}",
        err.reason
    );
    assert!(tile("fine").result.is_ok());
}
