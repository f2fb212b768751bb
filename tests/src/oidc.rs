//! A real OpenID provider for the collaboration-auth tests: the
//! `oidc-provider` npm package (`tests/oidc/provider.mjs`) on a free
//! loopback port, laid out like the Microsoft identity platform
//! (`{authority}/{tenant}/v2.0/...`, tenant `common`).
//!
//! One confidential client ([`OidcProvider::client_id`],
//! [`OidcProvider::client_secret`], `client_secret_post`) may use the
//! authorization code flow with PKCE (S256, required) and refresh tokens
//! (`offline_access`, rotated on every use). Every token lives in the
//! provider's memory: [`OidcProvider::restart`] forgets them all, and
//! [`OidcProvider::stop`] makes the provider unreachable.
//!
//! [`OidcProvider::authorize`] signs in as `lee` ("Lee Lead",
//! `lee@teams.example.com`) through the provider's built-in login and
//! consent pages, like a browser would, and hands back the callback URL.
//!
//! The npm packages are installed on first use (`npm ci` in `tests/oidc`);
//! Node.js and npm must be installed (Debian: `apt-get install -y nodejs npm`).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

const TENANT: &str = "common";
const CLIENT_ID: &str = "deskhost-test";
const CLIENT_SECRET: &str = "deskhost-test-secret";
/// The login that [`OidcProvider::authorize`] signs in with: the `sub`.
pub const LOGIN: &str = "lee";
/// The `name` claim of the account.
pub const NAME: &str = "Lee Lead";
/// The `email` claim of the account.
pub const EMAIL: &str = "lee@teams.example.com";

/// How long the provider may take to print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the user answers on the provider's consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Signs in and allows the client ("Continue").
    Grant,
    /// Signs in, then cancels on the consent page ("[ Cancel ]"): the
    /// callback carries `error=access_denied`.
    Deny,
}

/// A running `oidc-provider` process on `127.0.0.1`.
pub struct OidcProvider {
    port: u16,
    redirect_uri: String,
    access_ttl_secs: u64,
    child: Option<Child>,
    /// Kept open so that the provider exits when this process dies.
    stdin: Option<ChildStdin>,
    /// Every line the provider printed on standard output, across restarts.
    lines: Arc<Mutex<Vec<String>>>,
    /// Its standard error, for failure messages.
    stderr: Arc<Mutex<String>>,
}

impl OidcProvider {
    /// Starts a provider on a free port whose client may redirect to
    /// `redirect_uri` only and whose access tokens live `access_ttl_secs`.
    /// Blocks until the provider listens (the first call may install the
    /// npm packages).
    pub fn start(redirect_uri: &str, access_ttl_secs: u64) -> OidcProvider {
        assert!(
            access_ttl_secs > 0,
            "the access token lifetime must be positive"
        );
        ensure_npm_packages();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("no free loopback port")
            .port();
        let mut provider = OidcProvider {
            port,
            redirect_uri: redirect_uri.to_owned(),
            access_ttl_secs,
            child: None,
            stdin: None,
            lines: Arc::default(),
            stderr: Arc::default(),
        };
        provider.spawn();
        provider
    }

    /// `http://127.0.0.1:PORT`, the authority without the tenant.
    pub fn authority(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The tenant in the URLs: `common`.
    pub fn tenant() -> &'static str {
        TENANT
    }

