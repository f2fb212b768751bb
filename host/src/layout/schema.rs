//! The JSON Schema of the layout format, for editor completion and
//! checking as you type (taplo / Even Better TOML read it through a
//! `#:schema` comment). Built from the same key lists the checker uses, and
//! a test keeps the two in step; the checker stays the authority (it also
//! knows the installed plugins and their settings).

use serde_json::{Value, json};

use super::model::{GRID_COLUMNS, MAX_HEIGHT, MAX_ROW};
use super::parse::{
    HOME_KEYS, LIMITS_KEYS, PAGE_KEYS, PLUGIN_KEYS, ROLE_KEYS, ROOT_KEYS, VISIBLE_KEYS, WIDGET_KEYS,
};
use crate::plugin::CAPABILITIES;

fn object(keys: &[&str], property: impl Fn(&str) -> Value, required: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> =
        keys.iter().map(|k| (k.to_string(), property(k))).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn duration(what: &str) -> Value {
    json!({
        "type": "string",
        "description": format!("{what}, such as \"250ms\", \"30s\" or \"1m 30s\"."),
        "pattern": "^\\s*[0-9]",
    })
}

fn limits() -> Value {
    object(
        LIMITS_KEYS,
        |k| match k {
            "timeout" => duration("Deadline of one widget call"),
            "memory_mib" => {
                json!({"type": "integer", "minimum": 1, "description": "Memory cap of one widget call, in MiB."})
            }
            _ => unreachable!("limits key {k}"),
        },
        &[],
    )
}

fn widget() -> Value {
    object(
        WIDGET_KEYS,
        |k| match k {
            "id" => {
                json!({"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": "Widget id, unique within the role."})
            }
            "plugin" => {
                json!({"type": "string", "description": "Id of the installed plugin that draws this widget."})
            }
            "version" => {
                json!({"type": "string", "description": "Semver requirement on the plugin's version, such as \"^0.1\". Default: any."})
            }
            "title" => {
                json!({"type": "string", "description": "Tile title. Default: the plugin's name."})
            }
            "column" => {
                json!({"type": "integer", "minimum": 1, "maximum": GRID_COLUMNS, "description": "First column, 1 to 12."})
            }
            "row" => {
                json!({"type": "integer", "minimum": 1, "maximum": MAX_ROW, "description": "First row (rows are 40 px)."})
            }
            "width" => {
                json!({"type": "integer", "minimum": 1, "maximum": GRID_COLUMNS, "description": "Columns spanned. Default: the plugin's."})
            }
            "height" => {
                json!({"type": "integer", "minimum": 1, "maximum": MAX_HEIGHT, "description": "Rows of 40 px spanned. Default: the plugin's."})
            }
            "refresh_interval" => duration("How often the widget re-renders; \"0s\" never"),
            "settings" => {
                json!({"type": "object", "description": "The plugin's settings; `deskhost check` validates them against the installed plugin."})
            }
            "visible" => object(
                VISIBLE_KEYS,
                |k| match k {
                    "roles" => {
                        json!({"type": "array", "items": {"enum": ["supervisor", "supervisor-agent", "agent"]}})
                    }
                    "teams" => json!({"type": "array", "items": {"type": "string"}}),
                    _ => unreachable!("visible key {k}"),
                },
                &[],
            ),
            "limits" => limits(),
            _ => unreachable!("widget key {k}"),
        },
        &["id", "plugin", "column", "row"],
    )
}

fn widgets() -> Value {
    json!({"type": "array", "items": widget()})
}

fn role() -> Value {
    object(
        ROLE_KEYS,
        |k| match k {
            "home" => object(
                HOME_KEYS,
                |k| match k {
                    "title" => json!({"type": "string"}),
                    "widgets" => widgets(),
                    _ => unreachable!("home key {k}"),
                },
                &[],
            ),
            "pages" => json!({
                "type": "array",
                "items": object(
                    PAGE_KEYS,
                    |k| match k {
                        "id" => json!({"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}),
                        "title" => json!({"type": "string"}),
                        "widgets" => widgets(),
                        _ => unreachable!("page key {k}"),
                    },
                    &["id", "title"],
                ),
            }),
            "remove" => {
                json!({"type": "array", "items": {"type": "string"}, "description": "Widget ids placed by a lower layer (the global layout, or [all]) to take away."})
            }
            _ => unreachable!("role key {k}"),
        },
        &[],
    )
}

/// The JSON Schema (draft 2020-12) of layout files.
pub fn layout_schema() -> Value {
    let capabilities: Vec<&str> = CAPABILITIES.iter().map(|(n, _)| *n).collect();
    let mut schema = object(
        ROOT_KEYS,
        |k| match k {
            "title" => {
                json!({"type": "string", "description": "Desktop title, shown in the header."})
            }
            "logo" => json!({"type": "string", "description": "Logo URL or path."}),
            "teams" => {
                json!({"type": "array", "items": {"type": "string"}, "description": "Teams this layout is for (replacing the global layout, or extending it with `extends`). Leave out for the global layout."})
            }
            "extends" => {
                json!({"enum": ["global"], "description": "Build on the global layout instead of replacing it: this file's sections are overlays."})
            }
            "required_collaboration" => {
                json!({"type": "array", "items": {"type": "string"}, "description": "Collaboration plugins (such as \"microsoft-teams\") users of this layout must connect after station credentials."})
            }
            "limits" => limits(),
            "plugins" => json!({
                "type": "object",
                "description": "Admin configuration per plugin id.",
                "additionalProperties": object(
                    PLUGIN_KEYS,
                    |_| json!({"type": "array", "items": {"enum": capabilities}, "description": "Capabilities granted to the plugin."}),
                    &[],
                ),
            }),
            "all" | "supervisor" | "supervisor-agent" | "agent" => role(),
            _ => unreachable!("root key {k}"),
        },
        &[],
    );
    let obj = schema.as_object_mut().expect("an object");
    // `title` is required, except in an overlay, which may keep the
    // global layout's.
    obj.insert("if".into(), json!({"not": {"required": ["extends"]}}));
    obj.insert("then".into(), json!({"required": ["title"]}));
    obj.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    obj.insert("title".into(), json!("deskhost layout"));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    }

    fn sorted(k: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    }

    #[test]
    fn schema_keys_match_the_checker() {
        let s = layout_schema();
        assert_eq!(keys(&s), sorted(ROOT_KEYS));
        assert_eq!(keys(&s["properties"]["limits"]), sorted(LIMITS_KEYS));
        assert_eq!(
            keys(&s["properties"]["plugins"]["additionalProperties"]),
            sorted(PLUGIN_KEYS)
        );
        let role = &s["properties"]["supervisor"];
        assert_eq!(keys(role), sorted(ROLE_KEYS));
        assert_eq!(keys(&role["properties"]["home"]), sorted(HOME_KEYS));
        let page = &role["properties"]["pages"]["items"];
        assert_eq!(keys(page), sorted(PAGE_KEYS));
        let widget = &page["properties"]["widgets"]["items"];
        assert_eq!(keys(widget), sorted(WIDGET_KEYS));
        assert_eq!(keys(&widget["properties"]["visible"]), sorted(VISIBLE_KEYS));
        assert_eq!(keys(&widget["properties"]["limits"]), sorted(LIMITS_KEYS));
    }

    #[test]
    fn shipped_schema_file_is_current() {
        let shipped = include_str!("../../../layouts/layout.schema.json");
        let current = serde_json::to_string_pretty(&layout_schema()).unwrap() + "\n";
        assert_eq!(
            shipped, current,
            "layouts/layout.schema.json is stale: run `deskhost schema > layouts/layout.schema.json`"
        );
    }
}
