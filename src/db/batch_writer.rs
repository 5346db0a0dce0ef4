//! Changes arriving together are written together. On a busy server most of a small
//! write's cost is its statements and its commit, not the row: so requests hand their
//! change to one writer, which sends whatever changes have queued up in one go (one
//! statement or one short transaction, and one commit), with up to `WRITERS` in flight.
//! A lone change goes at once, as it would alone; under load the batches grow by
//! themselves. Each change still answers only for itself. Ticks (`db::tick_writer`) and
//! OTJ entries (`db::otj_writer`) are written so.
//!
//! Nothing that goes wrong in it stops writing: a batch that panics answers its own
//! requests with an error and frees its slots for the next change, and a writer task
//! that is gone (it panicked, or its runtime ended) is replaced by the next change.
use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::leased::Leased;
use super::{DbError, DbResult};

/// At most this many changes go in one batch.
const MOST: usize = 64;

/// Batches in flight at once: the database works on two while their changes wait for
/// their commit. Each holds one of the writer's kept connections.
pub(crate) const WRITERS: usize = 2;

/// A change a `BatchWriter` writes.
pub trait Batched: Send + Sync + Sized + 'static {
    /// What two changes must not share to go in one batch (the tick, the OTJ entry):
    /// changes to different slots commute. Every change of one slot has one group.
    type Slot: Eq + Hash + Copy + Send + Sync + 'static;
    /// What two batches in flight must not share (the enrolment whose kept figures a
    /// tick moves): changes of one group go in one batch together, or one batch after
    /// another, so that no batch waits inside the database for another's row locks.
    type Group: Eq + Hash + Copy + Send + Sync + 'static;
    type Outcome: Send + 'static;
    /// What is written, for messages: "tick".
    const WHAT: &'static str;

    fn slot(&self) -> Self::Slot;

    fn group(&self) -> Self::Group;

    /// One change alone.
    fn write_one<'a>(
        connection: &'a mut PgConnection,
        change: &'a Self,
    ) -> impl Future<Output = DbResult<Self::Outcome>> + Send + 'a;

    /// Many changes, each of its own slot, together; the answers in their order. An error
    /// fails them all: each then goes again alone, so one bad change cannot fail the rest.
    fn write_many<'a>(
        connection: &'a mut PgConnection,
        changes: &'a [Self],
    ) -> impl Future<Output = DbResult<Vec<Self::Outcome>>> + Send + 'a;
}

type Reply<C> = oneshot::Sender<DbResult<<C as Batched>::Outcome>>;
type Queue<C> = mpsc::UnboundedSender<(C, Reply<C>)>;
/// The running writer: its queue, and its task (to end it in a test).
type Running<C> = (Queue<C>, tokio::task::AbortHandle);

/// Called with each batch just before it is written: how the tests inject a fault into
/// a batch. Never set by configuration; `BatchWriter::new` has none.
pub type BatchHook<C> = Arc<dyn Fn(&[C]) + Send + Sync>;

/// The handle requests write through; the writer starts with the first change.
pub struct BatchWriter<C: Batched> {
    connections: Leased,
    running: Arc<Mutex<Option<Running<C>>>>,
    hook: Option<BatchHook<C>>,
}

impl<C: Batched> Clone for BatchWriter<C> {
    fn clone(&self) -> Self {
        BatchWriter {
            connections: self.connections.clone(),
            running: Arc::clone(&self.running),
            hook: self.hook.clone(),
        }
    }
}

impl<C: Batched> BatchWriter<C> {
    pub fn new(pool: PgPool) -> Self {
        BatchWriter {
            // Its own connections: a batch holds one until it committed.
            connections: Leased::new(pool, WRITERS),
            running: Default::default(),
            hook: None,
        }
    }

    /// A writer that calls `hook` with each batch before writing it (fault injection).
    #[doc(hidden)]
    pub fn with_batch_hook(pool: PgPool, hook: BatchHook<C>) -> Self {
        BatchWriter {
            hook: Some(hook),
            ..BatchWriter::new(pool)
        }
    }

