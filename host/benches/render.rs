//! Render-path benchmarks (results and how to run them: BENCHMARKS.md).
//!
//! - `widget/instantiate_render_hello`: one pooled instantiation of the
//!   hello component plus its `render` call, in a fresh `Store` (the call
//!   `--example pooled_call` makes).
//! - `page/desktop_12_widgets_cold`: the page of 12 hello widgets
//!   assembled for a viewer seen for the first time (`Desktop::page`): 12
//!   sandboxed calls.
//! - `page/desktop_12_widgets`: GET / of that page through the whole
//!   router for a signed-in supervisor (session cookie looked up, CSRF
//!   token in the page), as on a reload: views come from the view cache.
//! - `page/plain_axum_same_shell`: the same HTML as a static axum response,
//!   through the same middleware: the baseline the page is compared with.
//! - `page/ratio` (printed, not a criterion benchmark): the two above in
//!   alternating batches, so that the ratio is not thrown off by the
//!   machine getting busier between the two runs.

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use deskhost::app::{self, LayoutSource};
use deskhost::auth::StationInput;
use deskhost::config::HostConfig;
use deskhost::web::{self, AppState, session};
use tower::ServiceExt;

#[path = "../examples/support/widget_call.rs"]
mod widget_call;
use widget_call::WidgetCall;

fn twelve_widget_layout() -> String {
    let mut s = String::from("title = \"Bench desk\"\n");
    for i in 0..12 {
        s.push_str(&format!(
            "[[supervisor.home.widgets]]\nid = \"w{i}\"\nplugin = \"hello\"\ncolumn = {}\nrow = {}\nwidth = 3\nheight = 3\n",
            (i % 4) * 3 + 1,
            (i / 4) * 3 + 1
        ));
    }
    s
}

/// GETs `uri` through `router` in-process with the `cookie` header and
/// returns the body.
async fn fetch(router: axum::Router, uri: String, cookie: String) -> axum::body::Bytes {
    let res = router
        .oneshot(
            Request::get(uri)
                .header(axum::http::header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
}

/// Signs `email` in through the sign-in steps (e-mail, password, station
/// with desktop telephony); returns the `Cookie` header of the session.
fn sign_in(state: &AppState, email: &str) -> String {
    let auth = &state.auth;
    let (_, mut session) = auth.start().unwrap();
    auth.submit_email(&mut session, email).unwrap();
    let token = auth
        .submit_password(&mut session, "deskhost-demo", "127.0.0.1")
        .unwrap();
    auth.submit_station(
        &mut session,
        &StationInput {
            telephony: "desktop".into(),
            microphone: Some("granted".into()),
            e911: Some("on".into()),
            ..Default::default()
        },
    )
    .unwrap();
    format!("{}={token}", session::cookie_name(auth.config()))
}

fn bench_widget(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let rt = widget_call::runtime(&dir.path().join("cache")).unwrap();
    let widget = WidgetCall::load(&rt, "hello", None).unwrap();
    let call = widget.call(&rt);
    c.benchmark_group("widget")
        .bench_function("instantiate_render_hello", |b| {
            b.iter(|| rt.render(&widget.plugin, &call).unwrap())
        });
}

fn bench_page(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("bench.toml");
    std::fs::write(&layout, twelve_widget_layout()).unwrap();
    let config = HostConfig {
        data_dir: dir.path().join("data"),
        ..HostConfig::default()
    };
    let desktops = app::build(&config, &[LayoutSource::File(layout)]).unwrap();
    let global = desktops.desktops().load().global().clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::new(std::sync::Arc::new(desktops));
    let cookie = sign_in(&state, "supervisor@example.com");
    let desktop_router = web::router(state);
    let get = |router: &axum::Router| fetch(router.clone(), "/".into(), cookie.clone());
    let shell = rt.block_on(get(&desktop_router));
    assert!(shell.len() > 1000 && std::str::from_utf8(&shell).unwrap().contains("w11"));
    let shell = String::from_utf8(shell.to_vec()).unwrap();
    let plain_router = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || std::future::ready(axum::response::Html(shell.clone()))),
        )
        .layer(axum::middleware::from_fn(
            |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let mut res = next.run(req).await;
                res.headers_mut().insert(
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    axum::http::HeaderValue::from_static("default-src 'self'"),
                );
                res
            },
        ));
    let mut g = c.benchmark_group("page");
    let mut n = 0u64;
    g.bench_function("desktop_12_widgets_cold", |b| {
        b.iter(|| {
            n += 1;
            let page = rt.block_on(global.page(&viewer(n, "t"), "home")).unwrap();
            assert!(!page.degraded());
            page
        })
    });
    g.bench_function("desktop_12_widgets", |b| {
        b.iter(|| rt.block_on(get(&desktop_router)))
    });
    g.bench_function("plain_axum_same_shell", |b| {
        b.iter(|| rt.block_on(get(&plain_router)))
    });
    g.finish();
    // The two separate runs above drift apart on a busy machine; this
    // alternates short batches of each so both meet the same conditions.
    let batch = |router: &axum::Router| {
        let started = std::time::Instant::now();
        for _ in 0..RATIO_BATCH {
            std::hint::black_box(rt.block_on(get(router)));
        }
        started.elapsed().as_secs_f64() * 1e6 / RATIO_BATCH as f64
    };
    let mut rounds: Vec<(f64, f64)> = (0..RATIO_ROUNDS)
        .map(|_| (batch(&desktop_router), batch(&plain_router)))
        .collect();
    rounds.sort_by(|a, b| (a.0 / a.1).total_cmp(&(b.0 / b.1)));
    let ratio = |(page, plain): (f64, f64)| page / plain;
    let (page, plain) = rounds[RATIO_ROUNDS / 2];
    eprintln!(
        "page/ratio: 12-widget page / plain axum = {:.2}x (median of {RATIO_ROUNDS} alternating \
         rounds of {RATIO_BATCH} requests each: page {page:.2} µs, plain {plain:.2} µs; \
         quartiles {:.2}x to {:.2}x)",
        ratio((page, plain)),
        ratio(rounds[RATIO_ROUNDS / 4]),
        ratio(rounds[RATIO_ROUNDS * 3 / 4]),
    );
}

