//! The `deskhost` command as users meet it: `check` with its exact
//! diagnostics and exit codes, and `serve` on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn deskhost() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deskhost"));
    c.arg("--data-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-data"));
    c.env("RUST_LOG", "warn");
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/layouts")
        .join(name)
}

#[test]
fn check_reports_every_error_with_line_and_column() {
    let out = deskhost()
        .arg("check")
        .arg(fixture("bad.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let name = fixture("bad.toml").display().to_string();
    let firsts: Vec<&str> = text.lines().filter(|l| l.starts_with(&name)).collect();
    let expected = [
        ":3:1: error: missing required key `column` in `supervisor.home.widgets[0]`",
        ":6:1: error: unknown key `colum` in `supervisor.home.widgets[0]`",
        ":8:14: error: unknown setting `greting` for plugin `hello`",
        ":8:45: error: setting `show_details` expects a boolean, found a string",
        ":11:6: error: duplicate widget id `welcome`",
        ":12:10: error: unknown plugin `helo`",
        ":15:9: error: tile runs past column 12",
        ":20:11: error: no installed version of `hello` matches `^2` (installed: 0.1.0)",
        ":23:20: error: invalid duration `soon`",
    ];
    assert_eq!(firsts.len(), expected.len(), "{text}");
    for (line, want) in firsts.iter().zip(expected) {
        assert!(
            line.starts_with(&format!("{name}{want}")),
            "expected {want:?}, got {line:?}"
        );
    }
    assert!(text.contains("help: did you mean `column`?"), "{text}");
    assert!(text.contains("help: did you mean `greeting`?"), "{text}");
    assert!(text.contains("help: did you mean `hello`?"), "{text}");
}

#[test]
fn check_json_is_machine_readable() {
    let out = deskhost()
        .args(["check", "--format", "json"])
        .arg(fixture("bad.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v[0]["diagnostics"][1];
    assert_eq!(d["line"], 6);
    assert_eq!(d["column"], 1);
    assert_eq!(d["key_path"], "supervisor.home.widgets[0].colum");
    assert_eq!(d["help"], "did you mean `column`?");
}

#[test]
fn check_exit_codes() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../layouts/demo.toml");
    let out = deskhost().arg("check").arg(&demo).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(": ok\n"));
    let out = deskhost()
        .args(["check", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = deskhost()
        .arg("check")
        .arg("/nonexistent/layout.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/layout.toml"));
}

#[test]
fn serve_refuses_an_invalid_layout_and_says_why() {
    let out = deskhost()
        .args(["serve", "--listen", "127.0.0.1:0", "--layout"])
        .arg(fixture("bad.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has errors, so deskhost will not start"),
        "{err}"
    );
    assert!(
        err.contains("bad.toml:12:10: error: unknown plugin `helo`"),
        "{err}"
    );
}

#[test]
fn serve_prints_the_sign_in_details_and_asks_for_sign_in() {
    let mut child = deskhost()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.trim_start().starts_with("mail:") {
            break;
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (health, home, sign_in) = rt.block_on(async {
        (
            http_get(&format!("{url}/healthz")).await,
            http_get(&format!("{url}/")).await,
            http_get(&format!("{url}/sign-in")).await,
        )
    });
    child.kill().unwrap();
    let _ = child.wait();
    for expected in [
        "supervisor@example.com",
        "lead@example.com",
        "deskhost-demo",
        "+14155550100 to +14155550109",
        "outbox",
    ] {
        assert!(
            printed.contains(expected),
            "{expected} not printed: {printed}"
        );
    }
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    assert!(home.starts_with("HTTP/1.1 303"), "{home}");
    assert!(home.contains("location: /sign-in"), "{home}");
    assert!(
        sign_in.contains("<label for=\"email\">E-mail address</label>"),
        "{sign_in}"
    );
    assert!(sign_in.contains(">Sign in</button>"), "{sign_in}");
}

async fn http_get(url: &str) -> String {
    // A minimal HTTP/1.1 GET over a TCP stream, to keep the host's test
    // dependencies small.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let (host, path) = addr.split_at(addr.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body
}

#[test]
fn schema_is_printed_and_matches_the_shipped_file() {
    let out = deskhost().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../layouts/layout.schema.json"),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shipped);
}

#[test]
fn resolve_picks_the_team_layout_and_the_visible_widgets() {
    let out = deskhost()
        .args(["resolve", "--role", "supervisor-agent", "--team", "support"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["layout"], "layouts/team-support.toml");
    assert_eq!(v["pages"][0]["widgets"][0]["title"], "Support queues");
    let out = deskhost()
        .args(["resolve", "--role", "agent", "--team", "retention"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["layout"], "layouts/demo.toml");
    let ids: Vec<&str> = v["pages"][0]["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["welcome", "queues", "news"]);
    let out = deskhost()
        .args(["resolve", "--role", "boss"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role `boss`"));
}

#[test]
fn resolve_composes_a_team_overlay_on_the_global_layout() {
    let out = deskhost()
        .args(["resolve", "--role", "supervisor-agent", "--team", "billing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["layout"], "layouts/team-billing.toml");
    assert_eq!(v["title"], "Acme Contact Center · Billing");
    let page = |i: usize| -> Vec<(String, String)> {
        v["pages"][i]["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["id"].as_str().unwrap().to_owned(),
                    w["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // Global tiles, the team tile replaced in place, news removed.
    let home: Vec<String> = page(0)
        .into_iter()
        .map(|(id, t)| format!("{id}: {t}"))
        .collect();
    assert_eq!(
        home,
        [
            "welcome: Welcome",
            "kpis: Today's figures",
            "team: Billing team",
            "states: Agent states",
            "queues: Queues"
        ]
    );
    assert_eq!(v["pages"][1]["id"], "billing");
    assert_eq!(page(1), [("billing-kpis".into(), "Billing today".into())]);
    // Grants come from the global layout.
    assert_eq!(
        v["plugins"]["kpi-tiles"]["grants"],
        serde_json::json!(["contact-center"])
    );
}

#[test]
fn check_composes_an_overlay_and_reports_into_its_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-overlay");
    std::fs::create_dir_all(&dir).unwrap();
    let overlay = dir.join("team-sales.toml");
    // A tile over the global `welcome` tile, a removal of nothing, a team
    // the contact center does not have.
    std::fs::write(
        &overlay,
        "teams = [\"sales\", \"salse\"]\nextends = \"global\"\n\n[supervisor-agent]\nremove = [\"ghost\"]\n\n\
         [[supervisor-agent.home.widgets]]\nid = \"hi\"\nplugin = \"welcome\"\ncolumn = 2\nrow = 2\n",
    )
    .unwrap();
    let out = deskhost()
        .args(["check", "--format", "json"])
        .arg(&overlay)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = v[0]["diagnostics"].as_array().unwrap();
    let found: Vec<(String, u64, u64)> = diags
        .iter()
        .map(|d| {
            (
                d["message"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        found.contains(&("no team `salse` in the contact center".into(), 1, 19)),
        "{found:#?}"
    );
    assert!(
        found.contains(&(
            "`remove` names `ghost`, which no lower layer places".into(),
            5,
            11
        )),
        "{found:#?}"
    );
    assert!(
        found.contains(&(
            "widget `hi` overlaps widget `welcome` of a lower layer on page `home`".into(),
            7,
            1
        )),
        "{found:#?}"
    );
}
