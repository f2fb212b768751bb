//! Plugin descriptions the rest of the host works with: what a plugin is
//! (its manifest and the metadata its component reports), independent of
//! wasmtime. The runtime fills these in; layout validation reads them.

use std::fmt;

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

/// The version of the `deskhost:plugin` WIT package this host implements.
pub const HOST_API_VERSION: Version = Version::new(0, 1, 1);

/// Capabilities an admin can grant to a plugin, with what each allows.
/// Everything not listed here is denied; log and clock need no grant.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("kv", "a key-value store private to the plugin"),
    (
        "contact-center",
        "read agents, teams, queues and the day's figures",
    ),
    (
        "agent-control",
        "change an agent's state (with `contact-center`)",
    ),
    ("mail", "send e-mail (identity providers: reset codes)"),
    (
        "http",
        "outbound HTTP, only to the hosts the admin allows for the plugin",
    ),
];

/// The kinds of plugin: which world its component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// A home-page widget (`widget-plugin` world).
    Widget,
    /// Decides who may sign in (`identity-provider` world).
    IdentityProvider,
    /// Checks station credentials at sign-in (`station-provider` world).
    StationProvider,
    /// Connects users to a collaboration tool (`collaboration-auth` world).
    CollaborationAuth,
}

impl PluginKind {
    /// Its name with an article, for messages ("an identity provider").
    pub fn article(self) -> &'static str {
        match self {
            PluginKind::Widget => "a widget",
            PluginKind::IdentityProvider => "an identity provider",
            PluginKind::StationProvider => "a station provider",
            PluginKind::CollaborationAuth => "a collaboration auth plugin",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginKind::Widget => "widget",
            PluginKind::IdentityProvider => "identity provider",
            PluginKind::StationProvider => "station provider",
            PluginKind::CollaborationAuth => "collaboration auth plugin",
        })
    }
}

/// The type a widget setting accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingKind {
    /// A string.
    Text,
    /// A whole number.
    Integer,
    /// A number; integers are accepted too.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list of strings.
    TextList,
}

impl fmt::Display for SettingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SettingKind::Text => "a string",
            SettingKind::Integer => "an integer",
            SettingKind::Number => "a number",
            SettingKind::Boolean => "a boolean",
            SettingKind::TextList => "an array of strings",
        })
    }
}

/// The value of a widget setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// A string.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number.
    Number(f64),
    /// `true` or `false`.
    Boolean(bool),
    /// A list of strings.
    TextList(Vec<String>),
}

impl SettingValue {
    /// The kind of this value.
    pub fn kind(&self) -> SettingKind {
        match self {
            SettingValue::Text(_) => SettingKind::Text,
            SettingValue::Integer(_) => SettingKind::Integer,
            SettingValue::Number(_) => SettingKind::Number,
            SettingValue::Boolean(_) => SettingKind::Boolean,
            SettingValue::TextList(_) => SettingKind::TextList,
        }
    }
}

/// One setting a widget accepts, from its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingSpec {
    /// The key admins write under `settings`.
    pub name: String,
    /// The type it accepts.
    pub kind: SettingKind,
    /// Documentation for admins.
    pub doc: String,
    /// Used when the layout leaves it out.
    pub default: Option<SettingValue>,
    /// Must be set in the layout.
    pub required: bool,
    /// Allowed values for text settings; empty means any.
    pub choices: Vec<String>,
}

/// Everything the host knows about one installed version of a plugin.
#[derive(Debug, Clone, Serialize)]
pub struct PluginInfo {
    /// Plugin id, unique among installed plugins.
    pub id: String,
    /// Which world it implements.
    pub kind: PluginKind,
    /// Its version.
    pub version: Version,
    /// Human name, the default tile title.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The settings it accepts.
    pub settings: Vec<SettingSpec>,
    /// Default tile width in grid columns.
    pub default_width: u8,
    /// Default tile height in 40 px rows.
    pub default_height: u8,
    /// Default seconds between re-renders (0: never).
    pub refresh_seconds: u32,
    /// Capabilities its manifest asks for.
    pub capabilities: Vec<String>,
    /// Host API range it needs.
    pub api: VersionReq,
}

/// The installed plugins, as layout validation sees them.
pub trait Catalog {
    /// All installed versions of plugin `id`, in any order.
    fn versions(&self, id: &str) -> Vec<&PluginInfo>;
    /// Ids of all installed plugins.
    fn ids(&self) -> Vec<&str>;

    /// The highest installed version of `id` matching `req`.
    fn resolve(&self, id: &str, req: &VersionReq) -> Option<&PluginInfo> {
        self.versions(id)
            .into_iter()
            .filter(|p| req.matches(&p.version))
            .max_by(|a, b| a.version.cmp(&b.version))
    }
}

/// A catalog held in a plain list; used in tests and by `deskhost check`.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog(pub Vec<PluginInfo>);

impl Catalog for StaticCatalog {
    fn versions(&self, id: &str) -> Vec<&PluginInfo> {
        self.0.iter().filter(|p| p.id == id).collect()
    }
    fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.0.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
