//! Live updates over the real push channel (server-sent events): changed
//! tiles arrive without a reload, unchanged ones are not sent.

use std::time::Duration;

use deskhost_e2e::{Browser, TestServer, layout};

/// Reads server-sent events from `res` until `want` events named `kind`
/// arrived or `timeout` passed; returns their data.
async fn events(
    res: &mut reqwest::Response,
    kind: &str,
    want: usize,
    timeout: Duration,
) -> Vec<String> {
    let mut buf = String::new();
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while found.len() < want {
        let chunk = match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(c))) => c,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if block.lines().any(|l| l == format!("event: {kind}")) {
                found.push(
                    block
                        .lines()
                        .filter_map(|l| {
                            l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:"))
                        })
                        .collect(),
                );
            }
        }
    }
    found
}

/// The tile events' JSON payloads.
async fn tile_events(
    res: &mut reqwest::Response,
    want: usize,
    timeout: Duration,
) -> Vec<serde_json::Value> {
    events(res, "tile", want, timeout)
        .await
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// Opens the live stream of `browser` for the home page in `window`.
async fn open(browser: &Browser, window: &str, rendered_at: &str) -> reqwest::Response {
    browser
        .client
        .get(format!(
            "{}/events?page=home&window={window}&rendered_at={rendered_at}",
            browser.base
        ))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_tiles_are_pushed_and_unchanged_ones_are_not() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut dana = server.supervisor().await;
    let (_, page) = dana.get("/").await;
    let rendered_at: String = page
        .split("data-rendered-at=\"")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let mut res = open(&dana, "w1", &rendered_at).await;
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
    let dana = server.supervisor().await;
    let mut res = open(&dana, "w1", "0").await;
    let events = tile_events(&mut res, 2, Duration::from_secs(3)).await;
    let mut ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["still", "ticker"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_needs_a_signed_in_session_and_a_window() {
    let server = TestServer::start(&layout("live.toml")).await;
    let (status, _) = server.get("/events?page=home&window=w1").await;
    assert_eq!(status, 401, "no session, no stream");
    let dana = server.supervisor().await;
    let res = open(&dana, "", "0").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("window id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_window_must_continue_and_the_first_is_told_it_moved() {
    let server = TestServer::start(&layout("live.toml")).await;
    let first = server.supervisor().await;
    let mut first_stream = open(&first, "first", "0").await;
    assert_eq!(
        tile_events(&mut first_stream, 2, Duration::from_secs(3))
            .await
            .len(),
        2,
        "the first window is live"
    );

    // The same user signs in from another browser: its window is told the
    // desktop is open elsewhere, and gets no tiles.
    let mut second = server.supervisor().await;
    let mut second_stream = open(&second, "second", "0").await;
    let told = events(&mut second_stream, "elsewhere", 1, Duration::from_secs(3)).await;
    assert_eq!(told.len(), 1, "no Continue prompt");
    assert!(told[0].contains("Click Continue"), "{}", told[0]);

    // An action from the window that is not live is refused.
    let refused = second
        .client
        .post(format!("{}/widgets/ticker/action", second.base))
        .header("x-csrf-token", &second.csrf)
        .header("x-deskhost-window", "second")
        .header("x-deskhost-fragment", "1")
        .form(&[("__action", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);

    // Continue makes the second window live; the first is told it moved.
    let a = second
        .post("/session/continue", &[("window", "second")])
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let moved = events(&mut first_stream, "moved", 1, Duration::from_secs(3)).await;
    assert_eq!(moved.len(), 1, "the first window was not told");
    assert!(moved[0].contains("moved to another window"), "{}", moved[0]);
    let mut again = open(&second, "second", "0").await;
    assert_eq!(
        tile_events(&mut again, 2, Duration::from_secs(3))
            .await
            .len(),
        2
    );

    // Continue needs the CSRF token too.
    let a = second
        .post_raw("/session/continue", &[("window", "third")])
        .await;
    assert_eq!(a.status, 403);
}
