//! The sign-in worlds on the host side: generated bindings of
//! `identity-provider` and `station-provider`, the imports only they use
//! (`mail`, `station-registry`), and the typed calls into them.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use super::host::HostState;
use super::{CallError, CallLimits, LoadedPlugin, Pre, Runtime, classify};
use crate::plugin::PluginKind;

/// Bindings of the `identity-provider` world.
pub mod identity {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "identity-provider",
        with: {
            "deskhost:plugin/types": crate::runtime::host::types,
            "deskhost:plugin/log": crate::runtime::host::deskhost::plugin::log,
            "deskhost:plugin/clock": crate::runtime::host::deskhost::plugin::clock,
            "deskhost:plugin/kv": crate::runtime::host::deskhost::plugin::kv,
        },
    });
}

/// Bindings of the `station-provider` world.
pub mod station {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "station-provider",
        with: {
            "deskhost:plugin/types": crate::runtime::host::types,
            "deskhost:plugin/log": crate::runtime::host::deskhost::plugin::log,
            "deskhost:plugin/clock": crate::runtime::host::deskhost::plugin::clock,
            "deskhost:plugin/kv": crate::runtime::host::deskhost::plugin::kv,
            "deskhost:plugin/auth-types": super::identity::deskhost::plugin::auth_types,
        },
    });
}

pub use identity::deskhost::plugin::auth_types::{Identity, Profile, Telephony};
pub use identity::exports::deskhost::plugin::accounts::{NextStep, ResetError, SignInError};
pub use station::exports::deskhost::plugin::stations::{
    Permission, Refusal, Station, StationDefaults, StationField, StationRequest,
};

use identity::deskhost::plugin::{auth_types, mail};
use station::deskhost::plugin::station_registry;

/// Adds the sign-in worlds' own imports to `linker`.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    auth_types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    mail::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    station_registry::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

impl auth_types::Host for HostState {}

impl mail::Host for HostState {
    fn send(&mut self, message: mail::Message) -> Result<(), String> {
        self.check_grant("mail")?;
        self.services
            .mail
            .send(&self.plugin, &message.to, &message.subject, &message.body)
            .map_err(|e| e.to_string())
    }
}

impl station_registry::Host for HostState {
    fn taken(&mut self, telephony: Telephony, number: String) -> bool {
        if self.kind != PluginKind::StationProvider {
            tracing::warn!(plugin = %self.plugin, "denied: only station providers may read the station registry");
            return false;
        }
        self.services
            .stations
            .taken(&self.user, &crate::auth::station_key(telephony, &number))
    }
}

/// The inputs of a call into a sign-in plugin.
pub struct AuthCall<'a> {
    /// The user it is about (for the station registry and logs), or "".
    pub user: &'a str,
    /// Capabilities granted to the plugin.
    pub grants: Arc<[String]>,
    /// Limits of the call.
    pub limits: CallLimits,
}

impl Runtime {
    /// One call into a sign-in or collaboration plugin: a fresh store
    /// under the call's limits (and, for collaboration plugins, the hosts
    /// it may reach), `instantiate`, then `f` on the instance.
    pub(super) fn call_world<I, T>(
        &self,
        plugin: &LoadedPlugin,
        label: &str,
        call: &AuthCall<'_>,
        allowed_hosts: Option<Arc<[String]>>,
        instantiate: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<I>,
        f: impl FnOnce(&I, &mut Store<HostState>) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let _span = tracing::debug_span!("plugin_call", plugin = %plugin.info.id).entered();
        let mut store = self.store(plugin, label, call.user, call.grants.clone(), call.limits);
        if let Some(hosts) = allowed_hosts {
            store.data_mut().allowed_hosts = hosts;
        }
        let instance = instantiate(&mut store).map_err(|e| classify(e, call.limits))?;
        f(&instance, &mut store).map_err(|e| classify(e, call.limits))
    }

    /// Calls an identity provider. Blocking: run it off the async executor.
    pub fn call_identity<T>(
        &self,
        plugin: &LoadedPlugin,
        call: &AuthCall<'_>,
        f: impl FnOnce(
            &identity::exports::deskhost::plugin::accounts::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let Pre::Identity(pre) = &plugin.pre else {
            return Err(not_kind(plugin, PluginKind::IdentityProvider));
        };
        self.call_world(
            plugin,
            "(sign-in)",
            call,
            None,
            |store| pre.instantiate(store),
            |i, store| f(i.deskhost_plugin_accounts(), store),
        )
    }

    /// Calls a station provider. Blocking: run it off the async executor.
    pub fn call_station<T>(
        &self,
        plugin: &LoadedPlugin,
        call: &AuthCall<'_>,
        f: impl FnOnce(
            &station::exports::deskhost::plugin::stations::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let Pre::Station(pre) = &plugin.pre else {
            return Err(not_kind(plugin, PluginKind::StationProvider));
        };
        self.call_world(
            plugin,
            "(sign-in)",
            call,
            None,
            |store| pre.instantiate(store),
            |i, store| f(i.deskhost_plugin_stations(), store),
        )
    }
}

pub(super) fn not_kind(plugin: &LoadedPlugin, want: PluginKind) -> CallError {
    CallError::Instantiate(format!(
        "plugin `{}` is {}, not {}",
        plugin.info.id,
        plugin.info.kind.article(),
        want.article()
    ))
}
