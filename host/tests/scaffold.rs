//! `deskhost new`: each kind of plugin crate it makes builds to a
//! component linked with a small stack, passes its own tests and loads
//! in the host (a widget renders, and its dev layout checks); bad names
//! and existing directories are refused with exit status 2, like
//! `check`'s unusable arguments. And `deskhost dev` refuses what is not a
//! plugin crate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use deskhost::contact_center::Simulator;
use deskhost::plugin::PluginKind;
use deskhost::runtime::{Call, MEMORY_KEPT_RESIDENT, Runtime, Services, setting_to_wit, types};
use deskhost::store::SqliteStore;

fn deskhost() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deskhost"));
    c.arg("--data-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-data"));
    c.env("RUST_LOG", "warn");
    c
}

/// One cargo target directory for every generated crate (and the dev
/// loop's test), so that they share their dependencies' builds.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-target")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs cargo in `dir` with the shared target directory; panics with its
/// output unless it succeeds.
fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", shared_target())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} in {dir:?}: {}",
        text(&out)
    );
}

fn runtime() -> Runtime {
    Runtime::new(
        &deskhost::config::Limits::default(),
        Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")),
        Services::without_sign_in(
            Arc::new(SqliteStore::in_memory().unwrap()),
            Arc::new(Simulator::new(7, deskhost::now_ms())),
        ),
    )
    .unwrap()
}

#[test]
fn every_kind_builds_passes_its_own_tests_and_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime();
    for (kind, name, expected) in [
        ("widget", "pulse-check", PluginKind::Widget),
        (
            "identity-provider",
            "acme-ids",
            PluginKind::IdentityProvider,
        ),
        (
            "station-provider",
            "acme-stations",
            PluginKind::StationProvider,
        ),
        (
            "collaboration-auth",
            "acme-collab",
            PluginKind::CollaborationAuth,
        ),
    ] {
        let dir = tmp.path().join(name);
        let out = deskhost()
            .args(["new", kind, name, "--dir"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let printed = String::from_utf8_lossy(&out.stdout);
        assert!(printed.contains(&format!("`{name}`")), "{printed}");
        let cargo_toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(cargo_toml.contains("\n[workspace]\n"), "{cargo_toml}");
        assert!(
            cargo_toml.contains("crate-type = [\"cdylib\", \"rlib\"]"),
            "{cargo_toml}"
        );
        assert!(dir.join("README.md").is_file());

        cargo(&dir, &["build", "--target", "wasm32-wasip2", "--release"]);
        cargo(&dir, &["test"]);

        let wasm = shared_target()
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let wasm = std::fs::read(&wasm).unwrap();
        let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
        let plugin = rt
            .load(&manifest, &wasm, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plugin.info.id, name);
        assert_eq!(plugin.info.kind, expected);
        assert_eq!(plugin.info.version.to_string(), "0.1.0");
        // Linked with the template's 64 KiB stack, not Rust's 1 MiB: the
        // host resets this memory after every call.
        assert!(
            plugin.starting_memory <= MEMORY_KEPT_RESIDENT,
            "{name} starts with {} bytes of linear memory: is build.rs setting the stack size?",
            plugin.starting_memory
        );
        if expected != PluginKind::Widget {
            assert!(!dir.join("dev-layout.toml").exists());
            continue;
        }

        // The widget renders on its defaults, as a layout without settings
        // has it.
        let settings: Vec<types::Setting> = plugin
            .info
            .settings
            .iter()
            .map(|s| setting_to_wit(&s.name, s.default.as_ref().unwrap()))
            .collect();
        let context = types::Context {
            user_id: "u1".into(),
            display_name: "Dana".into(),
            role: types::Role::Supervisor,
            team: None,
            locale: "en-US".into(),
            time_zone: "Europe/Paris".into(),
        };
        let view = rt
            .render(
                &plugin,
                &Call {
                    widget: "w",
                    grants: Arc::from([]),
                    limits: rt.default_call_limits(),
                    context: &context,
                    settings: &settings,
                },
            )
            .unwrap();
        let shown = format!("{:?}", view.blocks);
        assert!(
            matches!(&view.blocks[0], types::Block::Heading(h) if h == "Hello, Dana"),
            "{shown}"
        );
        assert!(
            shown.contains("This tile comes from the pulse-check plugin."),
            "{shown}"
        );
        assert!(shown.contains("Your local time"), "{shown}");

        // Its dev layout is valid against it.
        let plugins = tmp.path().join("plugins");
        std::fs::create_dir_all(plugins.join(name)).unwrap();
        std::fs::write(plugins.join(name).join("plugin.toml"), &manifest).unwrap();
        std::fs::write(plugins.join(name).join("plugin.wasm"), &wasm).unwrap();
        let out = deskhost()
            .arg("--plugins")
            .arg(&plugins)
            .arg("check")
            .arg(dir.join("dev-layout.toml"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
}

#[test]
fn new_refuses_bad_names_and_existing_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let new = |args: &[&str]| {
        let out = deskhost()
            .current_dir(tmp.path())
            .arg("new")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for bad in ["Bad_Name", "1st", "trailing-", "two--hyphens", "with space"] {
        let (code, err) = new(&["widget", bad]);
        assert_eq!(code, Some(2), "{bad}: {err}");
        assert!(
            err.contains(&format!(
                "error: invalid plugin name `{bad}`: use lowercase letters, digits and hyphens"
            )),
            "{bad}: {err}"
        );
        assert!(!tmp.path().join(bad).exists(), "{bad}");
    }
    let (code, err) = new(&["widget", "deskhost-sdk"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("`deskhost-sdk` cannot be a plugin name"),
        "{err}"
    );

    let (code, err) = new(&["gadget", "fine"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("invalid value 'gadget'"), "{err}");

    // An existing directory with something in it is left alone.
    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let (code, err) = new(&["widget", "fine", "--dir", taken.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "error: {} already exists and is not empty",
            taken.display()
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(&taken).unwrap().count(),
        1,
        "nothing was added"
    );

    // An SDK that is not one.
    let (code, err) = new(&["widget", "fine", "--sdk", tmp.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("is not the deskhost SDK"), "{err}");
    assert!(!tmp.path().join("fine").exists());

    // An empty directory is fine, and so is the default `./NAME`.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, err) = new(&["station-provider", "fine", "--dir", empty.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(empty.join("plugin.toml").is_file());
    let (code, err) = new(&["widget", "fine"]);
    assert_eq!(code, Some(0), "{err}");
    let manifest = std::fs::read_to_string(tmp.path().join("fine/plugin.toml")).unwrap();
    assert!(manifest.contains("id = \"fine\""), "{manifest}");
    assert!(manifest.contains("api = \"^0.1\""), "{manifest}");
}

#[test]
fn dev_refuses_what_is_not_a_plugin_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = deskhost().arg("dev").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is not a plugin crate: it has no Cargo.toml"),
        "{err}"
    );
}
