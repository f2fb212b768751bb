//! `deskhost dev [CRATE_DIR...]`: the plugin author's loop of edit, save,
//! see.
//!
//! For each plugin crate (a directory with `Cargo.toml` and `plugin.toml`,
//! such as `deskhost new` makes):
//!
//! 1. it is built with `cargo build --target wasm32-wasip2 --release`
//!    (into the crate's own `target/`, or `CARGO_TARGET_DIR`), cargo's
//!    output going to the terminal as it comes;
//! 2. the component and `plugin.toml` are installed as the plugin
//!    directory `dev-plugins/<id>/` of the data dir, each file written by
//!    a rename, so that the host never reads half of one;
//! 3. the desktop is served with the embedded first-party plugins and
//!    these, on the first crate's `dev-layout.toml` when there is one, else
//!    on the demo layout with a tile for each widget being developed on
//!    every role's home page (written to `dev-layout.toml` in the data
//!    dir, granting each widget what its `plugin.toml` asks for);
//! 4. each crate's `src/`, `Cargo.toml` and `plugin.toml` are watched: a
//!    save, once changes settle for [`DEBOUNCE`], rebuilds the crate and
//!    installs the new component. The host's own watcher of plugin
//!    directories ([`crate::watch`]) then swaps it in, and open pages get
//!    the new tiles over server-sent events.
//!
//! A build that fails keeps the last good component installed, shows
//! cargo's errors in the terminal, and marks the plugin
//! ([`Host::mark_build_failed`]): its tiles say "Build failed:" with the
//! first error until a build succeeds. A crate that does not build at
//! start, and has no component from an earlier session, is waited for:
//! the desktop starts once it builds.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use notify::{EventKind, RecursiveMode, Watcher};
use thiserror::Error;

use crate::app::{self, EMBEDDED_LAYOUTS, Host, LayoutSource};
use crate::config::HostConfig;
use crate::contact_center::Simulator;
use crate::layout::Role;
use crate::plugin::{PluginInfo, PluginKind};
use crate::runtime::Services;
use crate::runtime::manifest::Manifest;
use crate::store::SqliteStore;
use crate::watch::{DEBOUNCE, HotReload};

/// The target plugins are built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";
/// The plugin directory of the crates being developed, in the data dir.
pub const PLUGINS_DIR: &str = "dev-plugins";
/// Where files are written before they are renamed into place, in the
/// data dir (outside the watched plugin directory).
const STAGING_DIR: &str = "dev-staging";
/// The layout file a crate may bring, and the name of the generated one.
pub const LAYOUT_FILE: &str = "dev-layout.toml";

/// What `deskhost dev` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Plugin crate directories; empty means the current directory.
    pub crates: Vec<PathBuf>,
    /// Cargo's target directory for every crate (default:
    /// `CARGO_TARGET_DIR`, else each crate's own `target/`).
    pub target_dir: Option<PathBuf>,
}

/// Why `deskhost dev` could not start.
#[derive(Debug, Error)]
pub enum DevError {
    /// The arguments cannot be used (not a plugin crate, two crates with
    /// one id); exit status 2.
    #[error("{0}")]
    Usage(String),
    /// The host would not start (an invalid layout, a plugin that does
    /// not load); exit status 1.
    #[error(transparent)]
    Start(#[from] app::StartError),
    /// Something else failed; exit status 1.
    #[error("{0}")]
    Failed(String),
}

impl DevError {
    /// The exit status: 2 unusable arguments, 1 failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            DevError::Usage(_) => 2,
            DevError::Start(_) | DevError::Failed(_) => 1,
        }
    }
}

/// One plugin crate being developed.
#[derive(Debug, Clone)]
pub struct DevCrate {
    /// Its directory (absolute).
    pub dir: PathBuf,
    /// Plugin id, from `plugin.toml`.
    pub id: String,
    /// Its kind, from `plugin.toml`.
    pub kind: PluginKind,
}

