//! A rendered view: typed blocks, a text form for snapshots, and the
//! host's HTML.

use std::fmt::{self, Write as _};

use deskhost::runtime::types::{
    Alert, Block, Button, Cell, ChartKind, InputKind, ProgressStyle, Stat, Table, Tone, View,
};

/// What a render or action returned, after the host sanitised it.
#[derive(Debug, Clone)]
pub struct Rendered {
    view: View,
    tile_id: String,
    now_ms: u64,
}

impl Rendered {
    pub(crate) fn new(view: View, tile_id: &str, now_ms: u64) -> Self {
        Rendered {
            view,
            tile_id: tile_id.into(),
            now_ms,
        }
    }

    /// The view, as the host received it and sanitised it.
    pub fn view(&self) -> &View {
        &self.view
    }

    /// The view's blocks, top to bottom.
    pub fn blocks(&self) -> &[Block] {
        &self.view.blocks
    }

    /// The host clock when the call ran (what `since` times are shown
    /// against in the snapshot).
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The tile body's HTML, as the host serves it.
    pub fn html(&self) -> String {
        deskhost::web::view::blocks(&self.view.blocks, &self.tile_id, self.now_ms).into_string()
    }

    /// The view as text, one block per line and its parts indented below
    /// it: deterministic, for `assert_eq!` or snapshot tests. Strings are
    /// quoted as Rust does; tones other than neutral are in brackets; `since`
    /// times are relative to the host clock (`now-5m00s`).
    ///
    /// ```text
    /// heading "Hello, Sam Rivera"
    /// stats
    ///   stat "Handled" = "120" [success] (+1.7% vs yesterday, higher is better)
    /// table "Agents of team Sales"
    ///   columns "Agent" | "State"
    ///   row "Ana Lima" | badge "Available" [success]
    /// ```
    pub fn to_snapshot(&self) -> String {
        let mut out = String::new();
        for block in &self.view.blocks {
            self.block(&mut out, block);
        }
        out
    }

