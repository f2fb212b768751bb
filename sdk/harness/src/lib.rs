//! # deskhost-harness
//!
//! Tests for deskhost widget plugins against their real, built WebAssembly
//! component, in-process and without a server: the harness runs the
//! component on the host's own runtime (the same engine configuration,
//! limits, linker, imports and view sanitising as `deskhost serve`) with a
//! fake host around it:
//!
//! - contact-center data from plain [`Fixtures`] (agents, teams, queues,
//!   the day's figures, the viewer's own state), which also record the
//!   state changes a widget asks for;
//! - a fixed clock (Unix time in ms, and the viewer's time zone);
//! - settings, with the widget's declared defaults filled in and checked
//!   exactly as a layout's are (a wrong setting fails [`HarnessBuilder::build`]
//!   with the host's own message);
//! - grants (`contact-center`, `agent-control`, `kv`), none by default as
//!   on the host;
//! - the viewer (user id, display name, role, team, locale).
//!
//! [`Harness::render`] and [`Harness::action`] return a [`Rendered`] view:
//! typed blocks to assert on, a deterministic text form for snapshot tests
//! ([`Rendered::to_snapshot`]) and the HTML the host serves for the tile
//! ([`Rendered::html`]). A widget's failures come back as a typed
//! [`CallError`] with the message.
//!
//! A widget crate's integration test (`tests/component.rs`, with
//! `deskhost-harness` as a dev-dependency):
//!
//! ```no_run
//! use deskhost_harness::{AgentState, Fixtures, Widget, agent};
//!
//! let widget = Widget::build(env!("CARGO_MANIFEST_DIR")).unwrap();
//! let harness = widget
//!     .harness()
//!     .grant("contact-center")
//!     .setting("teams", ["sales"])
//!     .fixtures(
//!         Fixtures::new()
//!             .team("sales", "Sales")
//!             .agent(agent("a1", "Ana Lima", "sales").idle("Lunch")),
//!     )
//!     .build()
//!     .unwrap();
//! let view = harness.render().unwrap();
//! assert!(view.to_snapshot().contains("\"Ana Lima\""));
//! assert_eq!(harness.fixtures().agent_state("a1"), Some(AgentState::Idle));
//! ```
//!
//! [`Widget::build`] builds the crate with a nested `cargo build --target
//! wasm32-wasip2` into its own target directory (by default the workspace's
//! `target/wasm-plugins`, the one deskhost's `build.rs` uses), so it never
//! waits on the lock of the `cargo test` that runs it.

#![warn(missing_docs)]

mod error;
mod fixtures;
mod harness;
mod rendered;
mod widget;

pub use error::{CallError, Error};
pub use fixtures::{
    AgentFixture, DEFAULT_NOW_MS, Fixtures, QueueFixture, StateChange, agent, day, queue,
};
pub use harness::{Harness, HarnessBuilder, SettingInput, Viewer};
pub use rendered::{Rendered, cell_text};
pub use widget::Widget;

/// Contact-center data types, as the host's `ContactCenter` trait has them.
pub use deskhost::contact_center::{
    Agent, AgentState, DataError, DayStats, OwnState, Queue, Stats, Task, Team,
};
/// The host's setting values, for [`HarnessBuilder::setting`].
pub use deskhost::plugin::SettingValue;
/// The host's side of the WIT types: views, blocks, the viewer's context.
pub use deskhost::runtime::types;
pub use deskhost::runtime::types::{
    Alert, Badge, Block, Button, Cell, Chart, KeyValue, ListItem, Progress, Role, Stat, Table,
    Tone, View,
};
