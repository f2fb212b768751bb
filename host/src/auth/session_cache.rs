//! A write-through copy of live sessions in memory, so that a signed-in
//! request finds its session without a SQLite read on the blocking pool.
//! Every session write goes through [`super::Auth`], which updates this
//! copy as it updates the store; the store stays the source of truth (a
//! restart starts with an empty cache and reads sessions back as needed).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::StoredSession;

/// Most sessions kept; past it the cache starts again empty (anonymous
/// sign-in pages each create a session, so the count is not bounded by
/// the number of users).
pub const CAPACITY: usize = 50_000;

/// Sessions by the hash of their token.
#[derive(Default)]
pub struct SessionCache {
    sessions: Mutex<HashMap<Vec<u8>, StoredSession>>,
    /// Held while a missing session is read from the store and kept, and
    /// while one is deleted from the store and forgotten, so that a read
    /// racing a sign-out cannot put the signed-out session back.
    store_order: Mutex<()>,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, StoredSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached session with this id hash.
    pub fn get(&self, id_hash: &[u8]) -> Option<StoredSession> {
        self.lock().get(id_hash).cloned()
    }

    /// The session with this id hash, from memory or else from `load`
    /// (the store), which is then kept.
    pub fn get_or_load<E>(
        &self,
        id_hash: &[u8],
        load: impl FnOnce() -> Result<Option<StoredSession>, E>,
    ) -> Result<Option<StoredSession>, E> {
        if let Some(s) = self.get(id_hash) {
            return Ok(Some(s));
        }
        let _order = self.store_order.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = self.get(id_hash) {
            return Ok(Some(s));
        }
        let loaded = load()?;
        if let Some(s) = &loaded {
            self.put(s);
        }
        Ok(loaded)
    }

    /// Deletes a session with `delete` (from the store) and forgets it.
    pub fn remove_with<R>(&self, id_hash: &[u8], delete: impl FnOnce() -> R) -> R {
        let _order = self.store_order.lock().unwrap_or_else(|p| p.into_inner());
        let result = delete();
        self.lock().remove(id_hash);
        result
    }

    /// Keeps `session` (as just written to the store).
    pub fn put(&self, session: &StoredSession) {
        let mut sessions = self.lock();
        if sessions.len() >= CAPACITY && !sessions.contains_key(&session.id_hash) {
            sessions.clear();
        }
        sessions.insert(session.id_hash.clone(), session.clone());
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

    fn session(id: u8, last_seen_ms: u64) -> StoredSession {
        StoredSession {
            id_hash: vec![id],
            user_id: None,
            station_key: None,
            data: "{}".into(),
            created_ms: 1,
            last_seen_ms,
        }
    }

    #[test]
    fn keeps_touches_and_forgets_sessions() {
        let cache = SessionCache::default();
        cache.put(&session(1, 10));
        cache.put(&session(2, 10));
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
        let loaded = cache.get_or_load::<()>(&[3], || Ok(Some(session(3, 5))));
        assert_eq!(loaded.unwrap().unwrap().last_seen_ms, 5);
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
            let mut s = session(0, 1);
            s.id_hash = (i as u64).to_le_bytes().to_vec();
            cache.put(&s);
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put(&session(1, 1));
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&[1]).is_some());
    }
}
