//! A widget built against the frozen WIT of `deskhost:plugin@0.1.0`
//! (`sdk/wit-archive/0.1.0`) with wit-bindgen directly, not with
//! deskhost-sdk, which follows the live package. Its component imports and
//! exports the `@0.1.0` names; the host's compatibility test
//! (`host/tests/compat.rs`) loads it on the current host and checks that it
//! renders and that each of its imports works (log, clock, kv and
//! contact-center, the last two when granted).

wit_bindgen::generate!({
    path: "../../../sdk/wit-archive/0.1.0",
    world: "widget-plugin",
});

use deskhost::plugin::types::{
    Action, Block, Context, Error, KeyValue, Metadata, Setting, SettingKind, SettingSpec,
    SettingValue, TileSize, View,
};
use deskhost::plugin::{clock, contact_center, kv, log};
use exports::deskhost::plugin::widget::Guest;

/// The widget.
pub struct Compat;

/// The kv key of the render counter.
const COUNTER: &str = "renders";

fn key_value(key: &str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

/// The `label` setting, or its default.
fn label(settings: &[Setting]) -> String {
    settings
        .iter()
        .find(|s| s.name == "label")
        .and_then(|s| match &s.value {
            SettingValue::Text(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "compat".into())
}

/// Adds one to the render counter; the error text when kv is refused.
fn bump_counter() -> Result<u64, String> {
    let previous = kv::get(COUNTER)
        .map_err(kv_error)?
        .and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0);
    let next = previous + 1;
    kv::set(COUNTER, &next.to_le_bytes()).map_err(kv_error)?;
    Ok(next)
}

fn kv_error(e: kv::KvError) -> String {
    match e {
        kv::KvError::Denied(m) => format!("denied: {m}"),
        kv::KvError::TooLarge(m) => format!("too large: {m}"),
        kv::KvError::Store(m) => format!("store: {m}"),
    }
}

fn data_error(e: contact_center::DataError) -> String {
    match e {
        contact_center::DataError::Denied(m) => format!("denied: {m}"),
        contact_center::DataError::Unknown(m) => format!("unknown: {m}"),
        contact_center::DataError::Unavailable(m) => format!("unavailable: {m}"),
    }
}

fn view(ctx: &Context, settings: &[Setting], note: Option<&str>) -> Result<View, Error> {
    log::log(
        log::Level::Info,
        &format!("compat widget rendering for {}", ctx.user_id),
    );
    let now = clock::now();
    let local = clock::local_now(&ctx.time_zone)
        .map(|t| format!("{:02}:{:02} {}", t.hour, t.minute, t.zone_abbreviation))
        .unwrap_or_else(|e| format!("error: {e}"));
    let renders = bump_counter().map(|n| n.to_string()).unwrap_or_else(|e| e);
    let teams = contact_center::teams()
        .map(|t| t.len().to_string())
        .unwrap_or_else(data_error);
    let mut blocks = vec![
        Block::Heading(format!(
            "{}: built against deskhost:plugin@0.1.0",
            label(settings)
        )),
        Block::KeyValues(vec![
            key_value("viewer", ctx.display_name.clone()),
            key_value("now", now.to_string()),
            key_value("local time", local),
            key_value("renders", renders),
            key_value("teams", teams),
        ]),
    ];
    if let Some(note) = note {
        blocks.push(Block::Text(note.into()));
    }
    Ok(View { blocks })
}

impl Guest for Compat {
    fn describe() -> Metadata {
        Metadata {
            id: "compat-widget".into(),
            name: "Compat 0.1.0".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Built against deskhost:plugin@0.1.0 without the SDK.".into(),
            settings: vec![SettingSpec {
                name: "label".into(),
                kind: SettingKind::Text,
                doc: "Shown in the heading.".into(),
                default: Some(SettingValue::Text("compat".into())),
                required: false,
                choices: Vec::new(),
            }],
            default_size: TileSize {
                width: 3,
                height: 3,
            },
            refresh_seconds: 0,
        }
    }

    fn render(context: Context, settings: Vec<Setting>) -> Result<View, Error> {
        view(&context, &settings, None)
    }

    fn on_action(context: Context, settings: Vec<Setting>, action: Action) -> Result<View, Error> {
        if action.id == "fail" {
            return Err(Error {
                message: "the compat widget failed on request".into(),
            });
        }
        let note = format!("action {}", action.id);
        view(&context, &settings, Some(&note))
    }
}

// Only on WebAssembly: native linkers reject the component's export names,
// and the native build exists for `cargo clippy --workspace` alone.
#[cfg(target_arch = "wasm32")]
export!(Compat);
