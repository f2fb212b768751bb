//! Helpers for deskhost's end-to-end tests: start a real server on a free
//! loopback port with a given layout and the test plugins installed, and
//! sign in to it over HTTP like a browser (cookies, CSRF tokens).

pub mod browser;
pub mod oidc;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use deskhost::app::{self, Host, LayoutSource};
use deskhost::config::HostConfig;
use deskhost::embedded::TEST_PLUGINS_DIR;
use deskhost::watch;
use deskhost::web::{self, AppState};

/// Layout files used by the tests.
pub fn layout(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("layouts")
        .join(name)
}

/// Replaces the file at `path` with `contents` in one step (written among
/// the system's temporary files, where the test's directories are too,
/// then renamed over it), as editors save: a watcher never sees the file
/// empty or half written, which `std::fs::write` (truncate, then write)
/// can show it on a busy machine.
pub fn replace_file(path: &Path, contents: impl AsRef<[u8]>) {
    let mut tmp = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut tmp, contents.as_ref()).unwrap();
    tmp.persist(path).unwrap();
}

/// Layouts shipped in `layouts/`.
pub fn shipped_layout(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../layouts")
        .join(name)
}

/// A server running in the background of the current tokio runtime.
pub struct TestServer {
    /// Base URL, such as `http://127.0.0.1:41234`.
    pub url: String,
    /// The host being served.
    pub host: Arc<Host>,
    config: HostConfig,
    _watch: Option<watch::HotReload>,
    data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server for `layout` with the embedded and test plugins.
    pub async fn start(layout: &Path) -> TestServer {
        Self::start_with(vec![layout.to_owned()]).await
    }

    /// Starts a server for several layouts (a global one and team ones).
    pub async fn start_with(layouts: Vec<PathBuf>) -> TestServer {
        Self::start_config(layouts, vec![PathBuf::from(TEST_PLUGINS_DIR)]).await
    }