impl DevCrate {
    /// Reads the crate at `dir`.
    pub fn open(dir: &Path) -> Result<DevCrate, DevError> {
        let dir = std::fs::canonicalize(dir)
            .map_err(|e| DevError::Usage(format!("{}: {e}", dir.display())))?;
        let not_a_plugin = |missing: &str| {
            DevError::Usage(format!(
                "{} is not a plugin crate: it has no {missing} (make one with `deskhost new widget NAME`)",
                dir.display()
            ))
        };
        if !dir.join("Cargo.toml").is_file() {
            return Err(not_a_plugin("Cargo.toml"));
        }
        let manifest = dir.join("plugin.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|_| not_a_plugin("plugin.toml"))?;
        let m = Manifest::parse(&text, &manifest.display().to_string()).map_err(DevError::Usage)?;
        Ok(DevCrate {
            dir,
            id: m.id,
            kind: m.kind,
        })
    }
}

/// Builds crates and installs their components.
#[derive(Debug, Clone)]
struct Builder {
    cargo: OsString,
    target_dir: Option<PathBuf>,
    color: bool,
    plugins_dir: PathBuf,
    staging_dir: PathBuf,
}

impl Builder {
    fn target_dir(&self, c: &DevCrate) -> PathBuf {
        // Cargo reads a relative CARGO_TARGET_DIR from where it runs: the crate.
        self.target_dir
            .clone()
            .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
            .map(|d| c.dir.join(d))
            .unwrap_or_else(|| c.dir.join("target"))
    }

    /// Builds `c`: the path of its component, or the first lines of the
    /// errors.
    fn build(&self, c: &DevCrate) -> Result<PathBuf, String> {
        let target_dir = self.target_dir(c);
        eprintln!("deskhost dev: building {} in {}", c.id, c.dir.display());
        let mut child = Command::new(&self.cargo)
            .current_dir(&c.dir)
            .args(["build", "--target", WASM_TARGET, "--release", "--color"])
            .arg(if self.color { "always" } else { "never" })
            .arg("--manifest-path")
            .arg(c.dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.cargo.to_string_lossy()))?;
        // Cargo's own output, to the terminal as it comes, and kept for the tile.
        let mut output = String::new();
        if let Some(stderr) = child.stderr.take() {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            let mut terminal = std::io::stderr();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let _ = terminal.write_all(&line);
                output.push_str(&String::from_utf8_lossy(&line));
                line.clear();
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("cargo did not finish: {e}"))?;
        if !status.success() {
            return Err(error_summary(&strip_ansi(&output)));
        }
        let wasm = target_dir
            .join(WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", lib_name(&c.dir)?));
        if !wasm.is_file() {
            return Err(format!(
                "cargo made no {}: Cargo.toml needs `crate-type = [\"cdylib\", \"rlib\"]` under [lib]",
                wasm.display()
            ));
        }
        Ok(wasm)
    }

    /// Whether `c` has a component installed (from an earlier build).
    fn installed(&self, c: &DevCrate) -> bool {
        let dir = self.plugins_dir.join(&c.id);
        std::fs::read_to_string(dir.join("plugin.toml"))
            .ok()
            .and_then(|text| Manifest::parse(&text, "plugin.toml").ok())
            .is_some_and(|m| dir.join(m.component).is_file())
    }

    /// Installs `wasm` and the crate's `plugin.toml` as the plugin
    /// directory of `c`. Returns whether a file changed.
    fn install(&self, c: &DevCrate, wasm: &Path) -> Result<bool, String> {
        let text = std::fs::read_to_string(c.dir.join("plugin.toml"))
            .map_err(|e| format!("cannot read plugin.toml: {e}"))?;
        let m = Manifest::parse(&text, "plugin.toml")?;
        if m.id != c.id {
            return Err(format!(
                "plugin.toml: the id changed from `{}` to `{}`; restart deskhost dev to serve it under the new id",
                c.id, m.id
            ));
        }
        let bytes =
            std::fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))?;
        let dest = self.plugins_dir.join(&c.id);
        // The component first, then the manifest that names it.
        let component = self.replace(&dest.join(&m.component), &bytes)?;
        let manifest = self.replace(&dest.join("plugin.toml"), text.as_bytes())?;
        Ok(component || manifest)
    }

    /// Puts `bytes` at `path` by renaming a staged copy over it, unless it
    /// holds them already. Returns whether it changed.
    fn replace(&self, path: &Path, bytes: &[u8]) -> Result<bool, String> {
        if std::fs::read(path).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        let fail = |what: &Path, e: std::io::Error| format!("cannot write {}: {e}", what.display());
        let staged = self
            .staging_dir
            .join(uuid::Uuid::new_v4().simple().to_string());
        for dir in [Some(self.staging_dir.as_path()), path.parent()]
            .into_iter()
            .flatten()
        {
            std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
        }
        std::fs::write(&staged, bytes).map_err(|e| fail(&staged, e))?;
        std::fs::rename(&staged, path).map_err(|e| {
            let _ = std::fs::remove_file(&staged);
            fail(path, e)
        })?;
        Ok(true)
    }

    /// Builds and installs `c`: whether the installed plugin changed, or
    /// what went wrong.
    fn build_and_install(&self, c: &DevCrate) -> Result<bool, String> {
        let wasm = self.build(c)?;
        self.install(c, &wasm)
    }
}

