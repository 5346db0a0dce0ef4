//! Ticks arriving together are written together. Each tick is its own small
//! transaction, and on a busy server most of its cost is the statement and the commit,
//! not the tick: so requests hand their change to one writer, which sends whatever
//! changes have queued up as one statement and one commit
//! (`db::ticks::change_logged_many`), with up to `WRITERS` statements in flight. A lone
//! tick goes at once, as it would alone; under load the batches grow by themselves.
//! Each change still answers only for itself.
//!
//! Nothing that goes wrong in it stops ticking: a batch that panics answers its own
//! requests with an error and frees its ticks for the next change, and a writer task
//! that is gone (it panicked, or its runtime ended) is replaced by the next tick.
use std::collections::{HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::leased::Leased;
use super::ticks::{self, ChangeOutcome, TickChange};
use super::{DbError, DbResult};
use crate::domain::ticks::Layer;

/// At most this many changes go in one statement.
const MOST: usize = 64;

type Reply = oneshot::Sender<DbResult<ChangeOutcome>>;
type Queue = mpsc::UnboundedSender<(TickChange, Reply)>;
/// The running writer: its queue, and its task (to end it in a test).
type Running = (Queue, tokio::task::AbortHandle);

/// Called with each batch just before it is written: how the tests inject a fault into
/// a batch. Never set by configuration; `TickWriter::new` has none.
pub type BatchHook = Arc<dyn Fn(&[TickChange]) + Send + Sync>;

/// The handle requests write through; the writer starts with the first tick.
#[derive(Clone)]
pub struct TickWriter {
    connections: Leased,
    running: Arc<Mutex<Option<Running>>>,
    hook: Option<BatchHook>,
}

impl TickWriter {
    pub fn new(pool: PgPool) -> TickWriter {
        TickWriter {
            // Its own connections: a batch holds one for its statement and commit.
            connections: Leased::new(pool, WRITERS),
            running: Default::default(),
            hook: None,
        }
    }

    /// A writer that calls `hook` with each batch before writing it (fault injection).
    #[doc(hidden)]
    pub fn with_batch_hook(pool: PgPool, hook: BatchHook) -> TickWriter {
        TickWriter {
            hook: Some(hook),
            ..TickWriter::new(pool)
        }
    }

    /// Applies `change` (as `ticks::change_logged` would) and answers once it committed.
    pub async fn write(&self, change: TickChange) -> DbResult<ChangeOutcome> {
        let (reply, answer) = oneshot::channel();
        let mut item = (change, reply);
        // A writer found gone between taking its queue and sending is replaced once more.
        for _ in 0..2 {
            match self.queue().send(item) {
                Ok(()) => {
                    return answer.await.map_err(|_| {
                        DbError::Corrupt("the tick could not be written; try again".into())
                    })?;
                }
                Err(mpsc::error::SendError(back)) => item = back,
            }
        }
        Err(DbError::Corrupt(
            "the tick writer could not be started".into(),
        ))
    }

    /// The running writer's queue, starting a writer when there is none or it is gone.
    fn queue(&self) -> Queue {
        let mut slot = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((queue, _)) if !queue.is_closed() => queue.clone(),
            gone => {
                if gone.is_some() {
                    tracing::error!("the tick writer had stopped; a new one takes over");
                }
                let (send, receive) = mpsc::unbounded_channel();
                let task = tokio::spawn(run(self.connections.clone(), receive, self.hook.clone()));
                *slot = Some((send.clone(), task.abort_handle()));
                send
            }
        }
    }

    /// Closes the writer's connections (at shutdown, once no request is left).
    pub async fn close(&self) {
        self.connections.close().await;
    }

    /// Ends the writer's task as a panic in it would, and waits until it is gone (fault
    /// injection: the next tick must start another).
    #[doc(hidden)]
    pub async fn kill_writer(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some((queue, task)) = running {
            task.abort();
            queue.closed().await;
        }
    }
}

/// Statements in flight at once: the database works on two while their ticks wait for
/// their commit. Each holds one of the writer's kept connections.
pub(crate) const WRITERS: usize = 2;

/// What two changes must not share to go in one statement, or in two at once: the tick
/// they change. Changes to different ticks commute, whatever their enrolment.
type Slot = (Uuid, Uuid, Layer);

fn slot(c: &TickChange) -> Slot {
    (c.evidence_id, c.criterion_id, c.layer)
}

async fn run(
    connections: Leased,
    mut queue: mpsc::UnboundedReceiver<(TickChange, Reply)>,
    hook: Option<BatchHook>,
) {
    // Changes held back for a later statement: one statement takes one change per tick,
    // and no statement takes a tick another one in flight changes, so two changes to
    // one tick keep their order.
    let mut waiting: VecDeque<(TickChange, Reply)> = VecDeque::new();
    let mut running: JoinSet<Vec<Slot>> = JoinSet::new();
    let mut busy: HashSet<Slot> = HashSet::new();
    let mut open = true;
    loop {
        while let Ok(next) = queue.try_recv() {
            waiting.push_back(next);
        }
        if running.len() < WRITERS {
            let batch = take_batch(&mut waiting, &busy);
            if !batch.is_empty() {
                let slots: Vec<Slot> = batch.iter().map(|(c, _)| slot(c)).collect();
                busy.extend(slots.iter().copied());
                let (connections, hook) = (connections.clone(), hook.clone());
                running.spawn(async move {
                    // A panic drops the batch's replies (each request answers with an
                    // error) but must not keep its ticks busy for ever.
                    let written = AssertUnwindSafe(write_batch(&connections, batch, hook))
                        .catch_unwind()
                        .await;
                    if written.is_err() {
                        tracing::error!(ticks = slots.len(), "a batch of ticks failed");
                    }
                    slots
                });
                continue;
            }
        }
        if !open && running.is_empty() && waiting.is_empty() {
            return;
        }
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                for id in done.unwrap_or_default() {
                    busy.remove(&id);
                }
            }
            next = queue.recv(), if open => match next {
                Some(next) => waiting.push_back(next),
                None => open = false,
            },
        }
    }
}