    /// Starts a server for these layouts and plugin directories, with hot
    /// reload watching them.
    pub async fn start_config(layouts: Vec<PathBuf>, plugin_dirs: Vec<PathBuf>) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let config = HostConfig {
            data_dir: data.path().to_owned(),
            plugin_dirs,
            layouts,
            ..HostConfig::default()
        };
        Self::start_in(config, data).await
    }

    /// Starts a server for `config`, whose data dir is `data`.
    pub async fn start_in(config: HostConfig, data: tempfile::TempDir) -> TestServer {
        let listener = web::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        Self::serve_on(listener, config, data).await
    }

    /// A server for `layout` whose host config `change` adjusts knowing the
    /// server's own base URL (for callbacks registered elsewhere first).
    pub async fn start_knowing_url(
        layout: &Path,
        change: impl FnOnce(&mut HostConfig, &str),
    ) -> TestServer {
        let listener = web::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let data = tempfile::tempdir().unwrap();
        let mut config = HostConfig {
            data_dir: data.path().to_owned(),
            plugin_dirs: vec![PathBuf::from(TEST_PLUGINS_DIR)],
            layouts: vec![layout.to_owned()],
            ..HostConfig::default()
        };
        change(&mut config, &url);
        Self::serve_on(listener, config, data).await
    }

    async fn serve_on(
        listener: tokio::net::TcpListener,
        mut config: HostConfig,
        data: tempfile::TempDir,
    ) -> TestServer {
        config
            .auth
            .identity
            .settings
            .insert("seed_accounts".into(), toml::Value::String(test_accounts()));
        let built = config.clone();
        let host = tokio::task::spawn_blocking(move || {
            app::build(&built, &LayoutSource::from_config(&built))
        })
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
        let host = Arc::new(host);
        let watch = watch::start(host.clone()).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(web::serve(listener, AppState::new(host.clone()), async {
            let _ = stopped.await;
        }));
        TestServer {
            url,
            host,
            config,
            _watch: watch,
            data,
            stop: Some(stop),
        }
    }

    /// A server for `layout` whose host config `change` adjusts first.
    pub async fn start_changed(layout: &Path, change: impl FnOnce(&mut HostConfig)) -> TestServer {
        Self::start_knowing_url(layout, |config, _| change(config)).await
    }

    /// The data dir (SQLite store, outbox).
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The ids of the users with a session in the store.
    pub fn user_ids(&self) -> Vec<String> {
        let db = rusqlite::Connection::open(self.data_dir().join("deskhost.sqlite3")).unwrap();
        let mut stmt = db
            .prepare("SELECT DISTINCT user_id FROM sessions WHERE user_id IS NOT NULL")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Stops this server and starts a new one on the same config and data
    /// dir (on another port), like a restart of the process.
    pub async fn restart(mut self) -> TestServer {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let config = self.config.clone();
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        drop(self);
        Self::start_in(config, data).await
    }

    /// The six-digit code of the latest reset mail to `to` in the outbox.
    /// The mails to `to` are taken out of the outbox: two mails written in
    /// the same instant cannot be told apart by their times, so the next
    /// call sees only mails sent after this one.
    pub fn reset_code(&self, to: &str) -> String {
        let mut mails: Vec<(std::time::SystemTime, PathBuf, String)> =
            std::fs::read_dir(self.data_dir().join("outbox"))
                .unwrap()
                .flatten()
                .map(|e| {
                    (
                        e.metadata().unwrap().modified().unwrap(),
                        e.path(),
                        std::fs::read_to_string(e.path()).unwrap(),
                    )
                })
                .filter(|(_, _, text)| text.contains(&format!("To: {to}")))
                .collect();
        mails.sort();
        let (_, _, text) = mails.last().unwrap_or_else(|| panic!("no mail to {to}"));
        let at = text.find("code is ").expect("a code in the mail") + "code is ".len();
        let code = text[at..at + 6].to_owned();
        for (_, path, _) in &mails {
            std::fs::remove_file(path).unwrap();
        }
        code
    }

    /// GETs `path` without signing in and returns (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = reqwest::get(format!("{}{path}", self.url)).await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// A browser that has not signed in yet.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.url)
    }

    /// Signs in as `email` (password [`PASSWORD`]) with these station
    /// credentials; panics unless the desktop is reached.
    pub async fn sign_in(&self, email: &str, station: &[(&str, &str)]) -> Browser {
        let mut b = self.browser();
        b.sign_in(email, station).await;
        b
    }

    /// `supervisor@example.com`, as supervisor, with desktop telephony.
    pub async fn supervisor(&self) -> Browser {
        self.sign_in("supervisor@example.com", DESKTOP).await
    }

    /// `lead@example.com`, as supervisor and agent of `team`.
    pub async fn lead(&self, team: &str) -> Browser {
        let mut station = vec![("role", "supervisor-agent"), ("team", team)];
        station.extend_from_slice(DESKTOP);
        self.sign_in("lead@example.com", &station).await
    }

    /// `agent@example.com`, as agent of the sales team.
    pub async fn agent(&self) -> Browser {
        let mut station = vec![("role", "agent"), ("team", "sales")];
        station.extend_from_slice(DESKTOP);
        self.sign_in("agent@example.com", &station).await
    }
}

/// The password of every test account.
pub const PASSWORD: &str = "deskhost-demo";

/// Desktop telephony with the microphone allowed and the E911 notice
/// acknowledged: needs no unique dial number.
pub const DESKTOP: &[(&str, &str)] = &[
    ("telephony", "desktop"),
    ("microphone", "granted"),
    ("e911", "on"),
];

/// The demo accounts plus supervisors `sup1@example.com` to
/// `sup4@example.com` and `bill@example.com`, supervisor and agent of team
/// billing (given by hash, so seeding them costs nothing).
pub fn test_accounts() -> String {
    let mut seed = include_str!("../../plugins/local-directory/demo-accounts.toml").to_owned();
    seed.push_str(&supervisor_accounts("sup", 4));
    seed.push_str(&format!(
        "\n[[account]]\nemail = \"bill@example.com\"\ndisplay_name = \"Bill Billing\"\n\
         profile = \"supervisor-and-agent\"\nteams = [\"billing\"]\n\
         telephony = [\"desktop\"]\npassword_hash = \"{PASSWORD_HASH}\"\n"
    ));
    seed
}

