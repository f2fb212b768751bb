//! {{title}}: a deskhost widget.
//!
//! It greets the viewer, says where it comes from, and shows the time
//! where the viewer is, read from the host's clock (which needs no grant).
//! Edit it and save while `deskhost dev` runs: the desktop shows the
//! change a few seconds later.
//!
//! Settings (under `settings` of the widget in a layout):
//! - `greeting` (text, default `Hello`): the word the heading starts with.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "{{name}}";

/// Settings admins can write under `settings` in the layout; the host
/// fills in the defaults declared in the metadata.
#[derive(Debug, Deserialize)]
pub struct Settings {
    /// The word the heading starts with.
    pub greeting: String,
}

/// The widget.
pub struct {{type}};

impl Widget for {{type}} {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "{{title}}", env!("CARGO_PKG_VERSION"))
            .description("Greets the viewer and shows their local time.")
            .setting(
                SettingSpec::text("greeting", "The word the heading starts with.")
                    .default_text("Hello"),
            )
            .size(4, 3)
            // Render again every 30 s, so that the time stays right.
            .refresh_seconds(30)
    }

    fn render(ctx: &Context, settings: Settings) -> Result<View, Error> {
        let time = clock::local_now(&ctx.time_zone)
            .map(|t| format!("{:02}:{:02}", t.hour, t.minute))
            .unwrap_or_else(|_| "unknown".into());
        Ok(view(ctx, &settings, &time))
    }
}

/// The view. Kept apart from the host's clock, so that the native tests
/// can call it (host functions exist only in the WebAssembly build).
pub fn view(ctx: &Context, settings: &Settings, local_time: &str) -> View {
    View::new()
        .heading(format!("{}, {}", settings.greeting, ctx.display_name))
        .text("This tile comes from the {{name}} plugin.")
        .stat(Stat::new("Your local time", local_time))
}

deskhost_sdk::export_widget!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use deskhost_sdk::testing;

    fn viewer() -> Context {
        Context {
            user_id: "u1".into(),
            display_name: "Dana".into(),
            role: Role::Supervisor,
            team: None,
            locale: "en-US".into(),
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn metadata_agrees_with_plugin_toml() {
        let manifest = include_str!("../plugin.toml");
        testing::assert_manifest_matches::<{{type}}>(manifest);
        assert!(manifest.contains("kind = \"widget\""));
    }

    #[test]
    fn defaults_parse_and_render() {
        let settings = testing::default_settings::<{{type}}>();
        assert_eq!(settings.greeting, "Hello");
        let view = view(&viewer(), &settings, "09:30");
        match &view.blocks[0] {
            Block::Heading(h) => assert_eq!(h, "Hello, Dana"),
            other => panic!("the first block is {other:?}"),
        }
        assert!(
            view.blocks
                .iter()
                .any(|b| matches!(b, Block::Stat(s) if s.value == "09:30"))
        );
    }
}
