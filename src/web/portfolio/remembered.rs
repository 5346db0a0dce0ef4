//! Portfolio reads remembered for the ticks that follow them. An assessor opens an item
//! and ticks it criterion by criterion; each tick's session check and enrolment read
//! (`Portfolio`) was a round trip of its own before the tick's statement, about a
//! quarter of the machine's work on a tick. A tick on an enrolment this session has just read goes
//! straight to its statement instead, carrying what the read said (`db::ticks::Vouch`);
//! the statement applies it only while all of that still holds, so the change is
//! checked exactly as after a fresh read, in the same round trip. When it no longer
//! holds (signed out anywhere, the account, the enrolment's people or its status
//! changed), nothing was changed and the tick reads afresh and is judged again, as
//! every tick was before. What else moves on an enrolment (the learner's claims, new
//! evidence, its automatic audit) leaves the read standing, so an assessor's ticks go
//! on it however slowly they come.
//!
//! Only ticks take a remembered read: every page still reads its own.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Portfolio;
use crate::db::ticks::{assigned_key, roles_key, Vouch};
use crate::web::auth::SessionClaim;
use crate::web::AppState;

/// At most this many reads; beyond it they are all forgotten (only a cost: each is
/// read again by its next tick).
const MOST: usize = 20_000;

/// The reads, by session and enrolment. Shared by every clone of the state.
#[derive(Default)]
pub struct Remembered {
    reads: Mutex<HashMap<(String, Uuid), Portfolio>>,
    used: AtomicU64,
}

impl Remembered {
    /// Keeps what `session_id` read of `portfolio`'s enrolment, if the viewer may tick
    /// it (an IQA's or an admin's read would never be used).
    pub(crate) fn keep(&self, session_id: &str, portfolio: &Portfolio) {
        if portfolio.capacity.layer().is_none() {
            return;
        }
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        if reads.len() >= MOST {
            reads.clear();
        }
        let mut kept = portfolio.clone();
        // A tick never needs it, and a long-lived map is no place for a password hash.
        kept.user.password_hash = None;
        reads.insert((session_id.to_owned(), portfolio.enrolment.id), kept);
    }

    fn recall(&self, session_id: &str, enrolment_id: Uuid) -> Option<Portfolio> {
        let reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        reads.get(&(session_id.to_owned(), enrolment_id)).cloned()
    }

    fn forget(&self, session_id: &str, enrolment_id: Uuid) {
        self.reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(session_id.to_owned(), enrolment_id));
    }

    /// How many ticks were made on a remembered read (for the tests).
    #[doc(hidden)]
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// The portfolio a tick is judged on: read now, or remembered from this session's last
/// read of the enrolment, and what the tick's statement must confirm of it.
pub(crate) struct Ticking {
    pub portfolio: Portfolio,
    claim: SessionClaim,
    /// For a remembered read, the request's head: what it takes to read afresh.
    remembered: Option<Box<Parts>>,
}

impl Ticking {
    /// True when the portfolio was remembered, not read by this request.
    pub(crate) fn remembered(&self) -> bool {
        self.remembered.is_some()
    }

    /// What the tick's statement must confirm of a remembered read before changing
    /// anything.
    pub(crate) fn vouch(&self) -> Vouch {
        let p = &self.portfolio;
        Vouch {
            session_id: self.claim.session_id.clone(),
            generation: self.claim.generation(),
            roles: roles_key(&p.user.roles),
            assigned: assigned_key(&p.enrolment),
            centre_revision: p.centre_revision,
        }
    }

    /// A tick on the remembered read committed: the session stands until `ends` (moved
    /// on as a read would move it).
    pub(crate) fn confirmed(&self, state: &AppState, ends: Option<OffsetDateTime>) {
        state.remembered.used.fetch_add(1, Ordering::Relaxed);
        if let Some(ends) = ends {
            self.claim.in_use(ends);
        }
    }

    /// The remembered read no longer holds, or the tick was refused on it: the
    /// portfolio read afresh (and remembered), or the answer that sends the browser to
    /// sign in or says 404.
    pub(crate) async fn read_now(self, state: &AppState) -> Result<Ticking, Response> {
        let Some(parts) = self.remembered else {
            return Ok(self);
        };
        let id = self.portfolio.enrolment.id;
        state.remembered.forget(&self.claim.session_id, id);
        Ok(Ticking {
            portfolio: Portfolio::read(&self.claim, &parts, state, id).await?,
            claim: self.claim,
            remembered: None,
        })
    }
}

impl FromRequestParts<AppState> for Ticking {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = super::enrolment_in_path(parts, state).await?;
        let claim = SessionClaim::of(parts, state).await?;
        let recalled = state
            .remembered
            .recall(&claim.session_id, id)
            .filter(|p| p.user.id == claim.user_id);
        Ok(match recalled {
            Some(portfolio) => Ticking {
                portfolio,
                claim,
                remembered: Some(Box::new(parts.clone())),
            },
            None => Ticking {
                portfolio: Portfolio::read(&claim, parts, state, id).await?,
                claim,
                remembered: None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::enrolments::Enrolment;
    use crate::db::users::User;
    use crate::domain::access::Capacity;
    use crate::domain::people::{Role, UserKind};
    use crate::domain::Status;

    fn portfolio(enrolment: u128, revision: i64) -> Portfolio {
        let now = OffsetDateTime::now_utc();
        let id = Uuid::from_u128;
        Portfolio {
            user: User {
                id: id(1),
                centre_id: id(2),
                email: "a@example.test".into(),
                display_name: "A".into(),
                password_hash: None,
                kind: UserKind::Staff,
                active: true,
                created_at: now,
                session_generation: 0,
                roles: vec![Role::Assessor],
            },
            enrolment: Enrolment {
                id: id(enrolment),
                centre_id: id(2),
                learner_id: id(3),
                version_id: id(4),
                major_id: id(5),
                assessor_id: id(1),
                trainee_assessor_id: None,
                iqa_id: None,
                status: Status::NotYetAchieved,
                created_at: now,
                updated_at: now,
                last_activity_at: now,
                revision,
            },
            capacity: Capacity::Assessor,
            centre_revision: 0,
        }
    }

    #[test]
    fn a_read_is_recalled_by_its_session_and_enrolment_only() {
        let r = Remembered::default();
        r.keep("s1", &portfolio(10, 3));
        assert_eq!(
            r.recall("s1", Uuid::from_u128(10))
                .map(|p| p.enrolment.revision),
            Some(3)
        );
        assert!(r.recall("s2", Uuid::from_u128(10)).is_none());
        assert!(r.recall("s1", Uuid::from_u128(11)).is_none());
        r.forget("s1", Uuid::from_u128(10));
        assert!(r.recall("s1", Uuid::from_u128(10)).is_none());
    }

    #[test]
    fn only_reads_that_may_tick_are_kept() {
        let r = Remembered::default();
        let mut iqa = portfolio(10, 0);
        iqa.capacity = Capacity::Iqa;
        r.keep("s", &iqa);
        assert!(r.recall("s", Uuid::from_u128(10)).is_none());
        r.keep("s", &portfolio(10, 0));
        assert!(r.recall("s", Uuid::from_u128(10)).is_some());
    }

    #[test]
    fn the_reads_stay_within_their_bound() {
        let r = Remembered::default();
        for e in 0..(MOST as u128 + 10) {
            r.keep("s", &portfolio(e, 0));
        }
        assert!(r.reads.lock().expect("lock").len() <= MOST);
        assert!(r.recall("s", Uuid::from_u128(MOST as u128 + 9)).is_some());
    }
}
