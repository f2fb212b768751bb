//! The WebAssembly runtime: one shared wasmtime [`Engine`] with the
//! component model and the pooling allocator, an epoch ticker that enforces
//! call deadlines, the compiled-component cache, the installed plugins (one
//! `InstancePre` each) and the calls into them, each in a fresh `Store` under
//! a deadline and a memory cap.

pub mod auth;
mod cache;
pub mod sanitize;
pub use cache::content_hash;
pub mod collab;
pub mod host;
pub mod manifest;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use semver::Version;
use thiserror::Error;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Linker, Lower, TypedFunc,
};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use cache::CompileCache;
pub use cache::Origin;
pub use host::{Clock, Services, StationRegistry, SystemClock, types};
use host::{HostState, WidgetPluginPre};
use manifest::{Manifest, PluginKind};

use crate::config::Limits;
use crate::plugin::{Catalog, PluginInfo, SettingKind, SettingSpec, SettingValue};

/// How often the epoch ticker advances; the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Bytes of a plugin's linear memory the pooling allocator resets in place
/// after a call (zeroing or re-copying them), instead of handing them back
/// to the kernel to be faulted in again on the next call: measured as the
/// fastest in BENCHMARKS.md.
pub const MEMORY_KEPT_RESIDENT: u64 = 256 << 10;

/// The size of a WebAssembly page, in bytes.
const WASM_PAGE: u64 = 64 << 10;

/// A plugin that could not be loaded.
#[derive(Debug, Error)]
#[error("{origin}: {message}")]
pub struct LoadError {
    /// Where the plugin came from.
    pub origin: String,
    /// What went wrong and what to do about it.
    pub message: String,
}

/// Why a plugin call did not produce a view.
#[derive(Debug, Clone, Error)]
pub enum CallError {
    /// The widget returned an error of its own.
    #[error("{0}")]
    Widget(String),
    /// The call ran past its deadline and was stopped.
    #[error("did not answer within {} ms and was stopped", .0.as_millis())]
    Timeout(Duration),
    /// The plugin tried to grow its memory past its cap.
    #[error("went over its memory limit of {0} MiB")]
    Memory(u64),
    /// The plugin overflowed its stack.
    #[error("overflowed its stack")]
    StackOverflow,
    /// The plugin trapped (a panic, an unreachable, a bad memory access).
    #[error("crashed: {0}")]
    Trap(String),
    /// The plugin could not be instantiated.
    #[error("could not start: {0}")]
    Instantiate(String),
    /// The view was too large to show (see [`sanitize::MAX_ROWS`] and
    /// the other caps).
    #[error("returned a view too large to show: {0}")]
    TooLarge(String),
}

/// Per-call limits.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Wall-clock deadline.
    pub timeout: Duration,
    /// Memory cap in MiB.
    pub memory_mib: u64,
}

/// One installed plugin version, ready to instantiate.
pub struct LoadedPlugin {
    /// What it is.
    pub info: PluginInfo,
    /// Where it came from (a directory, or "embedded").
    pub source: String,
    /// Whether its compiled code came from the cache.
    pub origin: Origin,
    /// sha256 of its component, in hex: what exactly is installed.
    pub hash: String,
    /// Bytes of linear memory its component starts with (its largest
    /// memory), which the host resets after every call.
    pub starting_memory: u64,
    pre: Pre,
    id: Arc<str>,
}

/// A component linked and ready to instantiate, by world.
enum Pre {
    Widget(WidgetPre),
    Identity(auth::identity::IdentityProviderPre<HostState>),
    Station(auth::station::StationProviderPre<HostState>),
    Collaboration(collab::bindings::CollaborationAuthPre<HostState>),
}

/// A widget linked and ready to instantiate, with its `render` and
/// `on-action` exports found once at load.
///
/// Calls go through these indices without the per-instance type check the
/// generated bindings make (a fifth of a render's cost): every `WidgetPre`
/// belongs to a [`LoadedPlugin`], and [`Runtime::load`] only returns one after
/// its `describe` call, whose generated instantiation checks the types of
/// `describe`, `render` and `on-action` against the host's. A component's
/// types never change, so that one check holds for every later instance.
struct WidgetPre {
    pre: WidgetPluginPre<HostState>,
    render: ComponentExportIndex,
    on_action: ComponentExportIndex,
}