/// Alternating rounds of the page-to-plain ratio.
const RATIO_ROUNDS: usize = 41;
/// Requests per batch in a round of the ratio.
const RATIO_BATCH: usize = 500;

/// The shipped demo desktop: all six first-party widgets against the
/// simulator, as a supervisor of team sales sees it.
fn bench_demo_page(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = HostConfig {
        data_dir: dir.path().join("data"),
        ..HostConfig::default()
    };
    let desktops = app::build(&config, &LayoutSource::from_config(&config)).unwrap();
    let global = desktops.desktops().load().global().clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::new(std::sync::Arc::new(desktops));
    let cookie = sign_in(&state, "supervisor@example.com");
    let router = web::router(state);
    let get = || fetch(router.clone(), "/".into(), cookie.clone());
    let page = rt.block_on(get());
    let text = std::str::from_utf8(&page).unwrap();
    assert!(text.contains("class=\"tile "), "not the home page: {text}");
    assert!(!text.contains(" failed\""), "a widget failed");
    eprintln!("demo page (six widgets): {} bytes of HTML", page.len());
    let mut g = c.benchmark_group("demo");
    g.bench_function("six_widgets_page", |b| b.iter(|| rt.block_on(get())));
    // A viewer seen for the first time: all six widgets render.
    let mut n = 0u64;
    g.bench_function("six_widgets_render_cold", |b| {
        b.iter(|| {
            n += 1;
            let page = rt
                .block_on(global.page(&viewer(n, "sales"), "home"))
                .unwrap();
            assert!(!page.degraded());
            page
        })
    });
    g.finish();
}

/// A supervisor of `team` the desktop has not seen before.
fn viewer(n: u64, team: &str) -> deskhost::desktop::Viewer {
    deskhost::desktop::Viewer {
        user_id: format!("bench-{n}"),
        display_name: "Bench Supervisor".into(),
        role: deskhost::layout::Role::Supervisor,
        team: Some(team.into()),
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    }
}

criterion_group!(benches, bench_widget, bench_page, bench_demo_page);
criterion_main!(benches);