    /// Whether the snapshot contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.to_snapshot().contains(text)
    }

    /// Every heading's text.
    pub fn headings(&self) -> Vec<&str> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                Block::Heading(h) => Some(h.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every text block's text.
    pub fn texts(&self) -> Vec<&str> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every stat, alone or in a row of stats.
    pub fn stats(&self) -> Vec<&Stat> {
        self.blocks()
            .iter()
            .flat_map(|b| match b {
                Block::Stat(s) => std::slice::from_ref(s),
                Block::Stats(list) => list.as_slice(),
                _ => &[],
            })
            .collect()
    }

    /// The stat labelled `label`.
    pub fn stat(&self, label: &str) -> Option<&Stat> {
        self.stats().into_iter().find(|s| s.label == label)
    }

    /// Every table.
    pub fn tables(&self) -> Vec<&Table> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                Block::Table(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// The first table's rows as text ([`cell_text`]), without the columns.
    pub fn table_rows(&self) -> Vec<Vec<String>> {
        self.tables().first().map_or_else(Vec::new, |t| {
            t.rows
                .iter()
                .map(|r| r.iter().map(cell_text).collect())
                .collect()
        })
    }

    /// The value of key `key` in the key-value blocks.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                Block::KeyValues(kv) => Some(kv),
                _ => None,
            })
            .flatten()
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.as_str())
    }

    /// Every alert.
    pub fn alerts(&self) -> Vec<&Alert> {
        self.blocks()
            .iter()
            .filter_map(|b| match b {
                Block::Alert(a) => Some(a),
                _ => None,
            })
            .collect()
    }

    /// Every button, in rows of buttons and in table cells, top to bottom.
    pub fn buttons(&self) -> Vec<&Button> {
        let mut out = Vec::new();
        for b in self.blocks() {
            match b {
                Block::Buttons(list) => out.extend(list),
                Block::Table(t) => out.extend(t.rows.iter().flatten().filter_map(|c| match c {
                    Cell::Button(b) => Some(b),
                    _ => None,
                })),
                _ => {}
            }
        }
        out
    }

    /// The button whose action is `action`.
    pub fn button(&self, action: &str) -> Option<&Button> {
        self.buttons().into_iter().find(|b| b.action == action)
    }

    fn block(&self, out: &mut String, block: &Block) {
        let w = out;
        // Writing to a String cannot fail.
        let _ = match block {
            Block::Heading(h) => writeln!(w, "heading {h:?}"),
            Block::Text(t) => writeln!(w, "text {t:?}"),
            Block::Stat(s) => writeln!(w, "{}", stat(s)),
            Block::Stats(list) => {
                let _ = writeln!(w, "stats");
                for s in list {
                    let _ = writeln!(w, "  {}", stat(s));
                }
                Ok(())
            }
            Block::Table(t) => {
                let _ = match &t.caption {
                    Some(c) => writeln!(w, "table {c:?}"),
                    None => writeln!(w, "table"),
                };
                let columns: Vec<String> = t.columns.iter().map(|c| format!("{c:?}")).collect();
                let _ = writeln!(w, "  columns {}", columns.join(" | "));
                for row in &t.rows {
                    let cells: Vec<String> = row.iter().map(|c| self.cell(c)).collect();
                    let _ = writeln!(w, "  row {}", cells.join(" | "));
                }
                Ok(())
            }
            Block::Items(items) => {
                let _ = writeln!(w, "items");
                for i in items {
                    let _ = write!(w, "  item {:?}", i.text);
                    if let Some(d) = &i.detail {
                        let _ = write!(w, " ({d:?})");
                    }
                    let _ = writeln!(w, "{}", tone(i.tone));
                }
                Ok(())
            }
            Block::KeyValues(kvs) => {
                let _ = writeln!(w, "key-values");
                for kv in kvs {
                    let _ = writeln!(w, "  {:?}: {:?}", kv.key, kv.value);
                }
                Ok(())
            }
            Block::Progress(p) => {
                let style = match p.style {
                    ProgressStyle::Bar => "bar",
                    ProgressStyle::Gauge => "gauge",
                };
                let _ = write!(w, "progress {style} {:?} {}/{}", p.label, p.value, p.max);
                if let Some(t) = p.target {
                    let _ = write!(w, " target {t}");
                }
                writeln!(w, "{}", tone(p.tone))
            }
            Block::Chart(c) => {
                let kind = match c.kind {
                    ChartKind::Bar => "bar",
                    ChartKind::Line => "line",
                    ChartKind::Sparkline => "sparkline",
                };
                let _ = write!(w, "chart {kind}");
                if let Some(t) = &c.title {
                    let _ = write!(w, " {t:?}");
                }
                if let Some(u) = &c.unit {
                    let _ = write!(w, " unit {u:?}");
                }
                let _ = writeln!(w);
                for p in &c.points {
                    let _ = writeln!(w, "  point {:?} = {}", p.label, p.value);
                }
                Ok(())
            }
            Block::Badge(b) => writeln!(w, "badge {:?}{}", b.label, tone(b.tone)),
            Block::Link(l) => writeln!(w, "link {:?} -> {:?}", l.label, l.url),
            Block::Buttons(list) => {
                let _ = writeln!(w, "buttons");
                for b in list {
                    let _ = writeln!(w, "  {}", button(b));
                }
                Ok(())
            }
            Block::Input(i) => {
                let kind = match i.kind {
                    InputKind::Text => "text",
                    InputKind::Number => "number",
                    InputKind::Search => "search",
                    InputKind::Email => "email",
                    InputKind::Tel => "tel",
                };
                let _ = write!(w, "input {kind} {} {:?} = {:?}", i.name, i.label, i.value);
                if let Some(p) = &i.placeholder {
                    let _ = write!(w, " placeholder {p:?}");
                }
                writeln!(w)
            }
            Block::Select(s) => {
                let _ = writeln!(w, "select {} {:?}", s.name, s.label);
                for o in &s.options {
                    let mark = if s.selected.as_deref() == Some(o.value.as_str()) {
                        " (selected)"
                    } else {
                        ""
                    };
                    let _ = writeln!(w, "  option {} {:?}{mark}", o.value, o.label);
                }
                Ok(())
            }
            Block::Alert(a) => {
                let _ = write!(w, "alert{}", tone(a.tone));
                if let Some(t) = &a.title {
                    let _ = write!(w, " {t:?}:");
                }
                writeln!(w, " {:?}", a.message)
            }
            Block::Empty(e) => {
                let _ = write!(w, "empty {:?}", e.title);
                if let Some(m) = &e.message {
                    let _ = write!(w, ": {m:?}");
                }
                writeln!(w)
            }
            Block::Duration(d) => {
                writeln!(
                    w,
                    "duration {:?} since {}",
                    d.label,
                    since(d.since, self.now_ms)
                )
            }
        };
    }

    fn cell(&self, c: &Cell) -> String {
        match c {
            Cell::Since(ms) => format!("since {}", since(*ms, self.now_ms)),
            other => cell_snapshot(other),
        }
    }
}

impl fmt::Display for Rendered {
    /// The [snapshot](Rendered::to_snapshot).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_snapshot())
    }
}

