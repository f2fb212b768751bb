//! Live updates over server-sent events. Each open page holds one
//! `GET /events` stream; once a second the host asks the desktop for the
//! page's tiles (re-rendering only those whose refresh interval has passed,
//! through the shared view cache) and sends only the tiles whose view
//! changed. A hidden tab closes its stream (the page script does it), so it
//! costs no render work; the browser reconnects by itself after a drop.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;

use super::session::SignedIn;
use super::{AppState, MOVED, html};
use crate::auth::Presence;
use crate::auth::instances::Connected;
use crate::desktop::{Desktop, Viewer};

/// How often an open page is checked for changed tiles.
pub const TICK: Duration = Duration::from_secs(1);

/// Query of `GET /events`.
#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    /// The browser window (tab) the page is in; one window per user is
    /// live at a time.
    #[serde(default)]
    window: String,
    /// The page being shown.
    #[serde(default = "home")]
    page: String,
    /// When the page's HTML was rendered (Unix ms); older than a tick (a
    /// reconnect, a tab shown again) means every tile is sent once.
    #[serde(default)]
    rendered_at: u64,
}

fn home() -> String {
    "home".into()
}

struct Connection {
    state: AppState,
    desktop: Arc<Desktop>,
    viewer: Viewer,
    csrf: String,
    window: String,
    /// Held while this window is the live one.
    live: Option<Connected>,
    page: String,
    sent: HashMap<String, u64>,
    first: bool,
    send_all_first: bool,
    interval: tokio::time::Interval,
    pending: std::collections::VecDeque<Event>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        metrics::gauge!("deskhost_live_connections").decrement(1.0);
    }
}

impl Connection {
    /// What the page's structure is: its title, navigation and the place
    /// and title of each tile. A reload that changes it needs a page
    /// refresh; any other reload only re-renders tiles.
    fn structure(desktop: &Desktop, viewer: &Viewer, page: &str) -> String {
        let layout = desktop.layout();
        let mut s = layout.title.clone();
        if let Some(desk) = layout.roles.get(&viewer.role) {
            for p in desk.all_pages() {
                s.push_str(&format!("|{}:{}", p.id, p.title));
            }
        }
        for id in desktop.visible_widgets(viewer, page) {
            if let Some((_, w)) = layout.roles.get(&viewer.role).and_then(|d| d.widget(&id)) {
                s.push_str(&format!(
                    "|{}@{},{},{},{}:{}",
                    w.id, w.column, w.row, w.width, w.height, w.title
                ));
            }
        }
        s
    }

    /// Checks that this window is still the live one; when it is not (the
    /// user clicked Continue elsewhere), tells the page once and stops
    /// sending tiles.
    fn still_live(&mut self) -> bool {
        if self.live.is_none() {
            return false;
        }
        if self
            .state
            .auth
            .instances()
            .is_live(&self.viewer.user_id, &self.window)
        {
            return true;
        }
        self.live = None;
        self.pending
            .push_back(Event::default().event("moved").data(MOVED));
        false
    }

    async fn changed_tiles(&mut self) {
        if !self.still_live() {
            return;
        }
        let now = self.state.desktop_for(&self.viewer);
        if !Arc::ptr_eq(&now, &self.desktop) {
            let same = Self::structure(&now, &self.viewer, &self.page)
                == Self::structure(&self.desktop, &self.viewer, &self.page);
            self.desktop = now;
            if !same {
                tracing::debug!(page = %self.page, "layout changed: asking the page to refresh");
                self.pending
                    .push_back(Event::default().event("reload").data("layout changed"));
                return;
            }
        }
        let ids = self.desktop.visible_widgets(&self.viewer, &self.page);
        for id in ids {
            if let Some(known) = self.sent.get(&id)
                && self.desktop.is_unchanged(&self.viewer, &id, *known)
            {
                continue;
            }
            let Some(tile) = self.desktop.tile(&self.viewer, &id, None).await else {
                continue;
            };
            let hash = tile.hash;
            let unchanged = self.sent.get(&id) == Some(&hash);
            self.sent.insert(id.clone(), hash);
            if unchanged || (self.first && !self.send_all_first) {
                continue;
            }
            let html = html::tile(&tile, &self.csrf, crate::now_ms()).into_string();
            let data =
                serde_json::json!({ "id": id, "html": html, "failed": tile.result.is_err() });
            if let Ok(event) = Event::default().event("tile").json_data(data) {
                self.pending.push_back(event);
            }
        }
        self.first = false;
    }
}

/// `GET /events`: the page's live update stream.
pub async fn events(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(q): Query<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, axum::response::Response> {
    let SignedIn { session, viewer } = signed_in;
    if q.window.is_empty() || q.window.len() > 64 {
        return Err(super::bad_request(
            &state,
            "The live stream needs the window id (`window`).",
        ));
    }
    let (presence, live) =
        state
            .auth
            .instances()
            .connect(&viewer.user_id, &q.window, crate::now_ms());
    let mut pending = std::collections::VecDeque::new();
    if presence == Presence::Elsewhere {
        pending.push_back(Event::default().event("elsewhere").data(
            "Supervisor Desktop is open in another window. Click Continue to use it in this window.",
        ));
    }
    let stale = crate::now_ms().saturating_sub(q.rendered_at) > TICK.as_millis() as u64 * 2;
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let conn = Connection {
        desktop: state.desktop_for(&viewer),
        state: state.clone(),
        viewer,
        csrf: session.data.csrf.clone(),
        window: q.window,
        live,
        page: q.page,
        sent: HashMap::new(),
        first: true,
        send_all_first: stale,
        interval,
        pending,
    };
    metrics::gauge!("deskhost_live_connections").increment(1.0);
    tracing::debug!(page = %conn.page, "live stream opened");
    let stream = futures::stream::unfold(conn, |mut conn| async move {
        loop {
            if let Some(event) = conn.pending.pop_front() {
                return Some((Ok(event), conn));
            }
            conn.interval.tick().await;
            conn.changed_tiles().await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
