//! `plugin.toml`: what a plugin says about itself before any of its code
//! runs (id, version, kind, the host API range it needs, the capabilities it
//! asks for, and where its component is).

use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::plugin::{CAPABILITIES, HOST_API_VERSION};

pub use crate::plugin::PluginKind;

/// A parsed `plugin.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique plugin id: lowercase letters, digits and `-`.
    pub id: String,
    /// The plugin's version.
    pub version: Version,
    /// Which world the component implements.
    pub kind: PluginKind,
    /// The `deskhost:plugin` API versions it works with, such as `^0.1`.
    pub api: VersionReq,
    /// Capabilities it asks the admin to grant.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// The component file, relative to the plugin directory.
    #[serde(default = "default_component")]
    pub component: String,
}

fn default_component() -> String {
    "plugin.wasm".into()
}

impl Manifest {
    /// Parses and checks a manifest. `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let m: Manifest =
            toml::from_str(text).map_err(|e| format!("{origin}: invalid plugin.toml: {e}"))?;
        if m.id.is_empty()
            || !m
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!(
                "{origin}: plugin id `{}` must be lowercase letters, digits and `-`",
                m.id
            ));
        }
        if !m.api.matches(&HOST_API_VERSION) {
            return Err(format!(
                "{origin}: plugin `{}` {} needs host API `{}`, but this host provides \
                 deskhost:plugin {HOST_API_VERSION}; install a version of the plugin built for \
                 {HOST_API_VERSION}",
                m.id, m.version, m.api
            ));
        }
        if let Some(unknown) = m
            .capabilities
            .iter()
            .find(|c| !CAPABILITIES.iter().any(|(name, _)| name == c))
        {
            return Err(format!(
                "{origin}: plugin `{}` asks for unknown capability `{unknown}` (known: {})",
                m.id,
                CAPABILITIES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_widget_manifest() {
        let m = Manifest::parse(
            "id = \"hello\"\nversion = \"0.1.0\"\nkind = \"widget\"\napi = \"^0.1\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(m.id, "hello");
        assert_eq!(m.component, "plugin.wasm");
    }

    #[test]
    fn refuses_an_api_range_naming_both_versions() {
        let err = Manifest::parse(
            "id = \"future\"\nversion = \"2.0.0\"\nkind = \"widget\"\napi = \"^0.2\"\n",
            "plugins/future",
        )
        .unwrap_err();
        assert!(err.contains("needs host API `^0.2`"), "{err}");
        assert!(err.contains("provides deskhost:plugin 0.1.1"), "{err}");
    }

    #[test]
    fn api_ranges_follow_the_compatibility_policy() {
        // What sdk/API-STABILITY.md promises: a plugin built against any
        // older 0.1.x (`^0.1`, `^0.1.0`) loads on this host; one that needs
        // a newer 0.1.x or another minor of 0.x is refused, naming both
        // versions.
        let manifest = |api: &str| {
            Manifest::parse(
                &format!("id = \"p\"\nversion = \"1.0.0\"\nkind = \"widget\"\napi = \"{api}\"\n"),
                "plugins/p",
            )
        };
        for accepted in ["^0.1", "^0.1.0", "^0.1.1", "~0.1", ">=0.1.0, <0.2.0"] {
            assert!(manifest(accepted).is_ok(), "`{accepted}` refused");
        }
        for refused in ["^0.1.2", "^0.2", "^1", "=0.1.0"] {
            let err = manifest(refused).unwrap_err();
            assert!(
                err.contains(&format!("needs host API `{refused}`")),
                "{refused}: {err}"
            );
            assert!(
                err.contains(&format!("provides deskhost:plugin {HOST_API_VERSION}")),
                "{refused}: {err}"
            );
        }
    }

    #[test]
    fn refuses_unknown_keys_and_capabilities() {
        let err = Manifest::parse(
            "id = \"x\"\nversion = \"0.1.0\"\nkind = \"widget\"\napi = \"^0.1\"\ncapabilites = []\n",
            "t",
        )
        .unwrap_err();
        assert!(err.contains("capabilites"), "{err}");
        let err = Manifest::parse(
            "id = \"x\"\nversion = \"0.1.0\"\nkind = \"widget\"\napi = \"^0.1\"\ncapabilities = [\"net\"]\n",
            "t",
        )
        .unwrap_err();
        assert!(err.contains("unknown capability `net`"), "{err}");
    }
}
