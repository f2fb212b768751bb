//! Helpers for a widget's native unit tests (`cargo test` on the plugin
//! crate): its settings as the host would pass them when a layout sets
//! none, and a check that its metadata agrees with its `plugin.toml`.

use crate::{Metadata, Setting, SettingValue, Widget, parse_settings};

/// The settings list the host passes when a layout sets nothing: every
/// declared default. Panics if a setting has no default (it is required,
/// so such a widget cannot run on defaults alone).
pub fn default_setting_list(meta: &Metadata) -> Vec<Setting> {
    meta.settings
        .iter()
        .map(|s| Setting {
            name: s.name.clone(),
            value: s
                .default
                .clone()
                .unwrap_or_else(|| panic!("setting `{}` has no default", s.name)),
        })
        .collect()
}

/// `W`'s typed settings built from its declared defaults, as serde sees
/// them in the plugin.
pub fn default_settings<W: Widget>() -> W::Settings {
    parse_settings(default_setting_list(&W::metadata())).unwrap_or_else(|e| panic!("{}", e.message))
}

/// Panics unless `manifest` (the text of `plugin.toml`) names the same id
/// and version as `W`'s metadata, every setting is documented, and every
/// text default is among its setting's choices.
pub fn assert_manifest_matches<W: Widget>(manifest: &str) {
    let m = W::metadata();
    assert!(
        manifest.contains(&format!("id = \"{}\"", m.id)),
        "plugin.toml does not say id = \"{}\"",
        m.id
    );
    assert!(
        manifest.contains(&format!("version = \"{}\"", m.version)),
        "plugin.toml does not say version = \"{}\"",
        m.version
    );
    for spec in &m.settings {
        assert!(!spec.doc.is_empty(), "setting `{}` has no doc", spec.name);
        if let Some(SettingValue::Text(d)) = &spec.default
            && !spec.choices.is_empty()
        {
            assert!(
                spec.choices.contains(d),
                "default of `{}` is not among its choices",
                spec.name
            );
        }
    }
}
