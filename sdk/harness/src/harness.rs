//! The fake host around one widget: [`HarnessBuilder`] sets it up,
//! [`Harness`] calls the widget.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deskhost::config::Limits;
use deskhost::layout::{self, Severity, ValidateOptions};
use deskhost::plugin::{PluginInfo, PluginKind, SettingValue, StaticCatalog};
use deskhost::runtime::{
    Call, CallLimits, Clock, LoadedPlugin, Runtime, Services, setting_to_wit, types,
};
use deskhost::store::{KvStore, SqliteStore};

use crate::error::{CallError, Error};
use crate::fixtures::{DEFAULT_NOW_MS, Fixtures};
use crate::rendered::Rendered;
use crate::widget::Widget;

/// Pooling-allocator slots of a harness's runtime: it runs one call at a
/// time, so a few are plenty (the host sizes its pool for many viewers).
const INSTANCES: u32 = 4;

/// The widget instance id the harness places the widget under (its tile
/// id in [`Rendered::html`]).
const TILE_ID: &str = "widget";

/// Who is looking at the widget.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    /// Desktop user id.
    pub user_id: String,
    /// Name shown to widgets.
    pub display_name: String,
    /// The desk they signed in as.
    pub role: types::Role,
    /// The team picked at sign-in.
    pub team: Option<String>,
    /// BCP 47 language tag.
    pub locale: String,
    /// IANA time zone.
    pub time_zone: String,
}

impl Default for Viewer {
    /// Supervisor `viewer` (Sam Rivera), no team, `en-US`, `UTC`.
    fn default() -> Self {
        Viewer {
            user_id: "viewer".into(),
            display_name: "Sam Rivera".into(),
            role: types::Role::Supervisor,
            team: None,
            locale: "en-US".into(),
            time_zone: "UTC".into(),
        }
    }
}

impl Viewer {
    fn context(&self) -> types::Context {
        types::Context {
            user_id: self.user_id.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            team: self.team.clone(),
            locale: self.locale.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

/// A value for [`HarnessBuilder::setting`]: strings, integers, numbers,
/// booleans and lists of strings, or a [`SettingValue`].
pub trait SettingInput {
    /// The value as the host's setting value.
    fn into_setting_value(self) -> SettingValue;
}

impl SettingInput for SettingValue {
    fn into_setting_value(self) -> SettingValue {
        self
    }
}
impl SettingInput for &str {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Text(self.into())
    }
}
impl SettingInput for String {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Text(self)
    }
}
impl SettingInput for bool {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Boolean(self)
    }
}
impl SettingInput for i32 {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Integer(self.into())
    }
}
impl SettingInput for i64 {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Integer(self)
    }
}
impl SettingInput for f64 {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::Number(self)
    }
}
impl SettingInput for Vec<String> {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::TextList(self)
    }
}
impl SettingInput for Vec<&str> {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::TextList(self.into_iter().map(String::from).collect())
    }
}
impl SettingInput for &[&str] {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::TextList(self.iter().map(|s| s.to_string()).collect())
    }
}
impl<const N: usize> SettingInput for [&str; N] {
    fn into_setting_value(self) -> SettingValue {
        SettingValue::TextList(self.iter().map(|s| s.to_string()).collect())
    }
}

/// A clock that stands still until told otherwise.
#[derive(Debug)]
struct FixedClock(AtomicU64);

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets up a [`Harness`]; from [`Widget::harness`].
///
/// Defaults: no grant, the widget's default settings, the
/// [`Viewer::default`] viewer, the clock at [`DEFAULT_NOW_MS`] in `UTC`,
/// empty [`Fixtures`], an empty key-value store, and the host's default
/// call limits (250 ms, 64 MiB).
#[must_use = "call .build() to get a Harness"]
pub struct HarnessBuilder {
    widget: Widget,
    grants: Vec<String>,
    settings: Vec<(String, SettingValue)>,
    viewer: Viewer,
    now_ms: u64,
    fixtures: Fixtures,
    kv: Vec<(String, Vec<u8>)>,
    timeout: Option<Duration>,
    memory_mib: Option<u64>,
}

