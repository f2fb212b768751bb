//! The desktop's HTML: the page shell (header, navigation, banner, grid)
//! and tiles, including error tiles. Plugin views are rendered by
//! [`super::view`].

use maud::{DOCTYPE, Markup, html};

use super::assets::Assets;
use super::view;
use crate::contact_center::{AgentState, OwnState};
use crate::desktop::{AssembledPage, Tile, TileHtml, Viewer};
use crate::layout::Layout;

/// What the desktop frame shows around the page: the user's own agent
/// state (for roles with agent work) and the idle reason codes.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The viewer's agent state and tasks, if they are an agent.
    pub own_state: Option<OwnState>,
    /// Idle reason codes for the state selector.
    pub idle_reasons: Vec<String>,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// A one-shot message for the user (such as a refused sign-out).
    pub notice: Option<String>,
    /// Whether the user signed in with desktop telephony (the page then
    /// starts the browser's microphone).
    pub desktop_telephony: bool,
    /// Whether the user has the admin role (the menu links the status page).
    pub admin: bool,
}

fn state_label(s: AgentState) -> &'static str {
    match s {
        AgentState::Available => "Available",
        AgentState::Idle => "Idle",
        AgentState::Engaged => "Engaged",
        AgentState::WrapUp => "Wrap-up",
        AgentState::Rona => "RONA",
        AgentState::Offline => "Offline",
    }
}

/// The header's agent state selector: Available, or Idle with a reason.
fn state_selector(own: &OwnState, reasons: &[String], csrf: &str, page: &str) -> Markup {
    let current = match (own.state, &own.idle_reason) {
        (AgentState::Available, _) => "available".to_string(),
        (AgentState::Idle, Some(r)) => format!("idle:{r}"),
        _ => String::new(),
    };
    html! {
        form.agent-state method="post" action="/me/state" {
            input type="hidden" name="page" value=(page);
            input type="hidden" name="csrf" value=(csrf);
            label for="agent-state" { "State" }
            select id="agent-state" name="state" data-autosubmit {
                @if current.is_empty() {
                    option value="" selected { (state_label(own.state)) }
                }
                option value="available" selected[current == "available"] { "Available" }
                @for r in reasons {
                    @let v = format!("idle:{r}");
                    option value=(v) selected[current == v] { "Idle – " (r) }
                }
            }
            span.state-time { (view::format_elapsed(crate::now_ms().saturating_sub(own.since_ms) / 1000)) }
            // Shown by the script while a keyboard choice waits (and
            // always without the script).
            button type="submit" data-pending hidden { "Set" }
            noscript { button type="submit" { "Set" } }
        }
    }
}

/// The task list: separate from the home page, which renders the same with
/// zero or many tasks.
fn task_list(own: &OwnState, now_ms: u64) -> Markup {
    html! {
        aside.tasks aria-label="Tasks" {
            h2 { "Tasks" }
            @if own.tasks.is_empty() {
                p.note { "No active tasks." }
            } @else {
                ul {
                    @for t in &own.tasks {
                        li {
                            span.task-channel { (t.channel) }
                            span { (t.queue_id) }
                            @if t.wrap_up { span class="badge tone-neutral" { "Wrap-up" } }
                            time.since data-since=(t.since_ms) { (view::format_elapsed(now_ms.saturating_sub(t.since_ms) / 1000)) }
                        }
                    }
                }
            }
        }
    }
}

/// Text escaped as maud escapes it (`&`, `<`, `>` and `"`), written in
/// runs between the characters that need escaping; maud's own escaping
/// pushes each byte on its own, which cost a twelfth of a signed-in page
/// (BENCHMARKS.md). For the text every page request writes.
pub(crate) struct Text<'a>(pub &'a str);

impl maud::Render for Text<'_> {
    fn render_to(&self, out: &mut String) {
        html_escape::encode_double_quoted_attribute_to_string(self.0, out);
    }
}

/// Reserves room for `.0` more bytes in the buffer it is rendered into:
/// put first in a template whose size is known better than maud's guess
/// (the size of the template's source), it saves growing the buffer, and
/// copying it, as tiles are added.
struct Reserve(usize);

impl maud::Render for Reserve {
    fn render_to(&self, out: &mut String) {
        out.reserve(self.0);
    }
}

fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect::<String>()
        .to_uppercase()
}

