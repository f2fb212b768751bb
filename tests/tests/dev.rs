//! The plugin author's loop, as `deskhost dev` runs it: a widget crate made
//! by `deskhost new` is built and served; saving an edit brings the new
//! text to the signed-in page (and to the open page over its live stream);
//! a save that does not compile puts the compiler's error in the widget's
//! tile; fixing it brings the widget back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deskhost::config::HostConfig;
use deskhost::web::{self, AppState};
use deskhost::{dev, scaffold};
use deskhost_e2e::{Browser, DESKTOP};

/// The cargo target directory the scaffold tests build generated crates
/// in: the dependencies are built once for both.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-target")
}

/// How long a rebuild and reload may take on a busy two-core machine.
const PATIENCE: Duration = Duration::from_secs(120);

/// GETs the home page until `ok` holds for it; panics after [`PATIENCE`].
async fn home_until(browser: &mut Browser, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let (status, page) = browser.get("/").await;
        if status == 200 && ok(&page) {
            eprintln!("{what}: after {:.1} s", started.elapsed().as_secs_f64());
            return page;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "no {what} within {PATIENCE:?}; the page:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Reads an open page's live stream until a tile arrives whose HTML
/// `ok` holds for; panics after [`PATIENCE`].
async fn pushed(stream: &mut reqwest::Response, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut buf = String::new();
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            other => panic!("no {what} pushed within {PATIENCE:?}: {other:?}"),
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if !event.lines().any(|l| l == "event: tile") {
                continue;
            }
            let data: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                .collect();
            let tile: serde_json::Value = serde_json::from_str(&data).unwrap();
            let html = tile["html"].as_str().unwrap_or_default();
            if ok(html) {
                return html.to_owned();
            }
        }
    }
}

/// Saves `src/lib.rs` with `change` applied, like an editor.
fn edit(crate_dir: &Path, change: impl FnOnce(String) -> String) {
    let path = crate_dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = change(text.clone());
    assert_ne!(changed, text, "the edit changes nothing");
    std::fs::write(&path, changed).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saves_rebuild_the_widget_and_build_errors_show_in_its_tile() {
    let tmp = tempfile::tempdir().unwrap();
    let crate_dir = tmp.path().join("pulse");
    scaffold::create(&scaffold::Options {
        kind: scaffold::Kind::Widget,
        name: "pulse".into(),
        dir: Some(crate_dir.clone()),
        sdk: None,
    })
    .unwrap();

    // `deskhost dev pulse --data-dir DATA`, on a free port.
    let config = HostConfig {
        data_dir: tmp.path().join("data"),
        ..HostConfig::default()
    };
    let opts = dev::Options {
        crates: vec![crate_dir.clone()],
        target_dir: Some(shared_target()),
    };
    let running = tokio::task::spawn_blocking(move || dev::start(config, &opts))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("deskhost dev did not start: {e}"));
    assert_eq!(
        running.layout(),
        crate_dir.canonicalize().unwrap().join("dev-layout.toml")
    );
    assert!(
        tmp.path()
            .join("data/dev-plugins/pulse/plugin.wasm")
            .is_file()
    );
    let listener = web::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(web::serve(
        listener,
        AppState::new(running.host().clone()),
        async {
            let _ = stopped.await;
        },
    ));

    // Signed in with a demo account, the widget is on the home page.
    let mut dana = Browser::new(&url);
    dana.sign_in("supervisor@example.com", DESKTOP).await;
    let (_, page) = dana.get("/").await;
    assert!(page.contains("id=\"tile-pulse\""), "{page}");
    assert!(
        page.contains("This tile comes from the pulse plugin."),
        "{page}"
    );
    assert!(page.contains("Hello, "), "{page}");
    // The page stays open: its live stream gets the changed tile.
    let rendered_at: String = page
        .split("data-rendered-at=\"")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let mut stream = dana
        .client
        .get(format!(
            "{url}/events?page=home&window=w1&rendered_at={rendered_at}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    // Save an edit: the new text arrives.
    edit(&crate_dir, |t| {
        t.replace(
            "This tile comes from the",
            "Saved once: this tile comes from the",
        )
    });
    pushed(&mut stream, "edited tile", |t| {
        t.contains("Saved once: this tile comes from the pulse plugin.")
    })
    .await;
    home_until(&mut dana, "the edited text", |p| {
        p.contains("Saved once: this tile comes from the pulse plugin.")
    })
    .await;

    // Save something that does not compile: the tile shows the error.
    let good = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    edit(&crate_dir, |t| {
        t + "\nfn broken() -> u32 {\n    \"not a number\"\n}\n"
    });
    let tile = pushed(&mut stream, "failed tile", |t| t.contains("Build failed:")).await;
    assert!(tile.contains("error[E0308]: mismatched types"), "{tile}");
    let page = home_until(&mut dana, "the build error in the tile", |p| {
        p.contains("Build failed: error[E0308]: mismatched types")
    })
    .await;
    assert!(page.contains("src/lib.rs:"), "{page}");
    assert!(
        !page.contains("Saved once: this tile comes from the pulse plugin."),
        "{page}"
    );

    // Fix it (with a new text): the widget is back, the error gone.
    std::fs::write(
        crate_dir.join("src/lib.rs"),
        good.replace("Saved once:", "Fixed:"),
    )
    .unwrap();
    pushed(&mut stream, "fixed tile", |t| {
        t.contains("Fixed: this tile comes from the pulse plugin.")
    })
    .await;
    let page = home_until(&mut dana, "the fixed widget", |p| {
        p.contains("Fixed: this tile comes from the pulse plugin.")
    })
    .await;
    assert!(!page.contains("Build failed"), "{page}");

    let _ = stop.send(());
}
