//! Putting a host together from its configuration: open the store, start
//! the runtime, install the plugins (embedded first-party ones and plugin
//! directories), check the layout and bind it into a [`Desktop`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use thiserror::Error;

use crate::auth::{Auth, Registry};
use crate::collaboration::Collaboration;
use crate::config::HostConfig;
use crate::contact_center::{ContactCenter, Simulator};
use crate::desktop::{Changes, Desktop, Desktops};
use crate::embedded::EMBEDDED_PLUGINS;
use crate::layout::{self, Layout, ValidateOptions};
use crate::mail::HostMailer;
use crate::runtime::{LoadError, Plugins, Runtime, Services};
use crate::store::{KvStore, SessionStore, SqliteStore, TokenStore};

/// The layouts shipped in the binary, used when no layout is given: the
/// global demo desktop and an example layout for one team. (name, text)
pub const EMBEDDED_LAYOUTS: &[(&str, &str)] = &[
    ("layouts/demo.toml", include_str!("../../layouts/demo.toml")),
    (
        "layouts/team-support.toml",
        include_str!("../../layouts/team-support.toml"),
    ),
    (
        "layouts/team-billing.toml",
        include_str!("../../layouts/team-billing.toml"),
    ),
];

/// Where a layout comes from.
#[derive(Debug, Clone)]
pub enum LayoutSource {
    /// One of the [`EMBEDDED_LAYOUTS`], by index.
    Embedded(usize),
    /// A file.
    File(PathBuf),
}

impl LayoutSource {
    /// The layouts the config asks for, or the embedded ones.
    pub fn from_config(config: &HostConfig) -> Vec<Self> {
        if config.layouts.is_empty() {
            (0..EMBEDDED_LAYOUTS.len())
                .map(LayoutSource::Embedded)
                .collect()
        } else {
            config
                .layouts
                .iter()
                .cloned()
                .map(LayoutSource::File)
                .collect()
        }
    }

    /// Its name in diagnostics.
    pub fn name(&self) -> String {
        match self {
            LayoutSource::Embedded(i) => EMBEDDED_LAYOUTS[*i].0.to_string(),
            LayoutSource::File(p) => p.display().to_string(),
        }
    }

    /// Reads it: (name for diagnostics, text).
    pub fn read(&self) -> std::io::Result<(String, String)> {
        match self {
            LayoutSource::Embedded(i) => Ok((self.name(), EMBEDDED_LAYOUTS[*i].1.to_string())),
            LayoutSource::File(p) => Ok((self.name(), std::fs::read_to_string(p)?)),
        }
    }
}

