//! The sign-in flow over HTTP against a real server and its SQLite file:
//! every step and rule of the seed, every bad input with its message, and
//! what survives a restart.

use std::time::Duration;

use deskhost_e2e::{Browser, DESKTOP, PASSWORD, TestServer, layout, shipped_layout};

async fn demo() -> TestServer {
    TestServer::start_with(vec![
        shipped_layout("demo.toml"),
        shipped_layout("team-support.toml"),
    ])
    .await
}

/// Signs in up to the Station credentials dialog; returns its HTML.
async fn to_station(b: &mut Browser, email: &str) -> String {
    b.get("/sign-in").await;
    let a = b.post("/sign-in/email", &[("email", email)]).await;
    assert_eq!(a.location.as_deref(), Some("/sign-in"), "{}", a.body);
    let a = b.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(a.location.as_deref(), Some("/station"), "{}", a.body);
    let (status, page) = b.get("/station").await;
    assert_eq!(status, 200);
    page
}

/// The text of the error box of a page.
fn error_of(page: &str) -> &str {
    let at = page
        .find("id=\"form-error\" role=\"alert\">")
        .unwrap_or_else(|| panic!("no error on the page: {page}"));
    &page[at..at + page[at..].find("</div>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_demo_accounts_sign_in_as_the_seed_describes() {
    let server = demo().await;

    // Supervisor only: no Role drop-down, no Team field.
    let mut dana = server.browser();
    let (_, first) = dana.get("/").await;
    assert!(
        first.contains("<label for=\"email\">E-mail address</label>"),
        "{first}"
    );
    let station = to_station(&mut dana, "Supervisor@Example.com ").await;
    assert!(
        station.contains("aria-labelledby=\"station-title\""),
        "{station}"
    );
    assert!(station.contains(">Station credentials</h1>"));
    assert!(!station.contains("<select id=\"role\""), "{station}");
    assert!(!station.contains("id=\"team-field\""), "{station}");
    // Dial number is selected by default.
    assert!(station.contains(
        "<input type=\"radio\" id=\"telephony-dial-number\" name=\"telephony\" value=\"dial-number\" checked>"
    ));
    for label in [
        "Dial number",
        "Extension",
        "Desktop",
        "Remember my credentials",
    ] {
        assert!(station.contains(&format!("\">{label}</label>")), "{label}");
    }
    assert!(station.contains(">Submit</button>"));
    let a = dana
        .post(
            "/station",
            &[
                ("telephony", "dial-number"),
                ("number", "+1 (415) 555-0100"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);
    let (_, home) = dana.get("/").await;
    assert!(home.contains("<title>Home · Acme Contact Center</title>"));
    assert!(home.contains("Dana Supervisor"));
    assert!(
        !home.contains("id=\"agent-state\""),
        "no agent work for a supervisor"
    );
    assert!(home.contains(">Sign out</button>"));

    // Supervisor and agent: Role drop-down, and a Team field shown only
    // for the Supervisor and Agent role, with a search filter.
    let mut lee = server.browser();
    let station = to_station(&mut lee, "lead@example.com").await;
    assert!(station.contains("<label for=\"role\">Role</label>"));
    assert!(station.contains("<option value=\"supervisor\" selected>Supervisor</option>"));
    assert!(station.contains("<option value=\"supervisor-agent\">Supervisor and Agent</option>"));
    assert!(
        station.contains("id=\"team-field\" data-roles=\"supervisor-agent\" hidden"),
        "{station}"
    );
    assert!(station.contains("<label for=\"team-search\">Search teams</label>"));
    assert!(station.contains("<option value=\"support\">Support</option>"));
    let a = lee
        .post(
            "/station",
            &[
                ("role", "supervisor-agent"),
                ("telephony", "extension"),
                ("number", "1001"),
                ("team", "support"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);
    let (_, home) = lee.get("/").await;
    assert!(
        home.contains("Acme Contact Center · Support"),
        "the team's layout"
    );
    assert!(
        home.contains("id=\"agent-state\""),
        "agent work: a state selector"
    );
    assert!(home.contains("Supervisor and Agent · support"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_unknown_and_malformed_addresses() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    let a = b
        .post("/sign-in/email", &[("email", "not-an-address")])
        .await;
    assert_eq!(a.status, 422);
    assert!(error_of(&a.body).contains("Enter a valid e-mail address"));
    assert!(
        a.body.contains("value=\"not-an-address\""),
        "kept for fixing"
    );

    // An unknown address reaches the password step like a known one, and
    // gets the same answer as a wrong password.
    let mut answers = Vec::new();
    for email in ["nobody@example.com", "lead@example.com"] {
        let a = b.post("/sign-in/email", &[("email", email)]).await;
        assert_eq!(a.location.as_deref(), Some("/sign-in"));
        let (_, page) = b.get("/sign-in").await;
        assert!(page.contains("<label for=\"password\">Password</label>"));
        assert!(page.contains(email));
        let a = b
            .post("/sign-in/password", &[("password", "wrong password")])
            .await;
        assert_eq!(a.status, 401);
        answers.push(error_of(&a.body).to_owned());
        b.post("/sign-in/back", &[]).await;
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("The e-mail address or password is not correct."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_step_goes_back_to_the_e_mail_step() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    b.post("/sign-in/email", &[("email", "lead@example.com")])
        .await;
    let (_, page) = b.get("/sign-in").await;
    // The shortcut is wired to the back form, and explained.
    assert!(page.contains("data-back-shortcut=\"back-form\""), "{page}");
    assert!(page.contains("Alt+Left arrow (Windows) or Command+Left arrow (Mac)"));
    let a = b.post("/sign-in/back", &[]).await;
    assert_eq!(a.location.as_deref(), Some("/sign-in"));
    let (_, page) = b.get("/sign-in").await;
    assert!(
        page.contains("<label for=\"email\">E-mail address</label>"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_passwords_lock_the_account_and_then_the_address() {
    let server = TestServer::start_changed(&layout("live.toml"), |c| {
        c.auth.max_failures_per_account = 3;
        c.auth.max_failures_per_address = 5;
    })
    .await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    b.post("/sign-in/email", &[("email", "sup1@example.com")])
        .await;
    for _ in 0..3 {
        let a = b.post("/sign-in/password", &[("password", "nope")]).await;
        assert_eq!(a.status, 401);
    }
    // Locked: even the right password is refused now.
    let a = b.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(error_of(&a.body).contains("Too many failed sign-ins. Try again in 15 minutes"));
    // Another account from the same address still may try, until the
    // address reaches its own limit.
    b.post("/sign-in/back", &[]).await;
    b.post("/sign-in/email", &[("email", "sup2@example.com")])
        .await;
    for _ in 0..2 {
        let a = b.post("/sign-in/password", &[("password", "nope")]).await;
        assert_eq!(a.status, 401);
    }
    b.post("/sign-in/back", &[]).await;
    b.post("/sign-in/email", &[("email", "sup3@example.com")])
        .await;
    let a = b.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(a.status, 429, "the address is locked: {}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_address_limit() {
    let server = TestServer::start_changed(&layout("live.toml"), |c| {
        c.auth.max_failures_per_address = 2;
        c.auth.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    // One client behind the proxy uses up its address's tries...
    let mut guesser = Browser::with_headers(&server.url, &[("x-forwarded-for", "203.0.113.7")]);
    guesser.get("/sign-in").await;
    guesser
        .post("/sign-in/email", &[("email", "sup1@example.com")])
        .await;
    for _ in 0..2 {
        let a = guesser
            .post("/sign-in/password", &[("password", "nope")])
            .await;
        assert_eq!(a.status, 401);
    }
    let a = guesser
        .post("/sign-in/password", &[("password", PASSWORD)])
        .await;
    assert_eq!(a.status, 429, "{}", a.body);
    // ...and another client behind the same proxy still signs in.
    let mut other = Browser::with_headers(&server.url, &[("x-forwarded-for", "203.0.113.8")]);
    other.sign_in("sup2@example.com", DESKTOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widgets_get_the_time_zone_the_browser_reports() {
    let server = TestServer::start(&shipped_layout("demo.toml")).await;
    let welcome = |page: &str| {
        let at = page.find("id=\"tile-welcome\"").expect("a welcome tile");
        page[at..].split("</section>").next().unwrap().to_owned()
    };
    // The station page carries the fields its script fills in.
    let mut paris = server.browser();
    paris.get("/sign-in").await;
    paris
        .post("/sign-in/email", &[("email", "supervisor@example.com")])
        .await;
    paris
        .post("/sign-in/password", &[("password", PASSWORD)])
        .await;
    let (_, station) = paris.get("/station").await;
    assert!(station.contains("name=\"time_zone\""), "{station}");
    assert!(station.contains("name=\"locale\""), "{station}");
    let mut form = vec![("time_zone", "Europe/Paris"), ("locale", "fr-FR")];
    form.extend_from_slice(DESKTOP);
    let a = paris.post("/station", &form).await;
    assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);
    let (_, page) = paris.get("/").await;
    assert!(
        welcome(&page).contains("Europe/Paris"),
        "{}",
        welcome(&page)
    );

    // A zone the host does not know is not passed on: UTC.
    let mut station = vec![("time_zone", "Mars/Olympus_Mons"), ("locale", "<b>")];
    station.extend_from_slice(DESKTOP);
    let (_, page) = server
        .sign_in("sup1@example.com", &station)
        .await
        .get("/")
        .await;
    let tile = welcome(&page);
    assert!(tile.contains("UTC") && !tile.contains("Mars"), "{tile}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_resets_with_the_mailed_code_once() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    b.post("/sign-in/email", &[("email", "lead@example.com")])
        .await;
    let (_, page) = b.get("/sign-in").await;
    assert!(page.contains(">Forgot password</button>"));
    let a = b.post("/sign-in/forgot", &[]).await;
    assert_eq!(a.location.as_deref(), Some("/sign-in/reset"), "{}", a.body);
    let (_, page) = b.get("/sign-in/reset").await;
    assert!(page.contains("six-digit confirmation code"), "{page}");
    assert!(page.contains("<label for=\"code\">Confirmation code</label>"));
    let code = server.reset_code("lead@example.com");
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let reset = |code: &str, new: &str| {
        vec![
            ("code", code.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", new.to_owned()),
        ]
    };
    let form = |f: &Vec<(&'static str, String)>| {
        f.iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<(&str, String)>>()
    };
    let post = async |b: &mut Browser, f: Vec<(&'static str, String)>| {
        let f = form(&f);
        let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/sign-in/reset", &fields).await
    };
    let a = post(&mut b, reset(wrong, "a-new-password-1")).await;
    assert_eq!(a.status, 422);
    assert!(error_of(&a.body).contains("That code is not valid. 4 tries left."));
    let a = post(&mut b, reset(&code, "short")).await;
    assert!(error_of(&a.body).contains("at least"), "{}", a.body);
    let a = b
        .post(
            "/sign-in/reset",
            &[
                ("code", &code),
                ("new_password", "a-new-password-1"),
                ("confirm_password", "a-new-password-2"),
            ],
        )
        .await;
    assert!(error_of(&a.body).contains("The two passwords do not match."));
    let a = post(&mut b, reset(&code, "a-new-password-1")).await;
    assert_eq!(a.location.as_deref(), Some("/sign-in"), "{}", a.body);
    let (_, page) = b.get("/sign-in").await;
    assert!(page.contains("Your password was changed."), "{page}");

    // The code was single use; the old password no longer works.
    let a = post(&mut b, reset(&code, "a-new-password-3")).await;
    assert!(
        error_of(&a.body).contains("That code is not valid."),
        "{}",
        a.body
    );
    let a = b.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(a.status, 401);

    // The new password survives a restart.
    let server = server.restart().await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    b.post("/sign-in/email", &[("email", "lead@example.com")])
        .await;
    let a = b
        .post("/sign-in/password", &[("password", "a-new-password-1")])
        .await;
    assert_eq!(a.location.as_deref(), Some("/station"), "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_codes_expire_and_allow_five_tries() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    b.post("/sign-in/email", &[("email", "sup1@example.com")])
        .await;
    b.post("/sign-in/forgot", &[]).await;
    let code = server.reset_code("sup1@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let fields = |c: &'static str| {
        [
            ("code", c),
            ("new_password", "a-new-password-1"),
            ("confirm_password", "a-new-password-1"),
        ]
    };
    for left in (1..=4).rev() {
        let a = b.post("/sign-in/reset", &fields(wrong)).await;
        let text = error_of(&a.body);
        assert!(text.contains(&format!("{left} tr")), "{text}");
    }
    let a = b.post("/sign-in/reset", &fields(wrong)).await;
    assert!(error_of(&a.body).contains("Too many wrong codes. Request a new code."));
    let right = Box::leak(code.into_boxed_str());
    let a = b.post("/sign-in/reset", &fields(right)).await;
    assert!(
        error_of(&a.body).contains("That code is not valid."),
        "used up"
    );

    // A fresh code that has grown older than 10 minutes is refused as
    // expired: age it in the plugin's store.
    b.post("/sign-in/forgot", &[]).await;
    let code: &'static str = Box::leak(server.reset_code("sup1@example.com").into_boxed_str());
    let db = rusqlite::Connection::open(server.data_dir().join("deskhost.sqlite3")).unwrap();
    let key = "reset:sup1@example.com";
    let value: Vec<u8> = db
        .query_row(
            "SELECT value FROM plugin_kv WHERE plugin = 'local-directory' AND key = ?1",
            [key],
            |r| r.get(0),
        )
        .unwrap();
    let mut record: serde_json::Value = serde_json::from_slice(&value).unwrap();
    let created = record["created_ms"].as_u64().unwrap();
    record["created_ms"] = (created - 11 * 60_000).into();
    db.execute(
        "UPDATE plugin_kv SET value = ?1 WHERE plugin = 'local-directory' AND key = ?2",
        rusqlite::params![serde_json::to_vec(&record).unwrap(), key],
    )
    .unwrap();
    let a = b.post("/sign-in/reset", &fields(code)).await;
    assert!(
        error_of(&a.body).contains("That code has expired. Request a new code."),
        "{}",
        a.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn station_credentials_are_checked_with_specific_messages() {
    let server = demo().await;
    // Lee holds +14155550101.
    let mut lee = server.browser();
    to_station(&mut lee, "lead@example.com").await;
    let a = lee
        .post(
            "/station",
            &[("telephony", "dial-number"), ("number", "+14155550101")],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);

    let mut dana = server.browser();
    to_station(&mut dana, "supervisor@example.com").await;
    for (form, field, message) in [
        (
            vec![("telephony", "dial-number"), ("number", "12345")],
            "number",
            "Enter the dial number in international format, such as +14155550100.",
        ),
        (
            vec![("telephony", "dial-number"), ("number", "+14155550199")],
            "number",
            "The dial number +14155550199 is not registered.",
        ),
        (
            vec![("telephony", "dial-number"), ("number", "+1 415 555 0101")],
            "number",
            "already in use by another signed-in user",
        ),
        (
            vec![("telephony", "extension"), ("number", "10a1")],
            "number",
            "extension",
        ),
        (
            vec![("telephony", "extension"), ("number", "2001")],
            "number",
            "not registered",
        ),
        (
            vec![
                ("telephony", "desktop"),
                ("microphone", "denied"),
                ("e911", "on"),
            ],
            "microphone",
            "Desktop telephony needs access to your microphone. Allow it in your browser's site settings, or contact your administrator.",
        ),
        (
            vec![("telephony", "desktop"), ("microphone", "granted")],
            "e911",
            "E911",
        ),
        (
            vec![
                ("role", "supervisor-agent"),
                ("team", "sales"),
                ("telephony", "dial-number"),
                ("number", "+14155550102"),
            ],
            "role",
            "Your profile does not allow signing in as Supervisor and Agent.",
        ),
    ] {
        let a = dana.post("/station", &form).await;
        assert_eq!(a.status, 422, "{form:?}: {}", a.body);
        let text = error_of(&a.body);
        assert!(text.contains(message), "{form:?}: {text}");
        let marked = match field {
            "number" => "id=\"number\"",
            "microphone" | "e911" => "id=\"e911\"",
            _ => "id=\"role\"",
        };
        if field != "role" {
            let at = a.body.find(marked).unwrap();
            let tag =
                &a.body[a.body[..at].rfind('<').unwrap()..at + a.body[at..].find('>').unwrap()];
            if field != "microphone" {
                assert!(tag.contains("aria-invalid=\"true\""), "{field}: {tag}");
            }
        }
    }

    // A team outside the profile, and no team for the agent role.
    let mut lee2 = server.browser();
    to_station(&mut lee2, "lead@example.com").await;
    for (team, message) in [
        ("billing", "You are not a member of the team `billing`"),
        ("", "Pick a team."),
    ] {
        let a = lee2
            .post(
                "/station",
                &[
                    ("role", "supervisor-agent"),
                    ("team", team),
                    ("telephony", "desktop"),
                    ("microphone", "granted"),
                    ("e911", "on"),
                ],
            )
            .await;
        assert_eq!(a.status, 422, "{team}");
        assert!(error_of(&a.body).contains(message), "{}", a.body);
        assert!(
            a.body
                .contains("<option value=\"supervisor-agent\" selected>"),
            "the form keeps what was chosen"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_the_csrf_token_are_refused() {
    let server = TestServer::start(&layout("live.toml")).await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    let a = b
        .post_raw("/sign-in/email", &[("email", "lead@example.com")])
        .await;
    assert_eq!(a.status, 403);
    assert!(error_of(&a.body).contains("This form has expired or did not come from this desktop."));
    let a = b
        .post_raw(
            "/sign-in/email",
            &[("email", "lead@example.com"), ("csrf", "forged")],
        )
        .await;
    assert_eq!(a.status, 403);

    let mut dana = server.supervisor().await;
    let a = dana.post_raw("/sign-out", &[]).await;
    assert_eq!(a.status, 403);
    let a = dana.post_raw("/me/state", &[("state", "available")]).await;
    assert_eq!(a.status, 403);
    let (status, _) = dana.get("/").await;
    assert_eq!(status, 200, "still signed in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_id_changes_at_sign_in_and_idle_sessions_expire() {
    let server = TestServer::start_changed(&layout("live.toml"), |c| {
        c.auth.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let mut b = server.browser();
    let before = b.get_once("/sign-in").await;
    assert_eq!(before.status, 200);
    let cookie_of = |res: &reqwest::Response| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("deskhost_session="))
    };
    // Read the cookies by hand from a client without a cookie store.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = raw
        .get(format!("{}/sign-in", server.url))
        .send()
        .await
        .unwrap();
    let first = cookie_of(&res).expect("a session cookie");
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Strict"), "{first}");
    assert!(first.contains("Path=/"), "{first}");
    let first_value = first.split(';').next().unwrap().to_owned();
    let csrf = deskhost_e2e::csrf_of(&res.text().await.unwrap()).unwrap();
    let post = |path: &str, form: Vec<(&str, &str)>, cookie: &str| {
        raw.post(format!("{}{path}", server.url))
            .header("cookie", cookie)
            .form(&form)
            .send()
    };
    post(
        "/sign-in/email",
        vec![("email", "sup1@example.com"), ("csrf", &csrf)],
        &first_value,
    )
    .await
    .unwrap();
    let res = post(
        "/sign-in/password",
        vec![("password", PASSWORD), ("csrf", &csrf)],
        &first_value,
    )
    .await
    .unwrap();
    let second = cookie_of(&res).expect("a new session cookie at sign-in");
    let second_value = second.split(';').next().unwrap().to_owned();
    assert_ne!(first_value, second_value);
    // The old id is gone.
    let res = raw
        .get(format!("{}/station", server.url))
        .header("cookie", &first_value)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/sign-in?expired=1");

    // An idle session expires and the user is told so.
    b.sign_in("sup2@example.com", DESKTOP).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let a = b.get_once("/").await;
    assert_eq!(a.location.as_deref(), Some("/sign-in?expired=1"));
    let (_, page) = b.get("/sign-in?expired=1").await;
    assert!(
        page.contains("Your session has expired. Sign in again."),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remembered_credentials_are_offered_next_time_and_survive_a_restart() {
    let server = demo().await;
    let mut lee = server.browser();
    to_station(&mut lee, "lead@example.com").await;
    let a = lee
        .post(
            "/station",
            &[
                ("role", "supervisor-agent"),
                ("team", "sales"),
                ("telephony", "extension"),
                ("number", "1002"),
                ("remember", "on"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);
    let (_, home) = lee.get("/").await;
    assert!(!home.contains("could not be saved"));

    // A session survives a restart too.
    let server = server.restart().await;
    lee.base = server.url.clone();
    let (status, home) = lee.get("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Lee Lead"), "{home}");

    let mut again = server.browser();
    let station = to_station(&mut again, "lead@example.com").await;
    assert!(station.contains("<option value=\"supervisor-agent\" selected>"));
    assert!(station.contains(
        "<input type=\"radio\" id=\"telephony-extension\" name=\"telephony\" value=\"extension\" checked>"
    ));
    assert!(station.contains("value=\"1002\""), "{station}");
    assert!(station.contains("<option value=\"sales\" selected>Sales</option>"));
    assert!(station.contains("name=\"remember\" checked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_remembering_fails_the_user_is_told_and_nothing_is_prefilled() {
    let server = TestServer::start(&layout("live.toml")).await;
    // The store refuses to keep remembered credentials (a full disk, say).
    let db = rusqlite::Connection::open(server.data_dir().join("deskhost.sqlite3")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_room BEFORE INSERT ON remembered_stations
         BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END;",
    )
    .unwrap();
    let mut dana = server.browser();
    to_station(&mut dana, "supervisor@example.com").await;
    let a = dana
        .post(
            "/station",
            &[
                ("telephony", "dial-number"),
                ("number", "+14155550105"),
                ("remember", "on"),
            ],
        )
        .await;
    assert_eq!(a.location.as_deref(), Some("/"), "signing in still works");
    let (_, home) = dana.get("/").await;
    assert!(
        home.contains(
            "Your station credentials could not be saved. Enter them again the next time you sign in."
        ),
        "{home}"
    );
    let (_, home) = dana.get("/").await;
    assert!(!home.contains("could not be saved"), "shown once");

    let mut again = server.browser();
    let station = to_station(&mut again, "supervisor@example.com").await;
    assert!(!station.contains("+14155550105"));
    assert!(!station.contains("name=\"remember\" checked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_waits_for_idle_and_for_the_end_of_conversations() {
    let server = demo().await;
    let mut lee = server.lead("sales").await;
    let user = server.user_ids().pop().unwrap();
    let sign_out = async |b: &mut Browser| {
        let a = b.post("/sign-out", &[]).await;
        let (_, page) = b.get(a.location.as_deref().unwrap_or("/")).await;
        (a, page)
    };

    // Available: set Idle first.
    lee.post("/me/state", &[("state", "available")]).await;
    let (a, page) = sign_out(&mut lee).await;
    assert_eq!(a.location.as_deref(), Some("/"));
    assert!(
        page.contains("Set your state to Idle before you sign out."),
        "{page}"
    );

    // In a conversation, then in wrap-up: refused with the reason.
    lee.post("/me/state", &[("state", "idle:Break")]).await;
    server
        .host
        .simulator()
        .connect_contact(&user, 5_000, 600_000)
        .unwrap();
    let (_, page) = sign_out(&mut lee).await;
    assert!(
        page.contains("You cannot sign out during an active conversation."),
        "{page}"
    );
    // The simulator's clock ends the conversation within a second or so
    // of its 5 s; until then every try is refused for the conversation.
    let mut page = String::new();
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        (_, page) = sign_out(&mut lee).await;
        if !page.contains("You cannot sign out during an active conversation.") {
            break;
        }
    }
    assert!(
        page.contains("while a wrap-up task is in progress"),
        "{page}"
    );

    // A supervisor without agent work signs out at once.
    let mut dana = server.supervisor().await;
    let (a, page) = sign_out(&mut dana).await;
    assert_eq!(a.location.as_deref(), Some("/sign-in?signed_out=1"));
    assert!(page.contains("You have signed out."), "{page}");
    let a = dana.get_once("/").await;
    assert_eq!(
        a.location.as_deref(),
        Some("/sign-in"),
        "the session is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_telephony_failing_after_sign_in_sets_rona_with_a_tracking_id() {
    let server = demo().await;
    let mut lee = server.lead("sales").await;
    let (_, home) = lee.get("/").await;
    assert!(
        home.contains("data-telephony=\"desktop\""),
        "the page starts the microphone"
    );
    let res = lee
        .client
        .post(format!("{}/me/telephony-failed", lee.base))
        .header("x-csrf-token", &lee.csrf)
        .form(&[("reason", "NotFoundError")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    let tracking = body["tracking_id"].as_str().unwrap();
    assert_eq!(tracking.len(), 36, "{body}");
    assert!(body["message"].as_str().unwrap().contains("RONA"));
    let (_, home) = lee.get("/").await;
    assert!(
        home.contains("<option value=\"\" selected>RONA</option>"),
        "{home}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_sign_in_set_up_shows_the_admin_checklist_and_a_tracking_id() {
    // The identity provider is not granted its store.
    let server = TestServer::start_changed(&layout("live.toml"), |c| {
        c.auth.identity.grants.clear();
    })
    .await;
    let mut b = server.browser();
    b.get("/sign-in").await;
    let a = b
        .post("/sign-in/email", &[("email", "lead@example.com")])
        .await;
    assert_eq!(a.status, 503, "{}", a.body);
    let text = error_of(&a.body);
    assert!(
        text.contains("Signing in is not possible right now."),
        "{text}"
    );
    assert!(text.contains("Is the dial number valid, registered and unique?"));
    assert!(text.contains("Are there network or API problems?"));
    assert!(text.contains("Tracking ID: <code>"), "{text}");
}
