//! The desktop in a real browser (headless Chromium): the sign-in flow as
//! the seed describes it, found by labels and button names, with a
//! screenshot of every main screen in `target/screenshots/`.

use std::time::Duration;

use deskhost_e2e::browser::{Chrome, Options};
use deskhost_e2e::{PASSWORD, TestServer, shipped_layout};

async fn demo() -> TestServer {
    TestServer::start_with(vec![
        shipped_layout("demo.toml"),
        shipped_layout("team-support.toml"),
    ])
    .await
}

/// E-mail and password steps, up to the Station credentials dialog.
async fn sign_in_to_station(chrome: &Chrome, email: &str, shot: Option<&str>) {
    chrome.goto("/").await;
    chrome.fill("E-mail address", email).await;
    if let Some(name) = shot {
        chrome.screenshot(&format!("{name}-1-email")).await;
    }
    chrome.click("Sign in").await;
    chrome.field("Password").await;
    chrome.fill("Password", PASSWORD).await;
    if let Some(name) = shot {
        chrome.screenshot(&format!("{name}-2-password")).await;
    }
    chrome.click("Sign in").await;
    chrome
        .wait_for("//*[@role='dialog' and .//h1[normalize-space()='Station credentials']]")
        .await;
}

/// Lee Lead, as supervisor and agent of Sales on `number`, to the desktop.
async fn sign_in_as_lead_of_sales(chrome: &Chrome, number: &str) {
    sign_in_to_station(chrome, "lead@example.com", None).await;
    chrome
        .field("Role")
        .await
        .select_by_label("Supervisor and Agent")
        .await
        .unwrap();
    chrome
        .field("Team")
        .await
        .select_by_label("Sales")
        .await
        .unwrap();
    chrome.fill("Dial number/Extension", number).await;
    chrome.click("Submit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_signs_in_and_reaches_the_home_page() {
    let server = demo().await;
    // A supervisor in Paris: widgets show Paris time.
    let options = Options {
        time_zone: "Europe/Paris",
        ..Options::default()
    };
    let chrome = Chrome::open(&server.url, options).await;
    sign_in_to_station(&chrome, "supervisor@example.com", Some("supervisor")).await;
    // Supervisor only: no Role, no Team.
    assert!(!chrome.shown("//select[@id='role']").await);
    assert!(!chrome.shown("//*[@id='team-field']").await);
    assert!(
        chrome
            .field("Dial number")
            .await
            .prop("checked")
            .await
            .unwrap()
            .as_deref()
            == Some("true"),
        "Dial number is selected by default"
    );
    chrome.fill("Dial number/Extension", "+14155550100").await;
    // The page's script reports where the browser is.
    let place = chrome
        .client
        .execute(
            "return [document.getElementById('time-zone').value, \
             Intl.DateTimeFormat().resolvedOptions().timeZone, \
             document.getElementById('locale').value, navigator.language];",
            vec![],
        )
        .await
        .unwrap();
    let place: Vec<String> = serde_json::from_value(place).unwrap();
    assert_eq!(place[0], "Europe/Paris", "{place:?}");
    assert_eq!(place[0], place[1], "{place:?}");
    assert!(!place[2].is_empty() && place[2] == place[3], "{place:?}");
    chrome.screenshot("supervisor-3-station").await;
    chrome.click("Submit").await;
    chrome.wait_for("//h1[normalize-space()='Home']").await;
    chrome.wait_text("Agent states").await;
    chrome.screenshot("supervisor-4-home").await;
    let text = chrome.text().await;
    assert!(text.contains("Dana Supervisor"), "{text}");
    // Welcome shows the browser's time zone.
    assert!(text.contains(&place[0]), "{} not in {text}", place[0]);
    assert!(!text.contains("Some features are unavailable."), "{text}");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_signs_in_to_the_agent_desk() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&chrome, "agent@example.com", Some("agent")).await;
    // An agent has no Role to pick.
    assert!(!chrome.shown("//select[@id='role']").await);
    if chrome.shown("//*[@id='team-field']").await {
        chrome
            .field("Team")
            .await
            .select_by_label("Sales")
            .await
            .unwrap();
    }
    chrome.fill("Dial number/Extension", "+14155550105").await;
    chrome.screenshot("agent-3-station").await;
    chrome.click("Submit").await;
    chrome.wait_for("//h1[normalize-space()='Home']").await;
    chrome.wait_text("Announcements").await;
    chrome.screenshot("agent-4-home").await;
    // The agent desk: their state, the queues and the news; no supervisor
    // tiles.
    assert!(chrome.shown("//select[@id='agent-state']").await);
    let text = chrome.text().await;
    assert!(text.contains("Queues"), "{text}");
    assert!(!text.contains("Team performance"), "{text}");
    assert!(!text.contains("Agent states"), "{text}");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alt_left_goes_back_and_the_team_field_follows_the_role() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    chrome.goto("/").await;
    chrome.fill("E-mail address", "someone@example.com").await;
    chrome.click("Sign in").await;
    let password = chrome.field("Password").await;
    // Alt+Left arrow goes back to change the address.
    password
        .send_keys(&format!("{}{}", '\u{E00A}', '\u{E012}'))
        .await
        .unwrap();
    chrome.field("E-mail address").await;
    assert_eq!(chrome.path().await, "/sign-in");

    sign_in_to_station(&chrome, "lead@example.com", Some("lead")).await;
    // The Role drop-down is there; Team only for Supervisor and Agent.
    assert!(chrome.shown("//select[@id='role']").await);
    assert!(!chrome.shown("//*[@id='team-field']").await);
    chrome
        .field("Role")
        .await
        .select_by_label("Supervisor and Agent")
        .await
        .unwrap();
    assert!(chrome.shown("//*[@id='team-field']").await);
    // The search field filters the Team list.
    chrome.fill("Search teams", "supp").await;
    assert!(
        !chrome
            .shown("//select[@id='team']/option[@value='sales']")
            .await
            || {
                // Chromium reports options of a closed select as displayed; check
                // the hidden attribute the filter sets instead.
                chrome
                    .wait_for("//select[@id='team']/option[@value='sales']")
                    .await
                    .attr("hidden")
                    .await
                    .unwrap()
                    .is_some()
            }
    );
    let team = chrome.field("Team").await;
    assert_eq!(
        team.prop("value").await.unwrap().as_deref(),
        Some("support")
    );
    chrome.click_label("Extension").await;
    chrome.fill("Dial number/Extension", "1003").await;
    chrome.screenshot("lead-3-station").await;
    chrome.click("Submit").await;
    chrome.wait_for("//h1[normalize-space()='Home']").await;
    chrome.wait_text("Support queues").await;
    assert!(chrome.shown("//select[@id='agent-state']").await);
    chrome.screenshot("lead-4-home-support").await;
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_telephony_without_the_microphone_is_refused_with_the_seed_message() {
    let server = demo().await;
    let chrome = Chrome::open(
        &server.url,
        Options {
            microphone: false,
            ..Options::default()
        },
    )
    .await;
    sign_in_to_station(&chrome, "supervisor@example.com", None).await;
    chrome.click_label("Desktop").await;
    assert!(!chrome.shown("//*[@id='number-field']").await);
    chrome
        .wait_text("Allow it in your browser's site settings, or contact your administrator.")
        .await;
    chrome.click_label("I acknowledge the E911 notice: emergency calls made from this browser may not reach emergency services at my location.").await;
    chrome.click("Submit").await;
    chrome.wait_for("//*[@id='form-error']").await;
    chrome.screenshot("station-microphone-denied").await;
    let text = chrome.text().await;
    assert!(
        text.contains("Desktop telephony needs access to your microphone."),
        "{text}"
    );
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_with_the_code_from_the_outbox() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    chrome.goto("/").await;
    chrome
        .fill("E-mail address", "supervisor@example.com")
        .await;
    chrome.click("Sign in").await;
    chrome.click("Forgot password").await;
    chrome.field("Confirmation code").await;
    chrome.screenshot("reset-code").await;
    let code = server.reset_code("supervisor@example.com");
    chrome.fill("Confirmation code", &code).await;
    chrome.fill("New password", "another-secret-1").await;
    chrome
        .fill("Confirm new password", "another-secret-1")
        .await;
    chrome.click("Reset password").await;
    chrome.wait_text("Your password was changed.").await;
    chrome.fill("Password", "another-secret-1").await;
    chrome.click("Sign in").await;
    chrome
        .wait_for("//h1[normalize-space()='Station credentials']")
        .await;
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_browser_gets_continue_and_the_first_is_told_it_moved() {
    let server = demo().await;
    let first = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&first, "supervisor@example.com", None).await;
    first.fill("Dial number/Extension", "+14155550101").await;
    first.click("Submit").await;
    first.wait_text("Agent states").await;
    first.wait_live().await;

    let second = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&second, "supervisor@example.com", None).await;
    second.fill("Dial number/Extension", "+14155550102").await;
    second.click("Submit").await;
    second
        .wait_for(
            "//dialog[@open]//h2[normalize-space()='Supervisor Desktop is open in another window']",
        )
        .await;
    second.screenshot("window-prompt").await;
    // A marker that the reload after Continue wipes.
    second
        .client
        .execute("window.deskhostMarker = 1; return null;", vec![])
        .await
        .unwrap();
    second.click("Continue").await;
    first
        .wait_for("//dialog[@open]//p[contains(., 'Your session moved to another window.')]")
        .await;
    first.screenshot("window-moved").await;
    // The second window is live now: no prompt after its reload.
    second.wait_live().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!second.shown("//dialog[@open]").await);
    first.close().await;
    second.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_retry_reaches_success_in_profile_settings() {
    use deskhost::config::CollaborationConfig;
    use deskhost_e2e::oidc::OidcProvider;
    let mut provider = None;
    let server = TestServer::start_knowing_url(&shipped_layout("demo.toml"), |config, url| {
        let p = OidcProvider::start(
            &format!("{url}/collaboration/microsoft-teams/callback"),
            3600,
        );
        let mut entry = CollaborationConfig::microsoft_teams();
        entry.allowed_hosts = vec![p.authority()];
        entry.settings = toml::from_str(&format!(
            "authority = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
            p.authority(),
            OidcProvider::client_id(),
            OidcProvider::client_secret()
        ))
        .unwrap();
        config.collaboration = vec![entry];
        provider = Some(p);
    })
    .await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&chrome, "supervisor@example.com", None).await;
    chrome.fill("Dial number/Extension", "+14155550104").await;
    chrome.click("Submit").await;
    chrome.wait_text("Agent states").await;
    // Profile (top right), then Profile settings.
    chrome
        .wait_for("//summary[@aria-label='Profile: Dana Supervisor']")
        .await
        .click()
        .await
        .unwrap();
    chrome
        .wait_for("//a[normalize-space()='Profile settings']")
        .await
        .click()
        .await
        .unwrap();
    chrome
        .wait_for("//h2[normalize-space()='Collaboration tools - Microsoft Teams']")
        .await;
    chrome.wait_text("Not connected").await;
    chrome.screenshot("profile-not-connected").await;
    chrome.click("Retry").await;
    // The provider's own pages.
    chrome
        .wait_for("//input[@name='login']")
        .await
        .send_keys("lee")
        .await
        .unwrap();
    chrome
        .wait_for("//input[@name='password']")
        .await
        .send_keys("any")
        .await
        .unwrap();
    chrome.click("Sign-in").await;
    chrome.click("Continue").await;
    chrome.wait_text("Success").await;
    chrome.wait_text("Lee Lead (lee@teams.example.com)").await;
    assert_eq!(chrome.path().await, "/profile");
    chrome.screenshot("profile-teams-success").await;
    chrome.close().await;
    drop(provider);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_arrive_without_a_reload() {
    let server = TestServer::start(&deskhost_e2e::layout("live.toml")).await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&chrome, "supervisor@example.com", None).await;
    chrome.fill("Dial number/Extension", "+14155550106").await;
    chrome.click("Submit").await;
    let ticker = "section#tile-ticker";
    let first = chrome.text_of(ticker).await;
    // A marker that a reload would wipe.
    chrome
        .client
        .execute("window.deskhostMarker = 42; return null;", vec![])
        .await
        .unwrap();
    let mut changed = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = chrome.text_of(ticker).await;
        if now != first {
            changed = true;
            break;
        }
    }
    assert!(changed, "the ticker tile never changed: {first}");
    let marker = chrome
        .client
        .execute("return window.deskhostMarker || 0;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, serde_json::json!(42), "the page was reloaded");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_is_refused_during_a_conversation_then_allowed_when_idle() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_as_lead_of_sales(&chrome, "+14155550107").await;
    chrome.wait_for("//select[@id='agent-state']").await;
    let user = server.user_ids().pop().unwrap();
    server
        .host
        .simulator()
        .connect_contact(&user, 20_000, 1_000)
        .unwrap();
    let sign_out = async || {
        chrome
            .wait_for("//summary[@aria-label='Profile: Lee Lead']")
            .await
            .click()
            .await
            .unwrap();
        chrome.click("Sign out").await;
    };
    sign_out().await;
    chrome
        .wait_text("You cannot sign out during an active conversation.")
        .await;
    chrome.screenshot("sign-out-refused").await;
    // After the conversation and its wrap-up (ended by the simulator's
    // clock, a second or so late), set Idle at once, before the simulator
    // offers Lee another contact; then sign out.
    let mut state = serde_json::Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        chrome.goto("/").await;
        state = chrome
            .client
            .execute(
                "return document.getElementById('agent-state').value;",
                vec![],
            )
            .await
            .unwrap();
        if state == "available" {
            break;
        }
    }
    assert_eq!(state, "available", "the conversation never ended");
    chrome
        .field("State")
        .await
        .select_by_label("Idle – Break")
        .await
        .unwrap();
    chrome
        .wait_for("//select[@id='agent-state']/option[@selected and @value='idle:Break']")
        .await;
    sign_out().await;
    chrome.wait_text("You have signed out.").await;
    assert!(chrome.path().await.starts_with("/sign-in"));
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_holds_at_1366_1024_and_768_pixels() {
    let server = demo().await;
    for (width, columns) in [(1366u32, 12usize), (1024, 10), (768, 6)] {
        let chrome = Chrome::open(
            &server.url,
            Options {
                width,
                ..Options::default()
            },
        )
        .await;
        sign_in_to_station(&chrome, "supervisor@example.com", None).await;
        chrome
            .fill(
                "Dial number/Extension",
                &format!("+1415555010{}", columns % 10),
            )
            .await;
        chrome.click("Submit").await;
        chrome.wait_text("Agent states").await;
        let fit = chrome
            .client
            .execute(
                "const grid = document.querySelector('.grid');
                 const cols = getComputedStyle(grid).gridTemplateColumns.split(' ').length;
                 const t = performance.getEntriesByType('navigation')[0];
                 return [document.documentElement.scrollWidth <= window.innerWidth, cols,
                         Math.round(t.loadEventEnd - t.startTime)];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            fit[0],
            serde_json::json!(true),
            "{width}px scrolls sideways"
        );
        assert_eq!(fit[1], serde_json::json!(columns), "{width}px: {fit}");
        println!("first load of the home page at {width}px: {} ms", fit[2]);
        chrome.screenshot(&format!("home-{width}")).await;
        chrome.close().await;
    }
}

