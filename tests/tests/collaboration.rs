//! Microsoft Teams (collaboration auth) against a real OpenID provider
//! (`oidc-provider` on 127.0.0.1), through the desktop's Profile settings:
//! success, consent denied, wrong and replayed state, a reused code, an
//! expired access token refreshed (once, even from parallel tabs), a
//! revoked refresh token, the provider down, and a missing host grant.

use std::path::Path;
use std::time::Duration;

use deskhost::config::CollaborationConfig;
use deskhost_e2e::oidc::{Consent, OidcProvider};
use deskhost_e2e::{Browser, TestServer, layout};

const CALLBACK: &str = "/collaboration/microsoft-teams/callback";

/// A desktop whose Microsoft Teams plugin talks to a fresh provider whose
/// access tokens live `ttl` seconds; `allowed` overrides the allowed hosts.
async fn setup(
    layout_file: &Path,
    ttl: u64,
    allowed: Option<Vec<String>>,
) -> (TestServer, OidcProvider) {
    let mut provider = None;
    let server = TestServer::start_knowing_url(layout_file, |config, url| {
        let p = OidcProvider::start(&format!("{url}{CALLBACK}"), ttl);
        let mut entry = CollaborationConfig::microsoft_teams();
        entry.allowed_hosts = allowed.unwrap_or_else(|| vec![p.authority()]);
        let settings: toml::Table = toml::from_str(&format!(
            "authority = \"{}\"\ntenant = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n\
             scopes = [\"openid\", \"profile\", \"email\", \"offline_access\"]\n",
            p.authority(),
            OidcProvider::tenant(),
            OidcProvider::client_id(),
            OidcProvider::client_secret()
        ))
        .unwrap();
        entry.settings = settings;
        config.collaboration = vec![entry];
        provider = Some(p);
    })
    .await;
    (server, provider.unwrap())
}

/// The Microsoft Teams section of Profile settings, as text.
async fn teams_section(b: &mut Browser) -> String {
    let (status, page) = b.get("/profile").await;
    assert_eq!(status, 200, "{page}");
    let at = page
        .find(">Collaboration tools - Microsoft Teams</h2>")
        .unwrap_or_else(|| panic!("no Teams section: {page}"));
    let end = page[at..].find("</section>").map_or(page.len(), |e| at + e);
    let mut notice = String::new();
    if let Some(n) = page.find("class=\"notice\" role=\"alert\"") {
        notice = page[n..n + page[n..].find("</div>").unwrap()].to_owned();
    }
    format!("{notice}{}", &page[at..end])
}

/// Clicks Retry; returns the provider URL the desktop sends the browser to.
async fn retry(b: &mut Browser) -> String {
    let a = b
        .post("/profile/collaboration/microsoft-teams/retry", &[])
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    a.location.expect("a redirect")
}

/// Follows a provider callback URL in the desktop browser.
async fn back(b: &mut Browser, callback: &str) {
    let path = &callback[callback.find(CALLBACK).expect("our callback")..];
    let a = b.get_once(path).await;
    assert_eq!(a.location.as_deref(), Some("/profile"), "{}", a.body);
}