    /// `http://127.0.0.1:PORT/common/v2.0`: the issuer (`iss`) and the base
    /// of every endpoint.
    pub fn issuer(&self) -> String {
        format!("{}/{}/v2.0", self.authority(), TENANT)
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer())
    }

    /// The registered client's id.
    pub fn client_id() -> &'static str {
        CLIENT_ID
    }

    /// The registered client's secret (sent with `client_secret_post`).
    pub fn client_secret() -> &'static str {
        CLIENT_SECRET
    }

    /// The only redirect URI the client may use.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The port the provider listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `grant <grant_type>` lines printed so far, one per successful
    /// token request (such as `grant authorization_code`,
    /// `grant refresh_token`), across restarts.
    pub fn grants(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("grant "))
            .cloned()
            .collect()
    }

    /// [`Self::grants`] once `done` holds for them (their lines are read
    /// from the provider's output on another thread, so they can come a
    /// little after the answer), waiting up to five seconds, then a fifth
    /// of a second more for any line that should not be there.
    pub async fn grants_when(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !done(&self.grants()) && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.grants()
    }

    /// How many tokens were revoked at the revocation endpoint so far.
    pub fn revocations(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| *l == "revoked")
            .count()
    }

    /// Whether the provider process is running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the provider: its port then refuses connections, and every
    /// token it issued is gone.
    pub fn stop(&mut self) {
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the provider (if running) and starts it again on the same port
    /// with the same settings: the client is the same, but every code and
    /// token issued before is unknown. Blocks until it listens.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let dir = oidc_dir();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("PORT", self.port.to_string())
            .env("REDIRECT_URI", &self.redirect_uri)
            .env("ACCESS_TTL", self.access_ttl_secs.to_string())
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_EXIT_WITH_STDIN", "1")
            .env_remove("OIDC_DEBUG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node {}/provider.mjs: {e}", dir.display()));

        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let lines = self.lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line == "ready" {
                    let _ = ready_tx.send(());
                } else {
                    lines.lock().unwrap().push(line);
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let errors = self.stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                errors
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        self.stdin = child.stdin.take();
        self.child = Some(child);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match ready_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(()) => return,
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if !self.is_running() {
                        // Let the reader threads drain what it said.
                        std::thread::sleep(Duration::from_millis(200));
                        self.fail("exited before it was ready");
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.fail("was not ready in time");
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(200));
                    self.fail("closed its output before it was ready");
                }
            }
        }
    }

    fn fail(&mut self, what: &str) -> ! {
        self.stop();
        panic!(
            "the OpenID provider on port {} {what}; its stderr:\n{}",
            self.port,
            self.stderr.lock().unwrap()
        );
    }

    /// Goes through the provider's login and consent pages like a browser
    /// would (own cookie jar, redirects followed by hand), signing in as
    /// [`LOGIN`], then granting or denying consent. Returns the callback URL
    /// the provider redirects to (it starts with the redirect URI and holds
    /// `code`/`state`/`iss`, or `error`), without fetching it.
    ///
    /// Panics, with the page's text, when the pages go anywhere else.
    pub async fn authorize(&self, authorization_url: &str, consent: Consent) -> String {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let mut url = url::Url::parse(authorization_url)
            .unwrap_or_else(|e| panic!("bad authorization URL {authorization_url:?}: {e}"));
        let mut request = client.get(url.clone());
        let mut trail = Vec::new();
        for _ in 0..30 {
            trail.push(url.to_string());
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("authorize: request to {url} failed: {e}"));
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_else(|| panic!("authorize: {status} from {url} without Location"))
                    .to_owned();
                let next = url
                    .join(&location)
                    .unwrap_or_else(|e| panic!("authorize: bad Location {location:?}: {e}"));
                if next.as_str().starts_with(&self.redirect_uri) {
                    return next.to_string();
                }
                url = next;
                request = client.get(url.clone());
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            if !status.is_success() {
                stuck(&format!("{status} from {url}"), &body, &trail);
            }
            let Some(form) = Form::find(&body) else {
                stuck(&format!("no form on {url}"), &body, &trail);
            };
            let action = url
                .join(&form.action)
                .unwrap_or_else(|e| panic!("authorize: bad form action {:?}: {e}", form.action));
            match form.field("prompt") {
                Some("login") => {
                    let mut fields = form.fields.clone();
                    set(&mut fields, "login", LOGIN);
                    set(&mut fields, "password", "any password");
                    url = action;
                    request = client.post(url.clone()).form(&fields);
                }
                Some("consent") if consent == Consent::Grant => {
                    url = action;
                    request = client.post(url.clone()).form(&form.fields);
                }
                Some("consent") => {
                    let Some(abort) = find_link(&body, "Cancel") else {
                        stuck(&format!("no Cancel link on {url}"), &body, &trail);
                    };
                    url = url
                        .join(&abort)
                        .unwrap_or_else(|e| panic!("authorize: bad Cancel link {abort:?}: {e}"));
                    request = client.get(url.clone());
                }
                _ => stuck(&format!("unexpected form on {url}"), &body, &trail),
            }
        }
        panic!("authorize: too many steps: {trail:#?}");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stuck(what: &str, body: &str, trail: &[String]) -> ! {
    panic!(
        "authorize got stuck: {what}\npage text:\n{}\nURLs so far: {trail:#?}",
        page_text(body)
    );
}

fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.push((name.to_owned(), value.to_owned())),
    }
}

