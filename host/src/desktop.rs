//! Desktop assembly: given a validated layout, the installed plugins and a
//! viewer, decide which widgets the viewer sees on a page, render each one
//! in its own sandboxed call (in parallel, each under its deadline), and
//! turn failures into error tiles that carry a tracking ID also written to
//! the log. One bad widget never takes the page down.
//!
//! Rendered views are cached per widget and viewer until the first of: the
//! widget's refresh interval passes, a user changes data (an action), the
//! contact-center data the widget reads changes version, or a new layout
//! is loaded. A view is a function of the viewer, the settings and the
//! data, so a cached one is shown only while all three are unchanged.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::admin::{Failure, journal};
use crate::contact_center::{AgentState, ContactCenter, DataError, OwnState};
use crate::health::{Gate, Health};
use crate::layout::{Layout, Page, Role, RoleDesk, Widget};
use crate::plugin::HOST_API_VERSION;
use crate::runtime::{
    Call, CallError, CallLimits, LoadedPlugin, Plugins, Runtime, setting_to_wit, types,
};

/// Who is looking at the desktop. Nothing secret.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Stable user id.
    pub user_id: String,
    /// Name shown in the header and to widgets.
    pub display_name: String,
    /// The role the user signed in as.
    pub role: Role,
    /// The team picked at sign-in.
    pub team: Option<String>,
    /// BCP 47 language tag.
    pub locale: String,
    /// IANA time zone.
    pub time_zone: String,
}