/// Connects fully: Retry, consent at the provider, back.
async fn connect(b: &mut Browser, provider: &OidcProvider) -> String {
    let url = retry(b).await;
    let callback = provider.authorize(&url, Consent::Grant).await;
    back(b, &callback).await;
    callback
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with(&format!("{name}=")) {
                format!("{name}={value}")
            } else {
                kv.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_reaches_success_and_the_tokens_stay_on_the_server_encrypted() {
    let (server, provider) = setup(&layout("live.toml"), 3600, None).await;
    let mut dana = server.supervisor().await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Not connected<"), "{section}");
    assert!(section.contains(">Retry</button>"), "{section}");

    let url = retry(&mut dana).await;
    assert!(url.starts_with(&provider.authority()), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let callback = provider.authorize(&url, Consent::Grant).await;
    back(&mut dana, &callback).await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Success<"), "{section}");
    assert!(
        section.contains("Lee Lead (lee@teams.example.com)"),
        "{section}"
    );
    assert!(
        !section.contains(">Never<"),
        "a last success time: {section}"
    );

    // Nothing token-like reaches the browser, and the store holds only
    // ciphertext.
    let (_, home) = dana.get("/").await;
    assert!(!home.contains("eyJ"), "a JWT in the page");
    let db = rusqlite::Connection::open(server.data_dir().join("deskhost.sqlite3")).unwrap();
    let sealed: Vec<u8> = db
        .query_row(
            "SELECT sealed FROM collab_tokens WHERE plugin = 'microsoft-teams'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let text = String::from_utf8_lossy(&sealed);
    assert!(
        !text.contains("access_token") && !text.contains("eyJ"),
        "{text}"
    );
    assert!(sealed.len() > 100);

    // Disconnect forgets it.
    dana.post("/profile/collaboration/microsoft-teams/disconnect", &[])
        .await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Not connected<"), "{section}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_consent_fails_with_the_reason_and_retry_then_succeeds() {
    let (server, provider) = setup(&layout("live.toml"), 3600, None).await;
    let mut dana = server.supervisor().await;
    let url = retry(&mut dana).await;
    let callback = provider.authorize(&url, Consent::Deny).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    back(&mut dana, &callback).await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Failed<"), "{section}");
    assert!(section.contains("Consent was refused"), "{section}");
    connect(&mut dana, &provider).await;
    assert!(teams_section(&mut dana).await.contains(">Success<"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_replayed_state_and_a_reused_code_are_refused() {
    let (server, provider) = setup(&layout("live.toml"), 3600, None).await;
    let mut dana = server.supervisor().await;

    // A callback whose state was tampered with matches nothing.
    let url = retry(&mut dana).await;
    let callback = provider.authorize(&url, Consent::Grant).await;
    back(&mut dana, &with_param(&callback, "state", "forged")).await;
    let section = teams_section(&mut dana).await;
    assert!(
        section.contains("does not belong to a connection in progress"),
        "{section}"
    );
    assert!(!section.contains(">Success<"), "{section}");
    // The real one still completes; replayed, it matches nothing.
    back(&mut dana, &callback).await;
    assert!(teams_section(&mut dana).await.contains(">Success<"));
    back(&mut dana, &callback).await;
    let section = teams_section(&mut dana).await;
    assert!(
        section.contains("does not belong to a connection in progress"),
        "{section}"
    );
    assert!(
        section.contains(">Success<"),
        "a replay changes nothing: {section}"
    );

    // A fresh authorization answered with the old, used code.
    let url = retry(&mut dana).await;
    let fresh = provider.authorize(&url, Consent::Grant).await;
    let reused = with_param(&fresh, "code", param(&callback, "code"));
    back(&mut dana, &reused).await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Failed<"), "{section}");
    assert!(
        section.contains("refused the authorization code"),
        "{section}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_once_even_from_parallel_tabs() {
    let (server, provider) = setup(&layout("live.toml"), 2, None).await;
    let mut dana = server.supervisor().await;
    connect(&mut dana, &provider).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    // Two tabs look at the profile at once.
    let mut other = Browser::new(&server.url);
    other.client = dana.client.clone();
    let (a, b) = tokio::join!(teams_section(&mut dana), teams_section(&mut other));
    assert!(a.contains(">Success<"), "{a}");
    assert!(b.contains(">Success<"), "{b}");
    let refresh = |g: &String| g.contains("refresh_token");
    let grants = provider.grants_when(|g| g.iter().any(&refresh)).await;
    let refreshes = grants.iter().filter(|g| refresh(g)).count();
    assert_eq!(refreshes, 1, "{grants:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_fails_and_retry_works() {
    let (server, mut provider) = setup(&layout("live.toml"), 2, None).await;
    let mut dana = server.supervisor().await;
    connect(&mut dana, &provider).await;
    // The provider forgets every token (as on a revocation).
    provider.restart();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Failed<"), "{section}");
    assert!(section.contains("no longer accepts"), "{section}");
    connect(&mut dana, &provider).await;
    assert!(teams_section(&mut dana).await.contains(">Success<"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_down_fails_with_the_reason_and_retry_succeeds_once_it_is_back() {
    let (server, mut provider) = setup(&layout("live.toml"), 2, None).await;
    let mut dana = server.supervisor().await;
    connect(&mut dana, &provider).await;
    provider.stop();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let section = teams_section(&mut dana).await;
    assert!(section.contains(">Failed<"), "{section}");
    assert!(section.contains("Cannot reach"), "{section}");
    // Retry while it is down says so too.
    let a = dana
        .post("/profile/collaboration/microsoft-teams/retry", &[])
        .await;
    assert_eq!(a.location.as_deref(), Some("/profile"));
    assert!(teams_section(&mut dana).await.contains("Cannot reach"));
    provider.restart();
    connect(&mut dana, &provider).await;
    assert!(teams_section(&mut dana).await.contains(">Success<"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_missing_from_the_grant_is_refused_by_name() {
    let (server, provider) = setup(
        &layout("live.toml"),
        3600,
        Some(vec!["https://login.microsoftonline.com".into()]),
    )
    .await;
    let mut dana = server.supervisor().await;
    let a = dana
        .post("/profile/collaboration/microsoft-teams/retry", &[])
        .await;
    assert_eq!(a.location.as_deref(), Some("/profile"));
    let section = teams_section(&mut dana).await;
    let origin = provider.authority();
    assert!(
        section.contains(&format!(
            "may not reach {origin}: add &quot;{origin}&quot; to `allowed_hosts`"
        )),
        "{section}"
    );
    assert!(section.contains(">Failed<"), "{section}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layout_can_require_teams_after_station_credentials() {
    let (server, provider) = setup(&layout("teams-required.toml"), 3600, None).await;
    let mut dana = server.supervisor().await;
    let a = dana.get_once("/").await;
    assert_eq!(a.location.as_deref(), Some("/profile?required=1"));
    let (_, page) = dana.get("/profile?required=1").await;
    assert!(
        page.contains("Your administrator requires Microsoft Teams before you use the desktop."),
        "{page}"
    );
    connect(&mut dana, &provider).await;
    let (status, home) = dana.get("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("<h1>Home</h1>"), "{home}");
    // Page loads take the connection as known for a while; disconnecting
    // forgets it at once.
    assert_eq!(dana.get_once("/").await.status, 200);
    dana.post("/profile/collaboration/microsoft-teams/disconnect", &[])
        .await;
    let a = dana.get_once("/").await;
    assert_eq!(a.location.as_deref(), Some("/profile?required=1"));
}