/// The first `<form>` of a page: its action and its inputs' names and values.
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn find(html: &str) -> Option<Form> {
        let start = html.find("<form")?;
        let end = html[start..]
            .find("</form>")
            .map_or(html.len(), |e| start + e);
        let form = &html[start..end];
        let open = &form[..form.find('>')?];
        let action = attribute(open, "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut rest = form;
        while let Some(i) = rest.find("<input") {
            rest = &rest[i..];
            let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
            if let Some(name) = attribute(tag, "name") {
                fields.push((name, attribute(tag, "value").unwrap_or_default()));
            }
            rest = &rest[tag.len()..];
        }
        Some(Form { action, fields })
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The value of `name="..."` in a tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let i = rest.find(name)?;
        let before = rest[..i].chars().last();
        let after = &rest[i + name.len()..];
        if before.is_some_and(char::is_whitespace) {
            if let Some(value) = after.strip_prefix("=\"") {
                return Some(unescape(&value[..value.find('"')?]));
            }
            if let Some(value) = after.strip_prefix("='") {
                return Some(unescape(&value[..value.find('\'')?]));
            }
        }
        rest = after;
    }
}

/// The `href` of the first `<a>` whose text contains `text`.
fn find_link(html: &str, text: &str) -> Option<String> {
    let mut rest = html;
    while let Some(i) = rest.find("<a ") {
        rest = &rest[i..];
        let open_end = rest.find('>')?;
        let close = rest.find("</a>")?;
        if rest[open_end..close].contains(text) {
            return attribute(&rest[..open_end], "href");
        }
        rest = &rest[open_end..];
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A page's text without its tags, styles and blank lines.
fn page_text(html: &str) -> String {
    let mut html = html.to_owned();
    while let Some(start) = html.find("<style") {
        let end = html[start..]
            .find("</style>")
            .map_or(html.len(), |e| start + e + "</style>".len());
        html.replace_range(start..end, "");
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = unescape(&text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = lines.join("\n");
    if text.len() > 6000 {
        let mut cut = 6000;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

/// `tests/oidc`: the provider script and its npm packages.
fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Installs the npm packages (`npm ci`) unless they are there and up to
/// date with `package-lock.json`. Test binaries running at once take turns
/// through a lock file (`tests/oidc/.install.lock`).
pub fn ensure_npm_packages() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = oidc_dir();
        require_tool(
            "node",
            "Node.js (20 or later): `apt-get install -y nodejs npm` on Debian",
        );
        if installed(&dir) && !dir.join(".install.lock").exists() {
            return;
        }
        require_tool("npm", "npm: `apt-get install -y npm` on Debian");
        let _lock = InstallLock::acquire(&dir.join(".install.lock"));
        if installed(&dir) {
            return;
        }
        let output = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run npm ci in {}: {e}", dir.display()));
        assert!(
            output.status.success() && installed(&dir),
            "`npm ci` in {} failed ({}):\n{}\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// Whether `npm ci` finished (npm writes `node_modules/.package-lock.json`
/// last) since `package-lock.json` last changed.
fn installed(dir: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (
        modified(dir.join("node_modules/.package-lock.json")),
        modified(dir.join("package-lock.json")),
    ) {
        (Some(done), Some(lock)) => done >= lock,
        _ => false,
    }
}

fn require_tool(program: &str, what: &str) {
    let ok = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the OpenID provider tests need `{program}` on PATH: install {what}"
    );
}

/// A lock file created with `create_new`, removed on drop.
struct InstallLock {
    path: PathBuf,
    _file: File,
}

impl InstallLock {
    fn acquire(path: &Path) -> InstallLock {
        /// A lock older than this was left by a process that died.
        const STALE: Duration = Duration::from_secs(600);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(file) => {
                    return InstallLock {
                        path: path.to_owned(),
                        _file: file,
                    };
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok());
                    if age.is_some_and(|age| age > STALE) {
                        let _ = std::fs::remove_file(path);
                    } else {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                Err(e) => panic!("cannot create {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_login_form() {
        let html = r#"<form autocomplete="off" action="http://127.0.0.1:1/common/v2.0/interaction/a&amp;b" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
  <input required type="password" name="password" placeholder="and password" >
  <button type="submit" class="login login-submit">Sign-in</button>
</form>      <div class="login-help">
        <a href="http://127.0.0.1:1/common/v2.0/interaction/x/abort">[ Cancel ]</a>"#;
        let form = Form::find(html).unwrap();
        assert_eq!(
            form.action,
            "http://127.0.0.1:1/common/v2.0/interaction/a&b"
        );
        assert_eq!(form.field("prompt"), Some("login"));
        assert_eq!(form.field("login"), Some(""));
        assert_eq!(form.field("password"), Some(""));
        assert_eq!(
            find_link(html, "Cancel").as_deref(),
            Some("http://127.0.0.1:1/common/v2.0/interaction/x/abort")
        );
    }
}
