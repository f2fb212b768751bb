//! Renders a widget's declarative view to HTML. Every string a plugin
//! supplies goes through maud's escaping; URLs are filtered to safe schemes;
//! no plugin ever supplies markup, script or style.

use maud::{Markup, html};

use crate::runtime::types::{
    Badge, Block, Button, Cell, Chart, ChartKind, Link, Progress, ProgressStyle, Stat, Table, Tone,
};

/// Most table rows rendered; the rest are counted in a footnote.
pub const MAX_TABLE_ROWS: usize = 500;
/// Most blocks rendered per view.
pub const MAX_BLOCKS: usize = 200;

/// The form field that carries a button's action id.
pub const ACTION_FIELD: &str = "__action";

fn tone(t: Tone) -> &'static str {
    match t {
        Tone::Neutral => "tone-neutral",
        Tone::Info => "tone-info",
        Tone::Success => "tone-success",
        Tone::Warning => "tone-warning",
        Tone::Danger => "tone-danger",
    }
}

/// Returns `url` if it is safe to put in an `href`: `https:`, `http:`,
/// `mailto:`, `tel:`, or a relative URL. Browsers ignore ASCII tabs and
/// newlines inside URLs and leading spaces or control characters, so those
/// are removed before the scheme is read.
pub fn safe_url(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if cleaned.is_empty() || cleaned.chars().any(|c| c.is_control()) {
        return None;
    }
    let scheme_end = cleaned.find([':', '/', '?', '#']);
    match scheme_end {
        Some(i) if cleaned.as_bytes()[i] == b':' => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "https" | "http" | "mailto" | "tel").then_some(cleaned)
        }
        // Relative, but not protocol-relative (`//evil.example`), which
        // would leave the desktop's origin.
        _ if cleaned.starts_with("//")
            || cleaned.starts_with("\\\\")
            || cleaned.starts_with("/\\") =>
        {
            None
        }
        _ => Some(cleaned),
    }
}

fn format_number(n: f64) -> String {
    if !n.is_finite() {
        return "–".into();
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.2}")
    }
}

