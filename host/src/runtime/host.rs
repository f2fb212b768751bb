//! What the host gives a plugin instance: the per-call store state, the
//! generated bindings of the `widget-plugin` world, and the implementations
//! of its imports (log, clock, and the granted capabilities).

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::store::KvStore;

wasmtime::component::bindgen!({
    path: "../sdk/wit",
    world: "widget-plugin",
});

pub use deskhost::plugin::types;
use deskhost::plugin::{clock, kv, log};

/// Largest key a plugin may store, in bytes.
pub const MAX_KV_KEY: usize = 256;
/// Largest value a plugin may store, in bytes.
pub const MAX_KV_VALUE: usize = 64 * 1024;
/// Longest log line kept from a plugin, in bytes.
const MAX_LOG_LINE: usize = 4096;

/// The state of one plugin call's `Store`.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: StoreLimits,
    plugin: Arc<str>,
    widget: Arc<str>,
    grants: Arc<[String]>,
    kv: Arc<dyn KvStore>,
}

impl HostState {
    /// State for a call of `plugin` on behalf of widget instance `widget`.
    ///
    /// WASI is given nothing: no arguments, environment, files, sockets or
    /// standard streams.
    pub fn new(
        plugin: Arc<str>,
        widget: Arc<str>,
        grants: Arc<[String]>,
        kv: Arc<dyn KvStore>,
        memory_bytes: usize,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(32)
                .trap_on_grow_failure(true)
                .build(),
            plugin,
            widget,
            grants,
            kv,
        }
    }

    fn granted(&self, capability: &str) -> Result<(), kv::KvError> {
        if self.grants.iter().any(|g| g == capability) {
            return Ok(());
        }
        let message = format!(
            "capability `{capability}` is not granted to plugin `{plugin}`: add \
             `grants = [\"{capability}\"]` under `[plugins.{plugin}]` in the layout, or \
             `{plugin} = [\"{capability}\"]` under `[grants]` in the host config",
            plugin = self.plugin
        );
        tracing::warn!(plugin = %self.plugin, widget = %self.widget, capability, "denied: {message}");
        Err(kv::KvError::Denied(message))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Adds WASI and the deskhost imports to `linker`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    WidgetPlugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

impl types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, mut message: String) {
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let (plugin, widget) = (&*self.plugin, &*self.widget);
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, widget, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, widget, "{message}"),
        }
    }
}

impl clock::Host for HostState {
    fn now(&mut self) -> u64 {
        crate::now_ms()
    }
}

fn check_key(key: &str) -> Result<(), kv::KvError> {
    if key.len() > MAX_KV_KEY {
        return Err(kv::KvError::TooLarge(format!(
            "key of {} bytes is over the {MAX_KV_KEY}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

impl kv::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        self.kv
            .get(&self.plugin, &key)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        if value.len() > MAX_KV_VALUE {
            return Err(kv::KvError::TooLarge(format!(
                "value of {} bytes is over the {MAX_KV_VALUE}-byte limit",
                value.len()
            )));
        }
        self.kv
            .set(&self.plugin, &key, &value)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }

    fn delete(&mut self, key: String) -> Result<(), kv::KvError> {
        self.granted("kv")?;
        check_key(&key)?;
        self.kv
            .delete(&self.plugin, &key)
            .map_err(|e| kv::KvError::Store(e.to_string()))
    }
}
