//! Hot reload against a running server: edit-and-save cycles on a layout
//! file and a plugin directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deskhost::embedded::TEST_PLUGINS_DIR;
use deskhost_e2e::{TestServer, replace_file};

const LAYOUT: &str = r#"title = "Reload desk"

[[supervisor.home.widgets]]
id = "one"
plugin = "hostile"
title = "One"
column = 1
row = 1
settings = { mode = "error" }
"#;

/// Waits until the host has made `n` reload attempts (up to a minute: a
/// reload may compile a plugin while other tests' servers compile theirs).
async fn reloads(server: &TestServer, n: u64) -> deskhost::app::ReloadStatus {
    for _ in 0..1200 {
        let status = server.host.reload_status();
        if status.attempts >= n {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no reload {n} within 60 s: {:?}",
        server.host.reload_status()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

struct Setup {
    dir: tempfile::TempDir,
    layout: PathBuf,
    plugins: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("desk.toml");
    std::fs::write(&layout, LAYOUT).unwrap();
    let plugins = dir.path().join("plugins");
    copy_dir(Path::new(TEST_PLUGINS_DIR), &plugins);
    Setup {
        dir,
        layout,
        plugins,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_go_live_bad_ones_are_kept_out_and_deleting_keeps_the_last_good() {
    let s = setup();
    let server = TestServer::start_config(vec![s.layout.clone()], vec![s.plugins.clone()]).await;
    let mut dana = server.supervisor().await;
    let (_, page) = dana.get("/").await;
    assert!(page.contains("<title>Home · Reload desk</title>"));
    // The failing widget raises the banner.
    assert!(!page.contains("id=\"banner\" role=\"status\" hidden"));

    // A valid change goes live, and fixing the widget clears the banner.
    replace_file(
        &s.layout,
        LAYOUT
            .replace("Reload desk", "Reload desk v2")
            .replace("\"error\"", "\"ok\""),
    );
    let status = reloads(&server, 1).await;
    assert!(status.applied, "{status:?}");
    let (_, page) = dana.get("/").await;
    assert!(
        page.contains("<title>Home · Reload desk v2</title>"),
        "{page}"
    );
    assert!(page.contains("hostile widget behaving"));
    assert!(page.contains("id=\"banner\" role=\"status\" hidden"));

    // An invalid change is reported with its position and kept out.
    replace_file(&s.layout, LAYOUT.replace("column = 1", "colum = 1"));
    let status = reloads(&server, 2).await;
    assert!(!status.applied);
    let report = status.problems.join("\n");
    assert!(
        report.contains("desk.toml:7:1: error: unknown key `colum`"),
        "{report}"
    );
    let (_, page) = dana.get("/").await;
    assert!(
        page.contains("Reload desk v2"),
        "the last good layout must keep serving"
    );
    let (_, health) = server.get("/healthz").await;
    assert!(health.contains("\"applied\":false"), "{health}");

    // Deleting the file keeps the last good version.
    std::fs::remove_file(&s.layout).unwrap();
    let status = reloads(&server, 3).await;
    let report = status.problems.join("\n");
    assert!(
        report.contains("last good version keeps serving"),
        "{report}"
    );
    let (status_code, page) = dana.get("/").await;
    assert_eq!(status_code, 200);
    assert!(page.contains("Reload desk v2"));
    drop(s.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_plugin_is_refused_and_a_good_one_goes_live() {
    let s = setup();
    let server = TestServer::start_config(vec![s.layout.clone()], vec![s.plugins.clone()]).await;
    let wasm = s.plugins.join("hostile/plugin.wasm");
    let good = std::fs::read(&wasm).unwrap();
    let mut dana = server.supervisor().await;

    replace_file(&wasm, b"not a component");
    let status = reloads(&server, 1).await;
    assert!(!status.applied);
    assert!(
        status
            .problems
            .join("\n")
            .contains("not a valid WebAssembly component"),
        "{status:?}"
    );
    let (_, page) = dana.get("/").await;
    assert!(
        page.contains("the hostile widget failed on purpose"),
        "old plugin keeps serving"
    );

    replace_file(&wasm, &good);
    let status = reloads(&server, 2).await;
    assert!(status.applied, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_widget_recovers_when_a_fixed_version_is_installed() {
    let s = setup();
    replace_file(&s.layout, LAYOUT.replace("\"error\"", "\"trap\""));
    let server = TestServer::start_config(vec![s.layout.clone()], vec![s.plugins.clone()]).await;
    // Three viewers in a row see it crash; the fourth finds it paused.
    for who in ["sup1", "sup2", "sup3"] {
        let (_, page) = server
            .sign_in(&format!("{who}@example.com"), deskhost_e2e::DESKTOP)
            .await
            .get("/")
            .await;
        assert!(page.contains("This widget crashed"), "{who}: {page}");
    }
    let mut last = server
        .sign_in("sup4@example.com", deskhost_e2e::DESKTOP)
        .await;
    let (_, page) = last.get("/").await;
    assert!(
        page.contains("This widget is paused after repeated failures"),
        "{page}"
    );

    // The admin installs version 0.2.0 next to 0.1.0: the highest version
    // is chosen and the widget works again without waiting for its
    // back-off to end.
    // (Copied beside, then moved in whole, as an installer would.)
    let staged = s.dir.path().join("hostile-0.2.0");
    copy_dir(
        &Path::new(deskhost::embedded::FIXED_PLUGINS_DIR).join("hostile-fixed"),
        &staged,
    );
    std::fs::rename(&staged, s.plugins.join("hostile-0.2.0")).unwrap();
    let status = reloads(&server, 1).await;
    assert!(status.applied, "{status:?}");
    let (_, page) = last.get("/").await;
    assert!(
        page.contains("hostile widget fixed: it no longer traps"),
        "{page}"
    );
    assert!(!page.contains("paused"), "{page}");
    assert!(page.contains("id=\"banner\" role=\"status\" hidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_pages_are_told_to_refresh_when_the_structure_changes() {
    let s = setup();
    let server = TestServer::start_config(vec![s.layout.clone()], vec![s.plugins.clone()]).await;
    let dana = server.supervisor().await;
    let mut res = dana
        .client
        .get(format!(
            "{}/events?page=home&window=w1&rendered_at=0",
            server.url
        ))
        .send()
        .await
        .unwrap();
    // First the tiles of a stale page.
    let first = tokio::time::timeout(Duration::from_secs(3), res.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: tile"));
    replace_file(
        &s.layout,
        LAYOUT.replace("title = \"One\"", "title = \"Renamed\""),
    );
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: reload") {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
            _ => panic!("no reload event; got {seen:?}"),
        }
    }
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {text}"))
        + start.len();
    let len = text[from..].find(end).unwrap();
    &text[from..from + len]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_admins_what_is_served_and_what_went_wrong() {
    let s = setup();
    let server = TestServer::start_config(vec![s.layout.clone()], vec![s.plugins.clone()]).await;

    // Only admins (the demo supervisor, by default) get the page.
    let (status, _) = server.browser().get("/admin/status").await;
    assert_eq!(status, 200, "not signed in: the sign-in page");
    let mut sup1 = server
        .sign_in("sup1@example.com", deskhost_e2e::DESKTOP)
        .await;
    let (status, body) = sup1.get("/admin/status").await;
    assert_eq!(status, 403);
    assert!(
        body.contains("add your e-mail address to `admins`"),
        "{body}"
    );
    let (_, home) = sup1.get("/").await;
    assert!(!home.contains("href=\"/admin/status\""));

    let mut dana = server.supervisor().await;
    let (_, home) = dana.get("/").await;
    assert!(
        home.contains("href=\"/admin/status\""),
        "the profile menu links it"
    );
    let tracking = between(&home, "Tracking ID: <code>", "</code>").to_owned();
    let (status, page) = dana.get("/admin/status").await;
    assert_eq!(status, 200);
    // The layout and the plugin with their content hashes.
    let layout_hash = deskhost::runtime::content_hash(LAYOUT.as_bytes());
    assert!(page.contains(&format!("title=\"{layout_hash}\"")), "{page}");
    assert!(page.contains("serving the file"));
    let wasm = std::fs::read(s.plugins.join("hostile/plugin.wasm")).unwrap();
    let plugin_hash = deskhost::runtime::content_hash(&wasm);
    assert!(page.contains(&format!("title=\"{plugin_hash}\"")), "{page}");
    assert!(page.contains("hostile 0.1.0"));
    // The failing widget: counted, and its tracking ID with the cause.
    assert!(page.contains(&format!("<code>{tracking}</code>")), "{page}");
    assert!(page.contains("the hostile widget failed on purpose"));
    let json: serde_json::Value =
        serde_json::from_str(&dana.get("/admin/status.json").await.1).unwrap();
    assert_eq!(json["layouts"][0]["hash"], layout_hash.as_str());
    let counts = json["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w[0] == "one" && w[1] == "hostile")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert!(counts[2]["errors"].as_u64().unwrap() >= 1, "{counts}");

    // A rejected change: the diagnostics, and the file that is not served.
    replace_file(&s.layout, LAYOUT.replace("column = 1", "colum = 1"));
    reloads(&server, 1).await;
    let (_, page) = dana.get("/admin/status").await;
    assert!(
        page.contains("rejected: the last good version keeps serving"),
        "{page}"
    );
    assert!(page.contains("unknown key `colum`"), "{page}");
    assert!(page.contains("changed on disk and not valid"), "{page}");
    assert!(
        page.contains(&format!("title=\"{layout_hash}\"")),
        "still the old one"
    );

    // A deleted file: said in the problems and the layout's row.
    std::fs::remove_file(&s.layout).unwrap();
    reloads(&server, 2).await;
    let (_, page) = dana.get("/admin/status").await;
    assert!(
        page.contains("missing: the last good version is serving"),
        "{page}"
    );
    assert!(
        page.contains("is missing; its last good version keeps serving until a valid file is back"),
        "{page}"
    );
    drop(s.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_names_a_required_tool_the_host_does_not_set_up() {
    let server = TestServer::start_changed(&deskhost_e2e::layout("teams-required.toml"), |c| {
        c.collaboration.clear();
    })
    .await;
    let mut dana = server.supervisor().await;
    let (_, page) = dana.get("/admin/status").await;
    assert!(
        page.contains("requires the collaboration tool `microsoft-teams`, which the host config does not set up"),
        "{page}"
    );
}