/// The oldest waiting changes, at most one per tick, none of a tick in `busy`, and
/// `MOST` in all.
fn take_batch(
    waiting: &mut VecDeque<(TickChange, Reply)>,
    busy: &HashSet<Slot>,
) -> Vec<(TickChange, Reply)> {
    let mut batch: Vec<(TickChange, Reply)> = Vec::new();
    let mut kept = VecDeque::with_capacity(waiting.len());
    let mut taken: HashSet<Slot> = HashSet::new();
    while let Some(item) = waiting.pop_front() {
        let slot = slot(&item.0);
        if batch.len() < MOST && !busy.contains(&slot) && taken.insert(slot) {
            batch.push(item);
        } else {
            // Held back behind an earlier change to the same tick, in order.
            taken.insert(slot);
            kept.push_back(item);
        }
    }
    *waiting = kept;
    batch
}

async fn write_batch(
    connections: &Leased,
    batch: Vec<(TickChange, Reply)>,
    hook: Option<BatchHook>,
) {
    let started = std::time::Instant::now();
    let (changes, replies): (Vec<TickChange>, Vec<Reply>) = batch.into_iter().unzip();
    if let Some(hook) = hook {
        hook(&changes);
    }
    let size = changes.len();
    let answers = if changes.len() == 1 {
        vec![write_one(connections, &changes[0]).await]
    } else {
        let many = match connections.take().await {
            Ok(mut lease) => {
                let written = ticks::change_logged_many(&mut *lease, &changes).await;
                lease.finish(written)
            }
            Err(e) => Err(e),
        };
        match many {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // One bad change (a criterion of another version, say) fails the statement:
            // each goes again on its own and gets its own answer.
            Err(_) => {
                let mut one_by_one = Vec::with_capacity(changes.len());
                for change in &changes {
                    one_by_one.push(write_one(connections, change).await);
                }
                one_by_one
            }
        }
    };
    tracing::debug!(size, elapsed = ?started.elapsed(), "ticks written");
    for (reply, answer) in replies.into_iter().zip(answers) {
        // The request may have gone (the browser closed); the tick stands regardless.
        let _ = reply.send(answer);
    }
}

async fn write_one(connections: &Leased, change: &TickChange) -> DbResult<ChangeOutcome> {
    let mut lease = connections.take().await?;
    let written = ticks::change_logged(&mut *lease, change).await;
    lease.finish(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticks::Layer;
    use crate::domain::Status;

    /// A change to tick `tick` (criterion `tick` of one item, of one enrolment).
    fn change(tick: u128) -> (TickChange, Reply) {
        let (reply, _answer) = oneshot::channel();
        (
            TickChange {
                enrolment_id: Uuid::nil(),
                evidence_id: Uuid::nil(),
                criterion_id: Uuid::from_u128(tick),
                layer: Layer::Assessor,
                by: Uuid::nil(),
                adding: true,
                judged_in: Status::NotYetAchieved,
                detail: serde_json::Value::Null,
            },
            reply,
        )
    }

    #[test]
    fn a_batch_takes_one_change_per_tick_in_order_and_keeps_the_rest() {
        let mut waiting: VecDeque<_> = [1, 2, 1, 3, 2, 1].into_iter().map(change).collect();
        let ids = |b: &[(TickChange, Reply)]| -> Vec<u128> {
            b.iter().map(|(c, _)| c.criterion_id.as_u128()).collect()
        };
        let none = HashSet::new();
        let first = take_batch(&mut waiting, &none);
        assert_eq!(ids(&first), [1, 2, 3]);
        let second = take_batch(&mut waiting, &none);
        assert_eq!(ids(&second), [1, 2]);
        let third = take_batch(&mut waiting, &none);
        assert_eq!(ids(&third), [1]);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_leaves_ticks_in_flight_and_what_follows_them_waiting() {
        let mut waiting: VecDeque<_> = [1, 2, 1, 3].into_iter().map(change).collect();
        let busy: HashSet<Slot> = [slot(&change(1).0)].into_iter().collect();
        let ids = |b: &[(TickChange, Reply)]| -> Vec<u128> {
            b.iter().map(|(c, _)| c.criterion_id.as_u128()).collect()
        };
        assert_eq!(ids(&take_batch(&mut waiting, &busy)), [2, 3]);
        assert_eq!(ids(waiting.make_contiguous()), [1, 1]);
    }

    #[test]
    fn a_batch_holds_at_most_most_changes() {
        let mut waiting: VecDeque<_> = (0..(MOST as u128 + 5)).map(change).collect();
        assert_eq!(take_batch(&mut waiting, &HashSet::new()).len(), MOST);
        assert_eq!(waiting.len(), 5);
    }
}
