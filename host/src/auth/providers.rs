//! Finding the configured identity and station providers among the
//! installed plugins, and turning their host-config settings into the
//! settings list their calls take.

use std::sync::Arc;

use crate::config::ProviderConfig;
use crate::plugin::{PluginKind, SettingKind, SettingSpec, SettingValue};
use crate::runtime::{LoadedPlugin, Plugins, setting_to_wit, types};

/// A provider ready to call: the plugin, its settings and grants.
pub struct Provider {
    /// The installed plugin version in use.
    pub plugin: Arc<LoadedPlugin>,
    /// Complete settings (defaults filled in).
    pub settings: Vec<types::Setting>,
    /// Capabilities granted to it.
    pub grants: Arc<[String]>,
}

/// The highest installed version of the configured plugin, checked to be of
/// `kind`, with its settings. The error tells the admin what to fix.
pub fn resolve(
    plugins: &Plugins,
    config: &ProviderConfig,
    kind: PluginKind,
    section: &str,
) -> Result<Provider, String> {
    let candidates: Vec<&Arc<LoadedPlugin>> = plugins
        .iter()
        .filter(|p| p.info.id == config.plugin)
        .collect();
    if candidates.is_empty() {
        return Err(format!(
            "[{section}] plugin = {:?}: no such plugin is installed",
            config.plugin
        ));
    }
    let plugin = candidates
        .iter()
        .filter(|p| config.version.matches(&p.info.version))
        .max_by(|a, b| a.info.version.cmp(&b.info.version))
        .ok_or_else(|| {
            let installed: Vec<String> = candidates
                .iter()
                .map(|p| p.info.version.to_string())
                .collect();
            format!(
                "[{section}] plugin {:?}: no installed version matches `{}` (installed: {})",
                config.plugin,
                config.version,
                installed.join(", ")
            )
        })?;
    if plugin.info.kind != kind {
        return Err(format!(
            "[{section}] plugin {:?} is {}, not {}",
            config.plugin,
            plugin.info.kind.article(),
            kind.article()
        ));
    }
    let settings = settings(&plugin.info.settings, &config.settings)
        .map_err(|e| format!("[{section}.settings] {e}"))?;
    Ok(Provider {
        plugin: (*plugin).clone(),
        settings,
        grants: config.grants.clone().into(),
    })
}

/// Checks `given` against `specs` and fills in defaults.
pub fn settings(specs: &[SettingSpec], given: &toml::Table) -> Result<Vec<types::Setting>, String> {
    if let Some(unknown) = given.keys().find(|k| !specs.iter().any(|s| &s.name == *k)) {
        let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "unknown setting `{unknown}` (known: {})",
            known.join(", ")
        ));
    }
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let value = match given.get(&spec.name) {
            Some(v) => value(spec, v)?,
            None => match &spec.default {
                Some(d) => d.clone(),
                None => return Err(format!("setting `{}` is required: {}", spec.name, spec.doc)),
            },
        };
        out.push(setting_to_wit(&spec.name, &value));
    }
    Ok(out)
}

fn value(spec: &SettingSpec, v: &toml::Value) -> Result<SettingValue, String> {
    let value = match (spec.kind, v) {
        (SettingKind::Text, toml::Value::String(s)) => SettingValue::Text(s.clone()),
        (SettingKind::Integer, toml::Value::Integer(i)) => SettingValue::Integer(*i),
        (SettingKind::Number, toml::Value::Integer(i)) => SettingValue::Number(*i as f64),
        (SettingKind::Number, toml::Value::Float(f)) => SettingValue::Number(*f),
        (SettingKind::Boolean, toml::Value::Boolean(b)) => SettingValue::Boolean(*b),
        (SettingKind::TextList, toml::Value::Array(items)) => SettingValue::TextList(
            items
                .iter()
                .map(|i| i.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("setting `{}` must be {}", spec.name, spec.kind))?,
        ),
        _ => return Err(format!("setting `{}` must be {}", spec.name, spec.kind)),
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, kind: SettingKind, default: Option<SettingValue>) -> SettingSpec {
        SettingSpec {
            name: name.into(),
            kind,
            doc: "doc".into(),
            default,
            required: false,
            choices: Vec::new(),
        }
    }

    #[test]
    fn fills_defaults_and_refuses_unknown_or_mistyped_settings() {
        let specs = [
            spec("a", SettingKind::Integer, Some(SettingValue::Integer(3))),
            spec(
                "b",
                SettingKind::TextList,
                Some(SettingValue::TextList(vec![])),
            ),
        ];
        let given: toml::Table = toml::from_str("b = [\"x\"]").unwrap();
        let out = settings(&specs, &given).unwrap();
        assert_eq!(out.len(), 2);
        let given: toml::Table = toml::from_str("c = 1").unwrap();
        assert!(
            settings(&specs, &given)
                .unwrap_err()
                .contains("unknown setting `c`")
        );
        let given: toml::Table = toml::from_str("a = \"x\"").unwrap();
        assert!(
            settings(&specs, &given)
                .unwrap_err()
                .contains("must be an integer")
        );
    }
}
