//! The typed, resolved layout that a successful check produces: roles,
//! pages, widgets with their grid placement, resolved plugin versions,
//! complete settings, visibility rules and resource limits.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use semver::{Version, VersionReq};
use serde::Serialize;

use crate::plugin::SettingValue;

/// Number of columns in the desktop grid.
pub const GRID_COLUMNS: u8 = 12;
/// Highest row a tile may occupy.
pub const MAX_ROW: u16 = 200;
/// Tallest a tile may be, in rows.
pub const MAX_HEIGHT: u16 = 40;

/// A desktop role; each has its own section in the layout file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// `supervisor`
    Supervisor,
    /// `supervisor-agent`
    SupervisorAgent,
    /// `agent`
    Agent,
}

impl Role {
    /// Every role, in section order.
    pub const ALL: [Role; 3] = [Role::Supervisor, Role::SupervisorAgent, Role::Agent];

    /// The role's name as written in layout files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::SupervisorAgent => "supervisor-agent",
            Role::Agent => "agent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected `supervisor`, `supervisor-agent` or `agent`)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A checked layout file, ready to serve.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// The file it was read from.
    pub path: PathBuf,
    /// Desktop title.
    pub title: String,
    /// Logo URL or path.
    pub logo: Option<String>,
    /// Teams this layout is for; empty for the global layout that every
    /// other team falls back to.
    pub teams: Vec<String>,
    /// `extends = "global"`: this team layout is an overlay on the global
    /// layout (see [`super::compose`]) rather than a replacement of it.
    pub extends: Option<Extends>,
    /// Collaboration plugins (such as `microsoft-teams`) a user of this
    /// layout must connect after station credentials.
    pub required_collaboration: Vec<String>,
    /// Layout-wide defaults for widget calls (`[limits]`).
    pub limits: Limits,
    /// Admin configuration per plugin id (`[plugins.ID]`).
    pub plugins: BTreeMap<String, PluginConfig>,
    /// Each role's desk as served: for a plain layout, its `[all]` section
    /// with the role's section over it; for an overlay, once composed, the
    /// global layout's desk with this file's sections over it.
    pub roles: BTreeMap<Role, RoleDesk>,
    /// The sections as written (`[all]` and one per role), kept so that an
    /// overlay can be composed onto the global layout.
    #[serde(skip)]
    pub sections: Sections,
}

/// What an overlay layout extends, and where it says so.
#[derive(Debug, Clone, Serialize)]
pub struct Extends {
    /// The layout it extends: `global`.
    pub name: String,
    /// Span of the value in the file.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// The desk sections of one layout file, as written.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    /// `[all]`: pages and widgets every role gets.
    pub all: Option<RoleDesk>,
    /// `[supervisor]`, `[supervisor-agent]`, `[agent]`.
    pub roles: BTreeMap<Role, RoleDesk>,
}

impl Layout {
    /// Capabilities granted to `plugin`; empty if none.
    pub fn grants(&self, plugin: &str) -> &[String] {
        self.plugins
            .get(plugin)
            .map_or(&[], |p| p.grants.as_slice())
    }
}

/// Resource limits for widget calls; `None` leaves the host default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Longest a call may run.
    pub timeout: Option<Duration>,
    /// Most memory a plugin instance may use, in MiB.
    pub memory_mib: Option<u64>,
}

impl Limits {
    /// These limits, with anything unset taken from `defaults`.
    pub fn or(&self, defaults: &Limits) -> Limits {
        Limits {
            timeout: self.timeout.or(defaults.timeout),
            memory_mib: self.memory_mib.or(defaults.memory_mib),
        }
    }
}

/// Admin configuration for one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PluginConfig {
    /// Capabilities granted, each a name in [`crate::plugin::CAPABILITIES`].
    pub grants: Vec<String>,
}

/// What one role sees: its home page and extra pages.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDesk {
    /// The landing page (id `home`).
    pub home: Page,
    /// Further navigation pages, in file order.
    pub pages: Vec<Page>,
    /// `remove = [...]`: widget ids an earlier layer placed that this
    /// section takes away, each with its span.
    #[serde(skip)]
    pub remove: Vec<(String, Range<usize>)>,
}

