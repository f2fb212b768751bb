//! Pooled instantiate + render of one embedded widget in a loop, for
//! comparing builds of the same component (BENCHMARKS.md, "Engine
//! settings"): the embedded plugin (hello unless named), or the component
//! at the given path run under that plugin's manifest.
//!
//! ```sh
//! cargo run --release -p deskhost --example pooled_call                          # embedded hello
//! cargo run --release -p deskhost --example pooled_call -- team-performance      # another embedded widget
//! cargo run --release -p deskhost --example pooled_call -- hello hello.wasm      # another build of hello
//! ```
//! The widget gets its manifest's default settings and every capability it
//! asks for, as a supervisor of the simulator's `sales` team. Prints the
//! mean time of 20,000 calls, after 2,000 to warm up, and the median and
//! fastest of its twenty batches of 1,000.

use std::sync::Arc;
use std::time::Instant;

use deskhost::contact_center::Simulator;
use deskhost::embedded::EMBEDDED_PLUGINS;
use deskhost::runtime::manifest::Manifest;
use deskhost::runtime::{Call, Runtime, Services, setting_to_wit, types};
use deskhost::store::SqliteStore;

fn main() -> anyhow::Result<()> {
    let cache = tempfile::tempdir()?;
    let rt = Runtime::new(
        &Default::default(),
        Some(cache.path().join("cache")),
        Services::without_sign_in(
            Arc::new(SqliteStore::in_memory()?),
            Arc::new(Simulator::new(7, deskhost::now_ms())),
        ),
    )?;
    let id = std::env::args().nth(1).unwrap_or_else(|| "hello".into());
    let (manifest, embedded) = EMBEDDED_PLUGINS
        .iter()
        .find(|(m, _)| Manifest::parse(m, "embedded").is_ok_and(|m| m.id == id))
        .ok_or_else(|| anyhow::anyhow!("no embedded plugin `{id}`"))?;
    let other = std::env::args().nth(2).map(std::fs::read).transpose()?;
    let plugin = rt.load(manifest, other.as_deref().unwrap_or(embedded), &id)?;
    println!("starting memory: {} KiB", plugin.starting_memory >> 10);

    let context = types::Context {
        user_id: "u".into(),
        display_name: "Dana".into(),
        role: types::Role::Supervisor,
        team: Some("sales".into()),
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    };
    let settings: Vec<types::Setting> = plugin
        .info
        .settings
        .iter()
        .filter_map(|spec| Some(setting_to_wit(&spec.name, spec.default.as_ref()?)))
        .collect();
    let call = Call {
        widget: "w",
        grants: plugin.info.capabilities.iter().cloned().collect(),
        limits: rt.default_call_limits(),
        context: &context,
        settings: &settings,
    };
    for _ in 0..2_000 {
        rt.render(&plugin, &call)?;
    }
    // Twenty batches of 1,000 calls: the machine's speed changes while it
    // runs (a shared VM), so the mean of all calls is printed with the
    // median and fastest batch.
    let mut batches = Vec::with_capacity(20);
    let started = Instant::now();
    for _ in 0..20 {
        let batch = Instant::now();
        for _ in 0..1_000 {
            rt.render(&plugin, &call)?;
        }
        batches.push(batch.elapsed() / 1_000);
    }
    let mean = started.elapsed() / 20_000;
    batches.sort();
    println!(
        "{mean:?} per call (batches of 1,000: median {:?}, fastest {:?})",
        batches[10], batches[0]
    );
    Ok(())
}
