//! Cleaning what a plugin returns before anything else sees it: strings
//! lose invisible controls (bidi overrides, zero-width characters) that
//! could make a tile display something other than what it says. Markup is
//! kept out separately, by escaping at render time.

use super::types::{Block, Button, Cell, Link, Stat, View};

/// Whether `c` may change how surrounding text displays without being seen:
/// bidirectional overrides and isolates, and zero-width characters. Used
/// to spoof text ("exe.txt" shown for "txt.exe"); never needed in a tile.
fn is_invisible_control(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{FEFF}' // zero-width no-break space
    )
}

fn clean(s: &mut String) {
    if s.chars().any(is_invisible_control) {
        s.retain(|c| !is_invisible_control(c));
    }
}

/// How much a view holds, counted while it is cleaned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewSize {
    /// Strings in it.
    pub strings: usize,
    /// Their total length in bytes.
    pub bytes: usize,
    /// Rows of its largest table, or entries of its longest list.
    pub longest: usize,
}

/// Most strings a view may hold: a busy tile has a few thousand.
pub const MAX_STRINGS: usize = 50_000;
/// Most text a view may hold, in bytes.
pub const MAX_BYTES: usize = 1 << 20;
/// Most rows a table (or entries a list) may have: more cannot be read in
/// a tile, and would only slow every page that shows it.
pub const MAX_ROWS: usize = 2_000;

impl ViewSize {
    /// Why a view of this size is refused, if it is.
    pub fn too_large(&self) -> Option<String> {
        if self.longest > MAX_ROWS {
            Some(format!(
                "a table or list of {} rows (at most {MAX_ROWS})",
                self.longest
            ))
        } else if self.strings > MAX_STRINGS {
            Some(format!("{} strings (at most {MAX_STRINGS})", self.strings))
        } else if self.bytes > MAX_BYTES {
            Some(format!(
                "{} KiB of text (at most {} KiB)",
                self.bytes / 1024,
                MAX_BYTES / 1024
            ))
        } else {
            None
        }
    }

    fn clean(&mut self, s: &mut String) {
        self.strings += 1;
        self.bytes += s.len();
        clean(s);
    }

    fn entries(&mut self, n: usize) {
        self.longest = self.longest.max(n);
    }
}

/// Removes invisible controls from every string of a view, in place
/// (escaping already keeps markup out; this keeps spoofing out), and
/// measures it.
pub fn sanitize(view: &mut View) -> ViewSize {
    let mut size = ViewSize::default();
    let z = &mut size;
    fn stat(z: &mut ViewSize, s: &mut Stat) {
        z.clean(&mut s.label);
        z.clean(&mut s.value);
        s.unit.iter_mut().for_each(|s| z.clean(s));
        if let Some(t) = &mut s.trend {
            z.clean(&mut t.label);
        }
    }
    fn button(z: &mut ViewSize, b: &mut Button) {
        z.clean(&mut b.label);
    }
    fn link(z: &mut ViewSize, l: &mut Link) {
        z.clean(&mut l.label);
        z.clean(&mut l.url);
    }
    for block in &mut view.blocks {
        match block {
            Block::Heading(s) | Block::Text(s) => z.clean(s),
            Block::Stat(s) => stat(z, s),
            Block::Stats(list) => {
                z.entries(list.len());
                list.iter_mut().for_each(|s| stat(z, s));
            }
            Block::Table(t) => {
                z.entries(t.rows.len());
                t.caption.iter_mut().for_each(|s| z.clean(s));
                t.columns.iter_mut().for_each(|s| z.clean(s));
                for cell in t.rows.iter_mut().flatten() {
                    match cell {
                        Cell::Text(s) => z.clean(s),
                        Cell::Badge(b) => z.clean(&mut b.label),
                        Cell::Button(b) => button(z, b),
                        Cell::Link(l) => link(z, l),
                        Cell::Number(_) | Cell::Since(_) => {}
                    }
                }
            }
            Block::Items(items) => {
                z.entries(items.len());
                for i in items {
                    z.clean(&mut i.text);
                    i.detail.iter_mut().for_each(|s| z.clean(s));
                }
            }
            Block::KeyValues(kv) => {
                z.entries(kv.len());
                for p in kv {
                    z.clean(&mut p.key);
                    z.clean(&mut p.value);
                }
            }
            Block::Progress(p) => z.clean(&mut p.label),
            Block::Chart(c) => {
                z.entries(c.points.len());
                c.title.iter_mut().for_each(|s| z.clean(s));
                c.unit.iter_mut().for_each(|s| z.clean(s));
                c.points.iter_mut().for_each(|p| z.clean(&mut p.label));
            }
            Block::Badge(b) => z.clean(&mut b.label),
            Block::Link(l) => link(z, l),
            Block::Buttons(bs) => {
                z.entries(bs.len());
                bs.iter_mut().for_each(|b| button(z, b));
            }
            Block::Input(i) => {
                z.clean(&mut i.label);
                z.clean(&mut i.value);
                i.placeholder.iter_mut().for_each(|s| z.clean(s));
            }
            Block::Select(s) => {
                z.entries(s.options.len());
                z.clean(&mut s.label);
                for o in &mut s.options {
                    z.clean(&mut o.label);
                }
            }
            Block::Alert(a) => {
                a.title.iter_mut().for_each(|s| z.clean(s));
                z.clean(&mut a.message);
            }
            Block::Empty(e) => {
                z.clean(&mut e.title);
                e.message.iter_mut().for_each(|s| z.clean(s));
            }
            Block::Duration(d) => z.clean(&mut d.label),
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_removed() {
        let mut v = View {
            blocks: vec![
                Block::Text("invoice\u{202E}fdp.exe".into()),
                Block::Heading("a\u{200B}d\u{FEFF}m\u{2066}in".into()),
                Block::Text("Zoë — 東京 ✓".into()),
            ],
        };
        sanitize(&mut v);
        assert!(matches!(&v.blocks[0], Block::Text(t) if t == "invoicefdp.exe"));
        assert!(matches!(&v.blocks[1], Block::Heading(t) if t == "admin"));
        assert!(matches!(&v.blocks[2], Block::Text(t) if t == "Zoë — 東京 ✓"));
    }

    #[test]
    fn views_past_the_caps_are_too_large_and_say_why() {
        let text = |n: usize, len: usize| View {
            blocks: (0..n).map(|_| Block::Text("x".repeat(len))).collect(),
        };
        let size = sanitize(&mut text(3, 5));
        assert_eq!((size.strings, size.bytes), (3, 15));
        assert_eq!(size.too_large(), None);
        assert_eq!(
            sanitize(&mut text(MAX_STRINGS + 1, 1)).too_large(),
            Some(format!(
                "{} strings (at most {MAX_STRINGS})",
                MAX_STRINGS + 1
            ))
        );
        assert_eq!(
            sanitize(&mut text(2, MAX_BYTES)).too_large(),
            Some("2048 KiB of text (at most 1024 KiB)".into())
        );
        let mut list = View {
            blocks: vec![Block::Items(
                (0..=MAX_ROWS)
                    .map(|_| super::super::types::ListItem {
                        text: "a".into(),
                        detail: None,
                        tone: super::super::types::Tone::Neutral,
                    })
                    .collect(),
            )],
        };
        assert_eq!(
            sanitize(&mut list).too_large(),
            Some(format!(
                "a table or list of {} rows (at most {MAX_ROWS})",
                MAX_ROWS + 1
            ))
        );
    }
}
