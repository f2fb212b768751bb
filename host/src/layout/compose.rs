//! Composition: how sections and layouts stack into the desk a user gets.
//!
//! A role's desk is built from layers, lowest first:
//!
//! 1. the global layout's `[all]` section,
//! 2. the global layout's section for the role,
//! 3. a team overlay's `[all]` section (a team layout with
//!    `extends = "global"`),
//! 4. the team overlay's section for the role.
//!
//! Each layer, in turn: takes away the widgets its `remove` list names;
//! puts each of its widgets on the page with the same id (creating the page
//! when no lower layer has it), where a widget whose id a lower layer
//! already placed replaces that widget wherever it was; and gives a page
//! its `title` when it sets one. Widget ids stay unique within a role.
//!
//! A team layout without `extends` replaces the global layout for its
//! teams (layers 3 and 4 over nothing). In an overlay, `title` and `logo`
//! fall back to the global layout's, `[limits]` fill in what the overlay
//! leaves unset, `[plugins.ID]` entries replace the global entry for that
//! plugin, and `required_collaboration` adds to the global list.

use std::collections::HashMap;
use std::path::Path;

use super::diag::{Diagnostic, did_you_mean};
use super::model::{Layout, Page, Role, RoleDesk, Widget};

/// Where a widget of the composed desk came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The base desk (another file).
    Base,
    /// The layer with this index.
    Layer(usize),
}

/// Stacks `layers` (lowest first) on `base` (a desk composed from another
/// file, with that file's path). Diagnostics point into the layers' file.
pub fn merge(
    base: Option<(&Path, &RoleDesk)>,
    layers: &[&RoleDesk],
) -> (RoleDesk, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut pages: Vec<Page> = match base {
        Some((_, desk)) => desk.all_pages().cloned().collect(),
        None => vec![Page {
            id: "home".into(),
            title: "Home".into(),
            widgets: Vec::new(),
            title_given: false,
        }],
    };
    let mut origin: HashMap<String, Origin> = pages
        .iter()
        .flat_map(|p| &p.widgets)
        .map(|w| (w.id.clone(), Origin::Base))
        .collect();

    for (i, layer) in layers.iter().enumerate() {
        for (id, span) in &layer.remove {
            if take(&mut pages, id).is_some() {
                origin.remove(id);
            } else {
                let placed: Vec<&str> = pages
                    .iter()
                    .flat_map(|p| &p.widgets)
                    .map(|w| w.id.as_str())
                    .collect();
                diags.push(
                    Diagnostic::warning(
                        format!("`remove` names `{id}`, which no lower layer places"),
                        "remove",
                        span.clone(),
                        "nothing to remove",
                    )
                    .with_help_opt(did_you_mean(id, placed.iter().copied())),
                );
            }
        }
        for page in layer.all_pages() {
            let at = match pages.iter().position(|p| p.id == page.id) {
                Some(at) => {
                    if page.title_given {
                        pages[at].title = page.title.clone();
                        pages[at].title_given = true;
                    }
                    at
                }
                None => {
                    pages.push(Page {
                        widgets: Vec::new(),
                        ..page.clone()
                    });
                    pages.len() - 1
                }
            };
            for w in &page.widgets {
                // A replacement on the same page keeps its place in the
                // page's order (the focus order); elsewhere it moves.
                match pages[at].widgets.iter().position(|o| o.id == w.id) {
                    Some(k) => pages[at].widgets[k] = w.clone(),
                    None => {
                        take(&mut pages, &w.id);
                        pages[at].widgets.push(w.clone());
                    }
                }
                origin.insert(w.id.clone(), Origin::Layer(i));
            }
        }
    }

    // Tiles of different layers may now overlap; tiles of one layer were
    // checked with their file.
    for page in &pages {
        for (n, w) in page.widgets.iter().enumerate() {
            let Some(&Origin::Layer(mine)) = origin.get(&w.id) else {
                continue;
            };
            let lower = page.widgets[..n]
                .iter()
                .chain(&page.widgets[n + 1..])
                .find(|o| {
                    let theirs = origin.get(&o.id).copied().unwrap_or(Origin::Base);
                    let below = match theirs {
                        Origin::Base => true,
                        Origin::Layer(t) => t < mine,
                    };
                    below && overlaps(w, o)
                });
            if let Some(o) = lower {
                let from = match (origin.get(&o.id), base) {
                    (Some(Origin::Base), Some((path, _))) => {
                        format!("{} line {}", path.display(), o.line)
                    }
                    _ => format!("line {}", o.line),
                };
                diags.push(
                    Diagnostic::error(
                        format!(
                            "widget `{}` overlaps widget `{}` of a lower layer on page `{}`",
                            w.id, o.id, page.id
                        ),
                        "",
                        w.span.clone(),
                        format!("this tile covers {}", cells(w)),
                    )
                    .with_note(format!("`{}` ({from}) covers {}", o.id, cells(o)))
                    .with_help(format!(
                        "move this tile, or add \"{}\" to this section's `remove`",
                        o.id
                    )),
                );
            }
        }
    }

    let mut pages = pages.into_iter();
    let home = pages.next().expect("the home page is always first");
    (
        RoleDesk {
            home,
            pages: pages.collect(),
            remove: Vec::new(),
        },
        diags,
    )
}

