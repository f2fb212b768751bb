//! Persistent storage: SQLite in the data directory, behind the
//! [`KvStore`] and [`SessionStore`] traits so that a shared server store
//! can replace it later: plugin key-value data, sessions, remembered
//! station credentials and sign-in attempt counters.
//! Schema migrations are versioned with SQLite's `user_version`.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer deskhost.
    #[error(
        "the database schema is version {found}, newer than this deskhost understands ({known}); \
         upgrade deskhost or restore a backup"
    )]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Highest version this build knows.
        known: i64,
    },
}

/// Key-value storage namespaced by plugin id.
pub trait KvStore: Send + Sync {
    /// Reads `key` of `plugin`.
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes `key` of `plugin`.
    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key` of `plugin`.
    fn delete(&self, plugin: &str, key: &str) -> Result<(), StoreError>;
}

/// A session as stored: the host's session state is opaque JSON here.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// SHA-256 of the session token (the token itself is never stored).
    pub id_hash: Vec<u8>,
    /// The signed-in user, once the password step passed.
    pub user_id: Option<String>,
    /// `telephony:number` of the accepted station, for uniqueness checks.
    pub station_key: Option<String>,
    /// The rest of the session, as JSON.
    pub data: String,
    /// Unix ms of creation (sign-in rotates it).
    pub created_ms: u64,
    /// Unix ms of the last request.
    pub last_seen_ms: u64,
}

/// Failed sign-in attempts under one key (an account or a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// Failures in the current window.
    pub failures: u32,
    /// Unix ms when the window started.
    pub window_start_ms: u64,
    /// Unix ms until which the key is locked (0: not locked).
    pub locked_until_ms: u64,
}

/// Storage for sessions, remembered station credentials and sign-in
/// attempt counters.
pub trait SessionStore: Send + Sync {
    /// The session whose token hashes to `id_hash`.
    fn session(&self, id_hash: &[u8]) -> Result<Option<StoredSession>, StoreError>;
    /// Creates or replaces a session.
    fn put_session(&self, session: &StoredSession) -> Result<(), StoreError>;
    /// Records a request at `now_ms`.
    fn touch_session(&self, id_hash: &[u8], now_ms: u64) -> Result<(), StoreError>;
    /// Removes a session.
    fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError>;
    /// Whether a session of a user other than `user_id`, seen since
    /// `seen_since_ms`, holds `station_key`.
    fn station_taken(
        &self,
        station_key: &str,
        user_id: &str,
        seen_since_ms: u64,
    ) -> Result<bool, StoreError>;
    /// Removes sessions idle since before `idle_before_ms` or created
    /// before `created_before_ms`; returns how many.
    fn purge_sessions(
        &self,
        idle_before_ms: u64,
        created_before_ms: u64,
    ) -> Result<usize, StoreError>;
    /// A user's remembered station credentials (JSON).
    fn remembered_station(&self, user_id: &str) -> Result<Option<String>, StoreError>;
    /// Remembers a user's station credentials (JSON).
    fn remember_station(&self, user_id: &str, data: &str) -> Result<(), StoreError>;
    /// Forgets a user's station credentials.
    fn forget_station(&self, user_id: &str) -> Result<(), StoreError>;
    /// The attempt counters of `key`.
    fn attempts(&self, key: &str) -> Result<Attempts, StoreError>;
    /// Replaces the attempt counters of `key`.
    fn set_attempts(&self, key: &str, attempts: Attempts) -> Result<(), StoreError>;
}

/// A user's connection to one collaboration tool, as stored. The tokens
/// are encrypted by the caller; the store never sees them in clear.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenRow {
    /// The desktop user.
    pub user_id: String,
    /// The collaboration plugin.
    pub plugin: String,
    /// `success` or `failed`.
    pub status: String,
    /// Why it failed, for the user.
    pub reason: Option<String>,
    /// Unix ms of the last successful connect or refresh.
    pub last_success_ms: Option<u64>,
    /// Nonce of the encrypted tokens (empty when there are none).
    pub nonce: Vec<u8>,
    /// The encrypted tokens (empty when there are none).
    pub sealed: Vec<u8>,
}

/// Storage for collaboration tokens (already encrypted).
pub trait TokenStore: Send + Sync {
    /// The row of `user_id` and `plugin`.
    fn token_row(&self, user_id: &str, plugin: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Creates or replaces a row.
    fn put_token_row(&self, row: &TokenRow) -> Result<(), StoreError>;
    /// Removes a row.
    fn delete_token_row(&self, user_id: &str, plugin: &str) -> Result<(), StoreError>;
}

/// Migrations, in order; entry `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE plugin_kv (
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
        PRIMARY KEY (plugin, key)
    ) WITHOUT ROWID;",
    "CREATE TABLE sessions (
        id_hash BLOB PRIMARY KEY,
        user_id TEXT,
        station_key TEXT,
        data TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL
    );
    CREATE INDEX sessions_station ON sessions (station_key) WHERE station_key IS NOT NULL;
    CREATE INDEX sessions_last_seen ON sessions (last_seen_ms);
    CREATE TABLE remembered_stations (
        user_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    );
    CREATE TABLE sign_in_attempts (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        window_start_ms INTEGER NOT NULL,
        locked_until_ms INTEGER NOT NULL
    );",
    "CREATE TABLE collab_tokens (
        user_id TEXT NOT NULL,
        plugin TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        last_success_ms INTEGER,
        nonce BLOB NOT NULL,
        sealed BLOB NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (user_id, plugin)
    ) WITHOUT ROWID;",
];

