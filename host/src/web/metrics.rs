//! `GET /metrics` in Prometheus text format, and the HTTP request counter.
//! Other modules record through the `metrics` facade: widget render
//! latency and failures (desktop), quarantines (health), reloads (app),
//! live connections (live).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{OnceLock, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower::{Layer, Service};

use super::AppState;

/// Latency buckets in seconds, from 100 µs to 5 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How often recorded histogram samples are folded into their buckets.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Name of the thread that does it.
pub const UPKEEP_THREAD: &str = "metrics-upkeep";

/// The process-wide Prometheus recorder, installed on first use, with the
/// thread that keeps it bounded: the recorder queues every histogram
/// sample until upkeep folds it into its buckets, so without upkeep memory
/// grows with every request when nothing scrapes `/metrics` (the 10-minute
/// soak in BENCHMARKS.md found it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("seconds".into()), BUCKETS)
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (by an embedding
        // program); then this handle simply stays empty.
        if metrics::set_global_recorder(recorder).is_ok() {
            let upkeep = handle.clone();
            let started = std::thread::Builder::new()
                .name(UPKEEP_THREAD.into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = started {
                tracing::error!("cannot start the metrics upkeep thread: {e}");
            }
        }
        handle
    })
}

/// Counts each request by route and status, and times it (a route
/// layer: the route is known). A plain tower layer rather than
/// `middleware::from_fn`, which clones the boxed route service and boxes
/// a future on every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackLayer;

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track { inner }
    }
}

/// The service [`TrackLayer`] wraps a route in.
#[derive(Debug, Clone)]
pub struct Track<S> {
    inner: S,
}

impl<S> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        Tracked {
            started: Instant::now(),
            inner: self.inner.call(req),
            route,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's response on its way: counted and timed when ready.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
        started: Instant,
    }
}

impl<F, E> Future for Tracked<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = std::task::ready!(this.inner.poll(cx))?;
        let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let (requests, seconds) = route_metrics(route, res.status().as_u16());
        requests.increment(1);
        seconds.record(this.started.elapsed().as_secs_f64());
        Poll::Ready(Ok(res))
    }
}

/// The request counter and latency histogram of `route` answering
/// `status`, registered on first use and kept: a request then costs no
/// label strings and no registry lookup, and requests only share a read
/// lock (the write lock is taken once per route and status).
fn route_metrics(route: &str, status: u16) -> (metrics::Counter, metrics::Histogram) {
    type Handles = HashMap<String, HashMap<u16, (metrics::Counter, metrics::Histogram)>>;
    static HANDLES: OnceLock<RwLock<Handles>> = OnceLock::new();
    let handles = HANDLES.get_or_init(Default::default);
    let found = handles
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(route)
        .and_then(|s| s.get(&status))
        .cloned();
    if let Some(found) = found {
        return found;
    }
    handles
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(route.to_owned())
        .or_default()
        .entry(status)
        .or_insert_with(|| {
            (
                metrics::counter!("deskhost_http_requests_total",
                    "route" => route.to_owned(), "status" => status.to_string()),
                metrics::histogram!("deskhost_http_request_seconds", "route" => route.to_owned()),
            )
        })
        .clone()
}

/// `GET /metrics`.
pub async fn render(State(_): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of this process's threads.
    fn thread_names() -> Vec<String> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
            .map(|n| n.trim().to_owned())
            .collect()
    }

    #[test]
    fn the_recorder_comes_with_its_upkeep_thread_and_samples_reach_the_buckets() {
        let handle = handle();
        // The new thread names itself once it runs, so give it a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !thread_names().iter().any(|n| n == UPKEEP_THREAD) {
            assert!(Instant::now() < deadline, "{:?}", thread_names());
            std::thread::sleep(Duration::from_millis(10));
        }
        metrics::histogram!("deskhost_test_upkeep_seconds").record(0.003);
        handle.run_upkeep();
        let text = handle.render();
        assert!(
            text.contains("deskhost_test_upkeep_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
    }
}
