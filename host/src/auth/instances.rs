//! One live window per user. The desktop cannot be open in several
//! browsers or tabs at once: each window (a browser tab, identified by an
//! id the page keeps in its session storage) asks to be live when its live
//! stream connects. The first window is live; a later one is told the
//! desktop is open elsewhere until the user clicks Continue, which makes it
//! live and tells the old window its session moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A window whose live stream dropped stays live this long, so that a page
/// reload or a brief network drop does not hand the desktop to another one.
const GRACE_MS: u64 = 5_000;

/// Whether a window may show the desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// This window is the user's live one.
    Live,
    /// Another window is live; this one shows the Continue prompt.
    Elsewhere,
}

#[derive(Debug)]
struct Live {
    window: String,
    connections: u32,
    last_seen_ms: u64,
}

/// The live window of every signed-in user. Kept in memory: after a
/// restart, the first window to reconnect becomes live.
#[derive(Debug, Default)]
pub struct Instances {
    live: Mutex<HashMap<String, Live>>,
}

/// Held while a live window's stream is open; releases it when dropped.
pub struct Connected {
    instances: Arc<Instances>,
    user: String,
    window: String,
}

impl Drop for Connected {
    fn drop(&mut self) {
        let mut live = self.instances.lock();
        if let Some(l) = live.get_mut(&self.user)
            && l.window == self.window
        {
            l.connections = l.connections.saturating_sub(1);
            l.last_seen_ms = crate::now_ms();
        }
    }
}

impl Instances {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A window's stream connects. It becomes live when the user has no
    /// other live window in use; the returned guard keeps it marked in use.
    pub fn connect(
        self: &Arc<Self>,
        user: &str,
        window: &str,
        now_ms: u64,
    ) -> (Presence, Option<Connected>) {
        let mut live = self.lock();
        let claim = match live.get(user) {
            None => true,
            Some(l) if l.window == window => true,
            Some(l) => l.connections == 0 && now_ms.saturating_sub(l.last_seen_ms) > GRACE_MS,
        };
        if !claim {
            return (Presence::Elsewhere, None);
        }
        let entry = live.entry(user.to_owned()).or_insert_with(|| Live {
            window: window.to_owned(),
            connections: 0,
            last_seen_ms: now_ms,
        });
        if entry.window != window {
            tracing::info!(user, "desktop window replaced an idle one");
            entry.window = window.to_owned();
            entry.connections = 0;
        }
        entry.connections += 1;
        entry.last_seen_ms = now_ms;
        let guard = Connected {
            instances: self.clone(),
            user: user.to_owned(),
            window: window.to_owned(),
        };
        (Presence::Live, Some(guard))
    }

    /// The user clicked Continue in `window`: it becomes the live one.
    pub fn take_over(&self, user: &str, window: &str, now_ms: u64) {
        tracing::info!(user, "desktop moved to another window");
        self.lock().insert(
            user.to_owned(),
            Live {
                window: window.to_owned(),
                connections: 0,
                last_seen_ms: now_ms,
            },
        );
    }

    /// Whether `window` is the user's live window (or no window is live).
    pub fn is_live(&self, user: &str, window: &str) -> bool {
        self.lock().get(user).is_none_or(|l| l.window == window)
    }

    /// Forgets the user's windows (sign-out).
    pub fn forget(&self, user: &str) {
        self.lock().remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_window_is_live_and_a_second_one_must_continue() {
        let i = Arc::new(Instances::default());
        let (p, a) = i.connect("u", "A", 1000);
        assert_eq!(p, Presence::Live);
        assert_eq!(i.connect("u", "B", 1000).0, Presence::Elsewhere);
        assert_eq!(i.connect("other", "C", 1000).0, Presence::Live);
        i.take_over("u", "B", 2000);
        assert!(!i.is_live("u", "A"));
        assert!(i.is_live("u", "B"));
        drop(a);
        assert!(i.is_live("u", "B"), "the old window's drop changes nothing");
        assert_eq!(i.connect("u", "A", 3000).0, Presence::Elsewhere);
    }

    #[test]
    fn a_window_gone_for_longer_than_the_grace_period_is_replaced() {
        let i = Arc::new(Instances::default());
        let (_, a) = i.connect("u", "A", 1000);
        drop(a);
        let now = crate::now_ms();
        assert_eq!(i.connect("u", "B", now + 1000).0, Presence::Elsewhere);
        assert_eq!(i.connect("u", "B", now + GRACE_MS + 1).0, Presence::Live);
    }
}
