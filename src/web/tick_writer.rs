//! Ticks arriving together are written together. Each tick is its own small
//! transaction, and on a busy server most of its cost is the statement and the commit,
//! not the tick: so requests hand their change to one writer, which sends whatever
//! changes have queued up while its last statement ran as one statement and one commit
//! (`db::ticks::change_logged_many`). A lone tick goes at once, as it would alone; under
//! load the batches grow by themselves. Each change still answers only for itself.
use std::collections::VecDeque;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, OnceCell};
use uuid::Uuid;

use crate::db::ticks::{self, ChangeOutcome, TickChange};
use crate::db::{DbError, DbResult};

/// At most this many changes go in one statement.
const MOST: usize = 64;

type Reply = oneshot::Sender<DbResult<ChangeOutcome>>;

/// The handle requests write through; the writer starts with the first tick.
#[derive(Clone)]
pub struct TickWriter {
    pool: PgPool,
    queue: std::sync::Arc<OnceCell<mpsc::UnboundedSender<(TickChange, Reply)>>>,
}

impl TickWriter {
    pub fn new(pool: PgPool) -> TickWriter {
        TickWriter {
            pool,
            queue: Default::default(),
        }
    }

    /// Applies `change` (as `ticks::change_logged` would) and answers once it committed.
    pub async fn write(&self, change: TickChange) -> DbResult<ChangeOutcome> {
        let queue = self
            .queue
            .get_or_init(|| async {
                let (send, receive) = mpsc::unbounded_channel();
                tokio::spawn(run(self.pool.clone(), receive));
                send
            })
            .await;
        let (reply, answer) = oneshot::channel();
        queue
            .send((change, reply))
            .map_err(|_| DbError::Corrupt("the tick writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| DbError::Corrupt("the tick writer dropped a tick".into()))?
    }
}

async fn run(pool: PgPool, mut queue: mpsc::UnboundedReceiver<(TickChange, Reply)>) {
    // Changes held back for a later statement: one statement takes one change per
    // enrolment, so that two changes to one enrolment keep their order.
    let mut waiting: VecDeque<(TickChange, Reply)> = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(first) => waiting.push_back(first),
                None => return,
            }
        }
        while let Ok(next) = queue.try_recv() {
            waiting.push_back(next);
        }
        let batch = take_batch(&mut waiting);
        write_batch(&pool, batch).await;
    }
}

/// The oldest waiting changes, at most one per enrolment and `MOST` in all.
fn take_batch(waiting: &mut VecDeque<(TickChange, Reply)>) -> Vec<(TickChange, Reply)> {
    let mut batch: Vec<(TickChange, Reply)> = Vec::new();
    let mut kept = VecDeque::with_capacity(waiting.len());
    let mut seen: Vec<Uuid> = Vec::new();
    while let Some(item) = waiting.pop_front() {
        let enrolment = item.0.enrolment_id;
        if batch.len() < MOST && !seen.contains(&enrolment) {
            seen.push(enrolment);
            batch.push(item);
        } else {
            kept.push_back(item);
        }
    }
    *waiting = kept;
    batch
}

async fn write_batch(pool: &PgPool, batch: Vec<(TickChange, Reply)>) {
    let (changes, replies): (Vec<TickChange>, Vec<Reply>) = batch.into_iter().unzip();
    let answers = if changes.len() == 1 {
        vec![ticks::change_logged(pool, &changes[0]).await]
    } else {
        match ticks::change_logged_many(pool, &changes).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // One bad change (a criterion of another version, say) fails the statement:
            // each goes again on its own and gets its own answer.
            Err(_) => {
                let mut one_by_one = Vec::with_capacity(changes.len());
                for change in &changes {
                    one_by_one.push(ticks::change_logged(pool, change).await);
                }
                one_by_one
            }
        }
    };
    for (reply, answer) in replies.into_iter().zip(answers) {
        // The request may have gone (the browser closed); the tick stands regardless.
        let _ = reply.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticks::Layer;
    use crate::domain::Status;

    fn change(enrolment: u128) -> (TickChange, Reply) {
        let (reply, _answer) = oneshot::channel();
        (
            TickChange {
                enrolment_id: Uuid::from_u128(enrolment),
                evidence_id: Uuid::nil(),
                criterion_id: Uuid::nil(),
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
    fn a_batch_takes_one_change_per_enrolment_in_order_and_keeps_the_rest() {
        let mut waiting: VecDeque<_> = [1, 2, 1, 3, 2, 1].into_iter().map(change).collect();
        let ids = |b: &[(TickChange, Reply)]| -> Vec<u128> {
            b.iter().map(|(c, _)| c.enrolment_id.as_u128()).collect()
        };
        let first = take_batch(&mut waiting);
        assert_eq!(ids(&first), [1, 2, 3]);
        let second = take_batch(&mut waiting);
        assert_eq!(ids(&second), [1, 2]);
        let third = take_batch(&mut waiting);
        assert_eq!(ids(&third), [1]);
        assert!(waiting.is_empty());
    }

    #[test]
    fn a_batch_holds_at_most_most_changes() {
        let mut waiting: VecDeque<_> = (0..(MOST as u128 + 5)).map(change).collect();
        assert_eq!(take_batch(&mut waiting).len(), MOST);
        assert_eq!(waiting.len(), 5);
    }
}
