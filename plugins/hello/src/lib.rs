//! Hello: the smallest useful widget. Greets the signed-in user and shows
//! who they are signed in as. Proves the SDK end to end.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

/// Settings admins can write under `settings` in the layout.
#[derive(Deserialize)]
pub struct Settings {
    /// Word used to greet, such as "Welcome".
    pub greeting: String,
    /// Whether to show the role and team under the greeting.
    pub show_details: bool,
}

/// The widget.
pub struct Hello;

impl Widget for Hello {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new("hello", "Hello", env!("CARGO_PKG_VERSION"))
            .description("Greets the signed-in user.")
            .setting(SettingSpec::text("greeting", "Word used to greet.").default_text("Hello"))
            .setting(
                SettingSpec::boolean("show_details", "Show the role and team.").default_bool(true),
            )
            .size(4, 3)
    }

    fn render(ctx: &Context, s: Settings) -> Result<View, Error> {
        let view = View::new().heading(format!("{}, {}", s.greeting, ctx.display_name));
        if !s.show_details {
            return Ok(view);
        }
        let role = match ctx.role {
            Role::Supervisor => "Supervisor",
            Role::SupervisorAgent => "Supervisor and agent",
            Role::Agent => "Agent",
        };
        Ok(view.key_values([
            ("Signed in as", role.to_string()),
            ("Team", ctx.team.clone().unwrap_or_else(|| "None".into())),
        ]))
    }
}

deskhost_sdk::export_widget!(Hello);
