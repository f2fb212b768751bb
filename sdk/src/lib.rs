//! # deskhost-sdk
//!
//! Everything a widget plugin for deskhost depends on: the WIT package
//! `deskhost:plugin@0.1.1` (in `wit/`), its generated bindings, a builder for
//! views, typed settings through serde, and [`export_widget!`], which turns a
//! type implementing [`Widget`] into a WebAssembly component export.
//!
//! A whole widget:
//!
//! ```ignore
//! use deskhost_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize)]
//! struct Settings { greeting: String }
//!
//! struct Hello;
//!
//! impl Widget for Hello {
//!     type Settings = Settings;
//!     fn metadata() -> Metadata {
//!         Metadata::new("hello", "Hello", env!("CARGO_PKG_VERSION"))
//!             .setting(SettingSpec::text("greeting", "What to say.").default_text("Hello"))
//!     }
//!     fn render(ctx: &Context, s: Settings) -> Result<View, Error> {
//!         Ok(View::new().heading(format!("{}, {}", s.greeting, ctx.display_name)))
//!     }
//! }
//!
//! deskhost_sdk::export_widget!(Hello);
//! ```
//!
//! Build it with `cargo build --target wasm32-wasip2 --release`.

#![warn(missing_docs)]

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

mod builders;
pub mod capability;
pub mod collaboration;
pub mod identity;
pub mod station;
pub mod testing;

/// Bindings generated from `wit/widget.wit`. Most plugins only need the
/// [`prelude`]; the raw bindings are here for anything it does not cover.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "widget-plugin",
        pub_export_macro: true,
        export_macro_name: "__export_widget_plugin",
        default_bindings_module: "deskhost_sdk::bindings",
    });
}

pub use bindings::deskhost::plugin::types::{
    Action, Alert, Badge, Block, Button, Cell, Chart, ChartKind, ChartPoint, Context, Duration,
    EmptyState, Error, Input, InputKind, KeyValue, Link, ListItem, Metadata, Progress,
    ProgressStyle, Role, Select, SelectOption, Setting, SettingKind, SettingSpec, SettingValue,
    Stat, Table, TileSize, Tone, Trend, View,
};

/// The version of the WIT package this SDK was built against.
pub const API_VERSION: &str = "0.1.1";

/// What a plugin usually imports: `use deskhost_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::capability::{clock, contact_center, kv, log};
    pub use crate::{
        Action, Alert, Badge, Block, Button, Cell, Chart, ChartKind, ChartPoint, Context, Duration,
        EmptyState, Error, Input, InputKind, KeyValue, Link, ListItem, Metadata, Progress,
        ProgressStyle, Role, Select, SelectOption, SettingKind, SettingSpec, SettingValue, Stat,
        Table, TileSize, Tone, Trend, View, Widget,
    };
}

/// A widget: implement this and call [`export_widget!`].
pub trait Widget {
    /// The widget's settings, deserialised with serde from what the admin
    /// wrote in the layout (defaults already filled in by the host).
    /// Use `()` for a widget without settings.
    type Settings: DeserializeOwned;

    /// Describes the widget. Called once when the host loads the plugin.
    fn metadata() -> Metadata;

    /// Renders the view for this viewer and these settings.
    fn render(ctx: &Context, settings: Self::Settings) -> Result<View, Error>;

    /// Handles a button click or form submission, then returns the new view.
    /// By default it simply renders again.
    fn on_action(ctx: &Context, settings: Self::Settings, action: Action) -> Result<View, Error> {
        let _ = action;
        Self::render(ctx, settings)
    }
}

/// Converts the host's settings list into the widget's typed settings.
///
/// Exposed so that widget authors can test their settings types natively.
pub fn parse_settings<S: DeserializeOwned>(settings: Vec<Setting>) -> Result<S, Error> {
    let map: serde_json::Map<String, serde_json::Value> = settings
        .into_iter()
        .map(|s| (s.name, setting_to_json(s.value)))
        .collect();
    let empty = map.is_empty();
    serde_json::from_value(serde_json::Value::Object(map))
        .or_else(|e| {
            // `()` (a widget without settings) reads from nothing, not
            // from an empty map.
            if empty {
                serde_json::from_value(serde_json::Value::Null).map_err(|_| e)
            } else {
                Err(e)
            }
        })
        .map_err(|e| Error::new(format!("invalid settings: {e}")))
}

