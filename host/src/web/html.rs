//! The desktop's HTML: the page shell (header, navigation, banner, grid)
//! and tiles, including error tiles. Plugin views are rendered by
//! [`super::view`].

use maud::{DOCTYPE, Markup, html};

use super::assets::Assets;
use super::view;
use crate::desktop::{AssembledPage, Tile, Viewer};
use crate::layout::{Layout, Role};

/// Query string that keeps the dev role switch's choice on links.
pub fn viewer_query(viewer: &Viewer) -> String {
    let mut q = format!("?role={}", viewer.role.as_str());
    if let Some(team) = &viewer.team {
        q.push_str("&team=");
        q.push_str(&urlencode(team));
    }
    q
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::Supervisor => "Supervisor",
        Role::SupervisorAgent => "Supervisor and agent",
        Role::Agent => "Agent",
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
pub fn tile(tile: &Tile, viewer: &Viewer, now_ms: u64) -> Markup {
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
                Ok(v) => form.tile-body method="post" action=(format!("/widgets/{}/action{}", w.id, viewer_query(viewer))) {
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
    dev_switch: bool,
    now_ms: u64,
) -> Markup {
    let q = viewer_query(viewer);
    let logo = layout
        .logo
        .clone()
        .unwrap_or_else(|| assets.logo_url.clone());
    let logo = view::safe_url(&logo).unwrap_or_else(|| assets.logo_url.clone());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " · " (layout.title) }
                link rel="stylesheet" href=(assets.css_url);
                link rel="icon" href=(assets.logo_url);
                script src=(assets.js_url) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href=(format!("/{q}")) { img src=(logo) alt=""; span { (layout.title) } }
                    nav aria-label="Pages" {
                        ul {
                            @for (id, title) in &page.nav {
                                @let href = if id == "home" { format!("/{q}") } else { format!("/pages/{id}{q}") };
                                li { a href=(href) aria-current=[(id == &page.id).then_some("page")] { (title) } }
                            }
                        }
                    }
                    div.spacer {}
                    @if dev_switch {
                        form.devswitch method="get" action=(if page.id == "home" { "/".to_string() } else { format!("/pages/{}", page.id) }) aria-label="Developer view switch" {
                            label for="dev-role" { "View as" }
                            select id="dev-role" name="role" data-autosubmit {
                                @for r in Role::ALL {
                                    option value=(r.as_str()) selected[r == viewer.role] { (role_label(r)) }
                                }
                            }
                            label for="dev-team" { "Team" }
                            input id="dev-team" name="team" size="10" value=(viewer.team.as_deref().unwrap_or(""));
                            button type="submit" { "Apply" }
                        }
                    }
                    div.user {
                        span.avatar aria-hidden="true" { (initials(&viewer.display_name)) }
                        span { (viewer.display_name) span.sr-only { ", " (role_label(viewer.role)) } }
                    }
                }
                div.banner id="banner" role="status" hidden[!page.degraded()] {
                    strong { "Some features are unavailable." }
                    span { "A widget could not be shown. Reload later, or give the tracking ID in the widget to your administrator." }
                }
                main id="main" {
                    h1 { (page.title) }
                    div.grid {
                        @for t in &page.tiles { (tile(t, viewer, now_ms)) }
                        @if page.tiles.is_empty() {
                            div.empty-page { p { "No widgets are configured for this page and role." } }
                        }
                    }
                }
            }
        }
    }
}

/// A plain error page (unknown page, bad request).
pub fn error_page(assets: &Assets, title: &str, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(assets.css_url);
            }
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
