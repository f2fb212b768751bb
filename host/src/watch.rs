//! Hot reload: watches the layout files and plugin directories (inotify
//! through `notify`), waits until changes settle for [`DEBOUNCE`], then
//! asks the [`Host`] to reload. Checking and compiling happen on this
//! watcher thread, never on a request; the swap itself is atomic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::app::{Host, LayoutSource};

/// How long changes must settle before a reload: long enough to take an
/// editor's save (write, rename) as one change, short enough to feel
/// instant. `notify`'s own debouncer defaults to 500 ms.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// A running watcher; dropping it stops watching.
pub struct HotReload {
    _watcher: notify::RecommendedWatcher,
}

/// What is being watched, for the log.
fn targets(host: &Host) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let layouts = host
        .sources()
        .iter()
        .filter_map(|s| match s {
            LayoutSource::File(p) => Some(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
            LayoutSource::Embedded(_) => None,
        })
        .collect();
    let plugin_dirs = host
        .config()
        .plugin_dirs
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    (layouts, plugin_dirs)
}

/// Starts watching `host`'s layout files and plugin directories. Returns
/// `None` when there is nothing on disk to watch (embedded defaults only).
pub fn start(host: Arc<Host>) -> notify::Result<Option<HotReload>> {
    let (layouts, plugin_dirs) = targets(&host);
    if layouts.is_empty() && plugin_dirs.is_empty() {
        return Ok(None);
    }
    let (tx, rx) = mpsc::channel::<()>();
    let relevant_layouts = layouts.clone();
    let relevant_dirs = plugin_dirs.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let relevant = event.paths.iter().any(|p| {
            relevant_layouts.iter().any(|l| l == p)
                || relevant_dirs.iter().any(|d| p.starts_with(d))
        });
        if relevant {
            let _ = tx.send(());
        }
    })?;
    // Editors replace files by renaming over them, so watch each layout's
    // directory, not the file itself.
    let mut dirs: Vec<&Path> = layouts.iter().filter_map(|l| l.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    for dir in &plugin_dirs {
        if dir.is_dir() {
            watcher.watch(dir, RecursiveMode::Recursive)?;
        }
    }
    tracing::info!(?layouts, ?plugin_dirs, "watching for changes");
    std::thread::Builder::new()
        .name("deskhost-reload".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // Let the burst of events of one save settle.
                while rx.recv_timeout(DEBOUNCE).is_ok() {}
                host.reload();
            }
        })
        .map_err(|e| notify::Error::generic(&e.to_string()))?;
    Ok(Some(HotReload { _watcher: watcher }))
}