/// The embedded default store: one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) `deskhost.sqlite3` in `data_dir` and
    /// applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::from_connection(Connection::open(data_dir.join("deskhost.sqlite3"))?)
    }

    /// An in-memory store, for tests and `deskhost check`.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                found: version,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "store schema migrated");
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl KvStore for SqliteStore {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM plugin_kv WHERE plugin = ?1 AND key = ?2")?
            .query_row(params![plugin, key], |r| r.get(0))
            .optional()?)
    }

    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO plugin_kv (plugin, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value,
                 updated_at = unixepoch()",
            )?
            .execute(params![plugin, key, value])?;
        Ok(())
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("DELETE FROM plugin_kv WHERE plugin = ?1 AND key = ?2")?
            .execute(params![plugin, key])?;
        Ok(())
    }
}

impl SessionStore for SqliteStore {
    fn session(&self, id_hash: &[u8]) -> Result<Option<StoredSession>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT user_id, station_key, data, created_ms, last_seen_ms
                 FROM sessions WHERE id_hash = ?1",
            )?
            .query_row(params![id_hash], |r| {
                Ok(StoredSession {
                    id_hash: id_hash.to_vec(),
                    user_id: r.get(0)?,
                    station_key: r.get(1)?,
                    data: r.get(2)?,
                    created_ms: r.get::<_, i64>(3)? as u64,
                    last_seen_ms: r.get::<_, i64>(4)? as u64,
                })
            })
            .optional()?)
    }

    fn put_session(&self, s: &StoredSession) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions (id_hash, user_id, station_key, data, created_ms, last_seen_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id,
                 station_key = excluded.station_key, data = excluded.data,
                 created_ms = excluded.created_ms, last_seen_ms = excluded.last_seen_ms",
            )?
            .execute(params![
                s.id_hash,
                s.user_id,
                s.station_key,
                s.data,
                s.created_ms as i64,
                s.last_seen_ms as i64
            ])?;
        Ok(())
    }

    fn touch_session(&self, id_hash: &[u8], now_ms: u64) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("UPDATE sessions SET last_seen_ms = ?2 WHERE id_hash = ?1")?
            .execute(params![id_hash, now_ms as i64])?;
        Ok(())
    }

    fn delete_session(&self, id_hash: &[u8]) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")?
            .execute(params![id_hash])?;
        Ok(())
    }

    fn station_taken(
        &self,
        station_key: &str,
        user_id: &str,
        seen_since_ms: u64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT 1 FROM sessions WHERE station_key = ?1 AND user_id IS NOT ?2
                 AND last_seen_ms >= ?3 LIMIT 1",
            )?
            .query_row(params![station_key, user_id, seen_since_ms as i64], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    fn purge_sessions(
        &self,
        idle_before_ms: u64,
        created_before_ms: u64,
    ) -> Result<usize, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("DELETE FROM sessions WHERE last_seen_ms < ?1 OR created_ms < ?2")?
            .execute(params![idle_before_ms as i64, created_before_ms as i64])?)
    }

    fn remembered_station(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT data FROM remembered_stations WHERE user_id = ?1")?
            .query_row(params![user_id], |r| r.get(0))
            .optional()?)
    }

    fn remember_station(&self, user_id: &str, data: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO remembered_stations (user_id, data, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,
                 updated_ms = excluded.updated_ms",
            )?
            .execute(params![user_id, data, crate::now_ms() as i64])?;
        Ok(())
    }

    fn forget_station(&self, user_id: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("DELETE FROM remembered_stations WHERE user_id = ?1")?
            .execute(params![user_id])?;
        Ok(())
    }

    fn attempts(&self, key: &str) -> Result<Attempts, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT failures, window_start_ms, locked_until_ms FROM sign_in_attempts
                 WHERE key = ?1",
            )?
            .query_row(params![key], |r| {
                Ok(Attempts {
                    failures: r.get(0)?,
                    window_start_ms: r.get::<_, i64>(1)? as u64,
                    locked_until_ms: r.get::<_, i64>(2)? as u64,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    fn set_attempts(&self, key: &str, a: Attempts) -> Result<(), StoreError> {
        let conn = self.conn();
        if a == Attempts::default() {
            conn.prepare_cached("DELETE FROM sign_in_attempts WHERE key = ?1")?
                .execute(params![key])?;
        } else {
            conn.prepare_cached(
                "INSERT INTO sign_in_attempts (key, failures, window_start_ms, locked_until_ms)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
                 window_start_ms = excluded.window_start_ms,
                 locked_until_ms = excluded.locked_until_ms",
            )?
            .execute(params![
                key,
                a.failures,
                a.window_start_ms as i64,
                a.locked_until_ms as i64
            ])?;
        }
        Ok(())
    }
}

impl TokenStore for SqliteStore {
    fn token_row(&self, user_id: &str, plugin: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT status, reason, last_success_ms, nonce, sealed FROM collab_tokens
                 WHERE user_id = ?1 AND plugin = ?2",
            )?
            .query_row(params![user_id, plugin], |r| {
                Ok(TokenRow {
                    user_id: user_id.to_owned(),
                    plugin: plugin.to_owned(),
                    status: r.get(0)?,
                    reason: r.get(1)?,
                    last_success_ms: r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                    nonce: r.get(3)?,
                    sealed: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn put_token_row(&self, row: &TokenRow) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO collab_tokens
                 (user_id, plugin, status, reason, last_success_ms, nonce, sealed, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (user_id, plugin) DO UPDATE SET status = excluded.status,
                 reason = excluded.reason, last_success_ms = excluded.last_success_ms,
                 nonce = excluded.nonce, sealed = excluded.sealed,
                 updated_ms = excluded.updated_ms",
            )?
            .execute(params![
                row.user_id,
                row.plugin,
                row.status,
                row.reason,
                row.last_success_ms.map(|v| v as i64),
                row.nonce,
                row.sealed,
                crate::now_ms() as i64
            ])?;
        Ok(())
    }

    fn delete_token_row(&self, user_id: &str, plugin: &str) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached("DELETE FROM collab_tokens WHERE user_id = ?1 AND plugin = ?2")?
            .execute(params![user_id, plugin])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_is_namespaced_and_persisted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SqliteStore::open(dir.path()).unwrap();
            s.set("a", "k", b"1").unwrap();
            s.set("b", "k", b"2").unwrap();
            s.set("a", "k", b"3").unwrap();
        }
        let s = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(s.get("a", "k").unwrap().as_deref(), Some(&b"3"[..]));
        assert_eq!(s.get("b", "k").unwrap().as_deref(), Some(&b"2"[..]));
        s.delete("a", "k").unwrap();
        assert_eq!(s.get("a", "k").unwrap(), None);
    }

    #[test]
    fn sessions_survive_a_reopen_and_stations_are_unique_per_user() {
        let dir = tempfile::tempdir().unwrap();
        let session = StoredSession {
            id_hash: vec![1, 2, 3],
            user_id: Some("u1".into()),
            station_key: Some("dial-number:+14155550100".into()),
            data: "{}".into(),
            created_ms: 1000,
            last_seen_ms: 2000,
        };
        {
            let s = SqliteStore::open(dir.path()).unwrap();
            s.put_session(&session).unwrap();
            s.remember_station("u1", "{\"x\":1}").unwrap();
        }
        let s = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(s.session(&[1, 2, 3]).unwrap(), Some(session.clone()));
        assert_eq!(
            s.remembered_station("u1").unwrap().as_deref(),
            Some("{\"x\":1}")
        );
        let key = "dial-number:+14155550100";
        assert!(s.station_taken(key, "u2", 0).unwrap());
        assert!(!s.station_taken(key, "u1", 0).unwrap(), "own session");
        assert!(!s.station_taken(key, "u2", 2001).unwrap(), "idle session");
        s.touch_session(&[1, 2, 3], 5000).unwrap();
        assert_eq!(s.purge_sessions(4000, 0).unwrap(), 0);
        assert_eq!(s.purge_sessions(6000, 0).unwrap(), 1);
        assert_eq!(s.session(&[1, 2, 3]).unwrap(), None);
    }

    #[test]
    fn attempt_counters_round_trip_and_clear() {
        let s = SqliteStore::in_memory().unwrap();
        let a = Attempts {
            failures: 3,
            window_start_ms: 10,
            locked_until_ms: 0,
        };
        s.set_attempts("account:x", a).unwrap();
        assert_eq!(s.attempts("account:x").unwrap(), a);
        s.set_attempts("account:x", Attempts::default()).unwrap();
        assert_eq!(s.attempts("account:x").unwrap(), Attempts::default());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("deskhost.sqlite3")).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = SqliteStore::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("version 99"), "{err}");
    }
}