/// The library name of the crate at `dir`: `[lib] name`, else the package
/// name with `-` as `_`.
fn lib_name(dir: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let cargo: toml::Table = text
        .parse()
        .map_err(|e| format!("Cargo.toml is not valid TOML: {e}"))?;
    let name = cargo
        .get("lib")
        .and_then(|l| l.get("name"))
        .or_else(|| cargo.get("package").and_then(|p| p.get("name")))
        .and_then(toml::Value::as_str)
        .ok_or("Cargo.toml names no package")?;
    Ok(name.replace('-', "_"))
}

/// Removes terminal colour codes (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.clone().next() == Some('[') {
                for c in chars.by_ref().skip(1) {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The first error of cargo's output and where it is (`error[E0308]:
/// mismatched types` and its ` --> src/lib.rs:12:5` line); else the last
/// line cargo wrote.
pub fn error_summary(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(at) = lines.iter().position(|l| l.starts_with("error")) {
        let mut summary = lines[at].trim().to_string();
        if let Some(place) = lines
            .get(at + 1)
            .map(|l| l.trim())
            .filter(|l| l.starts_with("-->"))
        {
            summary.push('\n');
            summary.push_str(place);
        }
        return summary;
    }
    lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .unwrap_or("cargo build failed")
        .to_string()
}

fn table(v: &mut toml::Value) -> Result<&mut toml::Table, String> {
    v.as_table_mut()
        .ok_or_else(|| "the base layout has a value where a table belongs".to_string())
}

/// A layout: `base` (TOML) with a tile for each of `widgets` on every
/// role's home page, side by side from row 1 (the tiles already there move
/// down to make room), each granted the capabilities it asks for.
pub fn layout_with(base: &str, widgets: &[PluginInfo]) -> Result<String, String> {
    let mut doc: toml::Table = base
        .parse()
        .map_err(|e| format!("the base layout is not valid TOML: {e}"))?;
    if widgets.is_empty() {
        return Ok(base.to_string());
    }
    for w in widgets.iter().filter(|w| !w.capabilities.is_empty()) {
        let plugins = table(doc.entry("plugins").or_insert(toml::Table::new().into()))?;
        let config = table(plugins.entry(&w.id).or_insert(toml::Table::new().into()))?;
        config.insert("grants".into(), w.capabilities.clone().into());
    }
    // Side by side, wrapping at the grid's 12 columns.
    let mut placed = Vec::new();
    let (mut column, mut row, mut band) = (1i64, 1i64, 0i64);
    for w in widgets {
        let width = i64::from(w.default_width.clamp(1, 12));
        if column + width - 1 > 12 {
            row += band;
            column = 1;
            band = 0;
        }
        placed.push((w, column, row));
        column += width;
        band = band.max(i64::from(w.default_height.max(1)));
    }
    let shift = row + band - 1;
    if !Role::ALL.iter().any(|r| doc.contains_key(r.as_str())) {
        doc.insert(Role::Supervisor.as_str().into(), toml::Table::new().into());
    }
    for role in Role::ALL {
        let Some(desk) = doc.get_mut(role.as_str()) else {
            continue;
        };
        let desk = table(desk)?;
        // Widget ids are unique within a role, across its pages.
        let pages = desk
            .get("pages")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten();
        let taken: Vec<String> = std::iter::once(desk.get("home"))
            .flatten()
            .chain(pages)
            .filter_map(|page| page.get("widgets")?.as_array())
            .flatten()
            .filter_map(|w| Some(w.get("id")?.as_str()?.to_string()))
            .collect();
        let home = table(desk.entry("home").or_insert(toml::Table::new().into()))?;
        let tiles = home
            .entry("widgets")
            .or_insert(toml::Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or("the base layout's home widgets are not an array")?;
        for tile in tiles.iter_mut() {
            if let Some(r) = tile.get_mut("row")
                && let Some(n) = r.as_integer()
            {
                *r = (n + shift).into();
            }
        }
        let new: Vec<toml::Value> = placed
            .iter()
            .map(|(w, column, row)| {
                let id = if taken.contains(&w.id) {
                    format!("{}-dev", w.id)
                } else {
                    w.id.clone()
                };
                let mut tile = toml::Table::new();
                tile.insert("id".into(), id.into());
                tile.insert("plugin".into(), w.id.clone().into());
                tile.insert("column".into(), (*column).into());
                tile.insert("row".into(), (*row).into());
                tile.into()
            })
            .collect();
        tiles.splice(0..0, new);
    }
    let text = toml::to_string(&doc).map_err(|e| format!("cannot write the layout: {e}"))?;
    Ok(format!(
        "# Written by `deskhost dev`: the demo layout with a tile for each widget\n\
         # being developed. Edits go live at once; the next `deskhost dev` writes\n\
         # it anew (a crate's own dev-layout.toml is used instead when it has one).\n\n{text}"
    ))
}

/// The widgets among `crates`, as installed in `dir`, in `crates` order.
/// They are loaded (compiled, and so cached for the host) by a runtime of
/// their own.
fn dev_widgets(
    config: &HostConfig,
    crates: &[DevCrate],
    dir: &Path,
) -> Result<Vec<PluginInfo>, DevError> {
    let failed = |e: String| DevError::Failed(e);
    let kv = SqliteStore::in_memory().map_err(|e| failed(e.to_string()))?;
    let services = Services::without_sign_in(
        Arc::new(kv),
        Arc::new(Simulator::new(config.simulator_seed, crate::now_ms())),
    );
    let runtime = app::runtime(config, services).map_err(|e| failed(format!("{e:#}")))?;
    let (loaded, errors) = runtime.load_dir(dir);
    if let Some(e) = errors.first() {
        return Err(failed(format!("plugin not installed: {e}")));
    }
    Ok(crates
        .iter()
        .filter(|c| c.kind == PluginKind::Widget)
        .filter_map(|c| loaded.iter().find(|p| p.info.id == c.id))
        .map(|p| p.info.clone())
        .collect())
}

/// Whether a change at `path` calls for a rebuild of the crate at `root`.
pub fn is_source(root: &Path, path: &Path) -> bool {
    if path == root.join("Cargo.toml") || path == root.join("plugin.toml") {
        return true;
    }
    if !path.starts_with(root.join("src")) {
        return false;
    }
    // Editors' swap, backup and lock files are not sources.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name == "4913")
}

/// Watches the sources of `crates`, sending the index of a crate whose
/// source changed.
fn watch_sources(
    crates: &[DevCrate],
    tx: mpsc::Sender<usize>,
) -> notify::Result<notify::RecommendedWatcher> {
    let roots: Vec<PathBuf> = crates.iter().map(|c| c.dir.clone()).collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for path in &event.paths {
            if let Some(i) = roots.iter().position(|root| is_source(root, path)) {
                let _ = tx.send(i);
            }
        }
    })?;
    for c in crates {
        // Cargo.toml and plugin.toml: the crate directory itself, since
        // editors replace files by renaming over them.
        watcher.watch(&c.dir, RecursiveMode::NonRecursive)?;
        let src = c.dir.join("src");
        if src.is_dir() {
            watcher.watch(&src, RecursiveMode::Recursive)?;
        }
    }
    Ok(watcher)
}