/// One tile: its title bar and either the widget's view (inside a form, so
/// its buttons and inputs reach `on-action`) or an error with tracking ID.
/// A view's HTML is made once and kept with the view (unless it shows
/// times relative to now); each page only puts its CSRF token in.
pub fn tile(tile: &Tile, csrf: &str, now_ms: u64) -> Markup {
    let csrf_html = maud::Render::render(csrf);
    maud::Render::render(&TileOnPage {
        tile,
        csrf,
        csrf_html: &csrf_html,
        now_ms,
    })
}

/// A tile as a page shows it: rendered straight into the page's buffer.
struct TileOnPage<'a> {
    tile: &'a Tile,
    csrf: &'a str,
    /// `csrf` escaped, once per page rather than once per tile.
    csrf_html: &'a Markup,
    now_ms: u64,
}

impl maud::Render for TileOnPage<'_> {
    fn render_to(&self, out: &mut String) {
        let TileOnPage {
            tile,
            csrf,
            csrf_html,
            now_ms,
        } = *self;
        let kept = match &tile.result {
            Ok(view) => view
                .html
                .get_or_init(|| {
                    if view::shows_clock(&view.blocks) {
                        None
                    } else {
                        split_at_csrf(tile_markup(tile, "", 0))
                    }
                })
                .as_ref(),
            Err(_) => None,
        };
        match kept {
            Some(kept) => {
                out.push_str(&kept.before_csrf);
                out.push_str(&csrf_html.0);
                out.push_str(&kept.after_csrf);
            }
            None => out.push_str(&tile_markup(tile, csrf, now_ms).0),
        }
    }
}

/// Where the CSRF token goes in a tile made with an empty token: the
/// first hidden `csrf` input (everything before it is escaped, so no text
/// of the widget's can look like it).
const CSRF_INPUT: &str = r#"name="csrf" value=""#;

/// Splits a tile's HTML, made with an empty CSRF token, where the token
/// goes.
fn split_at_csrf(markup: Markup) -> Option<TileHtml> {
    let html = markup.into_string();
    let at = html.find(CSRF_INPUT)? + CSRF_INPUT.len();
    Some(TileHtml {
        before_csrf: html[..at].into(),
        after_csrf: html[at..].into(),
    })
}

/// One tile's HTML, made from scratch.
fn tile_markup(tile: &Tile, csrf: &str, now_ms: u64) -> Markup {
    let w = &tile.widget;
    let title_id = format!("tile-{}-title", w.id);
    let class = format!(
        "tile c{} w{} r{} h{}{}",
        w.column,
        w.width,
        w.row,
        w.height,
        if tile.result.is_err() { " failed" } else { "" }
    );
    html! {
        section class=(class) id=(format!("tile-{}", w.id)) aria-labelledby=(title_id) data-widget=(w.id) {
            header { h2 id=(title_id) { (w.title) } }
            @match &tile.result {
                // Focusable, so a keyboard can scroll a tile whose view is
                // taller than the tile.
                Ok(v) => form.tile-body method="post" action=(format!("/widgets/{}/action", w.id)) tabindex="0" aria-labelledby=(title_id) {
                    input type="hidden" name="csrf" value=(csrf);
                    (view::blocks(&v.blocks, &w.id, now_ms))
                },
                Err(e) => div.tile-body.tile-error role="alert" {
                    p.reason { (e.reason) }
                    p.tracking { "Tracking ID: " code { (e.tracking_id) } }
                    p.tracking { "Give this ID to your administrator." }
                },
            }
        }
    }
}

