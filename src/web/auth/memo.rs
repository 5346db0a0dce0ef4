//! Session records kept in memory in front of the PostgreSQL store
//! (tower-sessions' `CachingSessionStore`), so that reading who is signed in costs no
//! round trip of its own. It is safe because every signed-in request still asks the
//! database whether its session stands, in the same query that loads the account
//! (`db::sessions::signed_in`), or, for a tick on a remembered portfolio read, in the
//! tick's own statement (`web::portfolio::remembered`): a session signed out on another
//! server, or expired, opens nothing even while its record is remembered here.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// At most this many records; beyond it the expired go first, then the rest.
const MAX_RECORDS: usize = 50_000;

/// Cloned with the router's layers; every clone shares the one map.
#[derive(Debug, Clone, Default)]
pub struct SessionMemo {
    records: Arc<Mutex<HashMap<Id, Record>>>,
}

impl SessionMemo {
    fn keep(&self, record: &Record) {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() >= MAX_RECORDS && !records.contains_key(&record.id) {
            let now = OffsetDateTime::now_utc();
            records.retain(|_, r| r.expiry_date > now);
            if records.len() >= MAX_RECORDS {
                // Only a cost: forgotten records are read from the database again.
                records.clear();
            }
        }
        records.insert(record.id, record.clone());
    }
}

#[async_trait]
impl SessionStore for SessionMemo {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.keep(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.keep(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        Ok(records
            .get(id)
            .filter(|r| r.expiry_date > OffsetDateTime::now_utc())
            .cloned())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn record(id: i128, expires_in: Duration) -> Record {
        Record {
            id: Id(id),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn a_kept_record_loads_until_deleted() {
        let memo = SessionMemo::default();
        let mut r = record(7, Duration::hours(1));
        memo.create(&mut r).await.expect("create");
        assert_eq!(memo.load(&Id(7)).await.expect("load"), Some(r));
        memo.delete(&Id(7)).await.expect("delete");
        assert_eq!(memo.load(&Id(7)).await.expect("load"), None);
    }

    #[tokio::test]
    async fn an_expired_record_is_not_loaded() {
        let memo = SessionMemo::default();
        memo.save(&record(8, Duration::seconds(-1)))
            .await
            .expect("save");
        assert_eq!(memo.load(&Id(8)).await.expect("load"), None);
    }

    #[tokio::test]
    async fn the_memo_stays_within_its_bound() {
        let memo = SessionMemo::default();
        for i in 0..(MAX_RECORDS as i128 + 10) {
            memo.save(&record(i, Duration::hours(1)))
                .await
                .expect("save");
        }
        let kept = memo.records.lock().expect("lock").len();
        assert!(kept <= MAX_RECORDS, "{kept} records kept");
        assert!(memo
            .load(&Id(MAX_RECORDS as i128 + 9))
            .await
            .expect("load")
            .is_some());
    }
}
