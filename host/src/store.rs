//! Persistent storage: SQLite in the data directory, behind the
//! [`KvStore`] trait so that a shared server store can replace it later.
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

/// Migrations, in order; entry `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &["CREATE TABLE plugin_kv (
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
        PRIMARY KEY (plugin, key)
    ) WITHOUT ROWID;"];

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
