//! Save-to-live latency of hot reload: how long after a layout file or a
//! plugin's component is written the new version serves.
//!
//! ```sh
//! cargo run --release -p deskhost --example reload_latency -- 10
//! ```
//! Uses the test plugin directory built by `host/build.rs`. A plugin is
//! "replaced" by appending a custom section to its component, which
//! changes its hash, so it is compiled anew as a real update would be.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deskhost::app::{self, LayoutSource};
use deskhost::config::HostConfig;
use deskhost::embedded::TEST_PLUGINS_DIR;

const LAYOUT: &str = r#"title = "Reload v0"

[[supervisor.home.widgets]]
id = "one"
plugin = "hostile"
column = 1
row = 1
"#;

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()))?;
        } else {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// A wasm custom section named `deskhost-bench` holding `payload`.
fn custom_section(payload: &[u8]) -> Vec<u8> {
    let name = b"deskhost-bench";
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(payload);
    let mut section = vec![0u8];
    let mut len = body.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            section.push(byte);
            break;
        }
        section.push(byte | 0x80);
    }
    section.extend(body);
    section
}

fn wait_until(what: &str, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > Duration::from_secs(10) {
            panic!("{what} did not go live within 10 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    started.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10);
    let dir = tempfile::tempdir()?;
    let layout = dir.path().join("desk.toml");
    let plugins = dir.path().join("plugins");
    std::fs::write(&layout, LAYOUT)?;
    copy_dir(Path::new(TEST_PLUGINS_DIR), &plugins)?;
    let config = HostConfig {
        data_dir: dir.path().join("data"),
        layouts: vec![layout.clone()],
        plugin_dirs: vec![plugins.clone()],
        ..HostConfig::default()
    };
    let host = Arc::new(app::build(&config, &LayoutSource::from_config(&config))?);
    let _watch = deskhost::watch::start(host.clone())?;
    let title = || host.desktops().load().global().layout().title.clone();

    let mut layout_times = Vec::new();
    for i in 1..=runs {
        std::thread::sleep(Duration::from_millis(300));
        let want = format!("Reload v{i}");
        std::fs::write(&layout, LAYOUT.replace("Reload v0", &want))?;
        layout_times.push(wait_until("layout", || title() == want));
    }

    let wasm_path = plugins.join("hostile/plugin.wasm");
    let original = std::fs::read(&wasm_path)?;
    let mut plugin_times = Vec::new();
    for i in 0..runs {
        std::thread::sleep(Duration::from_millis(300));
        let before = host.reload_status().attempts;
        let mut wasm = original.clone();
        wasm.extend(custom_section(
            format!("update {i} {}", deskhost::now_ms()).as_bytes(),
        ));
        std::fs::write(&wasm_path, &wasm)?;
        plugin_times.push(wait_until("plugin", || {
            let s = host.reload_status();
            s.attempts > before && s.applied
        }));
    }
    println!(
        "layout change, save to live: median {:?} (runs: {:?})",
        median(layout_times.clone()),
        layout_times
    );
    println!(
        "plugin replaced, save to live (compile included): median {:?} (runs: {:?})",
        median(plugin_times.clone()),
        plugin_times
    );
    Ok(())
}