/// Runs axe-core (WCAG 2 A and AA rules) on the current page; returns the
/// violations as "rule: target" lines.
async fn accessibility_violations(chrome: &Chrome) -> Vec<String> {
    deskhost_e2e::oidc::ensure_npm_packages();
    let axe = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/oidc/node_modules/axe-core/axe.min.js"
    ))
    .expect("axe-core is installed with the test's npm packages");
    chrome.client.execute(&axe, vec![]).await.unwrap();
    let result = chrome
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             // Live updates stop first: a tile replaced while axe walks
             // the page would make it fail or report a node that is gone.
             if (typeof closeEvents === 'function') closeEvents();
             axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] })
                .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(result).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_screens_pass_the_wcag_aa_checks_of_axe() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    let mut found = Vec::new();
    chrome.goto("/").await;
    chrome.field("E-mail address").await;
    found.extend(
        accessibility_violations(&chrome)
            .await
            .into_iter()
            .map(|v| format!("sign-in: {v}")),
    );
    sign_in_to_station(&chrome, "lead@example.com", None).await;
    found.extend(
        accessibility_violations(&chrome)
            .await
            .into_iter()
            .map(|v| format!("station: {v}")),
    );
    chrome.fill("Dial number/Extension", "+14155550108").await;
    chrome.click("Submit").await;
    chrome.wait_text("Agent states").await;
    found.extend(
        accessibility_violations(&chrome)
            .await
            .into_iter()
            .map(|v| format!("home: {v}")),
    );
    chrome.goto("/profile").await;
    chrome.wait_text("Profile settings").await;
    found.extend(
        accessibility_violations(&chrome)
            .await
            .into_iter()
            .map(|v| format!("profile: {v}")),
    );
    assert!(
        found.is_empty(),
        "accessibility violations:\n{}",
        found.join("\n")
    );
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banner_appears_when_a_widget_fails_and_clears_when_the_admin_fixes_it() {
    const LAYOUT: &str = "title = \"Banner desk\"\n\n[[supervisor.home.widgets]]\nid = \"one\"\n\
        plugin = \"hostile\"\ntitle = \"One\"\ncolumn = 1\nrow = 1\nsettings = { mode = \"error\" }\n";
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("desk.toml");
    std::fs::write(&layout, LAYOUT).unwrap();
    let server = TestServer::start_config(
        vec![layout.clone()],
        vec![std::path::PathBuf::from(
            deskhost::embedded::TEST_PLUGINS_DIR,
        )],
    )
    .await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_to_station(&chrome, "supervisor@example.com", None).await;
    chrome.fill("Dial number/Extension", "+14155550109").await;
    chrome.click("Submit").await;
    chrome.wait_text("Some features are unavailable.").await;
    chrome.wait_text("Tracking ID").await;
    chrome.screenshot("banner-widget-failed").await;
    chrome
        .client
        .execute("window.deskhostMarker = 7; return null;", vec![])
        .await
        .unwrap();
    // The admin fixes the layout; the open page heals without a reload.
    std::fs::write(&layout, LAYOUT.replace("\"error\"", "\"ok\"")).unwrap();
    let mut cleared = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if !chrome.shown("//*[@id='banner']").await
            && chrome.text().await.contains("hostile widget behaving")
        {
            cleared = true;
            break;
        }
    }
    assert!(cleared, "the banner stayed: {}", chrome.text().await);
    let marker = chrome
        .client
        .execute("return window.deskhostMarker || 0;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, serde_json::json!(7), "the page was reloaded");
    // The admin's status page, from the profile menu: the failure's
    // tracking ID is there, and the page passes the WCAG checks.
    chrome
        .wait_for("//summary[@aria-label='Profile: Dana Supervisor']")
        .await
        .click()
        .await
        .unwrap();
    chrome
        .wait_for("//a[normalize-space()='Status']")
        .await
        .click()
        .await
        .unwrap();
    chrome.wait_for("//h1[normalize-space()='Status']").await;
    chrome
        .wait_text("the hostile widget failed on purpose")
        .await;
    chrome.screenshot("admin-status").await;
    let violations = accessibility_violations(&chrome).await;
    assert!(violations.is_empty(), "status page: {violations:#?}");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dark_theme_follows_the_system_and_keeps_aa_contrast() {
    let server = demo().await;
    let chrome = Chrome::open(
        &server.url,
        Options {
            dark: true,
            ..Options::default()
        },
    )
    .await;
    chrome.goto("/").await;
    chrome.field("E-mail address").await;
    let dark = chrome
        .client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches
                && getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dark, serde_json::json!("rgb(15, 20, 27)"), "{dark}");
    let mut found = accessibility_violations(&chrome).await;
    sign_in_to_station(&chrome, "supervisor@example.com", None).await;
    chrome.fill("Dial number/Extension", "+14155550103").await;
    chrome.click("Submit").await;
    chrome.wait_text("Agent states").await;
    chrome.screenshot("home-dark").await;
    found.extend(accessibility_violations(&chrome).await);
    assert!(found.is_empty(), "in the dark theme:\n{}", found.join("\n"));
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_works_with_the_keyboard_alone() {
    use fantoccini::key::Key;
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    chrome.goto("/").await;
    chrome.field("E-mail address").await;
    let typing = async |text: &str| {
        chrome
            .client
            .active_element()
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    };
    // The e-mail field has the focus; Enter submits each step.
    typing(&format!("supervisor@example.com{}", Key::Enter)).await;
    chrome.field("Password").await;
    typing(&format!("{PASSWORD}{}", Key::Enter)).await;
    chrome
        .wait_for("//h1[normalize-space()='Station credentials']")
        .await;
    // Tab from the top of the dialog: the telephony choice, the number,
    // Remember, then Submit, in that order.
    let mut order = Vec::new();
    chrome
        .field("Dial number")
        .await
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    for i in 0..3 {
        let id = chrome
            .client
            .active_element()
            .await
            .unwrap()
            .attr("id")
            .await
            .unwrap()
            .unwrap_or_default();
        order.push(id);
        if i < 2 {
            typing(&Key::Tab.to_string()).await;
        }
    }
    assert_eq!(order, ["number", "remember", ""], "focus order");
    let submit = chrome
        .client
        .active_element()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(submit, "Submit");
    chrome.fill("Dial number/Extension", "+14155550102").await;
    typing(&Key::Enter.to_string()).await;
    chrome.wait_text("Agent states").await;
    chrome.close().await;
}

/// What has the focus.
#[derive(Debug, Clone, PartialEq)]
struct Stop {
    tag: String,
    id: String,
    /// Accessible name: label, aria-label or text.
    name: String,
    /// The id of the tile it is in, if any.
    tile: String,
}

async fn focused(chrome: &Chrome) -> Stop {
    let v = chrome
        .client
        .execute(
            "const e = document.activeElement;
             const label = e.labels && e.labels.length ? e.labels[0].innerText : '';
             const name = label || e.getAttribute('aria-label') || (e.innerText || '').trim().split('\\n')[0];
             const tile = e.closest('.tile');
             return [e.tagName.toLowerCase(), e.id || '', name.slice(0, 60), tile ? tile.id : ''];",
            vec![],
        )
        .await
        .unwrap();
    let s = |i: usize| v[i].as_str().unwrap_or_default().to_owned();
    Stop {
        tag: s(0),
        id: s(1),
        name: s(2),
        tile: s(3),
    }
}

/// Presses `key` on whatever has the focus. A live update can replace the
/// focused element between finding it and typing (the page then moves the
/// focus to its replacement), so a stale element is looked up again.
async fn press(chrome: &Chrome, key: impl std::fmt::Display) {
    let key = key.to_string();
    for attempt in 1.. {
        let sent = async { chrome.client.active_element().await?.send_keys(&key).await }.await;
        match sent {
            Err(e) if e.is_stale_element_reference() && attempt < 5 => {}
            other => return other.unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_not_yet_applied_survives_a_live_update() {
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_as_lead_of_sales(&chrome, "+14155550108").await;
    chrome.wait_text("Agent states").await;
    // Choose a filter without applying it, move on, and mark the tile so
    // that its replacement by a live update shows.
    let chosen = chrome
        .client
        .execute(
            "const s = document.querySelector('#tile-team select[name=state_filter]');
             s.value = s.options[s.options.length - 1].value;
             if (document.activeElement) document.activeElement.blur();
             document.getElementById('tile-team').deskhostOld = true;
             return s.value;",
            vec![],
        )
        .await
        .unwrap();
    // Lee, a sales agent too, takes a call: the team tile changes.
    let user = server.user_ids().pop().unwrap();
    server
        .host
        .simulator()
        .connect_contact(&user, 60_000, 1_000)
        .unwrap();
    let mut replaced = false;
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let v = chrome
            .client
            .execute(
                "const t = document.getElementById('tile-team');
                 return t.deskhostOld ? null : t.querySelector('select[name=state_filter]').value;",
                vec![],
            )
            .await
            .unwrap();
        if !v.is_null() {
            assert_eq!(v, chosen, "the live update undid the chosen filter");
            replaced = true;
            break;
        }
    }
    assert!(replaced, "the team tile was never updated live");
    // Nothing was applied: the server still renders another filter.
    let rendered = chrome
        .client
        .execute(
            "const o = document.querySelector('#tile-team select[name=state_filter] option[selected]');
             return o ? o.value : null;",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(rendered, chosen, "the choice was applied, not kept");
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_is_usable_with_the_keyboard_alone() {
    use fantoccini::key::Key;
    let server = demo().await;
    let chrome = Chrome::open(&server.url, Options::default()).await;
    sign_in_as_lead_of_sales(&chrome, "+14155550106").await;
    chrome.wait_text("Agent states").await;

    // Tab through the whole page from the top, once round.
    let mut stops = Vec::new();
    for _ in 0..80 {
        press(&chrome, Key::Tab).await;
        let stop = focused(&chrome).await;
        if stop.tag == "body" || stops.first() == Some(&stop) {
            break;
        }
        stops.push(stop);
    }
    let position = |pred: &dyn Fn(&Stop) -> bool, what: &str| {
        stops
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("{what} is not reachable with Tab; stops: {stops:#?}"))
    };
    let skip = position(&|s| s.name == "Skip to content", "the skip link");
    let home = position(
        &|s| s.tag == "a" && s.name == "Home" && s.tile.is_empty(),
        "Home",
    );
    let state = position(&|s| s.id == "agent-state", "the State selector");
    let profile = position(&|s| s.name == "Profile: Lee Lead", "the profile menu");
    // Every tile, in reading order (row, then column), after the header.
    let mut tiles = Vec::new();
    for id in ["welcome", "kpis", "team", "states", "queues", "news"] {
        let tile = format!("tile-{id}");
        tiles.push(position(&|s| s.tile == tile, &tile));
    }
    assert_eq!(skip, 0, "the skip link comes first: {stops:#?}");
    assert!(
        home < state && state < profile && profile < tiles[0],
        "{stops:#?}"
    );
    assert!(tiles.is_sorted(), "tiles in reading order: {stops:#?}");
    // Inside a tile: its controls and buttons.
    position(
        &|s| s.tag == "select" && s.name == "State" && s.tile == "tile-team",
        "the team filter",
    );
    let apply = position(&|s| s.name == "Apply" && s.tile == "tile-team", "Apply");

    // A tile action from the keyboard: filter the team tile, and the focus
    // stays on Apply in the re-rendered tile.
    // Focused in one script: a live update cannot replace the tile between
    // finding the select and typing into it (a focused select is kept).
    chrome
        .client
        .execute(
            "document.querySelector('#tile-team select[name=state_filter]').focus(); return null;",
            vec![],
        )
        .await
        .unwrap();
    press(&chrome, Key::Down).await;
    let chosen = chrome
        .wait_for("//section[@id='tile-team']//select[@name='state_filter']")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    for _ in 0..(apply
        - position(
            &|s| s.tag == "select" && s.name == "State" && s.tile == "tile-team",
            "filter",
        ))
    {
        press(&chrome, Key::Tab).await;
    }
    assert_eq!(focused(&chrome).await.name, "Apply");
    press(&chrome, Key::Enter).await;
    chrome
        .wait_for(&format!(
            "//section[@id='tile-team']//select[@name='state_filter']/option[@selected and @value='{chosen}']"
        ))
        .await;
    let after = focused(&chrome).await;
    assert_eq!(
        (after.name.as_str(), after.tile.as_str()),
        ("Apply", "tile-team")
    );
    chrome.screenshot("keyboard-tile-focus").await;

    // The state selector: arrowing does not change the state; Enter does.
    let select = chrome.field("State").await;
    let before = select.prop("value").await.unwrap().unwrap();
    select.send_keys(&Key::Down.to_string()).await.unwrap();
    assert!(
        chrome
            .shown("//form[contains(@class,'agent-state')]//button[normalize-space()='Set']")
            .await
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = chrome
        .field("State")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(pending, before, "the arrow moved the choice");
    assert!(
        !chrome
            .shown(&format!(
                "//select[@id='agent-state']/option[@selected and @value='{pending}']"
            ))
            .await
            || before == pending,
        "an arrow key alone must not set the state"
    );
    press(&chrome, Key::Enter).await;
    chrome
        .wait_for(&format!(
            "//select[@id='agent-state']/option[@selected and @value='{pending}']"
        ))
        .await;

    // The profile menu opens with Enter, its items follow, Escape closes it.
    let summary = chrome
        .wait_for("//summary[@aria-label='Profile: Lee Lead']")
        .await;
    summary.send_keys(&Key::Enter.to_string()).await.unwrap();
    press(&chrome, Key::Tab).await;
    assert_eq!(focused(&chrome).await.name, "Profile settings");
    press(&chrome, Key::Tab).await;
    assert_eq!(focused(&chrome).await.name, "Sign out");
    chrome.screenshot("keyboard-profile-menu").await;
    press(&chrome, Key::Escape).await;
    assert_eq!(focused(&chrome).await.name, "Profile: Lee Lead");
    assert!(!chrome.shown("//button[normalize-space()='Sign out']").await);
    chrome.close().await;
}