    /// Writes `change` (as `C::write_one` would) and answers once it committed.
    pub async fn write(&self, change: C) -> DbResult<C::Outcome> {
        let (reply, answer) = oneshot::channel();
        let mut item = (change, reply);
        // A writer found gone between taking its queue and sending is replaced once more.
        for _ in 0..2 {
            match self.queue().send(item) {
                Ok(()) => {
                    return answer.await.map_err(|_| {
                        DbError::Corrupt(format!("the {} could not be written; try again", C::WHAT))
                    })?;
                }
                Err(mpsc::error::SendError(back)) => item = back,
            }
        }
        Err(DbError::Corrupt(format!(
            "the {} writer could not be started",
            C::WHAT
        )))
    }

    /// The running writer's queue, starting a writer when there is none or it is gone.
    fn queue(&self) -> Queue<C> {
        let mut slot = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((queue, _)) if !queue.is_closed() => queue.clone(),
            gone => {
                if gone.is_some() {
                    tracing::error!(what = C::WHAT, "a writer had stopped; a new one takes over");
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
    /// injection: the next change must start another).
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

async fn run<C: Batched>(
    connections: Leased,
    mut queue: mpsc::UnboundedReceiver<(C, Reply<C>)>,
    hook: Option<BatchHook<C>>,
) {
    // Changes held back for a later batch: one batch takes one change per slot, and no
    // batch takes a group another one in flight changes, so two changes to one slot keep
    // their order.
    let mut waiting: VecDeque<(C, Reply<C>)> = VecDeque::new();
    let mut running: JoinSet<Vec<C::Group>> = JoinSet::new();
    let mut busy: HashSet<C::Group> = HashSet::new();
    let mut open = true;
    loop {
        while let Ok(next) = queue.try_recv() {
            waiting.push_back(next);
        }
        if running.len() < WRITERS {
            let batch = take_batch(&mut waiting, &busy);
            if !batch.is_empty() {
                let groups: HashSet<C::Group> = batch.iter().map(|(c, _)| c.group()).collect();
                let groups: Vec<C::Group> = groups.into_iter().collect();
                busy.extend(groups.iter().copied());
                let (connections, hook) = (connections.clone(), hook.clone());
                running.spawn(async move {
                    // A panic drops the batch's replies (each request answers with an
                    // error) but must not keep its groups busy for ever.
                    let written = AssertUnwindSafe(write_batch(&connections, batch, hook))
                        .catch_unwind()
                        .await;
                    if written.is_err() {
                        tracing::error!(what = C::WHAT, groups = groups.len(), "a batch failed");
                    }
                    groups
                });
                continue;
            }
        }
        if !open && running.is_empty() && waiting.is_empty() {
            return;
        }
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                for group in done.unwrap_or_default() {
                    busy.remove(&group);
                }
            }
            next = queue.recv(), if open => match next {
                Some(next) => waiting.push_back(next),
                None => open = false,
            },
        }
    }
}

/// The oldest waiting changes, at most one per slot, none of a group in `busy`, and
/// `MOST` in all.
fn take_batch<C: Batched, R>(
    waiting: &mut VecDeque<(C, R)>,
    busy: &HashSet<C::Group>,
) -> Vec<(C, R)> {
    let mut batch = Vec::new();
    let mut kept = VecDeque::with_capacity(waiting.len());
    let mut taken: HashSet<C::Slot> = HashSet::new();
    while let Some(item) = waiting.pop_front() {
        let slot = item.0.slot();
        if batch.len() < MOST && !busy.contains(&item.0.group()) && taken.insert(slot) {
            batch.push(item);
        } else {
            // Held back (its group in flight, its slot taken, or the batch full), and
            // every later change to its slot behind it, in order.
            taken.insert(slot);
            kept.push_back(item);
        }
    }
    *waiting = kept;
    batch
}

async fn write_batch<C: Batched>(
    connections: &Leased,
    batch: Vec<(C, Reply<C>)>,
    hook: Option<BatchHook<C>>,
) {
    let started = std::time::Instant::now();
    let (changes, replies): (Vec<C>, Vec<Reply<C>>) = batch.into_iter().unzip();
    if let Some(hook) = hook {
        hook(&changes);
    }
    let size = changes.len();
    let answers = if changes.len() == 1 {
        vec![write_one(connections, &changes[0]).await]
    } else {
        let many = match connections.take().await {
            Ok(mut lease) => {
                let written = C::write_many(&mut lease, &changes).await;
                lease.finish(written)
            }
            Err(e) => Err(e),
        };
        match many {
            Ok(outcomes) if outcomes.len() == changes.len() => {
                outcomes.into_iter().map(Ok).collect()
            }
            // One bad change (a criterion of another version, say) fails the batch: each
            // goes again on its own and gets its own answer.
            _ => {
                let mut one_by_one = Vec::with_capacity(changes.len());
                for change in &changes {
                    one_by_one.push(write_one(connections, change).await);
                }
                one_by_one
            }
        }
    };
    tracing::debug!(what = C::WHAT, size, elapsed = ?started.elapsed(), "batch written");
    for (reply, answer) in replies.into_iter().zip(answers) {
        // The request may have gone (the browser closed); the change stands regardless.
        let _ = reply.send(answer);
    }
}

async fn write_one<C: Batched>(connections: &Leased, change: &C) -> DbResult<C::Outcome> {
    let mut lease = connections.take().await?;
    let written = C::write_one(&mut lease, change).await;
    lease.finish(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change to one slot; slots 10–19 are group 1, and so on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Change {
        slot: u32,
    }

    impl Batched for Change {
        type Slot = u32;
        type Group = u32;
        type Outcome = ();
        const WHAT: &'static str = "test change";

        fn slot(&self) -> u32 {
            self.slot
        }

        fn group(&self) -> u32 {
            self.slot / 10
        }

        async fn write_one(_: &mut PgConnection, _: &Self) -> DbResult<()> {
            Ok(())
        }

        async fn write_many(_: &mut PgConnection, changes: &[Self]) -> DbResult<Vec<()>> {
            Ok(vec![(); changes.len()])
        }
    }

    fn waiting(slots: impl IntoIterator<Item = u32>) -> VecDeque<(Change, ())> {
        slots
            .into_iter()
            .map(|slot| (Change { slot }, ()))
            .collect()
    }

    fn slots(b: &[(Change, ())]) -> Vec<u32> {
        b.iter().map(|(c, _)| c.slot).collect()
    }

    #[test]
    fn a_batch_takes_one_change_per_slot_in_order_and_keeps_the_rest() {
        let mut w = waiting([1, 2, 1, 3, 2, 1]);
        let none = HashSet::new();
        assert_eq!(slots(&take_batch(&mut w, &none)), [1, 2, 3]);
        assert_eq!(slots(&take_batch(&mut w, &none)), [1, 2]);
        assert_eq!(slots(&take_batch(&mut w, &none)), [1]);
        assert!(w.is_empty());
    }

    #[test]
    fn a_batch_leaves_groups_in_flight_and_what_follows_them_waiting() {
        let mut w = waiting([11, 21, 12, 31, 11]);
        let busy: HashSet<u32> = [1].into_iter().collect();
        assert_eq!(slots(&take_batch(&mut w, &busy)), [21, 31]);
        assert_eq!(slots(w.make_contiguous()), [11, 12, 11]);
    }

    #[test]
    fn changes_of_one_group_go_in_one_batch_one_per_slot() {
        let mut w = waiting([11, 12, 11, 13, 21]);
        let none = HashSet::new();
        assert_eq!(slots(&take_batch(&mut w, &none)), [11, 12, 13, 21]);
        assert_eq!(slots(w.make_contiguous()), [11]);
    }

    #[test]
    fn a_batch_holds_at_most_most_changes() {
        let mut w = waiting(0..(MOST as u32 + 5));
        assert_eq!(take_batch(&mut w, &HashSet::new()).len(), MOST);
        assert_eq!(w.len(), 5);
    }
}
