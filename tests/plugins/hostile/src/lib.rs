//! A widget that misbehaves on purpose, for the host's tests. Its `mode`
//! setting picks how: trap, loop forever, grow memory without bound, recurse
//! without end, return an error, use a capability, show a new view every
//! second (`tick`), or behave.

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
                        "ok", "trap", "loop", "grow", "recurse", "error", "kv", "tick",
                    ])
                    .default_text("ok"),
            )
            .size(3, 2)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        match s.mode.as_str() {
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
            _ => Ok(View::new().text("hostile widget behaving")),
        }
    }
}

deskhost_sdk::export_widget!(Hostile);