/// Waits for the next change among the watched sources, and the ones that
/// follow it within [`DEBOUNCE`]: the indexes of the crates that changed,
/// or `None` when the watcher is gone.
fn next_changes(rx: &mpsc::Receiver<usize>) -> Option<BTreeSet<usize>> {
    let first = rx.recv().ok()?;
    let mut changed = BTreeSet::from([first]);
    while let Ok(i) = rx.recv_timeout(DEBOUNCE) {
        changed.insert(i);
    }
    Some(changed)
}

/// Rebuilds a crate whenever its sources change, until the watcher stops.
fn rebuild_on_change(
    host: Arc<Host>,
    builder: Builder,
    crates: Vec<DevCrate>,
    rx: mpsc::Receiver<usize>,
) {
    while let Some(changed) = next_changes(&rx) {
        for c in changed.into_iter().map(|i| &crates[i]) {
            let started = Instant::now();
            match builder.build_and_install(c) {
                Ok(changed) => {
                    let recovered = host.clear_build_failure(&c.id);
                    let what = match (changed, recovered) {
                        (true, _) => "the desktop is loading the new version",
                        (false, true) => {
                            "the component is the one installed: its tiles show it again"
                        }
                        (false, false) => "the component is the one installed",
                    };
                    eprintln!(
                        "deskhost dev: {} built in {:.1} s; {what}",
                        c.id,
                        started.elapsed().as_secs_f64()
                    );
                }
                Err(summary) => {
                    host.mark_build_failed(&c.id, &summary);
                    eprintln!(
                        "deskhost dev: {} did not build; the last good version stays installed, and its tiles show the error until a build succeeds",
                        c.id
                    );
                }
            }
        }
    }
}

