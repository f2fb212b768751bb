//! Real-browser tests: headless Chromium driven over WebDriver
//! (`chromedriver`, through fantoccini). Elements are found the way a user
//! finds them: by their labels, roles and button names.
//!
//! Chromium and ChromeDriver come from Debian (`chromium`,
//! `chromium-driver`); when they are missing and the tests run as root,
//! they are installed with apt-get, as `.ci/run` does.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Browsers running at once: Chromium is heavy on two cores.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(2))
}

/// Makes sure Chromium and ChromeDriver are installed.
fn ensure_chromium() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let present = || {
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists()
        };
        if present() {
            return;
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0"))
            .unwrap_or(false);
        if root {
            let _ = Command::new("apt-get").arg("update").status();
            let _ = Command::new("apt-get")
                .args(["install", "-y", "chromium", "chromium-driver"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
        }
        assert!(
            present(),
            "the browser tests need Debian's chromium and chromium-driver: run \
             `apt-get install -y chromium chromium-driver` (bash .ci/run does it)"
        );
    });
}

/// Options of one browser.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Window width in CSS pixels.
    pub width: u32,
    /// Window height.
    pub height: u32,
    /// Whether the microphone is allowed (a fake device) or every
    /// permission prompt is denied.
    pub microphone: bool,
    /// Whether the system prefers a dark colour scheme.
    pub dark: bool,
    /// The system time zone the browser runs in (IANA name).
    pub time_zone: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 1366,
            height: 900,
            microphone: true,
            dark: false,
            time_zone: "UTC",
        }
    }
}

/// A headless Chromium with its own profile, driven by its own
/// chromedriver.
pub struct Chrome {
    /// The WebDriver session.
    pub client: Client,
    /// The server's base URL.
    pub base: String,
    driver: Child,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

/// Starts a chromedriver on a free port, in a process group of its own so
/// that the Chromium it starts can be stopped with it.
fn spawn_driver(time_zone: &str) -> (Child, u16) {
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        // Chromium, started by chromedriver, takes its zone from TZ.
        .env("TZ", time_zone)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start chromedriver");
    (driver, port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Chrome {
    /// Opens a browser on the server at `base`.
    pub async fn open(base: &str, options: Options) -> Chrome {
        ensure_chromium();
        let slot = slots().acquire().await.unwrap();
        let (mut driver, mut port) = spawn_driver(options.time_zone);
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={},{}", options.width, options.height),
        ];
        if options.dark {
            // Blink's preferred colour scheme: 0 is dark.
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        if options.microphone {
            args.push("--use-fake-ui-for-media-stream".into());
            args.push("--use-fake-device-for-media-stream".into());
        } else {
            args.push("--deny-permission-prompts".into());
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let mut last = None;
        for _ in 0..50 {
            if let Ok(Some(status)) = driver.try_wait() {
                // Most likely the port was taken between `free_port` and
                // chromedriver binding it: start another on a new port.
                last = Some(format!("chromedriver on port {port} exited: {status}"));
                (driver, port) = spawn_driver(options.time_zone);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Chrome {
                        client,
                        base: base.to_owned(),
                        driver,
                        _slot: slot,
                    };
                }
                Err(e) => {
                    last = Some(e.to_string());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("cannot start Chromium through chromedriver: {last:?}");
    }

    /// Goes to `path` on the server.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// The current path (and query).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        let mut p = url.path().to_owned();
        if let Some(q) = url.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    /// Waits until `xpath` matches an element.
    pub async fn wait_for(&self, xpath: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("nothing matches {xpath}: {e}"))
    }

    /// The form control labelled `label`.
    pub async fn field(&self, label: &str) -> Element {
        self.wait_for(&format!(
            "//*[@id=//label[normalize-space()={}]/@for]",
            xpath_string(label)
        ))
        .await
    }

    /// Types `text` into the control labelled `label` (clearing it first).
    pub async fn fill(&self, label: &str, text: &str) {
        let f = self.field(label).await;
        f.clear().await.unwrap();
        f.send_keys(text).await.unwrap();
    }

    /// The button named `name`.
    pub async fn button(&self, name: &str) -> Element {
        self.wait_for(&format!(
            "//button[normalize-space()={}]",
            xpath_string(name)
        ))
        .await
    }

    /// Clicks the button named `name`.
    pub async fn click(&self, name: &str) {
        self.button(name).await.click().await.unwrap();
    }

    /// Clicks the label `label` (a radio button or check box).
    pub async fn click_label(&self, label: &str) {
        self.wait_for(&format!(
            "//label[normalize-space()={}]",
            xpath_string(label)
        ))
        .await
        .click()
        .await
        .unwrap();
    }

    /// Whether the element matching `xpath` is shown.
    pub async fn shown(&self, xpath: &str) -> bool {
        match self.client.find(Locator::XPath(xpath)).await {
            // A page that changes under the query counts as not shown yet.
            Ok(e) => e.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// The visible text of the page (read in one script, so a page that
    /// is being replaced cannot make it fail).
    pub async fn text(&self) -> String {
        self.text_of("body").await
    }

    /// The visible text of the first element matching the CSS `selector`,
    /// waiting up to ten seconds for one. It is found and read in one
    /// script, so an element that a live update replaces between the two
    /// cannot make it fail (a found-then-read `Element` goes stale).
    pub async fn text_of(&self, selector: &str) -> String {
        for _ in 0..100 {
            if let Ok(v) = self
                .client
                .execute(
                    "const e = document.querySelector(arguments[0]); \
                     return e ? e.innerText : null;",
                    vec![serde_json::json!(selector)],
                )
                .await
                && let Some(text) = v.as_str()
            {
                return text.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nothing matches `{selector}`, or its text cannot be read");
    }

    /// Waits (up to ten seconds) until the page shown now has its live
    /// stream open: a page that was loaded before (set a marker on
    /// `window`) or is loading does not count.
    pub async fn wait_live(&self) {
        for _ in 0..100 {
            let open = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !window.deskhostMarker \
                     && typeof events !== 'undefined' && events !== null \
                     && events.readyState === EventSource.OPEN;",
                    vec![],
                )
                .await;
            if open.is_ok_and(|v| v == serde_json::json!(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page's live stream never opened");
    }

    /// Waits until the page's visible text contains `needle`.
    pub async fn wait_text(&self, needle: &str) {
        for _ in 0..100 {
            if self.text().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "`{needle}` never appeared; the page says:\n{}",
            self.text().await
        );
    }

    /// Saves a screenshot as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Closes the browser and its driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop stops what is left of the driver's process group.
    }
}

impl Drop for Chrome {
    /// Stops chromedriver and every Chromium process it started, also when
    /// a test panicked before `close`: Chromium is in the driver's
    /// process group, and would otherwise outlive the test binary.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where screenshots go.
pub fn screenshots_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/screenshots"
    ))
}

/// `s` as an XPath string literal.
fn xpath_string(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("concat('{}')", s.replace('\'', "', \"'\", '"))
    }
}