impl RoleDesk {
    /// The page with this id (`home` is the home page).
    pub fn page(&self, id: &str) -> Option<&Page> {
        if id == self.home.id {
            Some(&self.home)
        } else {
            self.pages.iter().find(|p| p.id == id)
        }
    }

    /// The widget with this id and the page it is on.
    pub fn widget(&self, id: &str) -> Option<(&Page, &Widget)> {
        std::iter::once(&self.home)
            .chain(&self.pages)
            .find_map(|p| p.widgets.iter().find(|w| w.id == id).map(|w| (p, w)))
    }

    /// Home and the extra pages, in order.
    pub fn all_pages(&self) -> impl Iterator<Item = &Page> {
        std::iter::once(&self.home).chain(&self.pages)
    }
}

/// One page of tiles.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// Page id, unique within the role; `home` for the home page.
    pub id: String,
    /// Navigation title.
    pub title: String,
    /// Its tiles, in file order.
    pub widgets: Vec<Widget>,
    /// Whether the file gave the title (a composed page keeps the title
    /// of the last layer that gave one).
    #[serde(skip)]
    pub title_given: bool,
}

/// One tile: a plugin placed on the grid with its settings.
#[derive(Debug, Clone, Serialize)]
pub struct Widget {
    /// Widget id, unique within the role.
    pub id: String,
    /// Plugin id.
    pub plugin: String,
    /// Version requirement as written (default `*`).
    pub version_req: VersionReq,
    /// Highest installed version matching `version_req`.
    pub version: Version,
    /// Tile title (default: the plugin's name).
    pub title: String,
    /// First grid column, 1-based.
    pub column: u8,
    /// First grid row, 1-based.
    pub row: u16,
    /// Width in columns.
    pub width: u8,
    /// Height in rows.
    pub height: u16,
    /// Time between re-renders; `None` means never.
    pub refresh: Option<Duration>,
    /// Every setting with a value (given, or the spec default), in the
    /// plugin's spec order. Optional settings without a default that the
    /// layout leaves out are absent.
    pub settings: Vec<(String, SettingValue)>,
    /// Who sees it.
    pub visible: Visibility,
    /// Effective limits: the widget's own, else the layout's `[limits]`.
    pub limits: Limits,
    /// Where the widget's table is in its layout file, and its line.
    #[serde(skip)]
    pub span: Range<usize>,
    /// Line of the widget's table (1-based), for notes.
    #[serde(skip)]
    pub line: usize,
}

impl Widget {
    /// Its grid cells: column, width, row, height.
    pub fn cells(&self) -> (u8, u8, u16, u16) {
        (self.column, self.width, self.row, self.height)
    }

    /// The value of setting `name`, if it has one.
    pub fn setting(&self, name: &str) -> Option<&SettingValue> {
        self.settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Who a widget is shown to; an absent list allows everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Visibility {
    /// Roles allowed, if restricted.
    pub roles: Option<Vec<Role>>,
    /// Teams allowed, if restricted.
    pub teams: Option<Vec<String>>,
}

impl Visibility {
    /// Whether a user with `role` in `team` may see the widget. When teams
    /// are restricted, a user without a team is not allowed.
    pub fn allows(&self, role: Role, team: Option<&str>) -> bool {
        let role_ok = self.roles.as_ref().is_none_or(|r| r.contains(&role));
        let team_ok = match (&self.teams, team) {
            (None, _) => true,
            (Some(teams), Some(t)) => teams.iter().any(|x| x == t),
            (Some(_), None) => false,
        };
        role_ok && team_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        assert!("boss".parse::<Role>().is_err());
    }

    #[test]
    fn visibility() {
        let any = Visibility::default();
        assert!(any.allows(Role::Agent, None));
        let v = Visibility {
            roles: Some(vec![Role::Supervisor]),
            teams: Some(vec!["Sales".into()]),
        };
        assert!(v.allows(Role::Supervisor, Some("Sales")));
        assert!(!v.allows(Role::Supervisor, Some("Support")));
        assert!(!v.allows(Role::Supervisor, None));
        assert!(!v.allows(Role::Agent, Some("Sales")));
    }
}