/// A running dev loop: the host serving the crates, and the watchers that
/// rebuild them. Dropping it stops watching.
pub struct Dev {
    host: Arc<Host>,
    crates: Vec<DevCrate>,
    layout: PathBuf,
    _hot_reload: Option<HotReload>,
    _sources: notify::RecommendedWatcher,
}

impl Dev {
    /// The host; serve it with [`crate::web::serve`].
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The crates being developed.
    pub fn crates(&self) -> &[DevCrate] {
        &self.crates
    }

    /// The layout being served.
    pub fn layout(&self) -> &Path {
        &self.layout
    }

    /// What `deskhost dev` prints once it listens on `addr`: the address,
    /// what it serves, how to sign in.
    pub fn describe(&self, addr: std::net::SocketAddr, config: &HostConfig) -> String {
        let mut out = format!("deskhost dev is serving the desktop at http://{addr}/\n");
        out.push_str(&format!("  layout:  {}\n", self.layout.display()));
        for c in &self.crates {
            let version = self
                .host
                .plugins()
                .iter()
                .find(|p| p.info.id == c.id)
                .map(|p| p.info.version.to_string())
                .unwrap_or_default();
            out.push_str(&format!(
                "  plugin:  {} {version} ({}, from {})\n",
                c.id,
                c.kind,
                c.dir.display()
            ));
            let how = match c.kind {
                PluginKind::Widget => None,
                PluginKind::IdentityProvider => Some("[auth.identity] plugin"),
                PluginKind::StationProvider => Some("[auth.station] plugin"),
                PluginKind::CollaborationAuth => Some("a [[collaboration]] entry with plugin"),
            };
            let configured = [&config.auth.identity.plugin, &config.auth.station.plugin]
                .into_iter()
                .chain(config.collaboration.iter().map(|e| &e.plugin))
                .any(|p| *p == c.id);
            if let Some(how) = how
                && !configured
            {
                out.push_str(&format!(
                    "           installed, not in use: set {how} = \"{}\" in a --config file to try it\n",
                    c.id
                ));
            }
        }
        out.push_str("           and the embedded first-party plugins\n");
        out.push_str(&format!("  data:    {}\n", config.data_dir.display()));
        match config.demo_sign_in() {
            Some(help) => {
                out.push_str(&help);
                out.push('\n');
            }
            None => out.push_str(&format!(
                "  sign-in: {} (identity)\n",
                config.auth.identity.plugin
            )),
        }
        out.push_str("  Watching src/, Cargo.toml and plugin.toml: save to rebuild. Ctrl-C stops.");
        out
    }
}