impl HarnessBuilder {
    pub(crate) fn new(widget: Widget) -> Self {
        HarnessBuilder {
            widget,
            grants: Vec::new(),
            settings: Vec::new(),
            viewer: Viewer::default(),
            now_ms: DEFAULT_NOW_MS,
            fixtures: Fixtures::new(),
            kv: Vec::new(),
            timeout: None,
            memory_mib: None,
        }
    }

    /// Grants a capability (`contact-center`, `agent-control`, `kv`), as
    /// `grants = [...]` under `[plugins.ID]` in a layout would.
    pub fn grant(mut self, capability: &str) -> Self {
        if !self.grants.iter().any(|g| g == capability) {
            self.grants.push(capability.into());
        }
        self
    }

    /// Grants each of `capabilities`.
    pub fn grants<'a>(self, capabilities: impl IntoIterator<Item = &'a str>) -> Self {
        capabilities.into_iter().fold(self, Self::grant)
    }

    /// Sets setting `name`, as `settings = { name = value }` in a layout
    /// would. Settings left out get the widget's defaults.
    pub fn setting(mut self, name: &str, value: impl SettingInput) -> Self {
        self.settings.retain(|(n, _)| n != name);
        self.settings
            .push((name.into(), value.into_setting_value()));
        self
    }

    /// The viewer, all at once.
    pub fn viewer(mut self, viewer: Viewer) -> Self {
        self.viewer = viewer;
        self
    }

    /// The viewer's user id.
    pub fn user_id(mut self, id: &str) -> Self {
        self.viewer.user_id = id.into();
        self
    }

    /// The viewer's display name.
    pub fn display_name(mut self, name: &str) -> Self {
        self.viewer.display_name = name.into();
        self
    }

    /// The desk the viewer signed in as.
    pub fn role(mut self, role: types::Role) -> Self {
        self.viewer.role = role;
        self
    }

    /// The team the viewer picked at sign-in (`None`: no team).
    pub fn team<'a>(mut self, team: impl Into<Option<&'a str>>) -> Self {
        self.viewer.team = team.into().map(String::from);
        self
    }

    /// The viewer's locale, such as `fr-FR`.
    pub fn locale(mut self, locale: &str) -> Self {
        self.viewer.locale = locale.into();
        self
    }

    /// The viewer's IANA time zone, such as `Europe/Paris`.
    pub fn time_zone(mut self, time_zone: &str) -> Self {
        self.viewer.time_zone = time_zone.into();
        self
    }

    /// The host clock: Unix time in ms (it stands still; see
    /// [`Harness::set_now_ms`]).
    pub fn now_ms(mut self, ms: u64) -> Self {
        self.now_ms = ms;
        self
    }

    /// The clock and the viewer's time zone at once.
    pub fn clock(self, ms: u64, time_zone: &str) -> Self {
        self.now_ms(ms).time_zone(time_zone)
    }

    /// The contact center the widget reads.
    pub fn fixtures(mut self, fixtures: Fixtures) -> Self {
        self.fixtures = fixtures;
        self
    }

    /// Puts `key` in the widget's key-value store before the first call.
    pub fn kv(mut self, key: &str, value: impl Into<Vec<u8>>) -> Self {
        self.kv.push((key.into(), value.into()));
        self
    }

    /// The call deadline (never above the host's, 250 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The call's memory cap in MiB (never above the host's, 64).
    pub fn memory_mib(mut self, mib: u64) -> Self {
        self.memory_mib = Some(mib);
        self
    }

    /// Loads the widget on a runtime of its own and checks the settings and
    /// grants as the host checks a layout's: a wrong setting, a missing
    /// required one or an unknown capability is [`Error::Config`] with the
    /// host's messages.
    pub fn build(self) -> Result<Harness, Error> {
        let clock = Arc::new(FixedClock(AtomicU64::new(self.now_ms)));
        let fixtures = Arc::new(self.fixtures);
        fixtures.set_now_ms(self.now_ms);
        let kv = Arc::new(SqliteStore::in_memory().map_err(|e| Error::Runtime(e.to_string()))?);
        let services =
            Services::without_sign_in(kv.clone(), fixtures.clone()).with_clock(clock.clone());
        let limits = Limits {
            max_instances: INSTANCES,
            ..Limits::default()
        };
        let runtime = Runtime::new(&limits, self.widget.cache_dir(), services)
            .map_err(|e| Error::Runtime(format!("{e:#}")))?;
        let origin = self.widget.component_path().display().to_string();
        let plugin = runtime
            .load(self.widget.manifest_text(), self.widget.wasm(), &origin)
            .map_err(|e| Error::Load(e.message))?;
        if plugin.info.kind != PluginKind::Widget {
            return Err(Error::Load(format!(
                "plugin `{}` is {}, not a widget",
                plugin.info.id,
                plugin.info.kind.article()
            )));
        }
        let (settings, grants) = configure(&plugin.info, &self.settings, &self.grants)?;
        for (key, value) in &self.kv {
            kv.set(&plugin.info.id, key, value)
                .map_err(|e| Error::Runtime(e.to_string()))?;
        }
        let defaults = runtime.default_call_limits();
        let limits = CallLimits {
            timeout: self.timeout.unwrap_or(defaults.timeout),
            memory_mib: self.memory_mib.unwrap_or(defaults.memory_mib),
        };
        Ok(Harness {
            context: self.viewer.context(),
            runtime,
            plugin,
            fixtures,
            clock,
            kv,
            settings,
            grants: grants.into(),
            limits,
        })
    }
}