fn setting_to_json(value: SettingValue) -> serde_json::Value {
    match value {
        SettingValue::Text(s) => serde_json::Value::String(s),
        SettingValue::Integer(i) => i.into(),
        SettingValue::Number(n) => serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        SettingValue::Boolean(b) => b.into(),
        SettingValue::TextList(l) => l.into(),
    }
}

/// Bridges a [`Widget`] to the generated `Guest` trait. Used by
/// [`export_widget!`]; not meant to be named directly.
#[doc(hidden)]
pub struct Adapter<W>(PhantomData<W>);

impl<W: Widget> bindings::exports::deskhost::plugin::widget::Guest for Adapter<W> {
    fn describe() -> Metadata {
        W::metadata()
    }

    fn render(context: Context, settings: Vec<Setting>) -> Result<View, Error> {
        W::render(&context, parse_settings(settings)?)
    }

    fn on_action(context: Context, settings: Vec<Setting>, action: Action) -> Result<View, Error> {
        W::on_action(&context, parse_settings(settings)?, action)
    }
}

/// Exports a type implementing [`Widget`] as the plugin's `widget` interface.
///
/// Call it once, at the top level of the plugin crate.
///
/// The export only exists on WebAssembly: a native build of the plugin crate
/// (for its unit tests) links without the component's export symbols, whose
/// names native linkers reject.
#[macro_export]
macro_rules! export_widget {
    ($widget:ty) => {
        #[doc(hidden)]
        #[allow(dead_code)]
        type __DeskhostWidgetExport = $crate::Adapter<$widget>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_widget_plugin!(__DeskhostWidgetExport with_types_in $crate::bindings);
    };
}

#[cfg(test)]
mod tests {
    /// `()` is a widget's settings when it has none; a struct still
    /// reads from the map.
    #[test]
    fn unit_settings_read_from_no_settings() {
        let () = super::parse_settings::<()>(Vec::new()).unwrap();
        #[derive(serde::Deserialize)]
        struct S {
            greeting: String,
        }
        let s: S = super::parse_settings(vec![super::Setting {
            name: "greeting".into(),
            value: super::SettingValue::Text("Hi".into()),
        }])
        .unwrap();
        assert_eq!(s.greeting, "Hi");
        assert!(super::parse_settings::<S>(Vec::new()).is_err());
    }

    /// `API_VERSION` is the version of the package in `wit/`, and that
    /// version is in the changelog.
    #[test]
    fn api_version_matches_the_wit_package_and_the_changelog() {
        let wit = include_str!("../wit/widget.wit");
        let package = format!("package deskhost:plugin@{};", super::API_VERSION);
        assert!(
            wit.lines().any(|l| l.trim() == package),
            "wit/widget.wit does not declare `{package}`"
        );
        let changelog = include_str!("../wit/CHANGELOG.md");
        assert!(
            changelog.contains(&format!("## {}", super::API_VERSION)),
            "wit/CHANGELOG.md has no section for {}",
            super::API_VERSION
        );
    }

    /// Every frozen version in `wit-archive/` is a package of that version,
    /// older than the live one and in the changelog.
    #[test]
    fn archived_versions_are_older_and_in_the_changelog() {
        let live: Vec<u64> = super::API_VERSION
            .split('.')
            .map(|n| n.parse().unwrap())
            .collect();
        let changelog = include_str!("../wit/CHANGELOG.md");
        let archive = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("wit-archive");
        let mut seen = 0;
        for entry in std::fs::read_dir(&archive).unwrap() {
            let dir = entry.unwrap().path();
            let version = dir.file_name().unwrap().to_string_lossy().into_owned();
            let parsed: Vec<u64> = version.split('.').map(|n| n.parse().unwrap()).collect();
            assert!(
                parsed < live,
                "wit-archive/{version} is not older than {live:?}"
            );
            assert!(
                changelog.contains(&format!("## {version}")),
                "wit/CHANGELOG.md has no section for {version}"
            );
            let package = format!("package deskhost:plugin@{version};");
            let declares = std::fs::read_dir(&dir).unwrap().any(|f| {
                std::fs::read_to_string(f.unwrap().path())
                    .unwrap()
                    .lines()
                    .any(|l| l.trim() == package)
            });
            assert!(
                declares,
                "wit-archive/{version} does not declare `{package}`"
            );
            seen += 1;
        }
        assert!(seen > 0, "wit-archive/ is empty");
    }
}
