//! Ticks arriving together are written together (`db::batch_writer`): whatever tick
//! changes have queued up go as one statement and one commit
//! (`db::ticks::change_logged_many`). Changes to different ticks commute, whatever
//! their enrolment, so a batch takes one change per tick. Two batches in flight never
//! share an enrolment: each tick moves its enrolment's kept figures, so the second batch
//! would wait, whole, for the first's commit on that one row.
use sqlx::PgConnection;
use uuid::Uuid;

use super::batch_writer::{self, BatchWriter, Batched};
use super::ticks::{self, TickChange, Written};
use super::DbResult;
use crate::domain::ticks::Layer;

/// The handle requests tick through.
pub type TickWriter = BatchWriter<TickChange>;

/// Called with each batch of ticks before it is written (fault injection in tests).
pub type BatchHook = batch_writer::BatchHook<TickChange>;

impl Batched for TickChange {
    /// The tick it changes.
    type Slot = (Uuid, Uuid, Layer);
    type Group = Uuid;
    type Outcome = Written;
    const WHAT: &'static str = "tick";

    fn slot(&self) -> Self::Slot {
        (self.evidence_id, self.criterion_id, self.layer)
    }

    fn group(&self) -> Uuid {
        self.enrolment_id
    }

    async fn write_one(connection: &mut PgConnection, change: &Self) -> DbResult<Written> {
        ticks::change_logged(connection, change).await
    }

    async fn write_many(connection: &mut PgConnection, changes: &[Self]) -> DbResult<Vec<Written>> {
        ticks::change_logged_many(connection, changes).await
    }
}
