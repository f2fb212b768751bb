//! The served desktop, end to end: real components, a real server on a
//! free port, real HTTP.

use deskhost_e2e::{DESKTOP, TestServer, layout, shipped_layout};

fn tile<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page
        .find(&format!("id=\"tile-{id}\""))
        .unwrap_or_else(|| panic!("no tile {id} in page"));
    let start = page[..at].rfind("<section").unwrap();
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_widgets_fill_only_their_own_tiles() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let mut dana = server.supervisor().await;
    let (status, page) = dana.get("/").await;
    assert_eq!(status, 200);

    // The good widget renders.
    assert!(tile(&page, "welcome").contains("Still here, Dana Supervisor"));
    // Each bad one shows its own reason and a tracking ID.
    for (id, reason) in [
        ("trapper", "This widget crashed: the plugin panicked."),
        (
            "looper",
            "This widget did not answer within 100 ms and was stopped.",
        ),
        ("hog", "This widget went over its memory limit of 16 MiB."),
        ("failer", "the hostile widget failed on purpose"),
    ] {
        let t = tile(&page, id);
        assert!(
            t.starts_with("<section class=\"tile ") && t.contains(" failed\""),
            "{id} not marked failed: {t}"
        );
        assert!(t.contains(reason), "{id}: expected {reason:?} in {t}");
        assert!(
            t.contains("Tracking ID: <code>"),
            "{id}: no tracking id in {t}"
        );
    }
    // The granted capability works.
    assert!(tile(&page, "counter").contains("kv count 1"));
    // The banner is shown.
    assert!(page.contains("Some features are unavailable."));
    assert!(!page.contains("id=\"banner\" role=\"status\" hidden"));

    // The server is still up and serves again; the counter's view is
    // reused (it declares no refresh interval) until an action.
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
    let (_, page) = dana.get("/").await;
    assert!(tile(&page, "counter").contains("kv count 1"));
    let res = dana
        .client
        .post(format!("{}/widgets/counter/action", server.url))
        .header("x-deskhost-fragment", "1")
        .header("x-csrf-token", &dana.csrf)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("__action=again")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.starts_with("<section class=\"tile "), "{fragment}");
    assert!(fragment.contains("kv count 2"), "{fragment}");
    let (_, page) = dana.get("/").await;
    assert!(tile(&page, "counter").contains("kv count 2"));
    // Without its CSRF token, the same action is refused.
    let a = dana
        .post_raw("/widgets/counter/action", &[("__action", "again")])
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(
        a.body.contains("Reload the page and try again"),
        "{}",
        a.body
    );
    let (_, page) = dana.get("/").await;
    assert!(tile(&page, "counter").contains("kv count 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_without_failures_has_no_banner() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let (status, page) = server.agent().await.get("/").await;
    assert_eq!(status, 200);
    assert!(tile(&page, "fine").contains("hostile widget behaving"));
    assert!(page.contains("id=\"banner\" role=\"status\" hidden"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_layout_serves_the_widgets_and_assets() {
    let server = TestServer::start_with(vec![
        shipped_layout("demo.toml"),
        shipped_layout("team-support.toml"),
        shipped_layout("team-billing.toml"),
    ])
    .await;
    let mut lee = server.lead("sales").await;
    let (status, page) = lee.get("/").await;
    assert_eq!(status, 200);
    assert!(tile(&page, "welcome").contains("Lee Lead"), "{page}");
    assert!(tile(&page, "team").contains("<table>"), "{page}");
    assert!(!page.contains(" failed\""), "a widget failed: {page}");
    // The team-specific layout replaces the global one for its team.
    let (_, support) = server.lead("support").await.get("/").await;
    assert!(support.contains("Acme Contact Center · Support"));
    assert!(tile(&support, "queues").contains("Support queues"));
    let (_, global) = server.supervisor().await.get("/").await;
    assert!(global.contains("<title>Home · Acme Contact Center</title>"));
    // The billing overlay builds on the global layout: its own team tile
    // and page, the global layout's other tiles.
    let mut station = vec![("role", "supervisor-agent"), ("team", "billing")];
    station.extend_from_slice(DESKTOP);
    let mut bill = server.sign_in("bill@example.com", &station).await;
    let (_, billing) = bill.get("/").await;
    assert!(billing.contains("<title>Home · Acme Contact Center · Billing</title>"));
    assert!(tile(&billing, "team").contains("Billing team"), "{billing}");
    assert!(
        !billing.contains("id=\"tile-news\""),
        "the overlay removes it"
    );
    assert!(
        tile(&billing, "states").contains("Agent states"),
        "{billing}"
    );
    assert!(billing.contains("href=\"/pages/billing\""), "{billing}");
    let (status, page) = bill.get("/pages/billing").await;
    assert_eq!(status, 200);
    assert!(
        tile(&page, "billing-kpis").contains("Billing today"),
        "{page}"
    );
    assert!(!billing.contains(" failed\""), "a widget failed: {billing}");
    // Assets are linked by content hash and served immutable.
    let css = page.split("href=\"/static/app.").nth(1).unwrap();
    let css = format!("/static/app.{}", &css[..css.find('"').unwrap()]);
    let res = reqwest::get(format!("{}{css}", server.url)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // An unknown page is refused clearly; the role cannot be picked in
    // the address any more (it comes from the session).
    let (status, _) = lee.get("/pages/nope").await;
    assert_eq!(status, 404);
    let (_, page) = lee.get("/?role=supervisor").await;
    assert!(page.contains("Supervisor and Agent"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_forbid_inline_script_and_style() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let dana = server.supervisor().await;
    let res = dana.response("/").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    let body = res.text().await.unwrap();
    assert!(!body.contains("style=\""), "inline style found");
    assert!(!body.contains("<script>"), "inline script found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_and_one_policy() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let mut dana = server.supervisor().await;
    let (_, page) = dana.get("/").await;
    let stylesheet = page
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page links its stylesheet")
        .to_owned();
    // A page, a side page with its own policy, the sign-in page, a static
    // file and an unknown address.
    for path in ["/", "/profile", "/sign-in", &stylesheet, "/no-such-page"] {
        let res = dana.response(path).await;
        let h = res.headers();
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("x-frame-options", "DENY"),
        ] {
            assert_eq!(h[name], value, "{name} of {path}");
        }
        let policies: Vec<_> = h.get_all("content-security-policy").iter().collect();
        assert_eq!(policies.len(), 1, "{path}: {policies:?}");
        let policy = policies[0].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("form-action 'self'"),
            "{path}: {policy}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_that_keeps_crashing_is_paused() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    // Three viewers in a row see the trapping widget fail...
    for who in ["sup1", "sup2", "sup3"] {
        let mut b = server
            .sign_in(&format!("{who}@example.com"), deskhost_e2e::DESKTOP)
            .await;
        let (_, page) = b.get("/").await;
        assert!(
            tile(&page, "trapper").contains("This widget crashed"),
            "{who}"
        );
    }
    // ...after which it is no longer called: its tile says it is paused,
    // with the tracking ID of the last crash, and other tiles still render.
    let (_, page) = server
        .sign_in("sup4@example.com", deskhost_e2e::DESKTOP)
        .await
        .get("/")
        .await;
    let t = tile(&page, "trapper");
    assert!(
        t.contains("This widget is paused after repeated failures; it will be tried again in"),
        "{t}"
    );
    assert!(t.contains("Tracking ID: <code>"), "{t}");
    assert!(tile(&page, "welcome").contains("Still here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigation_pages_render_their_own_widgets() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let mut dana = server.supervisor().await;
    let (status, page) = dana.get("/pages/extra").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Extra</h1>"), "{page}");
    assert!(tile(&page, "extra-fine").contains("hostile widget behaving"));
    assert!(page.contains("aria-current=\"page\">Extra</a>"), "{page}");
    let (_, home) = dana.get("/").await;
    assert!(home.contains("href=\"/pages/extra\">Extra</a>"), "{home}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_renders_and_failures() {
    let server = TestServer::start(&layout("hostile.toml")).await;
    let (_, _) = server.supervisor().await.get("/").await;
    let (status, text) = server.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("deskhost_http_requests_total{route=\"/\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("deskhost_widget_render_seconds_bucket{widget=\"welcome\",plugin=\"hello\""),
        "{text}"
    );
    for kind in ["trap", "timeout", "memory", "error"] {
        assert!(
            text.contains(&format!("plugin=\"hostile\",kind=\"{kind}\"}}")),
            "no {kind} failure counted: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_urls_and_invisible_controls_from_a_plugin_stay_inert_and_huge_views_are_refused() {
    const LAYOUT: &str = r#"title = "Hostile strings"
[[supervisor.home.widgets]]
id = "inject"
plugin = "hostile"
column = 1
row = 1
width = 6
height = 8
settings = { mode = "inject" }
[[supervisor.home.widgets]]
id = "huge"
plugin = "hostile"
column = 7
row = 1
limits = { timeout = "5s" }
settings = { mode = "huge" }
[[supervisor.home.widgets]]
id = "fine"
plugin = "hostile"
column = 7
row = 4
settings = { mode = "ok" }
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strings.toml");
    std::fs::write(&path, LAYOUT).unwrap();
    // A slow machine must not turn the huge view into a timeout.
    let server = TestServer::start_changed(&path, |c| {
        c.limits.timeout = std::time::Duration::from_secs(5)
    })
    .await;
    let mut dana = server.supervisor().await;
    let (status, page) = dana.get("/").await;
    assert_eq!(status, 200);

    let inject = tile(&page, "inject");
    // Shown as text, escaped.
    assert!(
        inject.contains("Heading &lt;script&gt;alert('pwned')&lt;/script&gt;"),
        "{inject}"
    );
    assert!(
        inject.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{inject}"
    );
    assert!(inject.contains("&lt;iframe"), "{inject}");
    // Nothing of it is markup in the tile (the page's own script tag is
    // the only one on the page).
    for bad in ["<script", "<img", "<iframe", "<style", "<th onclick", "<b>"] {
        assert!(!inject.contains(bad), "`{bad}` reached the page: {inject}");
    }
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    // Dangerous URLs are not links.
    let lower = page.to_lowercase();
    assert!(!lower.contains("href=\"javascript:"), "{inject}");
    assert!(!lower.contains("href=\" javascript:"), "{inject}");
    assert!(!lower.contains("href=\"data:"), "{inject}");
    // Attribute values cannot be broken out of.
    assert!(!page.contains("\" onmouseover=\"x"), "{inject}");
    assert!(!page.contains("value=\"a\"><script>"), "{inject}");
    // Invisible controls are gone; the visible text stays.
    assert!(!page.contains('\u{202E}') && !page.contains('\u{200B}'));
    assert!(inject.contains("zerowidth"), "{inject}");

    // A 100,000-row view fills only its own tile with a clear reason.
    let huge = tile(&page, "huge");
    assert!(
        huge.contains(
            "This widget returned a view too large to show: a table or list of 100000 rows (at most 2000)."
        ),
        "{huge}"
    );
    assert!(huge.contains("Tracking ID"), "{huge}");
    assert!(tile(&page, "fine").contains("hostile widget behaving"));
    assert!(
        page.len() < 200_000,
        "the page stays small: {} bytes",
        page.len()
    );
    drop(dir);
}