/// A cell as plain text: a text cell's text, a number, a badge's or
/// button's or link's label, a `since` time as its Unix ms.
pub fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::Badge(b) => b.label.clone(),
        Cell::Since(ms) => ms.to_string(),
        Cell::Button(b) => b.label.clone(),
        Cell::Link(l) => l.label.clone(),
    }
}

fn cell_snapshot(c: &Cell) -> String {
    match c {
        Cell::Text(t) => format!("{t:?}"),
        Cell::Number(n) => n.to_string(),
        Cell::Badge(b) => format!("badge {:?}{}", b.label, tone(b.tone)),
        Cell::Since(ms) => format!("since {ms}"),
        Cell::Button(b) => button(b),
        Cell::Link(l) => format!("link {:?} -> {:?}", l.label, l.url),
    }
}

fn tone(t: Tone) -> &'static str {
    match t {
        Tone::Neutral => "",
        Tone::Info => " [info]",
        Tone::Success => " [success]",
        Tone::Warning => " [warning]",
        Tone::Danger => " [danger]",
    }
}

fn stat(s: &Stat) -> String {
    let mut out = format!("stat {:?} = {:?}", s.label, s.value);
    if let Some(u) = &s.unit {
        let _ = write!(out, " unit {u:?}");
    }
    out.push_str(tone(s.tone));
    if let Some(t) = &s.trend {
        let _ = write!(
            out,
            " ({:+.1}% {}, {} is better)",
            t.change_percent,
            t.label,
            if t.higher_is_better {
                "higher"
            } else {
                "lower"
            }
        );
    }
    out
}

fn button(b: &Button) -> String {
    format!("button {:?} -> {}{}", b.label, b.action, tone(b.tone))
}

/// `now-5m00s`, `now+30s`, `now` for a time against the clock.
fn since(ms: u64, now_ms: u64) -> String {
    let (sign, diff) = if ms <= now_ms {
        ('-', now_ms - ms)
    } else {
        ('+', ms - now_ms)
    };
    let secs = diff / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) if secs == 0 => "now".into(),
        (0, 0) => format!("now{sign}{s}s"),
        (0, _) => format!("now{sign}{m}m{s:02}s"),
        _ => format!("now{sign}{h}h{m:02}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskhost::runtime::types::{Badge, KeyValue, Trend};

    #[test]
    fn snapshot_is_one_line_per_block_with_parts_indented() {
        let now = 10_000_000;
        let view = View {
            blocks: vec![
                Block::Heading("Hi \"you\"".into()),
                Block::Stats(vec![Stat {
                    label: "Handled".into(),
                    value: "120".into(),
                    unit: None,
                    trend: Some(Trend {
                        change_percent: 1.66,
                        label: "vs yesterday".into(),
                        higher_is_better: true,
                    }),
                    tone: Tone::Success,
                }]),
                Block::Table(Table {
                    caption: Some("Agents".into()),
                    columns: vec!["Agent".into(), "Since".into(), "State".into()],
                    rows: vec![vec![
                        Cell::Text("Ana".into()),
                        Cell::Since(now - 300_000),
                        Cell::Badge(Badge {
                            label: "Idle".into(),
                            tone: Tone::Warning,
                        }),
                    ]],
                }),
                Block::KeyValues(vec![KeyValue {
                    key: "Team".into(),
                    value: "Sales".into(),
                }]),
            ],
        };
        let r = Rendered::new(view, "t", now);
        assert_eq!(
            r.to_snapshot(),
            "heading \"Hi \\\"you\\\"\"\n\
             stats\n  stat \"Handled\" = \"120\" [success] (+1.7% vs yesterday, higher is better)\n\
             table \"Agents\"\n  columns \"Agent\" | \"Since\" | \"State\"\n\
             \x20 row \"Ana\" | since now-5m00s | badge \"Idle\" [warning]\n\
             key-values\n  \"Team\": \"Sales\"\n"
        );
        assert_eq!(r.stat("Handled").unwrap().value, "120");
        assert_eq!(r.value("Team"), Some("Sales"));
        assert_eq!(r.table_rows()[0][0], "Ana");
        assert!(r.html().contains("Hi &quot;you&quot;"));
    }

    #[test]
    fn since_is_relative_to_the_clock() {
        assert_eq!(since(1000, 1000), "now");
        assert_eq!(since(0, 30_000), "now-30s");
        assert_eq!(since(0, 3_723_000), "now-1h02m03s");
        assert_eq!(since(61_000, 0), "now+1m01s");
    }
}
