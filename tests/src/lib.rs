//! Helpers for deskhost's end-to-end tests: start a real server on a free
//! loopback port with a given layout and the test plugins installed.

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
    _watch: Option<watch::HotReload>,
    _data: tempfile::TempDir,
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
        let host = tokio::task::spawn_blocking(move || {
            app::build(&config, &LayoutSource::from_config(&config))
        })
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
        let host = Arc::new(host);
        let watch = watch::start(host.clone()).unwrap();
        let listener = web::bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(web::serve(listener, AppState::new(host.clone()), async {
            let _ = stopped.await;
        }));
        TestServer {
            url,
            host,
            _watch: watch,
            _data: data,
            stop: Some(stop),
        }
    }

    /// GETs `path` and returns (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = reqwest::get(format!("{}{path}", self.url)).await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
