//! A widget that misbehaves on purpose, for the host's tests. Its `mode`
//! setting picks how: trap, loop forever, grow memory without bound, recurse
//! without end, return an error, use a capability, show a new view every
//! second (`tick`), or behave.
//!
//! Built with the `fixed` feature (as `tests/plugins/hostile-fixed`, version
//! 0.2.0) its `trap` mode behaves: the fixed version an admin installs.

use deskhost_sdk::prelude::*;
use serde::Deserialize;

/// Settings.
#[derive(Deserialize)]
pub struct Settings {
    /// What to do when rendered.
    pub mode: String,
}

/// The widget.
pub struct Hostile;

/// Markup, script, dangerous URLs, CSS and invisible controls in every
/// kind of string a view has: none of it may act on the page.
fn inject() -> View {
    const SCRIPT: &str = "<script>alert('pwned')</script>";
    View::new()
        .heading(format!("Heading {SCRIPT}"))
        .text("<img src=x onerror=alert(1)> and </style><style>body{display:none}</style>")
        .stat(Stat::new("<b>label</b>", "9\u{202E}1"))
        .link("javascript link", "javascript:alert(1)")
        .link("data link", "data:text/html,<script>alert(1)</script>")
        .link("spaced javascript link", " JaVaScRiPt:alert(1)")
        .table(Table::new(["<th onclick=x>", "b"]).row(vec![
            Cell::text("\u{200B}zero\u{200B}width"),
            Cell::text("\" onmouseover=\"x"),
        ]))
        .button(format!("Press {SCRIPT}"), "a\"><script>")
        .alert(Tone::Danger, "<iframe src=//evil.example></iframe>")
}

#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    // `black_box` keeps the compiler from turning the recursion into a loop.
    let frame = std::hint::black_box([n; 32]);
    std::hint::black_box(recurse(frame[1] + 1)) + frame[2]
}

impl Widget for Hostile {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new("hostile", "Hostile", env!("CARGO_PKG_VERSION"))
            .description("Misbehaves on purpose, for tests.")
            .setting(
                SettingSpec::text("mode", "How to misbehave.")
                    .choices(&[
                        "ok", "trap", "loop", "grow", "recurse", "error", "kv", "tick", "inject",
                        "huge",
                    ])
                    .default_text("ok"),
            )
            .size(3, 2)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        match s.mode.as_str() {
            "trap" if cfg!(feature = "fixed") => {
                Ok(View::new().text("hostile widget fixed: it no longer traps"))
            }
            "trap" => panic!("hostile widget panicked on purpose"),
            "loop" => {
                let mut i: u64 = 0;
                loop {
                    i = std::hint::black_box(i.wrapping_add(1));
                }
            }
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => Ok(View::new().text(recurse(std::hint::black_box(0)).to_string())),
            "error" => Err(Error::new("the hostile widget failed on purpose")),
            "kv" => {
                let n = kv::get("count")?
                    .map(|v| u64::from_le_bytes(v.try_into().unwrap_or([0; 8])))
                    .unwrap_or(0)
                    + 1;
                kv::set("count", &n.to_le_bytes())?;
                Ok(View::new().text(format!("kv count {n}")))
            }
            "probe" => {
                // What of the outside world can a plugin reach through WASI?
                let fs = match std::fs::read_dir("/") {
                    Ok(entries) => format!("fs: {} entries", entries.count()),
                    Err(e) => format!("fs: denied ({e})"),
                };
                let env = format!("env: {} variables", std::env::vars().count());
                let args = format!("args: {}", std::env::args().count());
                let net = match std::net::TcpStream::connect("127.0.0.1:80") {
                    Ok(_) => "net: connected".to_string(),
                    Err(e) => format!("net: denied ({e})"),
                };
                Ok(View::new().items(vec![
                    ListItem::new(fs),
                    ListItem::new(env),
                    ListItem::new(args),
                    ListItem::new(net),
                ]))
            }
            "tick" => Ok(View::new().text(format!("tick {}", clock::now_ms() / 1000))),
            "inject" => Ok(inject()),
            "huge" => {
                let mut table = Table::new(["Row", "Text"]);
                for i in 0..100_000 {
                    table = table.row(vec![Cell::text(i.to_string()), Cell::text("x")]);
                }
                Ok(View::new().table(table))
            }
            _ => Ok(View::new().text("hostile widget behaving")),
        }
    }
}

deskhost_sdk::export_widget!(Hostile);
