//! One embedded widget set up for a call as a supervisor of the
//! simulator's `sales` team, with its manifest's default settings and the
//! capabilities it asks for: the call that `--example pooled_call` and the
//! `widget/instantiate_render_hello` bench both time.

use std::path::Path;
use std::sync::Arc;

use deskhost::contact_center::Simulator;
use deskhost::embedded::EMBEDDED_PLUGINS;
use deskhost::runtime::manifest::Manifest;
use deskhost::runtime::{Call, LoadedPlugin, Runtime, Services, setting_to_wit, types};
use deskhost::store::SqliteStore;

/// A runtime with the default limits, compiled components cached in
/// `cache`, an in-memory store and the contact-center simulator.
pub fn runtime(cache: &Path) -> anyhow::Result<Runtime> {
    Runtime::new(
        &Default::default(),
        Some(cache.to_owned()),
        Services::without_sign_in(
            Arc::new(SqliteStore::in_memory()?),
            Arc::new(Simulator::new(7, deskhost::now_ms())),
        ),
    )
}

/// A loaded widget and what a call to it is made with.
pub struct WidgetCall {
    /// The widget, loaded into the runtime.
    pub plugin: LoadedPlugin,
    context: types::Context,
    settings: Vec<types::Setting>,
}

impl WidgetCall {
    /// Loads the embedded plugin `id`, or `other` (another build of the
    /// same component) under that plugin's manifest.
    pub fn load(rt: &Runtime, id: &str, other: Option<&[u8]>) -> anyhow::Result<Self> {
        let (manifest, embedded) = EMBEDDED_PLUGINS
            .iter()
            .find(|(m, _)| Manifest::parse(m, "embedded").is_ok_and(|m| m.id == id))
            .ok_or_else(|| anyhow::anyhow!("no embedded plugin `{id}`"))?;
        let plugin = rt.load(manifest, other.unwrap_or(embedded), id)?;
        let settings = plugin
            .info
            .settings
            .iter()
            .filter_map(|spec| Some(setting_to_wit(&spec.name, spec.default.as_ref()?)))
            .collect();
        let context = types::Context {
            user_id: "u".into(),
            display_name: "Dana".into(),
            role: types::Role::Supervisor,
            team: Some("sales".into()),
            locale: "en-US".into(),
            time_zone: "UTC".into(),
        };
        Ok(Self {
            plugin,
            context,
            settings,
        })
    }

    /// The call, for `Runtime::render`.
    pub fn call(&self, rt: &Runtime) -> Call<'_> {
        Call {
            widget: "w",
            grants: self.plugin.info.capabilities.iter().cloned().collect(),
            limits: rt.default_call_limits(),
            context: &self.context,
            settings: &self.settings,
        }
    }
}
