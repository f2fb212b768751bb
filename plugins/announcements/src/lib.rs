//! Announcements: messages and links an admin writes in the layout, such as
//! "New returns policy from Monday" and a link to the policy. Messages are
//! shown as alerts in the chosen tone, links as links below them. With
//! neither, the tile says "No announcements".
//!
//! Settings:
//! - `messages` (text-list, default `[]`): one announcement per entry.
//! - `links` (text-list, default `[]`): entries of the form
//!   `Label | https://example.com/page` (`https:`, `http:`, `mailto:`,
//!   `tel:` or a relative URL starting with `/`); a malformed entry is an
//!   error naming it.
//! - `tone` (`info`, `warning`, `success`; default `info`): the messages'
//!   colour.
//!
//! Capabilities: none.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "announcements";

/// The `tone` setting's values.
pub const TONES: &[&str] = &["info", "warning", "success"];

/// URL beginnings a link may have (the host shows others as plain text).
const SCHEMES: &[&str] = &["https://", "http://", "mailto:", "tel:", "/"];

/// Settings admins can write under `settings` in the layout.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// One announcement per entry.
    pub messages: Vec<String>,
    /// `Label | URL` entries.
    pub links: Vec<String>,
    /// The messages' tone: `info`, `warning` or `success`.
    pub tone: String,
}

/// Parses a `tone` value.
pub fn parse_tone(s: &str) -> Result<Tone, Error> {
    match s {
        "info" => Ok(Tone::Info),
        "warning" => Ok(Tone::Warning),
        "success" => Ok(Tone::Success),
        other => Err(Error::new(format!(
            "setting `tone` must be one of {}, not `{other}`",
            TONES.join(", ")
        ))),
    }
}

/// Parses one `links` entry, `Label | URL`, into (label, URL).
pub fn parse_link(entry: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| {
        Error::new(format!(
            "setting `links`: entry `{entry}` {why}; write it as `Label | https://example.com/page`"
        ))
    };
    let (label, url) = entry.split_once('|').ok_or_else(|| bad("has no `|`"))?;
    let (label, url) = (label.trim(), url.trim());
    if label.is_empty() {
        return Err(bad("has no label"));
    }
    if url.is_empty() {
        return Err(bad("has no URL"));
    }
    if url.contains(char::is_whitespace) {
        return Err(bad("has spaces in its URL"));
    }
    let lower = url.to_ascii_lowercase();
    if !SCHEMES.iter().any(|s| lower.starts_with(s)) || lower.starts_with("//") {
        return Err(bad(
            "must have an https:, http:, mailto: or tel: URL, or a relative one starting with /",
        ));
    }
    Ok((label.to_string(), url.to_string()))
}

/// The widget's view for these settings.
pub fn view(s: &Settings) -> Result<View, Error> {
    let tone = parse_tone(&s.tone)?;
    let links = s
        .links
        .iter()
        .map(|l| parse_link(l))
        .collect::<Result<Vec<_>, _>>()?;
    let messages: Vec<&str> = s
        .messages
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect();
    if messages.is_empty() && links.is_empty() {
        return Ok(View::new().empty("No announcements", None));
    }
    let mut v = View::new();
    for m in messages {
        v = v.alert(tone, m);
    }
    for (label, url) in links {
        v = v.link(label, url);
    }
    Ok(v)
}

/// The widget.
pub struct Announcements;

impl Widget for Announcements {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "Announcements", env!("CARGO_PKG_VERSION"))
            .description("Messages and links written by an admin.")
            .setting(
                SettingSpec::text_list("messages", "Announcements to show, one per entry.")
                    .default_list(&[]),
            )
            .setting(
                SettingSpec::text_list(
                    "links",
                    "Links to show, each written `Label | https://example.com/page`.",
                )
                .default_list(&[]),
            )
            .setting(
                SettingSpec::text("tone", "The colour of the messages.")
                    .choices(TONES)
                    .default_text("info"),
            )
            .size(4, 4)
            .refresh_seconds(0)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        view(&s)
    }
}

deskhost_sdk::export_widget!(Announcements);

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(messages: &[&str], links: &[&str], tone: &str) -> Settings {
        Settings {
            messages: messages.iter().map(|s| s.to_string()).collect(),
            links: links.iter().map(|s| s.to_string()).collect(),
            tone: tone.into(),
        }
    }

    #[test]
    fn metadata_matches_manifest_and_settings() {
        deskhost_sdk::testing::assert_manifest_matches::<Announcements>(include_str!(
            "../plugin.toml"
        ));
        assert_eq!(Announcements::metadata().refresh_seconds, 0);
        let s: Settings = deskhost_sdk::testing::default_settings::<Announcements>();
        assert_eq!(s.tone, "info");
        // Defaults alone: the empty state.
        let v = view(&s).unwrap();
        assert!(matches!(&v.blocks[..], [Block::Empty(e)] if e.title == "No announcements"));
    }

    #[test]
    fn messages_then_links() {
        let s = settings(
            &["Team meeting at 3", "  "],
            &[
                "Policy | https://intranet.example/policy",
                "Help|mailto:help@example.com",
            ],
            "warning",
        );
        let v = view(&s).unwrap();
        assert_eq!(v.blocks.len(), 3);
        assert!(
            matches!(&v.blocks[0], Block::Alert(a) if a.tone == Tone::Warning && a.message == "Team meeting at 3")
        );
        assert!(
            matches!(&v.blocks[1], Block::Link(l) if l.label == "Policy" && l.url == "https://intranet.example/policy")
        );
        assert!(matches!(&v.blocks[2], Block::Link(l) if l.url == "mailto:help@example.com"));
    }

    #[test]
    fn malformed_links_name_the_entry() {
        for bad in [
            "no separator",
            " | https://x",
            "Label |",
            "Label | javascript:alert(1)",
            "Label | //evil.example",
            "Label | https://a b",
        ] {
            let e = view(&settings(&[], &[bad], "info")).unwrap_err();
            assert!(e.message.contains(&format!("`{bad}`")), "{}", e.message);
            assert!(e.message.starts_with("setting `links`"));
        }
        assert!(parse_link("Docs | /docs").is_ok());
    }

    #[test]
    fn bad_tone_is_an_error() {
        let e = view(&settings(&["x"], &[], "danger")).unwrap_err();
        assert!(e.message.starts_with("setting `tone` must"));
    }
}
