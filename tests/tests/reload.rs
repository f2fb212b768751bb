//! Hot reload against a running server: edit-and-save cycles on a layout
//! file and a plugin directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deskhost::embedded::TEST_PLUGINS_DIR;
use deskhost_e2e::TestServer;

const LAYOUT: &str = r#"title = "Reload desk"

[[supervisor.home.widgets]]
id = "one"
plugin = "hostile"
title = "One"
column = 1
row = 1
settings = { mode = "error" }
"#;

/// Waits until the host has made `n` reload attempts.
async fn reloads(server: &TestServer, n: u64) -> deskhost::app::ReloadStatus {
    for _ in 0..100 {
        let status = server.host.reload_status();
        if status.attempts >= n {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no reload {n} within 5 s: {:?}",
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
    std::fs::write(
        &s.layout,
        LAYOUT
            .replace("Reload desk", "Reload desk v2")
            .replace("\"error\"", "\"ok\""),
    )
    .unwrap();
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
    std::fs::write(&s.layout, LAYOUT.replace("column = 1", "colum = 1")).unwrap();
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

    std::fs::write(&wasm, b"not a component").unwrap();
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

    std::fs::write(&wasm, &good).unwrap();
    let status = reloads(&server, 2).await;
    assert!(status.applied, "{status:?}");
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
    std::fs::write(
        &s.layout,
        LAYOUT.replace("title = \"One\"", "title = \"Renamed\""),
    )
    .unwrap();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: reload") {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
            _ => panic!("no reload event; got {seen:?}"),
        }
    }
}