/// A whole desktop page.
pub fn page(
    layout: &Layout,
    page: &AssembledPage,
    viewer: &Viewer,
    assets: &Assets,
    frame: &Frame,
    now_ms: u64,
) -> Markup {
    // The host's own logo needs no check; an admin's goes through safe_url.
    let logo = match layout.logo.as_deref().and_then(view::safe_url) {
        Some(url) => std::borrow::Cow::Owned(url),
        None => std::borrow::Cow::Borrowed(assets.logo_url.as_str()),
    };
    let csrf_html = maud::Render::render(&Text(&frame.csrf));
    html! {
        (Reserve(PAGE_FRAME_BYTES + page.tiles.iter().map(tile_len_hint).sum::<usize>()))
        (DOCTYPE)
        html lang="en" {
            (head(assets, &format!("{} · {}", page.title, layout.title), Some(&frame.csrf)))
            body data-events={ "/events?page=" (Text(&page.id)) } data-rendered-at=(now_ms) data-telephony=[frame.desktop_telephony.then_some("desktop")] {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" { img src=(Text(&logo)) alt=""; span { (Text(&layout.title)) } }
                    nav aria-label="Pages" {
                        ul {
                            @for (id, title) in &page.nav {
                                li { a href=(PageHref(id)) aria-current=[(id == &page.id).then_some("page")] { (Text(title)) } }
                            }
                        }
                    }
                    div.spacer {}
                    @if let Some(own) = &frame.own_state {
                        (state_selector(own, &frame.idle_reasons, &frame.csrf, &page.id))
                    }
                    details.profile {
                        summary aria-label={ "Profile: " (Text(&viewer.display_name)) } {
                            span.avatar aria-hidden="true" { (Text(&initials(&viewer.display_name))) }
                            span.name { (Text(&viewer.display_name)) }
                        }
                        div.profile-menu {
                            p { strong { (Text(&viewer.display_name)) } }
                            p.note { (crate::auth::role_label(viewer.role)) @if let Some(t) = &viewer.team { " · " (Text(t)) } }
                            p { a href="/profile" { "Profile settings" } }
                            @if frame.admin {
                                p { a href="/admin/status" { "Status" } }
                            }
                            form method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(csrf_html);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                @if let Some(n) = &frame.notice {
                    div.notice role="alert" { p { (Text(n)) } }
                }
                div.notice id="telephony-alert" role="alert" hidden {}
                dialog.window-prompt id="window-prompt" aria-labelledby="window-prompt-title" {
                    h2 id="window-prompt-title" { "Supervisor Desktop is open in another window" }
                    p id="window-prompt-text" { "You can use the desktop in one browser window or tab at a time. Click Continue to use it in this window." }
                    form method="post" action="/session/continue" id="continue-form" {
                        input type="hidden" name="csrf" value=(csrf_html);
                        input type="hidden" name="window" value="";
                        button.primary type="submit" { "Continue" }
                    }
                }
                div.banner id="banner" role="status" hidden[!page.degraded()] {
                    strong { "Some features are unavailable." }
                    span { "A widget could not be shown. Reload later, or give the tracking ID in the widget to your administrator." }
                }
                div.workspace {
                    main id="main" {
                        h1 { (Text(&page.title)) }
                        div.grid {
                            @for t in &page.tiles {
                                (TileOnPage { tile: t, csrf: &frame.csrf, csrf_html: &csrf_html, now_ms })
                            }
                            @if page.tiles.is_empty() {
                                div.empty-page { p { "No widgets are configured for this page and role." } }
                            }
                        }
                    }
                    @if let Some(own) = &frame.own_state { (task_list(own, now_ms)) }
                }
            }
        }
    }
}

/// Room for a page's HTML besides its tiles (head, header, dialogs,
/// banner and task list: about 6 KiB with a long task list).
const PAGE_FRAME_BYTES: usize = 8 << 10;

/// Room for `tile` on its page: the size of its kept HTML with the CSRF
/// token, or a guess for a tile made from scratch.
fn tile_len_hint(tile: &Tile) -> usize {
    match &tile.result {
        Ok(view) => match view.html.get() {
            Some(Some(kept)) => kept.before_csrf.len() + kept.after_csrf.len() + 64,
            _ => 2 << 10,
        },
        Err(_) => 1 << 10,
    }
}

/// A page's address: `/` for the home page, else `/pages/{id}`.
struct PageHref<'a>(&'a str);

impl maud::Render for PageHref<'_> {
    fn render_to(&self, out: &mut String) {
        if self.0 == "home" {
            out.push('/');
        } else {
            out.push_str("/pages/");
            maud::Render::render_to(&Text(self.0), out);
        }
    }
}

/// A page beside the desktop (Profile settings, Status): the header with
/// the way back to the desktop, and `content` as its main part.
pub fn side_page(
    assets: &Assets,
    title: &str,
    csrf: Option<&str>,
    who: Option<&str>,
    main_class: &str,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(assets, &format!("{title} · Supervisor Desktop"), csrf))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" { img src=(assets.logo_url) alt=""; span { "Supervisor Desktop" } }
                    nav aria-label="Pages" { ul { li { a href="/" { "Back to the desktop" } } } }
                    div.spacer {}
                    @if let Some(name) = who { span.name { (name) } }
                }
                main id="main" class=(main_class) { (content) }
            }
        }
    }
}