/// The settings (defaults filled in) and grants of `info` as the host's
/// layout checker makes them from a layout placing the widget with
/// `settings` and `grants`.
fn configure(
    info: &PluginInfo,
    settings: &[(String, SettingValue)],
    grants: &[String],
) -> Result<(Vec<types::Setting>, Vec<String>), Error> {
    let source = layout_source(&info.id, settings, grants);
    let catalog = StaticCatalog(vec![info.clone()]);
    let checked = layout::check(
        Path::new("harness.toml"),
        &source,
        &catalog,
        &ValidateOptions::default(),
    );
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let mut line = d.message.clone();
            for extra in d.help.iter().chain(&d.notes) {
                line.push_str("; ");
                line.push_str(extra);
            }
            line
        })
        .collect();
    let placed = checked.layout.as_ref().and_then(|l| {
        let desk = l.roles.get(&layout::Role::Supervisor)?;
        Some((desk.widget(TILE_ID)?.1, l.grants(&info.id)))
    });
    match placed {
        Some((widget, grants)) if errors.is_empty() => Ok((
            widget
                .settings
                .iter()
                .map(|(name, value)| setting_to_wit(name, value))
                .collect(),
            grants.to_vec(),
        )),
        _ if !errors.is_empty() => Err(Error::Config(errors)),
        _ => Err(Error::Config(vec![format!(
            "the harness's layout did not place the widget:\n{source}"
        )])),
    }
}

/// A layout placing widget `plugin` once, with these settings and grants.
fn layout_source(plugin: &str, settings: &[(String, SettingValue)], grants: &[String]) -> String {
    let plugin_key = toml::Value::String(plugin.into());
    let mut s = String::from("title = \"deskhost-harness\"\n\n");
    s.push_str(&format!("[plugins.{plugin_key}]\ngrants = ["));
    let grants: Vec<String> = grants
        .iter()
        .map(|g| toml::Value::String(g.clone()).to_string())
        .collect();
    s.push_str(&grants.join(", "));
    s.push_str("]\n\n[[supervisor.home.widgets]]\n");
    s.push_str(&format!(
        "id = \"{TILE_ID}\"\nplugin = {plugin_key}\ncolumn = 1\nrow = 1\n\n"
    ));
    s.push_str("[supervisor.home.widgets.settings]\n");
    for (name, value) in settings {
        let key = toml::Value::String(name.clone());
        s.push_str(&format!("{key} = {}\n", toml_value(value)));
    }
    s
}

fn toml_value(v: &SettingValue) -> toml::Value {
    match v {
        SettingValue::Text(t) => toml::Value::String(t.clone()),
        SettingValue::Integer(i) => toml::Value::Integer(*i),
        SettingValue::Number(n) => toml::Value::Float(*n),
        SettingValue::Boolean(b) => toml::Value::Boolean(*b),
        SettingValue::TextList(l) => {
            toml::Value::Array(l.iter().cloned().map(toml::Value::String).collect())
        }
    }
}

