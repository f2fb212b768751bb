//! A widget that reports what the standard streams, environment and
//! terminals answer it, for the host's tests: the same plugin answered by
//! the host and answered inside its module (`deskhost-componentize`) must
//! see the same. It uses nothing else of WASI, so its module can be
//! answered.

use std::io::{IsTerminal, Write};

use deskhost_sdk::prelude::*;
use serde::Deserialize;

/// Settings.
#[derive(Deserialize)]
pub struct Settings {
    /// `report`, or `panic` (through the standard library's panic hook,
    /// which reads the environment and writes to stderr).
    pub mode: String,
}

/// The widget.
pub struct StdioProbe;

fn outcome<T: std::fmt::Debug>(result: std::io::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(e) => format!("error {:?}", e.kind()),
    }
}

impl Widget for StdioProbe {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new("stdio-probe", "Stdio probe", env!("CARGO_PKG_VERSION"))
            .description("Reports what the standard streams answer, for tests.")
            .setting(
                SettingSpec::text("mode", "What to do.")
                    .choices(&["report", "panic"])
                    .default_text("report"),
            )
            .size(3, 2)
    }

    fn render(_ctx: &Context, s: Settings) -> Result<View, Error> {
        if s.mode == "panic" {
            panic!("the stdio probe panicked on purpose");
        }
        println!("to stdout");
        eprintln!("to stderr");
        let lines = [
            format!("stdout write: {}", outcome(std::io::stdout().write(b"x"))),
            format!("stdout flush: {}", outcome(std::io::stdout().flush())),
            format!(
                "stderr write_all: {}",
                outcome(std::io::stderr().write_all(&[b'y'; 70_000]))
            ),
            format!("environment: {} variables", std::env::vars().count()),
            format!("arguments: {}", std::env::args().count()),
            format!("RUST_BACKTRACE: {:?}", std::env::var("RUST_BACKTRACE").ok()),
            format!(
                "terminals: stdin {}, stdout {}, stderr {}",
                std::io::stdin().is_terminal(),
                std::io::stdout().is_terminal(),
                std::io::stderr().is_terminal()
            ),
        ];
        Ok(View::new().items(lines.into_iter().map(ListItem::new).collect()))
    }
}

deskhost_sdk::export_widget!(StdioProbe);