/// The `<head>` of every page: the title, the content-hashed stylesheet,
/// icon and script, and the CSRF token for the page script's requests.
pub fn head(assets: &Assets, title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (Text(title)) }
            link rel="stylesheet" href=(Text(&assets.css_url));
            link rel="icon" href=(Text(&assets.logo_url));
            @if let Some(token) = csrf {
                meta name="csrf-token" content=(Text(token));
            }
            script src=(Text(&assets.js_url)) defer {}
        }
    }
}

/// A plain error page (unknown page, bad request).
pub fn error_page(assets: &Assets, title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(assets, title, None))
            body {
                main id="main" {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/" { "Back to the home page" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::contact_center::Task;
    use crate::desktop::{AssembledPage, RenderedView, Tile};
    use crate::layout::{Limits, Role, Visibility, Widget};
    use crate::runtime::types::{Block, View};

    proptest::proptest! {
        /// `Text` escapes exactly as maud does, for any text (markup,
        /// quotes, multi-byte characters).
        #[test]
        fn text_escapes_as_maud_does(s in ".*|[<>&\"'a é😀]*") {
            let mut ours = String::new();
            maud::Render::render_to(&Text(&s), &mut ours);
            proptest::prop_assert_eq!(ours, maud::Render::render(s.as_str()).into_string());
        }
    }

    fn viewer() -> Viewer {
        Viewer {
            user_id: "u".into(),
            display_name: "Lee Lead".into(),
            role: Role::SupervisorAgent,
            team: Some("Sales & Co".into()),
            locale: "en-US".into(),
            time_zone: "UTC".into(),
        }
    }

    fn layout() -> Layout {
        Layout {
            path: "l.toml".into(),
            title: "Desk".into(),
            logo: None,
            teams: Vec::new(),
            extends: None,
            required_collaboration: Vec::new(),
            limits: Limits::default(),
            plugins: Default::default(),
            roles: Default::default(),
            sections: Default::default(),
        }
    }

    fn page() -> AssembledPage {
        let widget = Arc::new(Widget {
            id: "w".into(),
            plugin: "p".into(),
            version_req: semver::VersionReq::STAR,
            version: semver::Version::new(0, 1, 0),
            title: "Queues".into(),
            column: 1,
            row: 1,
            width: 4,
            height: 3,
            refresh: None,
            settings: Vec::new(),
            visible: Visibility::default(),
            limits: Limits::default(),
            span: 0..0,
            line: 1,
        });
        AssembledPage {
            id: "home".into(),
            title: "Home".into(),
            nav: vec![("home".into(), "Home".into())],
            tiles: vec![Tile {
                widget,
                result: Ok(Arc::new(RenderedView::new(View {
                    blocks: vec![Block::Text("hello".into())],
                }))),
                hash: 1,
            }],
        }
    }

    fn main_of(html: &str) -> &str {
        let start = html.find("<main").unwrap();
        &html[start..html.find("</main>").unwrap()]
    }

    #[test]
    fn home_page_is_the_same_with_zero_or_many_tasks() {
        let assets = Assets::new();
        let own = |n: usize| OwnState {
            state: AgentState::Engaged,
            since_ms: 1,
            idle_reason: None,
            tasks: (0..n)
                .map(|i| Task {
                    id: format!("t{i}"),
                    channel: "voice".into(),
                    queue_id: "q".into(),
                    since_ms: 1,
                    wrap_up: false,
                })
                .collect(),
        };
        let render = |frame: Frame| {
            page_html(&layout(), &page(), &viewer(), &assets, &frame, 1000).into_string()
        };
        let none = render(Frame::default());
        let zero = render(Frame {
            own_state: Some(own(0)),
            ..Frame::default()
        });
        let many = render(Frame {
            own_state: Some(own(5)),
            idle_reasons: vec!["Break".into()],
            ..Frame::default()
        });
        assert_eq!(main_of(&none), main_of(&zero));
        assert_eq!(main_of(&zero), main_of(&many));
        assert!(many.contains("<aside class=\"tasks\" aria-label=\"Tasks\">"));
        assert_eq!(many.matches("class=\"task-channel\"").count(), 5);
        assert!(!none.contains("aria-label=\"Tasks\""));
    }

    #[test]
    fn tiles_are_regions_named_by_their_titles() {
        let assets = Assets::new();
        let html = page_html(
            &layout(),
            &page(),
            &viewer(),
            &assets,
            &Frame::default(),
            1000,
        )
        .into_string();
        assert!(html.contains(
            "<section class=\"tile c1 w4 r1 h3\" id=\"tile-w\" aria-labelledby=\"tile-w-title\" data-widget=\"w\"><header><h2 id=\"tile-w-title\">Queues</h2>"
        ));
        // Links carry nothing of the viewer: the session says who it is.
        assert!(!html.contains("?role="));
    }

    #[test]
    fn a_views_html_is_made_once_and_carries_each_pages_csrf_token() {
        let mut p = page();
        let t = &mut p.tiles[0];
        // Text that looks like the CSRF input cannot move where the token goes.
        t.result = Ok(Arc::new(RenderedView::new(View {
            blocks: vec![Block::Text(r#"name="csrf" value=""#.into())],
        })));
        let first = tile(t, "one", 5).into_string();
        assert_eq!(first, tile_markup(t, "one", 5).into_string());
        let kept = t.result.as_ref().unwrap().html.get().unwrap().as_ref();
        assert!(kept.is_some(), "kept for the next page");
        let second = tile(t, "two<", 9).into_string();
        assert_eq!(second, tile_markup(t, "two<", 9).into_string());
        assert!(second.contains(r#"<input type="hidden" name="csrf" value="two&lt;">"#));
    }

    #[test]
    fn a_view_with_relative_times_is_made_for_every_page() {
        use crate::runtime::types::Duration;
        let mut p = page();
        let t = &mut p.tiles[0];
        t.result = Ok(Arc::new(RenderedView::new(View {
            blocks: vec![Block::Duration(Duration {
                label: "In state".into(),
                since: 0,
            })],
        })));
        let at_1s = tile(t, "c", 1_000).into_string();
        let at_61s = tile(t, "c", 61_000).into_string();
        assert!(at_1s.contains("0:01"), "{at_1s}");
        assert!(at_61s.contains("1:01"), "{at_61s}");
        assert!(t.result.as_ref().unwrap().html.get().unwrap().is_none());
    }

    #[test]
    fn agent_state_selector_offers_available_and_idle_reasons() {
        let assets = Assets::new();
        let own = OwnState {
            state: AgentState::Idle,
            since_ms: 1,
            idle_reason: Some("Lunch".into()),
            tasks: vec![],
        };
        let frame = Frame {
            own_state: Some(own),
            idle_reasons: vec!["Break".into(), "Lunch".into()],
            csrf: "token".into(),
            ..Frame::default()
        };
        let html = page_html(&layout(), &page(), &viewer(), &assets, &frame, 1000).into_string();
        assert!(html.contains("<label for=\"agent-state\">State</label>"));
        assert!(html.contains("<option value=\"available\">Available</option>"));
        assert!(html.contains("<option value=\"idle:Lunch\" selected>Idle – Lunch</option>"));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"token\">"));
        assert!(html.contains("<button type=\"submit\">Sign out</button>"));
    }

    #[test]
    fn navigation_and_header_link_each_page_and_the_host_logo() {
        let assets = Assets::new();
        let mut p = page();
        p.nav.push(("queues".into(), "Queues & <SLA>".into()));
        p.id = "queues".into();
        let html = page_html(&layout(), &p, &viewer(), &assets, &Frame::default(), 1).into_string();
        assert!(html.contains(r#"<li><a href="/">Home</a></li>"#), "{html}");
        assert!(
            html.contains(r#"<li><a href="/pages/queues" aria-current="page">Queues &amp; &lt;SLA&gt;</a></li>"#),
            "{html}"
        );
        assert!(html.contains(r#"data-events="/events?page=queues""#));
        assert!(html.contains(&format!(r#"<img src="{}" alt="">"#, assets.logo_url)));
        let with_logo = |logo: &str| {
            let l = Layout {
                logo: Some(logo.into()),
                ..layout()
            };
            page_html(&l, &p, &viewer(), &assets, &Frame::default(), 1).into_string()
        };
        assert!(with_logo("/static/team.svg").contains(r#"<img src="/static/team.svg" alt="">"#));
        let refused = with_logo("javascript:alert(1)");
        assert!(!refused.contains("javascript:"));
        assert!(refused.contains(&format!(r#"<img src="{}" alt="">"#, assets.logo_url)));
    }

    fn page_html(
        l: &Layout,
        p: &AssembledPage,
        v: &Viewer,
        a: &Assets,
        f: &Frame,
        now: u64,
    ) -> Markup {
        super::page(l, p, v, a, f, now)
    }
}