/// Builds the crates, installs them and starts the host on them, with
/// the watchers that rebuild them on save. Blocks until every crate has a
/// component (see the module docs).
pub fn start(mut config: HostConfig, opts: &Options) -> Result<Dev, DevError> {
    let dirs = if opts.crates.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.crates.clone()
    };
    let crates = dirs
        .iter()
        .map(|d| DevCrate::open(d))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in crates.iter().enumerate() {
        if let Some(other) = crates[..i].iter().find(|o| o.id == c.id) {
            return Err(DevError::Usage(format!(
                "{} and {} are both plugin `{}`: give one of them another id",
                other.dir.display(),
                c.dir.display(),
                c.id
            )));
        }
    }
    let data_dir = std::path::absolute(&config.data_dir).map_err(|e| {
        DevError::Failed(format!(
            "cannot use the data directory {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let builder = Builder {
        cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        target_dir: opts.target_dir.clone(),
        color: std::io::stderr().is_terminal(),
        plugins_dir: data_dir.join(PLUGINS_DIR),
        staging_dir: data_dir.join(STAGING_DIR),
    };
    std::fs::create_dir_all(&builder.plugins_dir).map_err(|e| {
        DevError::Failed(format!(
            "cannot create {}: {e}",
            builder.plugins_dir.display()
        ))
    })?;
    // Plugins of earlier sessions that are not being developed now.
    for entry in std::fs::read_dir(&builder.plugins_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !crates.iter().any(|c| c.id == name) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }

    let mut failing = Vec::new();
    for c in &crates {
        match builder.build_and_install(c) {
            Ok(_) => {}
            Err(summary) if builder.installed(c) => {
                eprintln!(
                    "deskhost dev: {} did not build; serving the component of its last good build",
                    c.id
                );
                failing.push((c.id.clone(), summary));
            }
            Err(summary) => wait_until_built(&builder, c, &summary)?,
        }
    }

    config.plugin_dirs.push(builder.plugins_dir.clone());
    let layout = match crates.iter().find(|c| c.dir.join(LAYOUT_FILE).is_file()) {
        Some(c) => c.dir.join(LAYOUT_FILE),
        None => {
            let widgets = dev_widgets(&config, &crates, &builder.plugins_dir)?;
            let text = layout_with(EMBEDDED_LAYOUTS[0].1, &widgets).map_err(DevError::Failed)?;
            let path = data_dir.join(LAYOUT_FILE);
            std::fs::write(&path, text)
                .map_err(|e| DevError::Failed(format!("cannot write {}: {e}", path.display())))?;
            path
        }
    };
    config.layouts = vec![layout.clone()];
    let host = Arc::new(app::build(&config, &LayoutSource::from_config(&config))?);
    for (id, summary) in &failing {
        host.mark_build_failed(id, summary);
    }
    let hot_reload = crate::watch::start(host.clone()).map_err(|e| {
        DevError::Failed(format!(
            "cannot watch {}: {e}",
            builder.plugins_dir.display()
        ))
    })?;
    let (tx, rx) = mpsc::channel();
    let sources = watch_sources(&crates, tx)
        .map_err(|e| DevError::Failed(format!("cannot watch the crates' sources: {e}")))?;
    {
        let (host, crates) = (host.clone(), crates.clone());
        std::thread::Builder::new()
            .name("deskhost-dev".into())
            .spawn(move || rebuild_on_change(host, builder, crates, rx))
            .map_err(|e| DevError::Failed(format!("cannot start the rebuild thread: {e}")))?;
    }
    Ok(Dev {
        host,
        crates,
        layout,
        _hot_reload: hot_reload,
        _sources: sources,
    })
}

/// Waits until `c`, which did not build (`summary`) and has no component
/// yet, builds after a change of its sources.
fn wait_until_built(builder: &Builder, c: &DevCrate, summary: &str) -> Result<(), DevError> {
    eprintln!(
        "deskhost dev: {} did not build ({summary}).\n\
         deskhost dev: the desktop starts once it builds: fix it and save.",
        c.id,
    );
    let (tx, rx) = mpsc::channel();
    let _watcher = watch_sources(std::slice::from_ref(c), tx)
        .map_err(|e| DevError::Failed(format!("cannot watch {}: {e}", c.dir.display())))?;
    while next_changes(&rx).is_some() {
        match builder.build_and_install(c) {
            Ok(_) => return Ok(()),
            Err(summary) => eprintln!("deskhost dev: {} still does not build ({summary})", c.id),
        }
    }
    Err(DevError::Failed(format!(
        "stopped watching {}",
        c.dir.display()
    )))
}

/// `deskhost dev`: [`start`], then serve on `config.listen` until Ctrl-C.
pub fn run(config: HostConfig, opts: &Options) -> Result<(), DevError> {
    let dev = start(config.clone(), opts)?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| DevError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let failed = |e: anyhow::Error| DevError::Failed(format!("{e:#}"));
        let listener = crate::web::bind(config.listen).await.map_err(failed)?;
        let addr = listener
            .local_addr()
            .map_err(|e| DevError::Failed(e.to_string()))?;
        println!("{}", dev.describe(addr, &config));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let state = crate::web::AppState::new(dev.host().clone());
        crate::web::serve(listener, state, shutdown)
            .await
            .map_err(|e| DevError::Failed(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(id: &str, width: u8, height: u8, capabilities: &[&str]) -> PluginInfo {
        PluginInfo {
            id: id.into(),
            kind: PluginKind::Widget,
            version: semver::Version::new(0, 1, 0),
            name: id.into(),
            description: String::new(),
            settings: Vec::new(),
            default_width: width,
            default_height: height,
            refresh_seconds: 0,
            capabilities: capabilities.iter().map(|c| c.to_string()).collect(),
            api: semver::VersionReq::STAR,
        }
    }

    #[test]
    fn dev_widgets_go_first_on_every_home_page() {
        let base = EMBEDDED_LAYOUTS[0].1;
        let text = layout_with(
            base,
            &[
                widget("pulse", 8, 3, &["contact-center"]),
                widget("welcome", 6, 5, &[]),
            ],
        )
        .unwrap();
        let doc: toml::Table = text.parse().unwrap();
        assert_eq!(
            doc["plugins"]["pulse"]["grants"],
            toml::Value::Array(vec!["contact-center".into()])
        );
        let old: toml::Table = base.parse().unwrap();
        for role in Role::ALL {
            let tiles = doc[role.as_str()]["home"]["widgets"].as_array().unwrap();
            let before = old[role.as_str()]["home"]["widgets"].as_array().unwrap();
            assert_eq!(tiles.len(), before.len() + 2);
            // pulse at 1,1; welcome does not fit beside it (8 + 6 > 12), so
            // it goes below, at row 4; the others move down by 3 + 5.
            assert_eq!(tiles[0]["id"].as_str(), Some("pulse"));
            assert_eq!(tiles[0]["row"].as_integer(), Some(1));
            assert_eq!(tiles[1]["plugin"].as_str(), Some("welcome"));
            assert_eq!(tiles[1]["id"].as_str(), Some("welcome-dev"), "{role:?}");
            assert_eq!(tiles[1]["column"].as_integer(), Some(1));
            assert_eq!(tiles[1]["row"].as_integer(), Some(4));
            for (new, old) in tiles[2..].iter().zip(before) {
                assert_eq!(
                    new["row"].as_integer().unwrap(),
                    old["row"].as_integer().unwrap() + 8
                );
            }
        }
    }

    #[test]
    fn the_first_error_and_its_place_sum_up_a_failed_build() {
        let output = "\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m pulse v0.1.0\n\
                      warning: unused variable: `x`\n\
                      error[E0308]: mismatched types\n\
                      \x20 --> src/lib.rs:12:5\n\
                      \x20  |\n\
                      error: could not compile `pulse` (lib) due to 1 previous error\n";
        assert_eq!(
            error_summary(&strip_ansi(output)),
            "error[E0308]: mismatched types\n--> src/lib.rs:12:5"
        );
        assert_eq!(
            error_summary("error: manifest path `x` does not exist\n"),
            "error: manifest path `x` does not exist"
        );
        assert_eq!(strip_ansi("\u{1b}[1;31merror\u{1b}[0m: x"), "error: x");
    }

    #[test]
    fn sources_are_src_cargo_toml_and_plugin_toml() {
        let root = Path::new("/c");
        for yes in [
            "/c/src/lib.rs",
            "/c/src/view/mod.rs",
            "/c/Cargo.toml",
            "/c/plugin.toml",
        ] {
            assert!(is_source(root, Path::new(yes)), "{yes}");
        }
        for no in [
            "/c/target/release/x.wasm",
            "/c/Cargo.lock",
            "/c/src/.lib.rs.swp",
            "/c/src/lib.rs~",
            "/c/README.md",
            "/other/src/lib.rs",
        ] {
            assert!(!is_source(root, Path::new(no)), "{no}");
        }
    }
}
