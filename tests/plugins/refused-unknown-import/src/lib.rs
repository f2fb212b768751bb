//! A widget that imports `test:vault/secrets`, which no deskhost provides.
//! The host must refuse to install it, naming the import, and keep serving
//! everything else.

use deskhost_sdk::prelude::*;

wit_bindgen::generate!({
    path: "wit",
    world: "vault-user",
    generate_all,
});

/// Settings (none).
#[derive(serde::Deserialize)]
pub struct Settings {}

/// The widget.
pub struct UnknownImport;

impl Widget for UnknownImport {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(
            "unknown-import",
            "Unknown import",
            env!("CARGO_PKG_VERSION"),
        )
        .description("Imports an interface no host provides, for tests.")
    }

    fn render(_ctx: &Context, _s: Settings) -> Result<View, Error> {
        Ok(View::new().text(test::vault::secrets::read("password")))
    }
}

deskhost_sdk::export_widget!(UnknownImport);