/// Composes every overlay (`extends = "global"`) in `layouts` onto the
/// global layout, in place. Returns the problems found, each with the index
/// of the layout whose file it points into.
pub fn compose(layouts: &mut [Layout]) -> Vec<(usize, Diagnostic)> {
    let mut out = Vec::new();
    let global = layouts
        .iter()
        .position(|l| l.teams.is_empty() && l.extends.is_none())
        .map(|g| layouts[g].clone());
    for (i, layout) in layouts.iter_mut().enumerate() {
        let Some(extends) = &layout.extends else {
            continue;
        };
        let Some(global) = &global else {
            out.push((
                i,
                Diagnostic::error(
                    "there is no global layout to extend",
                    "extends",
                    extends.span.clone(),
                    "extends nothing",
                )
                .with_help(
                    "serve a global layout (one without `teams`) with this one, \
                     or leave `extends` out so that this layout replaces it",
                ),
            ));
            continue;
        };
        let mut sections = layout.sections.clone();
        for desk in sections.all.iter_mut().chain(sections.roles.values_mut()) {
            for w in widgets_mut(desk) {
                w.limits = w.limits.or(&global.limits);
            }
        }
        let mut roles = std::collections::BTreeMap::new();
        for role in Role::ALL {
            let layers: Vec<&RoleDesk> = sections
                .all
                .iter()
                .chain(sections.roles.get(&role))
                .collect();
            let base = global.roles.get(&role);
            let desk = match (base, layers.is_empty()) {
                (None, true) => continue,
                (Some(b), true) => b.clone(),
                (b, false) => {
                    let (desk, diags) = merge(b.map(|b| (global.path.as_path(), b)), &layers);
                    out.extend(diags.into_iter().map(|d| (i, d)));
                    desk
                }
            };
            roles.insert(role, desk);
        }
        layout.roles = roles;
        if layout.title.is_empty() {
            layout.title = global.title.clone();
        }
        if layout.logo.is_none() {
            layout.logo = global.logo.clone();
        }
        layout.limits = layout.limits.or(&global.limits);
        let mut plugins = global.plugins.clone();
        plugins.extend(std::mem::take(&mut layout.plugins));
        layout.plugins = plugins;
        let mut required = global.required_collaboration.clone();
        for r in std::mem::take(&mut layout.required_collaboration) {
            if !required.contains(&r) {
                required.push(r);
            }
        }
        layout.required_collaboration = required;
    }
    out
}

/// Removes the widget `id` from whichever page has it.
fn take(pages: &mut [Page], id: &str) -> Option<Widget> {
    pages.iter_mut().find_map(|p| {
        let at = p.widgets.iter().position(|w| w.id == id)?;
        Some(p.widgets.remove(at))
    })
}

fn widgets_mut(desk: &mut RoleDesk) -> impl Iterator<Item = &mut Widget> {
    std::iter::once(&mut desk.home)
        .chain(desk.pages.iter_mut())
        .flat_map(|p| p.widgets.iter_mut())
}

/// A tile's cells: column, width, row, height.
pub(super) type Cells = (u8, u8, u16, u16);

/// Whether two tiles share a cell.
pub(super) fn cells_overlap(a: Cells, b: Cells) -> bool {
    let ((ac, aw, ar, ah), (bc, bw, br, bh)) = (a, b);
    ac < bc + bw && bc < ac + aw && ar < br + bh && br < ar + ah
}

/// "columns 1-4, rows 1-3".
pub(super) fn describe_cells((c, w, r, h): Cells) -> String {
    format!("columns {}-{}, rows {}-{}", c, c + w - 1, r, r + h - 1)
}

fn overlaps(a: &Widget, b: &Widget) -> bool {
    cells_overlap(a.cells(), b.cells())
}

fn cells(w: &Widget) -> String {
    describe_cells(w.cells())
}