impl Viewer {
    /// A hash of everything a widget sees of the viewer.
    fn cache_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &self.user_id,
            &self.display_name,
            self.role,
            &self.team,
            &self.locale,
            &self.time_zone,
        )
            .hash(&mut h);
        h.finish()
    }

    fn context(&self) -> types::Context {
        types::Context {
            user_id: self.user_id.clone(),
            display_name: self.display_name.clone(),
            role: match self.role {
                Role::Supervisor => types::Role::Supervisor,
                Role::SupervisorAgent => types::Role::SupervisorAgent,
                Role::Agent => types::Role::Agent,
            },
            team: self.team.clone(),
            locale: self.locale.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

/// Why a tile shows an error instead of its view.
#[derive(Debug, Clone)]
pub struct TileError {
    /// Short reason for the user.
    pub reason: String,
    /// Quoted to the admin; the same ID is in the host log.
    pub tracking_id: String,
}

/// A widget's view as rendered: shared, not copied, by the view cache and
/// every page that shows it.
#[derive(Debug)]
pub struct RenderedView {
    view: types::View,
    /// The tile's HTML for this view, made once by the web layer the first
    /// time the view is shown (see `web::html::tile`); `None` there when
    /// the HTML must be made for every page (the view shows times relative
    /// to now).
    pub html: OnceLock<Option<TileHtml>>,
}

/// A tile's HTML, in two parts: the session's CSRF token goes between them.
#[derive(Debug)]
pub struct TileHtml {
    /// Up to the CSRF token.
    pub before_csrf: Box<str>,
    /// After the CSRF token.
    pub after_csrf: Box<str>,
}

impl RenderedView {
    /// Wraps a view returned by a widget.
    pub fn new(view: types::View) -> Self {
        RenderedView {
            view,
            html: OnceLock::new(),
        }
    }
}

impl std::ops::Deref for RenderedView {
    type Target = types::View;
    fn deref(&self) -> &types::View {
        &self.view
    }
}

/// One rendered tile.
#[derive(Debug, Clone)]
pub struct Tile {
    /// The widget instance from the layout.
    pub widget: Arc<Widget>,
    /// Its view, or why there is none.
    pub result: Result<Arc<RenderedView>, TileError>,
    /// A hash of what it shows: equal hashes, same tile content.
    pub hash: u64,
}

impl Tile {
    /// A tile that is not (yet) in the view cache: its hash worked out here.
    fn new(widget: Arc<Widget>, result: ViewResult) -> Self {
        let hash = result_hash(&result);
        Tile {
            widget,
            result,
            hash,
        }
    }
}

/// A page assembled for one viewer.
#[derive(Debug, Clone)]
pub struct AssembledPage {
    /// The page's id (`home` for the home page).
    pub id: String,
    /// Its title.
    pub title: String,
    /// Navigation: (id, title) of every page of the viewer's role.
    pub nav: Vec<(String, String)>,
    /// Tiles in reading order (row, then column).
    pub tiles: Vec<Tile>,
}

impl AssembledPage {
    /// Whether some tile failed: the page shows the "Some features are
    /// unavailable" banner.
    pub fn degraded(&self) -> bool {
        self.tiles.iter().any(|t| t.result.is_err())
    }
}

/// How long past its deadline a call may take before the page stops
/// waiting for it (the epoch ticker's resolution, with room to spare).
const HOST_CALL_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Most cached views kept; past this the cache starts over.
const MAX_CACHED_VIEWS: usize = 20_000;

/// How long a failure is remembered before the widget is called again, at
/// least: a failing widget is not hammered by every page load and push tick.
const FAILURE_BACKOFF: std::time::Duration = std::time::Duration::from_secs(5);

/// A widget's view, or why there is none.
type ViewResult = Result<Arc<RenderedView>, TileError>;

/// Rendered views by viewer (role and [`Viewer::cache_key`]), then by
/// widget id: a page looks up all its tiles under one lock, without
/// making a key per tile.
#[derive(Default)]
struct ViewCache {
    by_viewer: HashMap<(Role, u64), HashMap<String, CachedView>>,
    /// Views held, over all viewers.
    len: usize,
}

impl ViewCache {
    fn get(&self, role: Role, viewer_key: u64, widget_id: &str) -> Option<&CachedView> {
        self.by_viewer.get(&(role, viewer_key))?.get(widget_id)
    }

    /// The cached view and hash of `widget_id`, when `fresh` says it is
    /// still current.
    fn get_fresh(
        &self,
        (role, viewer_key): (Role, u64),
        widget_id: &str,
        fresh: impl Fn(&CachedView) -> bool,
    ) -> Option<(ViewResult, u64)> {
        let c = self.get(role, viewer_key, widget_id)?;
        fresh(c).then(|| (c.result.clone(), c.hash))
    }

    fn insert(&mut self, role: Role, viewer_key: u64, widget_id: &str, view: CachedView) {
        if self.len >= MAX_CACHED_VIEWS {
            // Past the bound, start over rather than track ages.
            *self = ViewCache::default();
        }
        let views = self.by_viewer.entry((role, viewer_key)).or_default();
        if views.insert(widget_id.to_owned(), view).is_none() {
            self.len += 1;
        }
    }
}

/// A role's widgets, looked up by id and by page.
#[derive(Default)]
struct RoleWidgets {
    by_id: HashMap<String, Arc<Widget>>,
    /// Each page's widgets in reading order (row, then column), before
    /// visibility rules.
    by_page: HashMap<String, Vec<Arc<Widget>>>,
}

struct CachedView {
    result: ViewResult,
    /// What the result shows, hashed (see [`Tile::hash`]).
    hash: u64,
    /// `None`: current until an action replaces it.
    fresh_until: Option<Instant>,
    /// The [`Changes`] count when it was rendered: a user's change to the
    /// data (an action, a state change) makes every older view stale.
    generation: u64,
    /// For widgets granted `contact-center`: the data's version when it
    /// was rendered. A newer version (agents moved, contacts arrived) makes
    /// the view stale, so data changes show within a live page's tick
    /// instead of waiting for the refresh interval.
    data_version: Option<u64>,
}

/// Counts changes users make to the data (widget actions, the header's
/// state selector), shared by every desktop of a host. Views rendered
/// before the latest change are re-rendered on next use, so a supervisor
/// who sets an agent idle sees every widget agree at once, not after their
/// refresh intervals.
///
/// It also holds the plugins whose source fails to build (`deskhost
/// dev`): their tiles show the build error, without calling the plugin,
/// until the next successful build. Marking and clearing count as changes,
/// so open pages get the new tiles at their next tick.
#[derive(Debug, Default, Clone)]
pub struct Changes(Arc<ChangeLog>);

#[derive(Debug, Default)]
struct ChangeLog {
    generation: std::sync::atomic::AtomicU64,
    /// By plugin id: what its tiles show instead of a view.
    build_failures: Mutex<BTreeMap<String, TileError>>,
}

impl Changes {
    fn current(&self) -> u64 {
        self.0.generation.load(std::sync::atomic::Ordering::Acquire)
    }
    fn bump(&self) {
        self.0
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    fn build_failures(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, TileError>> {
        self.0
            .build_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Marks plugin `plugin` as failing to build: its tiles show "Build
    /// failed: `summary`" (the first lines of the compiler's errors) until
    /// [`Changes::clear_build_failure`]. Logged once, with the tile's
    /// tracking ID.
    pub fn mark_build_failed(&self, plugin: &str, summary: &str) {
        let tracking_id = uuid::Uuid::new_v4().to_string();
        tracing::error!(plugin, %tracking_id, "plugin build failed: {summary}");
        journal().incident(&tracking_id, format!("plugin {plugin} (build)"), summary);
        self.build_failures().insert(
            plugin.to_owned(),
            TileError {
                reason: format!("Build failed: {summary}"),
                tracking_id,
            },
        );
        self.bump();
    }

    /// Clears a build failure mark (the plugin built again). Returns
    /// whether there was one.
    pub fn clear_build_failure(&self, plugin: &str) -> bool {
        let cleared = self.build_failures().remove(plugin).is_some();
        if cleared {
            self.bump();
        }
        cleared
    }

    /// What the tiles of `plugin` show while its build fails.
    pub fn build_failure(&self, plugin: &str) -> Option<TileError> {
        self.build_failures().get(plugin).cloned()
    }
}

/// A hash of what a tile shows: the view, or the error's reason (not its
/// tracking ID, which is new at every failure).
fn result_hash(result: &ViewResult) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match result {
        Ok(v) => format!("{:?}", v.view).hash(&mut h),
        Err(e) => ("error", &e.reason).hash(&mut h),
    }
    h.finish()
}

/// A layout bound to the plugins that serve it.
pub struct Desktop {
    views: Mutex<ViewCache>,
    layout: Layout,
    /// Widgets by role, shared with rendered tiles.
    widgets: BTreeMap<Role, RoleWidgets>,
    plugins: Arc<Plugins>,
    runtime: Arc<Runtime>,
    grants: BTreeMap<String, Arc<[String]>>,
    contact_center: Arc<dyn ContactCenter>,
    changes: Changes,
    health: Health,
}

impl Desktop {
    /// Binds `layout` (already checked against `plugins`) to the runtime.
    /// `host_grants` are the host config's grants, merged with the layout's.
    pub fn new(
        layout: Layout,
        plugins: Arc<Plugins>,
        runtime: Arc<Runtime>,
        contact_center: Arc<dyn ContactCenter>,
        changes: Changes,
        host_grants: &BTreeMap<String, Vec<String>>,
    ) -> Self {
        let mut widgets: BTreeMap<Role, RoleWidgets> = BTreeMap::new();
        for (role, desk) in &layout.roles {
            let of_role = widgets.entry(*role).or_default();
            for page in desk.all_pages() {
                let mut on_page: Vec<Arc<Widget>> =
                    page.widgets.iter().map(|w| Arc::new(w.clone())).collect();
                on_page.sort_by_key(|w| (w.row, w.column));
                for w in &on_page {
                    of_role.by_id.insert(w.id.clone(), w.clone());
                }
                of_role.by_page.insert(page.id.clone(), on_page);
            }
        }
        let mut grants: BTreeMap<String, Vec<String>> = host_grants.clone();
        for (plugin, config) in &layout.plugins {
            grants
                .entry(plugin.clone())
                .or_default()
                .extend(config.grants.iter().cloned());
        }
        let grants = grants
            .into_iter()
            .map(|(k, mut v)| {
                v.sort();
                v.dedup();
                (k, Arc::from(v))
            })
            .collect();
        Desktop {
            views: Mutex::new(ViewCache::default()),
            layout,
            widgets,
            plugins,
            runtime,
            grants,
            contact_center,
            changes,
            health: Health::default(),
        }
    }

    /// The viewer's own agent state and tasks, when their role includes
    /// agent work and they are an agent.
    pub fn own_state(&self, viewer: &Viewer) -> Option<OwnState> {
        if viewer.role == Role::Supervisor {
            return None;
        }
        self.contact_center
            .own_state(&viewer.user_id)
            .ok()
            .flatten()
    }

    /// The idle reason codes, for the agent state selector.
    pub fn idle_reasons(&self) -> Vec<String> {
        self.contact_center.idle_reasons().unwrap_or_default()
    }

    /// Sets the viewer's own agent state (from the header's selector).
    pub fn set_own_state(
        &self,
        viewer: &Viewer,
        state: AgentState,
        reason: Option<&str>,
    ) -> Result<(), DataError> {
        if viewer.role == Role::Supervisor {
            return Err(DataError::Refused(
                "signed in as supervisor only: there is no agent state to change".into(),
            ));
        }
        let agent = self
            .contact_center
            .agents(&[])?
            .into_iter()
            .find(|a| a.user_id.as_deref() == Some(viewer.user_id.as_str()))
            .ok_or_else(|| {
                DataError::Unknown(format!("user `{}` is not an agent", viewer.user_id))
            })?;
        self.contact_center
            .set_agent_state(&agent.id, state, reason)?;
        self.changes.bump();
        Ok(())
    }

    /// Ids of the widgets `viewer` sees on page `page_id`, in reading order.
    pub fn visible_widgets(&self, viewer: &Viewer, page_id: &str) -> Vec<String> {
        self.visible(viewer, page_id)
            .map(|w| w.id.clone())
            .collect()
    }

    /// The widgets `viewer` sees on page `page_id`, in reading order.
    fn visible<'a>(
        &'a self,
        viewer: &'a Viewer,
        page_id: &str,
    ) -> impl Iterator<Item = &'a Arc<Widget>> + 'a {
        self.widgets
            .get(&viewer.role)
            .and_then(|r| r.by_page.get(page_id))
            .into_iter()
            .flatten()
            .filter(|w| w.visible.allows(viewer.role, viewer.team.as_deref()))
    }

    /// The layout being served.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The installed plugins.
    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// The host API version, for the status output.
    pub fn api_version(&self) -> semver::Version {
        HOST_API_VERSION
    }

    fn desk(&self, role: Role) -> Option<&RoleDesk> {
        self.layout.roles.get(&role)
    }

    /// Assembles page `page_id` for `viewer`: `None` when the viewer's role
    /// has no such page.
    pub async fn page(&self, viewer: &Viewer, page_id: &str) -> Option<AssembledPage> {
        let Some(desk) = self.desk(viewer.role) else {
            // No section for this role: an empty home page, not an error.
            return (page_id == "home").then(|| AssembledPage {
                id: "home".into(),
                title: "Home".into(),
                nav: vec![("home".into(), "Home".into())],
                tiles: Vec::new(),
            });
        };
        let page: &Page = desk.page(page_id)?;
        let viewer_key = viewer.cache_key();
        let widgets: Vec<&Arc<Widget>> = self.visible(viewer, page_id).collect();
        // Most loads find every tile cached: one look under one lock; the
        // rest are rendered in parallel.
        let cached = self.cached_views(viewer.role, viewer_key, &widgets);
        let mut tiles: Vec<Option<Tile>> = widgets
            .iter()
            .zip(cached)
            .map(|(widget, cached)| {
                cached.map(|(result, hash)| Tile {
                    widget: Arc::clone(widget),
                    result,
                    hash,
                })
            })
            .collect();
        let missing: Vec<usize> = (0..tiles.len()).filter(|&i| tiles[i].is_none()).collect();
        if !missing.is_empty() {
            let rendered = futures::future::join_all(
                missing
                    .iter()
                    .map(|&i| self.render_widget(viewer, viewer_key, widgets[i].clone(), None)),
            )
            .await;
            for (i, tile) in missing.into_iter().zip(rendered) {
                tiles[i] = Some(tile);
            }
        }
        let mut assembled = Vec::with_capacity(tiles.len());
        assembled.extend(tiles.into_iter().flatten());
        Some(AssembledPage {
            id: page.id.clone(),
            title: page.title.clone(),
            nav: desk
                .all_pages()
                .map(|p| (p.id.clone(), p.title.clone()))
                .collect(),
            tiles: assembled,
        })
    }

    /// Renders one widget for `viewer` (after an action when `action` is
    /// set). `None` when the viewer cannot see a widget with that id.
    pub async fn tile(
        &self,
        viewer: &Viewer,
        widget_id: &str,
        action: Option<types::Action>,
    ) -> Option<Tile> {
        let widget = self
            .widgets
            .get(&viewer.role)?
            .by_id
            .get(widget_id)?
            .clone();
        if !widget.visible.allows(viewer.role, viewer.team.as_deref()) {
            return None;
        }
        Some(
            self.render_widget(viewer, viewer.cache_key(), widget, action)
                .await,
        )
    }

    fn views(&self) -> std::sync::MutexGuard<'_, ViewCache> {
        self.views.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fresh cached view of each of `widgets` for a viewer, with its
    /// hash; `None` where there is none, or where the widget's plugin
    /// fails to build (its tile says so instead).
    fn cached_views(
        &self,
        role: Role,
        viewer_key: u64,
        widgets: &[&Arc<Widget>],
    ) -> Vec<Option<(ViewResult, u64)>> {
        let failing = self.changes.build_failures();
        let fresh = self.freshness();
        let views = self.views();
        widgets
            .iter()
            .map(|w| {
                if failing.contains_key(&w.plugin) {
                    return None;
                }
                views.get_fresh((role, viewer_key), &w.id, &fresh)
            })
            .collect()
    }

    /// [`Self::cached_views`] for one widget whose plugin builds.
    fn cached_view(
        &self,
        role: Role,
        viewer_key: u64,
        widget: &Widget,
    ) -> Option<(ViewResult, u64)> {
        self.views()
            .get_fresh((role, viewer_key), &widget.id, self.freshness())
    }

    /// Whether a cached view is still current, checked against the time,
    /// change count and data version read once (for a whole page).
    fn freshness(&self) -> impl Fn(&CachedView) -> bool + '_ {
        let generation = self.changes.current();
        let now = Instant::now();
        let data_version = std::cell::OnceCell::new();
        move |c| {
            c.generation == generation
                && c.fresh_until.is_none_or(|t| t > now)
                && c.data_version.is_none_or(|v| {
                    v == *data_version.get_or_init(|| self.contact_center.version())
                })
        }
    }

    /// The data version a render of `widget` depends on, if it reads
    /// contact-center data.
    fn data_version(&self, widget: &Widget) -> Option<u64> {
        self.grants
            .get(&widget.plugin)
            .is_some_and(|g| g.iter().any(|c| c == "contact-center"))
            .then(|| self.contact_center.version())
    }

    /// Whether widget `widget_id`'s current view for `viewer` is still the
    /// one whose hash is `known`, without rendering or copying anything:
    /// the cheap check live pages make every second.
    pub fn is_unchanged(&self, viewer: &Viewer, widget_id: &str, known: u64) -> bool {
        self.views()
            .get(viewer.role, viewer.cache_key(), widget_id)
            .is_some_and(|c| c.hash == known && self.freshness()(c))
    }

    fn remember(
        &self,
        (role, viewer_key): (Role, u64),
        widget: &Widget,
        result: &ViewResult,
        data_version: Option<u64>,
    ) -> u64 {
        let now = Instant::now();
        let fresh_until = match result {
            Ok(_) => widget.refresh.map(|d| now + d),
            Err(_) => Some(now + widget.refresh.unwrap_or_default().max(FAILURE_BACKOFF)),
        };
        let hash = result_hash(result);
        let generation = self.changes.current();
        self.views().insert(
            role,
            viewer_key,
            &widget.id,
            CachedView {
                result: result.clone(),
                hash,
                fresh_until,
                generation,
                data_version,
            },
        );
        hash
    }

    /// Renders `widget` for `viewer`, whose [`Viewer::cache_key`] is
    /// `viewer_key` (worked out once per page).
    async fn render_widget(
        &self,
        viewer: &Viewer,
        viewer_key: u64,
        widget: Arc<Widget>,
        action: Option<types::Action>,
    ) -> Tile {
        if let Some(failure) = self.changes.build_failure(&widget.plugin) {
            // The plugin's source does not build (`deskhost dev`): say so,
            // without calling the last version that did.
            return Tile::new(widget, Err(failure));
        }
        if action.is_none()
            && let Some((result, hash)) = self.cached_view(viewer.role, viewer_key, &widget)
        {
            return Tile {
                widget,
                result,
                hash,
            };
        }
        let plugin: Arc<LoadedPlugin> = match self.plugins.get(&widget.plugin, &widget.version) {
            Some(p) => p.clone(),
            None => {
                // Cannot happen for a checked layout; still, fail the tile only.
                let failure = self.failure(&widget, "its plugin is not installed".into());
                return Tile::new(widget, Err(failure));
            }
        };
        let health_key = format!("{}/{}", viewer.role, widget.id);
        if let Gate::Paused {
            retry_in,
            tracking_id,
        } = self.health.gate(&health_key)
        {
            let paused = TileError {
                reason: format!(
                    "This widget is paused after repeated failures; it will be tried again in {} s.",
                    retry_in.as_secs().max(1)
                ),
                tracking_id,
            };
            return Tile::new(widget, Err(paused));
        }
        let runtime = self.runtime.clone();
        let defaults = runtime.default_call_limits();
        let limits = CallLimits {
            timeout: widget.limits.timeout.unwrap_or(defaults.timeout),
            memory_mib: widget.limits.memory_mib.unwrap_or(defaults.memory_mib),
        };
        let grants = self
            .grants
            .get(&widget.plugin)
            .cloned()
            .unwrap_or_else(|| Arc::from([]));
        let context = viewer.context();
        let settings: Vec<types::Setting> = widget
            .settings
            .iter()
            .map(|(name, value)| setting_to_wit(name, value))
            .collect();
        let w = widget.clone();
        let is_action = action.is_some();
        // Read before the call: a change during the call makes the view stale.
        let data_version = self.data_version(&widget);
        let started = Instant::now();
        let deadline = limits.timeout + HOST_CALL_GRACE;
        let call = tokio::task::spawn_blocking(move || {
            let call = Call {
                widget: &w.id,
                grants,
                limits,
                context: &context,
                settings: &settings,
            };
            match &action {
                Some(a) => runtime.on_action(&plugin, &call, a),
                None => runtime.render(&plugin, &call),
            }
        });
        // The epoch deadline stops guest code, but not a host function the
        // plugin called (a slow data source): the page does not wait for
        // it. The abandoned call traps at its next epoch check once the
        // host function returns, and its result is dropped.
        let outcome = match tokio::time::timeout(deadline, call).await {
            Ok(joined) => joined
                .unwrap_or_else(|e| Err(CallError::Trap(format!("the host's worker failed: {e}")))),
            Err(_) => Err(CallError::Timeout(limits.timeout)),
        };
        let kind = match &outcome {
            Ok(_) => None,
            Err(CallError::Widget(_)) => Some("error"),
            Err(CallError::Timeout(_)) => Some("timeout"),
            Err(CallError::Memory(_)) => Some("memory"),
            Err(CallError::StackOverflow) => Some("stack"),
            Err(CallError::Trap(_)) => Some("trap"),
            Err(CallError::Instantiate(_)) => Some("instantiate"),
            Err(CallError::TooLarge(_)) => Some("too-large"),
        };
        metrics::histogram!(
            "deskhost_widget_render_seconds",
            "widget" => widget.id.clone(),
            "plugin" => widget.plugin.clone()
        )
        .record(started.elapsed().as_secs_f64());
        if let Some(kind) = kind {
            let failure = match kind {
                "error" => Failure::Error,
                "timeout" => Failure::Timeout,
                _ => Failure::Crash,
            };
            journal().widget_failure(&widget.id, &widget.plugin, failure);
            metrics::counter!(
                "deskhost_widget_failures_total",
                "widget" => widget.id.clone(),
                "plugin" => widget.plugin.clone(),
                "kind" => kind
            )
            .increment(1);
        }
        if is_action && outcome.is_ok() {
            self.changes.bump();
        }
        let result = outcome
            .map(|v| Arc::new(RenderedView::new(v)))
            .map_err(|e| {
                let reason = match &e {
                    CallError::Widget(message) => message.clone(),
                    other => format!("This widget {other}."),
                };
                let failure = self.failure(&widget, reason);
                if !matches!(e, CallError::Widget(_))
                    && self
                        .health
                        .failure(&health_key, &failure.tracking_id)
                        .is_some()
                {
                    journal().widget_failure(&widget.id, &widget.plugin, Failure::Quarantine);
                }
                failure
            });
        if result.is_ok() {
            self.health.success(&health_key);
        }
        let hash = self.remember((viewer.role, viewer_key), &widget, &result, data_version);
        Tile {
            widget,
            result,
            hash,
        }
    }

    fn failure(&self, widget: &Widget, reason: String) -> TileError {
        let tracking_id = uuid::Uuid::new_v4().to_string();
        tracing::error!(
            widget = %widget.id,
            plugin = %widget.plugin,
            version = %widget.version,
            tracking_id = %tracking_id,
            "widget failed: {reason}"
        );
        journal().incident(
            &tracking_id,
            format!(
                "widget {} ({} {})",
                widget.id, widget.plugin, widget.version
            ),
            &reason,
        );
        TileError {
            reason,
            tracking_id,
        }
    }
}

/// Every layout being served: the global one and the team-specific ones
/// that replace it for their teams (the real product's per-team layouts
/// with a global fallback).
pub struct Desktops {
    global: Arc<Desktop>,
    by_team: BTreeMap<String, Arc<Desktop>>,
}

impl Desktops {
    /// Groups desktops by the teams their layouts name. Exactly one layout
    /// must name no team (the global fallback), and no team may have two.
    pub fn new(desktops: Vec<Desktop>) -> Result<Self, String> {
        let mut global: Option<Arc<Desktop>> = None;
        let mut by_team: BTreeMap<String, Arc<Desktop>> = BTreeMap::new();
        for d in desktops {
            let d = Arc::new(d);
            if d.layout.teams.is_empty() {
                if let Some(g) = &global {
                    return Err(format!(
                        "both {} and {} are global layouts (no `teams`); give one of them `teams = [...]`",
                        g.layout.path.display(),
                        d.layout.path.display()
                    ));
                }
                global = Some(d);
                continue;
            }
            for team in &d.layout.teams {
                if let Some(other) = by_team.insert(team.clone(), d.clone()) {
                    return Err(format!(
                        "team `{team}` has two layouts: {} and {}",
                        other.layout.path.display(),
                        d.layout.path.display()
                    ));
                }
            }
        }
        let global = global.ok_or_else(|| {
            "no global layout: one layout must leave out `teams`, as the fallback for every team"
                .to_string()
        })?;
        Ok(Desktops { global, by_team })
    }

    /// The desktop for `viewer`: their team's layout, or the global one.
    pub fn for_viewer(&self, viewer: &Viewer) -> &Arc<Desktop> {
        viewer
            .team
            .as_ref()
            .and_then(|t| self.by_team.get(t))
            .unwrap_or(&self.global)
    }

    /// The global desktop.
    pub fn global(&self) -> &Arc<Desktop> {
        &self.global
    }

    /// Every desktop: the global one first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Desktop>> {
        let mut seen: Vec<*const Desktop> = vec![Arc::as_ptr(&self.global)];
        std::iter::once(&self.global).chain(self.by_team.values().filter(move |d| {
            let p = Arc::as_ptr(d);
            let new = !seen.contains(&p);
            seen.push(p);
            new
        }))
    }
}
