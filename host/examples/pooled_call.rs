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

use std::time::Instant;

mod support {
    pub mod widget_call;
}
use support::widget_call::{self, WidgetCall};

fn main() -> anyhow::Result<()> {
    let cache = tempfile::tempdir()?;
    let rt = widget_call::runtime(&cache.path().join("cache"))?;
    let id = std::env::args().nth(1).unwrap_or_else(|| "hello".into());
    let other = std::env::args().nth(2).map(std::fs::read).transpose()?;
    let widget = WidgetCall::load(&rt, &id, other.as_deref())?;
    let plugin = &widget.plugin;
    println!("starting memory: {} KiB", plugin.starting_memory >> 10);
    let call = widget.call(&rt);
    for _ in 0..2_000 {
        rt.render(plugin, &call)?;
    }
    // Twenty batches of 1,000 calls: the machine's speed changes while it
    // runs (a shared VM), so the mean of all calls is printed with the
    // median and fastest batch.
    let mut batches = Vec::with_capacity(20);
    let started = Instant::now();
    for _ in 0..20 {
        let batch = Instant::now();
        for _ in 0..1_000 {
            rt.render(plugin, &call)?;
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