impl WidgetPre {
    /// Finds the widget interface's exports of `pre`.
    fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        let component = pre.component();
        let interface = component
            .get_export_index(None, WIDGET_INTERFACE)
            .ok_or_else(|| {
                wasmtime::format_err!("no exported instance named `{WIDGET_INTERFACE}`")
            })?;
        let func = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| {
                    wasmtime::format_err!("`{WIDGET_INTERFACE}` does not export `{name}`")
                })
        };
        let (render, on_action) = (func("render")?, func("on-action")?);
        Ok(WidgetPre {
            pre: WidgetPluginPre::new(pre)?,
            render,
            on_action,
        })
    }

    /// Export `index` of `instance` as a function of `Params` to `Return`,
    /// without checking its type.
    ///
    /// # Safety
    ///
    /// `Params` and `Return` must be the types that export was checked
    /// against when the plugin loaded.
    unsafe fn typed<Params, Return>(
        instance: &Instance,
        store: &mut Store<HostState>,
        index: ComponentExportIndex,
    ) -> wasmtime::Result<TypedFunc<Params, Return>>
    where
        Params: ComponentNamedList + Lower,
        Return: ComponentNamedList + Lift,
    {
        let func = instance
            .get_func(store, index)
            .ok_or_else(|| wasmtime::format_err!("the instance lacks an export found at load"))?;
        // SAFETY: the caller's promise.
        Ok(unsafe { TypedFunc::new_unchecked(func) })
    }
}

/// The widget interface as the generated bindings name it (the WIT package's
/// version; components built against older compatible versions match it).
const WIDGET_INTERFACE: &str = "deskhost:plugin/widget@0.1.1";

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.info.id)
            .field("version", &self.info.version)
            .field("source", &self.source)
            .finish()
    }
}

/// A call's inputs besides the plugin: who and what it is for.
pub struct Call<'a> {
    /// Widget instance id, for logs.
    pub widget: &'a str,
    /// Capabilities granted to the plugin.
    pub grants: Arc<[String]>,
    /// Limits.
    pub limits: CallLimits,
    /// The viewer.
    pub context: &'a types::Context,
    /// Complete settings.
    pub settings: &'a [types::Setting],
}

/// The shared engine and everything needed to run plugins.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: CompileCache,
    limits: Limits,
    services: Services,
    stop_ticker: Arc<AtomicBool>,
}

