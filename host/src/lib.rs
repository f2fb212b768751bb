//! # deskhost
//!
//! A host that builds a contact-center supervisor desktop out of
//! WebAssembly widget plugins placed by admin-written TOML layouts.
//!
//! Modules, one concern each:
//! - [`config`]: host configuration and limits;
//! - [`plugin`]: what a plugin is, independent of the runtime;
//! - [`runtime`]: wasmtime engine, compiled-component cache, plugin calls;
//! - [`layout`]: layout files, their validation and diagnostics;
//! - [`desktop`]: assembling a page for a viewer from layout and plugins;
//! - [`health`]: quarantine of widgets that keep failing;
//! - [`admin`]: the admin status page's report and the journal of
//!   tracking IDs;
//! - [`web`]: the HTTP server and the HTML of the desktop;
//! - [`contact_center`]: contact-center data and its simulator;
//! - [`watch`]: hot reload of layouts and plugins;
//! - [`auth`]: sign-in, station credentials and sessions around the
//!   identity and station provider plugins;
//! - [`collaboration`]: collaboration tools (Microsoft Teams): the
//!   connect flow and the custody of the tokens;
//! - [`mail`]: outgoing mail (outbox folder or SMTP);
//! - [`app`]: wiring it all from the host config;
//! - [`scaffold`]: `deskhost new`, plugin crates from templates;
//! - [`dev`]: `deskhost dev`, build, serve and rebuild plugin crates;
//! - [`store`]: persistent storage (SQLite).

pub mod admin;
pub mod app;
pub mod auth;
pub mod collaboration;
pub mod config;
pub mod contact_center;
pub mod desktop;
pub mod dev;
pub mod health;
pub mod layout;
pub mod mail;
pub mod plugin;
pub mod runtime;
pub mod scaffold;
pub mod store;
pub mod watch;
pub mod web;

/// First-party plugins built by `build.rs` and embedded in the binary.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_plugins.rs"));

    /// Directory of the test plugins that `build.rs` builds (one plugin
    /// directory each). Used by the test suites.
    pub const TEST_PLUGINS_DIR: &str = env!("DESKHOST_TEST_PLUGINS_DIR");
    /// Test plugins the host must refuse to install (`tests/plugins/refused-*`),
    /// one directory each.
    pub const REFUSED_PLUGINS_DIR: &str = env!("DESKHOST_REFUSED_PLUGINS_DIR");
    /// Later versions of test plugins (`tests/plugins/*-fixed`) that tests
    /// install next to a broken one, one directory each.
    pub const FIXED_PLUGINS_DIR: &str = env!("DESKHOST_FIXED_PLUGINS_DIR");
    /// The core modules (`NAME.wasm`, `-` as `_`) the plugins' components
    /// are made from (see `deskhost-componentize`).
    pub const PLUGIN_MODULES_DIR: &str = env!("DESKHOST_PLUGIN_MODULES_DIR");
}

/// The current Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