/// Formats a duration in seconds as `m:ss` or `h:mm:ss`, as the browser
/// script does while it counts.
pub fn format_elapsed(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn since(ms: u64, now_ms: u64) -> Markup {
    let elapsed = now_ms.saturating_sub(ms) / 1000;
    html! { time.since data-since=(ms) datetime=(format!("PT{elapsed}S")) { (format_elapsed(elapsed)) } }
}

fn badge(b: &Badge) -> Markup {
    html! { span class={"badge " (tone(b.tone))} { (b.label) } }
}

fn link(l: &Link) -> Markup {
    match safe_url(&l.url) {
        Some(url) => html! { a href=(url) rel="noopener noreferrer" { (l.label) } },
        None => html! { span.unsafe-link title="Link removed: unsupported address" { (l.label) } },
    }
}

fn button(b: &Button) -> Markup {
    html! {
        button type="submit" name=(ACTION_FIELD) value=(b.action) class={"btn " (tone(b.tone))} { (b.label) }
    }
}

fn stat(s: &Stat) -> Markup {
    html! {
        div class={"stat " (tone(s.tone))} {
            div.stat-label { (s.label) }
            div.stat-value {
                (s.value)
                @if let Some(u) = &s.unit { " " span.stat-unit { (u) } }
            }
            @if let Some(t) = &s.trend {
                @let up = t.change_percent > 0.0;
                @let good = if t.change_percent == 0.0 { "flat" } else if up == t.higher_is_better { "good" } else { "bad" };
                div class={"trend " (good)} {
                    span aria-hidden="true" { @if t.change_percent > 0.0 { "▲ " } @else if t.change_percent < 0.0 { "▼ " } @else { "▬ " } }
                    (format!("{:+.1}%", t.change_percent)) " " (t.label)
                }
            }
        }
    }
}

fn table(t: &Table, now_ms: u64) -> Markup {
    let hidden = t.rows.len().saturating_sub(MAX_TABLE_ROWS);
    html! {
        div.table-wrap {
            table {
                @if let Some(c) = &t.caption { caption { (c) } }
                thead { tr { @for c in &t.columns { th scope="col" { (c) } } } }
                tbody {
                    @for row in t.rows.iter().take(MAX_TABLE_ROWS) {
                        tr {
                            @for cell in row {
                                td {
                                    @match cell {
                                        Cell::Text(s) => (s),
                                        Cell::Number(n) => span.num { (format_number(*n)) },
                                        Cell::Badge(b) => (badge(b)),
                                        Cell::Since(ms) => (since(*ms, now_ms)),
                                        Cell::Button(b) => (button(b)),
                                        Cell::Link(l) => (link(l)),
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if hidden > 0 { p.note { (hidden) " more rows not shown." } }
        }
    }
}

fn progress(p: &Progress) -> Markup {
    let max = if p.max > 0.0 && p.max.is_finite() {
        p.max
    } else {
        1.0
    };
    let value = if p.value.is_finite() {
        p.value.clamp(0.0, max)
    } else {
        0.0
    };
    let pct = value / max * 100.0;
    let label = format!(
        "{}: {} of {}",
        p.label,
        format_number(p.value),
        format_number(p.max)
    );
    html! {
        div class=(if p.style == ProgressStyle::Gauge { "progress gauge-wrap" } else { "progress" }) role="meter" aria-label=(p.label) aria-valuenow=(format_number(value)) aria-valuemin="0" aria-valuemax=(format_number(max)) aria-valuetext=(label) {
            div.progress-label { span { (p.label) } span.num { (format_number(p.value)) " / " (format_number(p.max)) } }
            @match p.style {
                ProgressStyle::Bar => {
                    svg.bar class=(tone(p.tone)) viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" {
                        rect.track x="0" y="0" width="100" height="8" rx="4" {}
                        rect.fill x="0" y="0" width=(format!("{pct:.2}")) height="8" rx="4" {}
                        @if let Some(t) = p.target {
                            @let tx = (t / max * 100.0).clamp(0.0, 100.0);
                            rect.target x=(format!("{:.2}", (tx - 0.5).max(0.0))) y="0" width="1" height="8" {}
                        }
                    }
                }
                ProgressStyle::Gauge => {
                    @let (x, y) = arc_point(pct / 100.0);
                    svg.gauge class=(tone(p.tone)) viewBox="0 0 100 56" aria-hidden="true" {
                        path.track d="M 10 50 A 40 40 0 0 1 90 50" {}
                        @if pct > 0.0 { path.fill d=(format!("M 10 50 A 40 40 0 0 1 {x:.2} {y:.2}")) {} }
                        @if let Some(t) = p.target {
                            @let (tx, ty) = arc_point((t / max).clamp(0.0, 1.0));
                            circle.target cx=(format!("{tx:.2}")) cy=(format!("{ty:.2}")) r="3" {}
                        }
                        text x="50" y="48" text-anchor="middle" { (format!("{pct:.0}%")) }
                    }
                }
            }
        }
    }
}

/// The point at fraction `f` along the gauge's half circle.
fn arc_point(f: f64) -> (f64, f64) {
    let angle = std::f64::consts::PI * (1.0 - f);
    (50.0 + 40.0 * angle.cos(), 50.0 - 40.0 * angle.sin())
}

fn chart(c: &Chart) -> Markup {
    let unit = c.unit.as_deref().unwrap_or("");
    let summary: Vec<String> = c
        .points
        .iter()
        .take(100)
        .map(|p| format!("{} {}{}", p.label, format_number(p.value), unit))
        .collect();
    let name = format!(
        "{}{}",
        c.title
            .as_deref()
            .map(|t| format!("{t}: "))
            .unwrap_or_default(),
        summary.join(", ")
    );
    let max = c
        .points
        .iter()
        .map(|p| p.value)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let n = c.points.len().max(1) as f64;
    html! {
        figure.chart {
            @if let Some(t) = &c.title { figcaption { (t) } }
            @match c.kind {
                ChartKind::Bar => {
                    svg.bars role="img" aria-label=(name) viewBox="0 0 100 60" preserveAspectRatio="none" {
                        @for (i, p) in c.points.iter().enumerate() {
                            @let h = (p.value.max(0.0) / max * 50.0).min(50.0);
                            @let w = 100.0 / n;
                            rect x=(format!("{:.2}", i as f64 * w + w * 0.15)) y=(format!("{:.2}", 52.0 - h)) width=(format!("{:.2}", w * 0.7)) height=(format!("{h:.2}")) {
                                title { (p.label) ": " (format_number(p.value)) (unit) }
                            }
                        }
                    }
                    div.bar-labels aria-hidden="true" { @for p in &c.points { span { (p.label) } } }
                }
                ChartKind::Line | ChartKind::Sparkline => {
                    @let step = if c.points.len() > 1 { 100.0 / (c.points.len() - 1) as f64 } else { 0.0 };
                    @let pts: Vec<String> = c.points.iter().enumerate().map(|(i, p)| format!("{:.2},{:.2}", i as f64 * step, 38.0 - (p.value.max(0.0) / max * 36.0).min(36.0))).collect();
                    svg class=(if c.kind == ChartKind::Line { "line" } else { "sparkline" }) role="img" aria-label=(name) viewBox="0 0 100 40" preserveAspectRatio="none" {
                        polyline points=(pts.join(" ")) vector-effect="non-scaling-stroke" {}
                    }
                }
            }
        }
    }
}

/// Whether `blocks` show a time relative to now: their HTML then changes
/// with the clock, and is made again for every page.
pub fn shows_clock(blocks: &[Block]) -> bool {
    blocks.iter().take(MAX_BLOCKS).any(|b| match b {
        Block::Duration(_) => true,
        Block::Table(t) => t
            .rows
            .iter()
            .take(MAX_TABLE_ROWS)
            .flatten()
            .any(|c| matches!(c, Cell::Since(_))),
        _ => false,
    })
}

/// Renders `blocks` for the tile of widget `tile_id`. `now_ms` is the
/// server's clock, for the first value of counting durations.
pub fn blocks(blocks: &[Block], tile_id: &str, now_ms: u64) -> Markup {
    html! {
        @for block in blocks.iter().take(MAX_BLOCKS) {
            @match block {
                Block::Heading(h) => h3 { (h) },
                Block::Text(t) => p { (t) },
                Block::Stat(s) => (stat(s)),
                Block::Stats(list) => div.stats { @for s in list { (stat(s)) } },
                Block::Table(t) => (table(t, now_ms)),
                Block::Items(items) => ul.items {
                    @for i in items {
                        li class=(tone(i.tone)) {
                            span.item-text { (i.text) }
                            @if let Some(d) = &i.detail { span.item-detail { (d) } }
                        }
                    }
                },
                Block::KeyValues(kv) => dl.kv { @for p in kv { div { dt { (p.key) } dd { (p.value) } } } },
                Block::Progress(p) => (progress(p)),
                Block::Chart(c) => (chart(c)),
                Block::Badge(b) => p { (badge(b)) },
                Block::Link(l) => p { (link(l)) },
                Block::Buttons(bs) => div.buttons { @for b in bs { (button(b)) } },
                Block::Input(i) => {
                    @let id = format!("{tile_id}--{}", i.name);
                    div.field {
                        label for=(id) { (i.label) }
                        input id=(id) name=(i.name) type=(match i.kind {
                            crate::runtime::types::InputKind::Text => "text",
                            crate::runtime::types::InputKind::Number => "number",
                            crate::runtime::types::InputKind::Search => "search",
                            crate::runtime::types::InputKind::Email => "email",
                            crate::runtime::types::InputKind::Tel => "tel",
                        }) value=(i.value) placeholder=[i.placeholder.as_deref()];
                    }
                }
                Block::Select(s) => {
                    @let id = format!("{tile_id}--{}", s.name);
                    div.field {
                        label for=(id) { (s.label) }
                        select id=(id) name=(s.name) {
                            @for o in &s.options {
                                option value=(o.value) selected[s.selected.as_deref() == Some(o.value.as_str())] { (o.label) }
                            }
                        }
                    }
                }
                Block::Alert(a) => div class={"alert " (tone(a.tone))} role=(if matches!(a.tone, Tone::Danger | Tone::Warning) { "alert" } else { "status" }) {
                    @if let Some(t) = &a.title { strong { (t) } " " }
                    (a.message)
                },
                Block::Empty(e) => div.empty {
                    p.empty-title { (e.title) }
                    @if let Some(m) = &e.message { p { (m) } }
                },
                Block::Duration(d) => p.duration { span { (d.label) } " " (since(d.since, now_ms)) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::types::{Alert, Button, Link};

    #[test]
    fn unsafe_urls_are_refused() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "//evil.example/x",
            "/\\evil.example",
            "",
        ] {
            assert_eq!(safe_url(bad), None, "{bad:?} must be refused");
        }
        for good in [
            "https://example.com/a?b#c",
            "http://x",
            "mailto:a@b.c",
            "tel:+14155550100",
            "/pages/q",
            "help.html",
            "#top",
        ] {
            assert_eq!(safe_url(good).as_deref(), Some(good));
        }
    }

    #[test]
    fn plugin_strings_are_escaped() {
        let evil = "<script>alert(1)</script><img src=x onerror=alert(1)>\"'";
        let html = blocks(
            &[
                Block::Heading(evil.into()),
                Block::Text(evil.into()),
                Block::Link(Link {
                    label: evil.into(),
                    url: "javascript:alert(1)".into(),
                }),
                Block::Buttons(vec![Button {
                    label: evil.into(),
                    action: evil.into(),
                    tone: Tone::Info,
                }]),
                Block::Alert(Alert {
                    tone: Tone::Danger,
                    title: Some(evil.into()),
                    message: evil.into(),
                }),
            ],
            "t",
            0,
        )
        .into_string();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn huge_tables_are_capped() {
        let t = Table {
            caption: None,
            columns: vec!["n".into()],
            rows: (0..100_000)
                .map(|i| vec![Cell::Text(i.to_string())])
                .collect(),
        };
        let html = blocks(&[Block::Table(t)], "t", 0).into_string();
        assert_eq!(html.matches("<tr>").count(), MAX_TABLE_ROWS + 1);
        assert!(html.contains("99500 more rows not shown."));
    }

    #[test]
    fn elapsed_time_format() {
        assert_eq!(format_elapsed(5), "0:05");
        assert_eq!(format_elapsed(65), "1:05");
        assert_eq!(format_elapsed(3725), "1:02:05");
    }
}