/// One widget loaded on the host runtime with a fake host around it.
///
/// Calls are blocking and independent: each runs in a fresh instance, as
/// on the host, so only the key-value store and the fixtures carry state
/// from one call to the next.
pub struct Harness {
    runtime: Runtime,
    plugin: LoadedPlugin,
    fixtures: Arc<Fixtures>,
    clock: Arc<FixedClock>,
    kv: Arc<SqliteStore>,
    context: types::Context,
    settings: Vec<types::Setting>,
    grants: Arc<[String]>,
    limits: CallLimits,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", &self.plugin.info.id)
            .field("grants", &self.grants)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Renders the widget.
    pub fn render(&self) -> Result<Rendered, CallError> {
        self.call(None)
    }

    /// Sends action `id` (a button's action) with no input values.
    pub fn action(&self, id: &str) -> Result<Rendered, CallError> {
        self.call(Some(types::Action {
            id: id.into(),
            values: Vec::new(),
        }))
    }

    /// Sends action `id` with these input and select values, by name, as
    /// the browser submits the tile's form.
    pub fn action_with<K: Into<String>, V: Into<String>>(
        &self,
        id: &str,
        values: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Rendered, CallError> {
        self.call(Some(types::Action {
            id: id.into(),
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }))
    }

    fn call(&self, action: Option<types::Action>) -> Result<Rendered, CallError> {
        let call = Call {
            widget: TILE_ID,
            grants: self.grants.clone(),
            limits: self.limits,
            context: &self.context,
            settings: &self.settings,
        };
        let now_ms = self.now_ms();
        let result = match &action {
            Some(a) => self.runtime.on_action(&self.plugin, &call, a),
            None => self.runtime.render(&self.plugin, &call),
        };
        result
            .map(|view| Rendered::new(view, TILE_ID, now_ms))
            .map_err(|e| CallError::from_host(e, &self.grants))
    }

    /// The contact center the widget reads, with the state changes it
    /// asked for.
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    /// The host clock, Unix time in ms.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Sets the host clock (and the fixtures' with it).
    pub fn set_now_ms(&self, ms: u64) {
        self.clock.0.store(ms, Ordering::Relaxed);
        self.fixtures.set_now_ms(ms);
    }

    /// Moves the host clock forward.
    pub fn advance(&self, by: Duration) {
        self.set_now_ms(self.now_ms() + by.as_millis() as u64);
    }

    /// The viewer's context as the widget receives it.
    pub fn context(&self) -> &types::Context {
        &self.context
    }

    /// Changes the viewer for the next calls.
    pub fn set_viewer(&mut self, viewer: Viewer) {
        self.context = viewer.context();
    }

    /// The settings the widget receives: those given, then every other
    /// declared default, in the widget's order.
    pub fn settings(&self) -> &[types::Setting] {
        &self.settings
    }

    /// The capabilities granted.
    pub fn grants(&self) -> &[String] {
        &self.grants
    }

    /// What the host knows about the widget: its metadata (name, settings,
    /// size, refresh) and manifest (capabilities asked for).
    pub fn info(&self) -> &PluginInfo {
        &self.plugin.info
    }

    /// The value of `key` in the widget's key-value store.
    pub fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.kv.get(&self.plugin.info.id, key).ok().flatten()
    }
}

/// Where the compile cache of a harness goes when the widget names none.
pub(crate) fn default_cache_dir() -> PathBuf {
    std::env::temp_dir().join("deskhost-harness-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_quotes_everything_it_is_given() {
        let s = layout_source(
            "p",
            &[
                ("a".into(), SettingValue::Text("say \"hi\"\n".into())),
                ("b".into(), SettingValue::Number(2.0)),
                ("c".into(), SettingValue::TextList(vec!["x".into()])),
            ],
            &["kv".into()],
        );
        let parsed: toml::Table = s.parse().unwrap();
        let settings = &parsed["supervisor"]["home"]["widgets"][0]["settings"];
        assert_eq!(settings["a"].as_str(), Some("say \"hi\"\n"));
        assert_eq!(settings["b"].as_float(), Some(2.0));
        assert_eq!(parsed["plugins"]["p"]["grants"][0].as_str(), Some("kv"));
    }
}