impl Runtime {
    /// Creates the engine (pooling allocator sized from `limits`), starts the
    /// epoch ticker, and uses `cache_dir` for compiled components.
    pub fn new(
        limits: &Limits,
        cache_dir: Option<PathBuf>,
        services: Services,
    ) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        let slots = limits.max_instances.max(1);
        pool.total_component_instances(slots)
            .total_core_instances(slots * 4)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .total_stacks(slots)
            .max_memory_size((limits.memory_mib as usize) << 20)
            // Resetting a slot by zeroing its first pages is cheaper than
            // unmapping them and faulting them back in on the next call.
            .linear_memory_keep_resident(MEMORY_KEPT_RESIDENT as usize)
            .table_keep_resident(16 << 10);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            // Off: widgets are synchronous, and a store set up for
            // concurrent execution makes every call about 2 µs slower (measured in
            // BENCHMARKS.md, "Engine settings").
            .concurrency_support(cfg!(feature = "wasm-concurrency"))
            .max_wasm_stack(512 * 1024)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .map_err(|e| anyhow::anyhow!("cannot create the wasmtime engine: {e:#}"))?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker)
            .map_err(|e| anyhow::anyhow!("cannot link host imports: {e:#}"))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let (ticker_engine, stop) = (engine.clone(), stop_ticker.clone());
        std::thread::Builder::new()
            .name("deskhost-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })?;
        Ok(Runtime {
            cache: CompileCache::new(&engine, cache_dir),
            engine,
            linker,
            limits: limits.clone(),
            services,
            stop_ticker,
        })
    }

    /// The host-wide limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Loads one plugin from its manifest text and component bytes.
    /// `origin` names it in errors and logs.
    pub fn load(
        &self,
        manifest_text: &str,
        wasm: &[u8],
        origin: &str,
    ) -> Result<LoadedPlugin, LoadError> {
        let err = |message: String| LoadError {
            origin: origin.to_owned(),
            message,
        };
        let manifest = Manifest::parse(manifest_text, origin).map_err(|m| LoadError {
            origin: origin.to_owned(),
            message: m.trim_start_matches(&format!("{origin}: ")).to_owned(),
        })?;
        let _span =
            tracing::info_span!("load_plugin", plugin = %manifest.id, version = %manifest.version)
                .entered();
        let started = std::time::Instant::now();
        let (component, origin_kind) = self
            .cache
            .load(&self.engine, wasm)
            .map_err(|e| err(format!("not a valid WebAssembly component: {e:#}")))?;
        let starting_memory = component
            .resources_required()
            .and_then(|r| r.max_initial_memory_size)
            .unwrap_or(0)
            * WASM_PAGE;
        let pre = self.linker.instantiate_pre(&component).map_err(|e| {
            err(format!(
                "imports something this host does not provide ({e:#}); build it against \
                 deskhost-sdk {} or older",
                crate::plugin::HOST_API_VERSION
            ))
        })?;
        let missing = |interface: &str, e: wasmtime::Error| {
            err(format!(
                "plugin.toml says kind = \"{}\", but the component does not export the \
                 `{interface}` interface: {e:#}",
                serde_json::to_value(manifest.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            ))
        };
        let pre = match manifest.kind {
            PluginKind::Widget => {
                Pre::Widget(WidgetPre::new(pre).map_err(|e| missing("widget", e))?)
            }
            PluginKind::IdentityProvider => Pre::Identity(
                auth::identity::IdentityProviderPre::new(pre)
                    .map_err(|e| missing("accounts", e))?,
            ),
            PluginKind::StationProvider => Pre::Station(
                auth::station::StationProviderPre::new(pre).map_err(|e| missing("stations", e))?,
            ),
            PluginKind::CollaborationAuth => Pre::Collaboration(
                collab::bindings::CollaborationAuthPre::new(pre)
                    .map_err(|e| missing("collaboration", e))?,
            ),
        };
        let mut loaded = LoadedPlugin {
            info: PluginInfo {
                id: manifest.id.clone(),
                kind: manifest.kind,
                version: manifest.version.clone(),
                name: manifest.id.clone(),
                description: String::new(),
                settings: Vec::new(),
                default_width: 4,
                default_height: 4,
                refresh_seconds: 0,
                capabilities: manifest.capabilities.clone(),
                api: manifest.api.clone(),
            },
            source: origin.to_owned(),
            origin: origin_kind,
            hash: cache::content_hash(wasm),
            starting_memory,
            pre,
            id: manifest.id.as_str().into(),
        };
        let meta = self
            .describe(&loaded)
            .map_err(|e| err(format!("its `describe` call failed: {e}")))?;
        if meta.id != manifest.id {
            return Err(err(format!(
                "its component says it is `{}`, but plugin.toml says `{}`",
                meta.id, manifest.id
            )));
        }
        if Version::parse(&meta.version).ok().as_ref() != Some(&manifest.version) {
            return Err(err(format!(
                "its component says version `{}`, but plugin.toml says `{}`",
                meta.version, manifest.version
            )));
        }
        let settings = meta
            .settings
            .into_iter()
            .map(setting_spec_from_wit)
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        loaded.info.name = meta.name;
        loaded.info.description = meta.description;
        loaded.info.settings = settings;
        loaded.info.default_width = meta.default_size.width.clamp(1, 12);
        loaded.info.default_height = meta.default_size.height.max(1);
        loaded.info.refresh_seconds = meta.refresh_seconds;
        tracing::info!(
            cached = origin_kind == Origin::Cached,
            ms = started.elapsed().as_millis() as u64,
            "plugin loaded"
        );
        if starting_memory > MEMORY_KEPT_RESIDENT {
            tracing::warn!(
                plugin = %loaded.info.id,
                source = origin,
                starting_kib = starting_memory >> 10,
                "plugin `{}` starts with {} KiB of linear memory, more than the {} KiB the \
                 host resets in place after a call, so every call maps the rest in again \
                 (about twice the cost of a call). Rust's default 1 MiB stack does this: \
                 link the component with a 64 KiB stack, as the build.rs of `deskhost new` \
                 does (\"Limits\" in docs/widget-guide.md)",
                loaded.info.id,
                starting_memory >> 10,
                MEMORY_KEPT_RESIDENT >> 10
            );
        }
        Ok(loaded)
    }

    /// Loads one plugin directory: its `plugin.toml` and the component the
    /// manifest names.
    pub fn load_plugin_dir(&self, plugin_dir: &Path) -> Result<LoadedPlugin, LoadError> {
        let origin = plugin_dir.display().to_string();
        let (text, wasm) = std::fs::read_to_string(plugin_dir.join("plugin.toml"))
            .map_err(|e| e.to_string())
            .and_then(|text| {
                let m = Manifest::parse(&text, &origin)?;
                let wasm = std::fs::read(plugin_dir.join(&m.component))
                    .map_err(|e| format!("cannot read component `{}`: {e}", m.component))?;
                Ok((text, wasm))
            })
            .map_err(|message| LoadError {
                message: message
                    .trim_start_matches(&format!("{origin}: "))
                    .to_owned(),
                origin: origin.clone(),
            })?;
        self.load(&text, &wasm, &origin)
    }

    /// Loads every plugin directory under `dir` (each a directory holding
    /// `plugin.toml` and its component). Returns the plugins that loaded and
    /// the errors of those that did not.
    pub fn load_dir(&self, dir: &Path) -> (Vec<LoadedPlugin>, Vec<LoadError>) {
        let mut loaded = Vec::new();
        let mut errors = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(LoadError {
                    origin: dir.display().to_string(),
                    message: format!("cannot read plugin directory: {e}"),
                });
                return (loaded, errors);
            }
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("plugin.toml").is_file())
            .collect();
        dirs.sort();
        for plugin_dir in dirs {
            match self.load_plugin_dir(&plugin_dir) {
                Ok(p) => loaded.push(p),
                Err(e) => errors.push(e),
            }
        }
        (loaded, errors)
    }

    fn store(
        &self,
        plugin: &LoadedPlugin,
        widget: &str,
        user: &str,
        grants: Arc<[String]>,
        limits: CallLimits,
    ) -> Store<HostState> {
        let memory = limits.memory_mib.min(self.limits.memory_mib) as usize;
        let state = HostState::new(
            plugin.id.clone(),
            plugin.info.kind,
            widget.into(),
            user.to_owned(),
            grants,
            self.services.clone(),
            memory << 20,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = limits.timeout.as_millis() / EPOCH_TICK.as_millis();
        store.set_epoch_deadline(ticks.max(1) as u64 + 1);
        store.epoch_deadline_trap();
        store
    }

    fn describe(&self, plugin: &LoadedPlugin) -> Result<types::Metadata, CallError> {
        let limits = self.default_call_limits();
        let mut store = self.store(plugin, "(describe)", "", Arc::from([]), limits);
        let result = match &plugin.pre {
            Pre::Widget(widget) => widget
                .pre
                .instantiate(&mut store)
                .and_then(|i| i.deskhost_plugin_widget().call_describe(&mut store)),
            Pre::Identity(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.deskhost_plugin_accounts().call_describe(&mut store)),
            Pre::Station(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.deskhost_plugin_stations().call_describe(&mut store)),
            Pre::Collaboration(pre) => pre
                .instantiate(&mut store)
                .and_then(|i| i.deskhost_plugin_collaboration().call_describe(&mut store)),
        };
        result.map_err(|e| classify(e, limits))
    }

    /// The host-wide limits as call limits.
    pub fn default_call_limits(&self) -> CallLimits {
        CallLimits {
            timeout: self.limits.timeout,
            memory_mib: self.limits.memory_mib,
        }
    }

    /// Renders a widget. Blocking: run it off the async executor.
    pub fn render(&self, plugin: &LoadedPlugin, call: &Call<'_>) -> Result<types::View, CallError> {
        self.invoke(plugin, call, |instance, widget, store| {
            // SAFETY: these are the types `render` was checked against at
            // load (see `WidgetPre`).
            let render = unsafe {
                WidgetPre::typed::<
                    (&types::Context, &[types::Setting]),
                    (Result<types::View, types::Error>,),
                >(instance, store, widget.render)?
            };
            render
                .call(store, (call.context, call.settings))
                .map(|(result,)| result)
        })
    }

    /// Sends an action to a widget. Blocking: run it off the async executor.
    pub fn on_action(
        &self,
        plugin: &LoadedPlugin,
        call: &Call<'_>,
        action: &types::Action,
    ) -> Result<types::View, CallError> {
        self.invoke(plugin, call, |instance, widget, store| {
            // SAFETY: these are the types `on-action` was checked against at
            // load (see `WidgetPre`).
            let on_action = unsafe {
                WidgetPre::typed::<
                    (&types::Context, &[types::Setting], &types::Action),
                    (Result<types::View, types::Error>,),
                >(instance, store, widget.on_action)?
            };
            on_action
                .call(store, (call.context, call.settings, action))
                .map(|(result,)| result)
        })
    }

    fn invoke(
        &self,
        plugin: &LoadedPlugin,
        call: &Call<'_>,
        f: impl FnOnce(
            &Instance,
            &WidgetPre,
            &mut Store<HostState>,
        ) -> wasmtime::Result<Result<types::View, types::Error>>,
    ) -> Result<types::View, CallError> {
        let _span =
            tracing::debug_span!("plugin_call", plugin = %plugin.info.id, widget = call.widget)
                .entered();
        let Pre::Widget(widget) = &plugin.pre else {
            return Err(CallError::Instantiate(format!(
                "plugin `{}` is {}, not a widget",
                plugin.info.id,
                plugin.info.kind.article()
            )));
        };
        // Layouts are validated against the host's limits; never trust
        // that a caller did so.
        let limits = CallLimits {
            timeout: call.limits.timeout.min(self.limits.timeout),
            memory_mib: call.limits.memory_mib,
        };
        let mut store = self.store(
            plugin,
            call.widget,
            &call.context.user_id,
            call.grants.clone(),
            limits,
        );
        let instance = widget
            .pre
            .instance_pre()
            .instantiate(&mut store)
            .map_err(|e| classify(e, limits))?;
        match f(&instance, widget, &mut store) {
            Ok(Ok(mut view)) => match sanitize::sanitize(&mut view).too_large() {
                None => Ok(view),
                Some(what) => Err(CallError::TooLarge(what)),
            },
            Ok(Err(e)) => Err(CallError::Widget(e.message)),
            Err(e) => Err(classify(e, limits)),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Turns a wasmtime error into what the user is told.
fn classify(e: wasmtime::Error, limits: CallLimits) -> CallError {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => CallError::Timeout(limits.timeout),
            Trap::StackOverflow => CallError::StackOverflow,
            Trap::UnreachableCodeReached => CallError::Trap("the plugin panicked".into()),
            // "wasm trap: out of bounds memory access" reads "crashed: out
            // of bounds memory access" in the tile.
            other => CallError::Trap(
                other
                    .to_string()
                    .trim_start_matches("wasm trap: ")
                    .to_owned(),
            ),
        };
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory")
        || text.contains("memory") && text.contains("limit")
    {
        return CallError::Memory(limits.memory_mib);
    }
    if text.contains("instance") && (text.contains("pool") || text.contains("limit")) {
        return CallError::Instantiate(text);
    }
    CallError::Trap(text)
}

fn setting_spec_from_wit(s: types::SettingSpec) -> Result<SettingSpec, String> {
    let kind = match s.kind {
        types::SettingKind::Text => SettingKind::Text,
        types::SettingKind::Integer => SettingKind::Integer,
        types::SettingKind::Number => SettingKind::Number,
        types::SettingKind::Boolean => SettingKind::Boolean,
        types::SettingKind::TextList => SettingKind::TextList,
    };
    let default = s.default.map(setting_value_from_wit);
    if let Some(d) = &default
        && d.kind() != kind
        && !(kind == SettingKind::Number && d.kind() == SettingKind::Integer)
    {
        return Err(format!(
            "its setting `{}` is declared as {kind} but its default is {}",
            s.name,
            d.kind()
        ));
    }
    Ok(SettingSpec {
        name: s.name,
        kind,
        doc: s.doc,
        default,
        required: s.required,
        choices: s.choices,
    })
}

fn setting_value_from_wit(v: types::SettingValue) -> SettingValue {
    match v {
        types::SettingValue::Text(s) => SettingValue::Text(s),
        types::SettingValue::Integer(i) => SettingValue::Integer(i),
        types::SettingValue::Number(n) => SettingValue::Number(n),
        types::SettingValue::Boolean(b) => SettingValue::Boolean(b),
        types::SettingValue::TextList(l) => SettingValue::TextList(l),
    }
}

/// A layout setting as the WIT type handed to plugins.
pub fn setting_to_wit(name: &str, value: &SettingValue) -> types::Setting {
    types::Setting {
        name: name.to_owned(),
        value: match value {
            SettingValue::Text(s) => types::SettingValue::Text(s.clone()),
            SettingValue::Integer(i) => types::SettingValue::Integer(*i),
            SettingValue::Number(n) => types::SettingValue::Number(*n),
            SettingValue::Boolean(b) => types::SettingValue::Boolean(*b),
            SettingValue::TextList(l) => types::SettingValue::TextList(l.clone()),
        },
    }
}

/// The installed plugins: every loaded version of every plugin.
#[derive(Debug, Default)]
pub struct Plugins {
    by_id: BTreeMap<String, Vec<Arc<LoadedPlugin>>>,
}

impl Plugins {
    /// Adds a plugin; refuses a second copy of the same id and version.
    pub fn insert(&mut self, plugin: LoadedPlugin) -> Result<(), LoadError> {
        let versions = self.by_id.entry(plugin.info.id.clone()).or_default();
        if let Some(existing) = versions
            .iter()
            .find(|p| p.info.version == plugin.info.version)
        {
            return Err(LoadError {
                origin: plugin.source.clone(),
                message: format!(
                    "plugin `{}` {} is already installed from {}; remove one of the two",
                    plugin.info.id, plugin.info.version, existing.source
                ),
            });
        }
        versions.push(Arc::new(plugin));
        Ok(())
    }

    /// The installed plugin `id` at exactly `version`.
    pub fn get(&self, id: &str, version: &Version) -> Option<&Arc<LoadedPlugin>> {
        self.by_id
            .get(id)?
            .iter()
            .find(|p| &p.info.version == version)
    }

    /// Every installed plugin.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedPlugin>> {
        self.by_id.values().flatten()
    }
}

impl Catalog for Plugins {
    fn versions(&self, id: &str) -> Vec<&PluginInfo> {
        self.by_id
            .get(id)
            .map(|v| v.iter().map(|p| &p.info).collect())
            .unwrap_or_default()
    }

    fn ids(&self) -> Vec<&str> {
        self.by_id.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widget_interface_is_the_host_api_version() {
        assert_eq!(
            WIDGET_INTERFACE,
            format!("deskhost:plugin/widget@{}", crate::plugin::HOST_API_VERSION),
            "bump WIDGET_INTERFACE with the WIT package"
        );
    }

    #[test]
    fn traps_are_described_without_wasmtime_jargon() {
        let limits = CallLimits {
            timeout: Duration::from_millis(250),
            memory_mib: 64,
        };
        let message = |trap| classify(wasmtime::Error::new(trap), limits).to_string();
        // What a plugin that overflows its shadow stack (in linear
        // memory) gets: see "Limits" in docs/widget-guide.md.
        assert_eq!(
            message(Trap::MemoryOutOfBounds),
            "crashed: out of bounds memory access"
        );
        assert_eq!(
            message(Trap::IntegerDivisionByZero),
            "crashed: integer divide by zero"
        );
        assert_eq!(
            message(Trap::UnreachableCodeReached),
            "crashed: the plugin panicked"
        );
        assert_eq!(message(Trap::StackOverflow), "overflowed its stack");
        assert!(matches!(
            classify(wasmtime::Error::new(Trap::Interrupt), limits),
            CallError::Timeout(t) if t == limits.timeout
        ));
    }
}
