//! A write-through copy of live sessions in memory, so that a signed-in
//! request finds its session without a SQLite read on the blocking pool.
//! Every session write goes through [`super::Auth`], which updates this
//! copy as it updates the store; the store stays the source of truth (a
//! restart starts with an empty cache and reads sessions back as needed).
//! Sessions are kept parsed, so a request pays for no JSON decoding.

use std::collections::HashMap;
use std::sync::Mutex;

use super::SessionData;
use crate::store::StoredSession;

/// A session as kept in memory: its state, parsed, and its times.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedSession {
    /// Its state; `None` when the stored JSON does not read (a damaged
    /// session: it ends on its next use).
    pub data: Option<SessionData>,
    /// Unix ms of creation.
    pub created_ms: u64,
    /// Unix ms of the last request.
    pub last_seen_ms: u64,
}

impl CachedSession {
    /// The in-memory form of a session read from the store.
    pub fn from_stored(stored: &StoredSession) -> Self {
        CachedSession {
            data: serde_json::from_str(&stored.data).ok(),
            created_ms: stored.created_ms,
            last_seen_ms: stored.last_seen_ms,
        }
    }
}

/// Most sessions kept; past it the cache starts again empty (anonymous
/// sign-in pages each create a session, so the count is not bounded by
/// the number of users).
pub const CAPACITY: usize = 50_000;

/// Sessions by the hash of their token.
#[derive(Default)]
pub struct SessionCache {
    sessions: Mutex<HashMap<Vec<u8>, CachedSession>>,
    /// Held while a missing session is read from the store and kept, and
    /// while one is deleted from the store and forgotten, so that a read
    /// racing a sign-out cannot put the signed-out session back.
    store_order: Mutex<()>,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, CachedSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached session with this id hash.
    pub fn get(&self, id_hash: &[u8]) -> Option<CachedSession> {
        self.lock().get(id_hash).cloned()
    }

    /// The session with this id hash, from memory or else from `load`
    /// (the store), which is then kept.
    pub fn get_or_load<E>(
        &self,
        id_hash: &[u8],
        load: impl FnOnce() -> Result<Option<StoredSession>, E>,
    ) -> Result<Option<CachedSession>, E> {
        if let Some(s) = self.get(id_hash) {
            return Ok(Some(s));
        }
        let _order = self.store_order.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = self.get(id_hash) {
            return Ok(Some(s));
        }
        let loaded = load()?.map(|s| (s.id_hash.clone(), CachedSession::from_stored(&s)));
        Ok(loaded.map(|(id_hash, s)| {
            self.put(id_hash, s.clone());
            s
        }))
    }

    /// Deletes a session with `delete` (from the store) and forgets it.
    pub fn remove_with<R>(&self, id_hash: &[u8], delete: impl FnOnce() -> R) -> R {
        let _order = self.store_order.lock().unwrap_or_else(|p| p.into_inner());
        let result = delete();
        self.lock().remove(id_hash);
        result
    }

    /// Keeps `session` with this id hash (as just written to the store).
    pub fn put(&self, id_hash: Vec<u8>, session: CachedSession) {
        let mut sessions = self.lock();
        if sessions.len() >= CAPACITY && !sessions.contains_key(&id_hash) {
            sessions.clear();
        }
        sessions.insert(id_hash, session);
    }

    /// Records a request's time on the cached session.
    pub fn touch(&self, id_hash: &[u8], now_ms: u64) {
        if let Some(s) = self.lock().get_mut(id_hash) {
            s.last_seen_ms = now_ms;
        }
    }

    /// Forgets every session (the store removed some in bulk).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: u8, last_seen_ms: u64) -> StoredSession {
        StoredSession {
            id_hash: vec![id],
            user_id: None,
            station_key: None,
            data: r#"{"csrf":"c","step":"email"}"#.into(),
            created_ms: 1,
            last_seen_ms,
        }
    }

    fn session(last_seen_ms: u64) -> CachedSession {
        CachedSession::from_stored(&stored(0, last_seen_ms))
    }

    #[test]
    fn keeps_touches_and_forgets_sessions() {
        let cache = SessionCache::default();
        cache.put(vec![1], session(10));
        cache.put(vec![2], session(10));
        cache.touch(&[1], 99);
        assert_eq!(cache.get(&[1]).unwrap().last_seen_ms, 99);
        let deleted = cache.remove_with(&[1], || "deleted");
        assert_eq!(deleted, "deleted");
        assert_eq!(cache.get(&[1]), None);
        assert_eq!(cache.len(), 1);
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn a_missing_session_is_loaded_once_and_kept() {
        let cache = SessionCache::default();
        let loaded = cache.get_or_load::<()>(&[3], || Ok(Some(stored(3, 5))));
        let loaded = loaded.unwrap().unwrap();
        assert_eq!(loaded.last_seen_ms, 5);
        assert_eq!(loaded.data.unwrap().csrf, "c", "kept parsed");
        let again = cache.get_or_load::<()>(&[3], || panic!("read from the store again"));
        assert!(again.unwrap().is_some());
        let unknown = cache.get_or_load::<()>(&[4], || Ok(None));
        assert_eq!(unknown, Ok(None));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_starts_again_rather_than_growing() {
        let cache = SessionCache::default();
        for i in 0..CAPACITY {
            cache.put((i as u64).to_le_bytes().to_vec(), session(1));
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put(vec![1], session(1));
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&[1]).is_some());
    }
}
