//! Version 0.2.0 of the `hostile` test plugin: the same source, built with
//! its `fixed` feature, so that its `trap` mode behaves. Tests install it
//! next to the broken 0.1.0 to show a quarantined widget recover.

#[path = "../../hostile/src/lib.rs"]
mod hostile;
