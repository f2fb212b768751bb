//! Static assets embedded in the binary and served under content-hashed
//! names (`app.3f9c2a1b.css`) with a one-year immutable cache: a new release
//! changes the names, so browsers never need their cache cleared.

use std::collections::HashMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::layout::{GRID_COLUMNS, MAX_HEIGHT, MAX_ROW};

const CSS: &str = include_str!("static/app.css");
const JS: &str = include_str!("static/app.js");
const LOGO: &str = include_str!("static/logo.svg");

/// One embedded file.
#[derive(Debug, Clone)]
pub struct Asset {
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// The bytes.
    pub body: Vec<u8>,
}

/// The embedded assets by hashed name, and the URLs pages link to.
#[derive(Debug, Clone)]
pub struct Assets {
    files: HashMap<String, Asset>,
    /// URL of the stylesheet.
    pub css_url: String,
    /// URL of the script.
    pub js_url: String,
    /// URL of the default logo.
    pub logo_url: String,
}

impl Assets {
    /// Builds the asset set (the stylesheet gets the grid classes appended).
    pub fn new() -> Self {
        let mut files = HashMap::new();
        let mut add = |stem: &str, ext: &str, content_type: &'static str, body: Vec<u8>| {
            let hash = hex::encode(&Sha256::digest(&body)[..5]);
            let name = format!("{stem}.{hash}.{ext}");
            files.insert(name.clone(), Asset { content_type, body });
            format!("/static/{name}")
        };
        let css = format!("{CSS}\n{}", grid_css());
        let css_url = add("app", "css", "text/css; charset=utf-8", css.into_bytes());
        let js_url = add(
            "app",
            "js",
            "text/javascript; charset=utf-8",
            JS.as_bytes().to_vec(),
        );
        let logo_url = add("logo", "svg", "image/svg+xml", LOGO.as_bytes().to_vec());
        Assets {
            files,
            css_url,
            js_url,
            logo_url,
        }
    }

    /// The asset named `name` (without `/static/`).
    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.files.get(name)
    }
}

impl Default for Assets {
    fn default() -> Self {
        Self::new()
    }
}

/// Grid placement classes. At 12 columns (wide screens) tiles sit exactly
/// where the layout puts them (`c`olumn, `r`ow, `w`idth, `h`eight classes);
/// at 10, 6 and 4 columns they flow in reading order: at 10 widths scale
/// by 10/12 (a 4 + 8 row stays one row as 3 + 7), at 6 and 4 narrow tiles
/// take half the row and the others all of it. No inline styles, so the page's CSP can forbid them.
fn grid_css() -> String {
    let mut css = String::from("/* generated grid classes */\n");
    for h in 1..=MAX_HEIGHT {
        let _ = writeln!(css, ".h{h}{{grid-row-end:span {h}}}");
    }
    for (min, max, cols) in [
        (1200, None, 12u8),
        (1000, Some(1199), 10),
        (720, Some(999), 6),
        (0, Some(719), 4),
    ] {
        let query = match max {
            None => format!("(min-width:{min}px)"),
            Some(max) => format!("(min-width:{min}px) and (max-width:{max}.98px)"),
        };
        let _ = writeln!(css, "@media {query}{{");
        let _ = writeln!(
            css,
            ".grid{{grid-template-columns:repeat({cols},minmax(0,1fr))}}"
        );
        for w in 1..=GRID_COLUMNS {
            let span = match cols {
                12 => w,
                // Scaled, so tiles that share a row of 12 share a row of 10.
                10 => ((u16::from(w) * 10 + 6) / 12).max(1) as u8,
                _ if w <= cols / 2 => cols / 2,
                _ => cols,
            };
            let _ = writeln!(css, ".w{w}{{grid-column-end:span {span}}}");
        }
        if cols == GRID_COLUMNS {
            for c in 1..=GRID_COLUMNS {
                let _ = writeln!(css, ".c{c}{{grid-column-start:{c}}}");
            }
            for r in 1..=MAX_ROW {
                let _ = writeln!(css, ".r{r}{{grid-row-start:{r}}}");
            }
        }
        css.push_str("}\n");
    }
    css
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_content_hashes() {
        let a = Assets::new();
        assert!(a.css_url.starts_with("/static/app.") && a.css_url.ends_with(".css"));
        let name = a.css_url.trim_start_matches("/static/");
        assert!(a.get(name).is_some());
        assert!(a.get("app.css").is_none());
        let css = String::from_utf8(a.get(name).unwrap().body.clone()).unwrap();
        assert!(css.contains(".c12{grid-column-start:12}"));
        assert!(css.contains("grid-template-columns:repeat(6,minmax(0,1fr))"));
        // At 10 columns, a 4 + 8 row and a 7 + 5 row still fit in one row.
        let ten = css.split("repeat(10,").nth(1).unwrap();
        let ten = &ten[..ten.find("@media").unwrap()];
        for (w, span) in [(4, 3), (8, 7), (7, 6), (5, 4), (12, 10), (1, 1)] {
            assert!(
                ten.contains(&format!(".w{w}{{grid-column-end:span {span}}}")),
                "w{w}"
            );
        }
    }
}