/// `count` supervisors `{prefix}1@example.com`, `{prefix}2@example.com`...
/// with the password [`PASSWORD`], as `[[account]]` tables for the
/// local directory's `seed_accounts`.
pub fn supervisor_accounts(prefix: &str, count: usize) -> String {
    let mut seed = String::new();
    for i in 1..=count {
        seed.push_str(&format!(
            "\n[[account]]\nemail = \"{prefix}{i}@example.com\"\ndisplay_name = \"Sup {i}\"\n\
             profile = \"supervisor\"\npassword_hash = \"{PASSWORD_HASH}\"\n"
        ));
    }
    seed
}

/// Argon2id of [`PASSWORD`].
const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$PzDtHvXXHs0dLjw4quM01Q$luxCzF8HrPWQUZYn35WS/7FXVw4VodKsMam1YBrhdo8";

/// What a request answered.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Where a redirect goes (`Location`).
    pub location: Option<String>,
    /// The body.
    pub body: String,
}

/// An HTTP client that keeps cookies and the page's CSRF token, like a
/// browser tab. Redirects are not followed, so tests see them.
pub struct Browser {
    /// The client (with its cookie store).
    pub client: reqwest::Client,
    /// Base URL.
    pub base: String,
    /// The CSRF token of the last page that had one.
    pub csrf: String,
}

impl Browser {
    /// A fresh browser for the server at `base`.
    pub fn new(base: &str) -> Self {
        Self::with_headers(base, &[])
    }

    /// A fresh browser that sends `headers` with every request (such as
    /// the `X-Forwarded-For` a reverse proxy adds).
    pub fn with_headers(base: &str, headers: &[(&'static str, &str)]) -> Self {
        let mut defaults = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            defaults.insert(*name, value.parse().unwrap());
        }
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(defaults)
                .build()
                .unwrap(),
            base: base.to_owned(),
            csrf: String::new(),
        }
    }

    async fn answer(&mut self, res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        if let Some(token) = csrf_of(&body) {
            self.csrf = token;
        }
        Answer {
            status,
            location,
            body,
        }
    }

    /// GETs `path`, following redirects within the server; returns the
    /// final status and body.
    pub async fn get(&mut self, path: &str) -> (u16, String) {
        let mut path = path.to_owned();
        for _ in 0..5 {
            let a = self.get_once(&path).await;
            match a.location {
                Some(to) if (300..400).contains(&a.status) => path = to,
                _ => return (a.status, a.body),
            }
        }
        panic!("too many redirects at {path}");
    }

    /// GETs `path` without following a redirect.
    pub async fn get_once(&mut self, path: &str) -> Answer {
        let res = self.response(path).await;
        self.answer(res).await
    }

    /// GETs `path` without following a redirect, and returns the whole
    /// response, headers included.
    pub async fn response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form to `path`, adding the CSRF token.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let csrf = self.csrf.clone();
        fields.push(("csrf", &csrf));
        self.post_raw(path, &fields).await
    }

    /// POSTs a form exactly as given (no CSRF token added).
    pub async fn post_raw(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(res).await
    }

    /// The whole sign-in: e-mail, password, station credentials, then the
    /// home page. Panics with the page's text when a step fails.
    pub async fn sign_in(&mut self, email: &str, station: &[(&str, &str)]) {
        self.get("/sign-in").await;
        let a = self.post("/sign-in/email", &[("email", email)]).await;
        assert_eq!(a.location.as_deref(), Some("/sign-in"), "{}", a.body);
        let a = self
            .post("/sign-in/password", &[("password", PASSWORD)])
            .await;
        assert_eq!(a.location.as_deref(), Some("/station"), "{}", a.body);
        let (status, page) = self.get("/station").await;
        assert_eq!(status, 200, "{page}");
        let a = self.post("/station", station).await;
        assert_eq!(a.location.as_deref(), Some("/"), "{}", a.body);
        let (status, page) = self.get("/").await;
        assert_eq!(status, 200, "{page}");
    }
}

/// The CSRF token in a page (a form field or the meta tag).
pub fn csrf_of(page: &str) -> Option<String> {
    for marker in ["name=\"csrf\" value=\"", "name=\"csrf-token\" content=\""] {
        if let Some(at) = page.find(marker) {
            let rest = &page[at + marker.len()..];
            return Some(rest[..rest.find('"')?].to_owned());
        }
    }
    None
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
