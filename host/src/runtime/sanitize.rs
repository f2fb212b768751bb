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

/// Removes invisible controls from every string of a view, in place
/// (escaping already keeps markup out; this keeps spoofing out).
pub fn sanitize(view: &mut View) {
    fn stat(s: &mut Stat) {
        clean(&mut s.label);
        clean(&mut s.value);
        s.unit.iter_mut().for_each(clean);
        if let Some(t) = &mut s.trend {
            clean(&mut t.label);
        }
    }
    fn button(b: &mut Button) {
        clean(&mut b.label);
    }
    fn link(l: &mut Link) {
        clean(&mut l.label);
        clean(&mut l.url);
    }
    for block in &mut view.blocks {
        match block {
            Block::Heading(s) | Block::Text(s) => clean(s),
            Block::Stat(s) => stat(s),
            Block::Stats(list) => list.iter_mut().for_each(stat),
            Block::Table(t) => {
                t.caption.iter_mut().for_each(clean);
                t.columns.iter_mut().for_each(clean);
                for cell in t.rows.iter_mut().flatten() {
                    match cell {
                        Cell::Text(s) => clean(s),
                        Cell::Badge(b) => clean(&mut b.label),
                        Cell::Button(b) => button(b),
                        Cell::Link(l) => link(l),
                        Cell::Number(_) | Cell::Since(_) => {}
                    }
                }
            }
            Block::Items(items) => {
                for i in items {
                    clean(&mut i.text);
                    i.detail.iter_mut().for_each(clean);
                }
            }
            Block::KeyValues(kv) => {
                for p in kv {
                    clean(&mut p.key);
                    clean(&mut p.value);
                }
            }
            Block::Progress(p) => clean(&mut p.label),
            Block::Chart(c) => {
                c.title.iter_mut().for_each(clean);
                c.unit.iter_mut().for_each(clean);
                c.points.iter_mut().for_each(|p| clean(&mut p.label));
            }
            Block::Badge(b) => clean(&mut b.label),
            Block::Link(l) => link(l),
            Block::Buttons(bs) => bs.iter_mut().for_each(button),
            Block::Input(i) => {
                clean(&mut i.label);
                clean(&mut i.value);
                i.placeholder.iter_mut().for_each(clean);
            }
            Block::Select(s) => {
                clean(&mut s.label);
                for o in &mut s.options {
                    clean(&mut o.label);
                }
            }
            Block::Alert(a) => {
                a.title.iter_mut().for_each(clean);
                clean(&mut a.message);
            }
            Block::Empty(e) => {
                clean(&mut e.title);
                e.message.iter_mut().for_each(clean);
            }
            Block::Duration(d) => clean(&mut d.label),
        }
    }
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
}
