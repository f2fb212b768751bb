//! Live updates over the real push channel (server-sent events): changed
//! tiles arrive without a reload, unchanged ones are not sent.

use std::time::Duration;

use deskhost_e2e::{TestServer, layout};

/// Reads server-sent events from `res` until `want` tile events arrived or
/// `timeout` passed; returns their JSON payloads.
async fn tile_events(
    res: &mut reqwest::Response,
    want: usize,
    timeout: Duration,
) -> Vec<serde_json::Value> {
    let mut buf = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while events.len() < want {
        let chunk = match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.lines().any(|l| l == "event: tile") {
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                    .collect();
                events.push(serde_json::from_str(&data).unwrap());
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_tiles_are_pushed_and_unchanged_ones_are_not() {
    let server = TestServer::start(&layout("live.toml")).await;
    let (_, page) = server.get("/").await;
    let rendered_at: String = page
        .split("data-rendered-at=\"")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let mut res = reqwest::get(format!(
        "{}/events?role=supervisor&page=home&rendered_at={rendered_at}",
        server.url
    ))
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = tile_events(&mut res, 2, Duration::from_secs(6)).await;
    assert!(
        events.len() >= 2,
        "expected two updates of the ticker, got {events:?}"
    );
    for e in &events {
        assert_eq!(e["id"], "ticker", "only the changing tile is sent: {e}");
        let html = e["html"].as_str().unwrap();
        assert!(html.starts_with("<section class=\"tile "), "{html}");
        assert!(html.contains(">tick "), "{html}");
    }
    assert_ne!(events[0]["html"], events[1]["html"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_receives_every_tile_once() {
    let server = TestServer::start(&layout("live.toml")).await;
    // rendered_at=0: the page is stale (a reconnect after a drop, or a tab
    // shown again), so every tile is sent at once.
    let mut res = reqwest::get(format!(
        "{}/events?role=supervisor&page=home&rendered_at=0",
        server.url
    ))
    .await
    .unwrap();
    let events = tile_events(&mut res, 2, Duration::from_secs(3)).await;
    let mut ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["still", "ticker"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_viewer_is_refused() {
    let server = TestServer::start(&layout("live.toml")).await;
    let (status, body) = server.get("/events?role=owner").await;
    assert_eq!(status, 400);
    assert!(body.contains("unknown role `owner`"));
}