/// Why the host could not be assembled.
#[derive(Debug, Error)]
pub enum StartError {
    /// The layout has errors; `report` holds the rendered diagnostics.
    #[error("the layout {name} has errors, so deskhost will not start:\n{report}")]
    InvalidLayout {
        /// The layout's name.
        name: String,
        /// Diagnostics, rendered.
        report: String,
    },
    /// The layout could not be read.
    #[error("cannot read layout {path}: {source}")]
    ReadLayout {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Something else (data dir, store, engine).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The validation bounds that follow from the host config.
pub fn validate_options(config: &HostConfig) -> ValidateOptions {
    ValidateOptions {
        max_timeout: config.limits.timeout,
        max_memory_mib: config.limits.memory_mib,
        known_teams: None,
    }
}

/// [`validate_options`], knowing the teams of `contact_center` (so that a
/// layout naming another team gets a warning).
pub fn validate_options_for(
    config: &HostConfig,
    contact_center: &dyn ContactCenter,
) -> ValidateOptions {
    ValidateOptions {
        known_teams: contact_center
            .teams()
            .ok()
            .map(|teams| teams.into_iter().map(|t| t.id).collect()),
        ..validate_options(config)
    }
}

/// Composes the team overlays among `layouts` onto the global layout
/// (`texts[i]` is the source of `layouts[i]`, for the diagnostics).
/// Warnings are logged; errors come back rendered, file by file.
pub fn compose_layouts(layouts: &mut [Layout], texts: &[String]) -> Result<(), String> {
    let found = layout::compose::compose(layouts);
    let mut report = String::new();
    for (i, layout) in layouts.iter().enumerate() {
        let diags: Vec<layout::Diagnostic> = found
            .iter()
            .filter(|(at, _)| *at == i)
            .map(|(_, d)| d.clone())
            .collect();
        if diags.is_empty() {
            continue;
        }
        let name = layout.path.display().to_string();
        let text = texts.get(i).map_or("", String::as_str);
        if diags.iter().any(|d| d.severity == layout::Severity::Error) {
            report.push_str(&layout::render_text(&diags, &name, text, false));
        } else {
            for d in &diags {
                let (line, col) = d.line_col(text);
                tracing::warn!("{name}:{line}:{col}: {}", d.message);
            }
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// Starts a runtime for `config`, with compiled components cached in the
/// data dir.
pub fn runtime(config: &HostConfig, services: Services) -> anyhow::Result<Runtime> {
    Runtime::new(
        &config.limits,
        Some(config.data_dir.join("cache")),
        services,
    )
}

/// The embedded contact-center simulator, seeded from the config, kept
/// moving with the wall clock by a background thread that stops when the
/// simulator is dropped.
pub fn simulator(config: &HostConfig) -> Arc<Simulator> {
    let sim = Arc::new(Simulator::demo(config.simulator_seed, crate::now_ms()));
    let weak = Arc::downgrade(&sim);
    let spawned = std::thread::Builder::new()
        .name("deskhost-simulator".into())
        .spawn(move || {
            while let Some(sim) = weak.upgrade() {
                sim.advance_to(crate::now_ms());
                drop(sim);
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(
            "cannot start the simulator thread: {e}; contact-center data will not move"
        );
    }
    sim
}

/// Removes ended sessions (idle, too old, never signed in) every few
/// minutes, from a background thread that stops with the service.
fn purge_sessions_regularly(auth: &Arc<Auth>) {
    let weak = Arc::downgrade(auth);
    let spawned = std::thread::Builder::new()
        .name("deskhost-sessions".into())
        .spawn(move || {
            loop {
                for _ in 0..300 {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    if weak.strong_count() == 0 {
                        return;
                    }
                }
                let Some(auth) = weak.upgrade() else { return };
                let removed = auth.purge();
                if removed > 0 {
                    tracing::info!(removed, "ended sessions removed");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(
            "cannot start the session clean-up thread: {e}; ended sessions stay in the store"
        );
    }
}

/// Installs the plugins the config asks for. Plugins that fail to load are
/// returned as errors (and logged); the rest are installed.
pub fn install_plugins(runtime: &Runtime, config: &HostConfig) -> (Plugins, Vec<LoadError>) {
    let mut plugins = Plugins::default();
    let mut errors = Vec::new();
    let mut loaded = Vec::new();
    if config.embedded_plugins {
        for (manifest, wasm) in EMBEDDED_PLUGINS {
            let origin = format!(
                "embedded:{}",
                crate::runtime::manifest::Manifest::parse(manifest, "embedded")
                    .map(|m| m.id)
                    .unwrap_or_default()
            );
            match runtime.load(manifest, wasm, &origin) {
                Ok(p) => loaded.push(p),
                Err(e) => errors.push(e),
            }
        }
    }
    for dir in &config.plugin_dirs {
        let (ok, errs) = runtime.load_dir(dir);
        loaded.extend(ok);
        errors.extend(errs);
    }
    for p in loaded {
        if let Err(e) = plugins.insert(p) {
            errors.push(e);
        }
    }
    for e in &errors {
        tracing::error!("plugin not installed: {e}");
    }
    (plugins, errors)
}

/// Reads and checks a layout against `plugins`; warnings are logged.
pub fn load_layout(
    source: &LayoutSource,
    plugins: &Plugins,
    opts: &ValidateOptions,
    plugin_errors: &[LoadError],
) -> Result<Layout, StartError> {
    let (name, text) = source.read().map_err(|e| StartError::ReadLayout {
        path: PathBuf::from(source.name()),
        source: e,
    })?;
    let checked = layout::check(Path::new(&name), &text, plugins, opts);
    for d in checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == layout::Severity::Warning)
    {
        let (line, col) = d.line_col(&text);
        tracing::warn!("{name}:{line}:{col}: {}", d.message);
    }
    match checked.layout {
        Some(l) => Ok(l),
        None => {
            let mut report = layout::render_text(&checked.diagnostics, &name, &text, false);
            for e in plugin_errors {
                report.push_str(&format!("note: a plugin failed to load: {e}\n"));
            }
            Err(StartError::InvalidLayout { name, report })
        }
    }
}

/// How the last reload went, for the log and the health endpoint.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReloadStatus {
    /// Reloads attempted since start.
    pub attempts: u64,
    /// Unix ms of the last attempt.
    pub at_ms: u64,
    /// Whether the last attempt went live.
    pub applied: bool,
    /// Problems of the last attempt (rendered diagnostics, load errors,
    /// missing files whose last good version is kept).
    pub problems: Vec<String>,
}

/// A running host: the parts that outlive a reload (runtime, services)
/// and the desktops being served, which a reload swaps atomically.
pub struct Host {
    config: HostConfig,
    sources: Vec<LayoutSource>,
    runtime: Arc<Runtime>,
    contact_center: Arc<dyn ContactCenter>,
    simulator: Arc<Simulator>,
    changes: Changes,
    desktops: Arc<ArcSwap<Desktops>>,
    plugins: Arc<ArcSwap<Plugins>>,
    auth: Arc<Auth>,
    collaboration: Arc<Collaboration>,
    /// The text of every layout's last good version, by name.
    last_good: Mutex<BTreeMap<String, String>>,
    status: Mutex<ReloadStatus>,
}

impl Host {
    /// The desktops being served; a reload replaces what it points to.
    pub fn desktops(&self) -> Arc<ArcSwap<Desktops>> {
        self.desktops.clone()
    }

    /// The simulated contact center behind the desktop.
    pub fn simulator(&self) -> &Arc<Simulator> {
        &self.simulator
    }

    /// The sign-in service.
    pub fn auth(&self) -> &Arc<Auth> {
        &self.auth
    }

    /// The collaboration tools service.
    pub fn collaboration(&self) -> &Arc<Collaboration> {
        &self.collaboration
    }

    /// The installed plugins.
    pub fn plugins(&self) -> Arc<Plugins> {
        self.plugins.load_full()
    }

    /// The host configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The layouts being served.
    pub fn sources(&self) -> &[LayoutSource] {
        &self.sources
    }

    /// The text of every layout's last good version (the one serving), by
    /// name.
    pub fn served_texts(&self) -> BTreeMap<String, String> {
        self.last_good
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How the last reload went.
    pub fn reload_status(&self) -> ReloadStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks plugin `id` as failing to build (`deskhost dev`): its tiles
    /// show "Build failed: `summary`" until [`Host::clear_build_failure`].
    pub fn mark_build_failed(&self, id: &str, summary: &str) {
        self.changes.mark_build_failed(id, summary);
    }

    /// Clears the build failure mark of plugin `id`, which built again;
    /// returns whether it had one.
    pub fn clear_build_failure(&self, id: &str) -> bool {
        self.changes.clear_build_failure(id)
    }

    /// Reloads plugins and layouts. Everything is checked first; the new
    /// desktops go live in one atomic swap only if every plugin loaded and
    /// every layout is valid. Otherwise the last good version keeps
    /// serving and the problems are logged and kept in the status. A
    /// layout file that disappeared keeps its last good version.
    pub fn reload(&self) -> ReloadStatus {
        let _span = tracing::info_span!("reload").entered();
        let started = std::time::Instant::now();
        let mut problems = Vec::new();
        let (fresh, errors) = install_plugins(&self.runtime, &self.config);
        let plugins = if errors.is_empty() {
            Arc::new(fresh)
        } else {
            for e in &errors {
                problems.push(format!("plugin not reloaded: {e}"));
            }
            self.plugins.load_full()
        };
        let opts = validate_options_for(&self.config, &*self.contact_center);
        let mut texts = BTreeMap::new();
        let mut sources_in_order = Vec::new();
        let mut layouts = Vec::new();
        {
            let last_good = self.last_good.lock().unwrap_or_else(|p| p.into_inner());
            for source in &self.sources {
                let name = source.name();
                let text = match source.read() {
                    Ok((_, text)) => text,
                    Err(e) => match last_good.get(&name) {
                        Some(t) => {
                            problems.push(format!(
                                "{name}: cannot read it ({e}); its last good version keeps serving until a valid file is back"
                            ));
                            t.clone()
                        }
                        None => {
                            problems.push(format!("{name}: cannot read it: {e}"));
                            continue;
                        }
                    },
                };
                let checked = layout::check(Path::new(&name), &text, &*plugins, &opts);
                match checked.layout {
                    Some(l) => {
                        layouts.push(l);
                        sources_in_order.push(text.clone());
                        texts.insert(name, text);
                    }
                    None => problems.push(layout::render_text(
                        &checked.diagnostics,
                        &name,
                        &text,
                        false,
                    )),
                }
            }
        }
        let mut invalid = problems.iter().any(|p| !p.contains("keeps serving until"))
            || layouts.len() != self.sources.len();
        if !invalid && let Err(report) = compose_layouts(&mut layouts, &sources_in_order) {
            problems.push(report);
            invalid = true;
        }
        let applied = !invalid
            && match self.desktops_from(layouts, &plugins) {
                Ok(d) => {
                    self.desktops.store(Arc::new(d));
                    self.plugins.store(plugins);
                    self.last_good
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(texts);
                    true
                }
                Err(e) => {
                    problems.push(e);
                    false
                }
            };
        let ms = started.elapsed().as_millis() as u64;
        metrics::counter!("deskhost_reloads_total", "result" => if applied { "applied" } else { "rejected" })
            .increment(1);
        metrics::histogram!("deskhost_reload_seconds").record(started.elapsed().as_secs_f64());
        if applied {
            tracing::info!(ms, "reload applied");
        } else {
            tracing::error!(ms, "reload rejected; the last good version keeps serving");
        }
        for p in &problems {
            tracing::warn!("{p}");
        }
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        status.attempts += 1;
        status.at_ms = crate::now_ms();
        status.applied = applied;
        status.problems = problems;
        status.clone()
    }

    fn desktops_from(
        &self,
        layouts: Vec<Layout>,
        plugins: &Arc<Plugins>,
    ) -> Result<Desktops, String> {
        desktops(
            layouts,
            plugins,
            &self.runtime,
            &self.contact_center,
            &self.changes,
            &self.config,
        )
    }
}

/// Binds every layout to the plugins and services.
fn desktops(
    layouts: Vec<Layout>,
    plugins: &Arc<Plugins>,
    runtime: &Arc<Runtime>,
    contact_center: &Arc<dyn ContactCenter>,
    changes: &Changes,
    config: &HostConfig,
) -> Result<Desktops, String> {
    Desktops::new(
        layouts
            .into_iter()
            .map(|layout| {
                Desktop::new(
                    layout,
                    plugins.clone(),
                    runtime.clone(),
                    contact_center.clone(),
                    changes.clone(),
                    &config.grants,
                )
            })
            .collect(),
    )
}

/// Assembles the whole host: store, runtime, plugins, layouts, desktops.
/// Unlike a reload, a start refuses any invalid layout.
pub fn build(config: &HostConfig, sources: &[LayoutSource]) -> Result<Host, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let store = Arc::new(SqliteStore::open(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the store in {}: {e}",
            config.data_dir.display()
        )
    })?);
    let sessions: Arc<dyn SessionStore> = store.clone();
    let tokens: Arc<dyn TokenStore> = store.clone();
    let kv: Arc<dyn KvStore> = store;
    let sim = simulator(config);
    let contact_center: Arc<dyn ContactCenter> = sim.clone();
    let services = Services {
        kv,
        contact_center: contact_center.clone(),
        mail: Arc::new(HostMailer::new(&config.mail, &config.data_dir)?),
        stations: Arc::new(Registry::new(sessions.clone(), &config.auth)),
        clock: Arc::new(crate::runtime::SystemClock),
    };
    let runtime = Arc::new(runtime(config, services)?);
    let (plugins, errors) = install_plugins(&runtime, config);
    let plugins = Arc::new(plugins);
    let shared_plugins = Arc::new(ArcSwap::new(plugins.clone()));
    let auth = Arc::new(Auth::new(
        config.auth.clone(),
        runtime.clone(),
        shared_plugins.clone(),
        sessions,
        contact_center.clone(),
    ));
    auth.check_providers()
        .map_err(|e| anyhow::anyhow!("sign-in is not set up: {e}"))?;
    purge_sessions_regularly(&auth);
    let key_file = config
        .token_key_file
        .clone()
        .unwrap_or_else(|| config.data_dir.join("token.key"));
    let collaboration = Arc::new(Collaboration::new(
        config.collaboration.clone(),
        runtime.clone(),
        shared_plugins.clone(),
        tokens,
        crate::collaboration::load_key(&key_file)?,
        config.auth.call_timeout,
    ));
    collaboration
        .check()
        .map_err(|e| anyhow::anyhow!("collaboration tools are not set up: {e}"))?;
    let mut layouts = Vec::new();
    let mut texts = Vec::new();
    let mut last_good = BTreeMap::new();
    let opts = validate_options_for(config, &*contact_center);
    for source in sources {
        let layout = load_layout(source, &plugins, &opts, &errors)?;
        let (name, text) = source.read().unwrap_or_default();
        last_good.insert(name, text.clone());
        texts.push(text);
        layouts.push(layout);
    }
    compose_layouts(&mut layouts, &texts).map_err(|report| StartError::InvalidLayout {
        name: "the team overlays".into(),
        report,
    })?;
    let changes = Changes::default();
    let served = desktops(
        layouts,
        &plugins,
        &runtime,
        &contact_center,
        &changes,
        config,
    )
    .map_err(|e| StartError::Other(anyhow::anyhow!(e)))?;
    Ok(Host {
        config: config.clone(),
        sources: sources.to_vec(),
        runtime,
        contact_center,
        simulator: sim,
        changes,
        desktops: Arc::new(ArcSwap::from_pointee(served)),
        plugins: shared_plugins,
        auth,
        collaboration,
        last_good: Mutex::new(last_good),
        status: Mutex::new(ReloadStatus::default()),
    })
}
