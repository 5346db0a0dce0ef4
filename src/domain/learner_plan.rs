//! A learner's progress in plain words (issue 15, point 6): the units of their own major
//! still to do, closest to done first, what is waiting for their assessor, and the one
//! next step. Staff keep the full rule arithmetic; this is what a learner reads first.
use super::progress::{Counts, Progress};
use super::qualification::{Qualification, UnitIx};

/// One unit of the learner's major not yet done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitToDo {
    pub unit: UnitIx,
    pub counts: Counts,
    /// The unit is one to choose among others, not one every way through the major needs.
    pub optional: bool,
}

impl UnitToDo {
    /// Criteria not confirmed yet.
    pub fn to_go(&self) -> u32 {
        self.counts.total - self.counts.confirmed
    }

    /// Of those, claimed (or ticked by a trainee) and waiting for the assessor.
    pub fn waiting(&self) -> u32 {
        self.counts.claimed + self.counts.awaiting_countersignature
    }
}

/// What the learner should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Every unit of the major is confirmed.
    Finished,
    /// Everything left is claimed: the assessor has to look at it.
    WaitForAssessor,
    /// Add evidence for this unit (the closest to done with something unclaimed).
    AddEvidence(UnitIx),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerPlan {
    pub todo: Vec<UnitToDo>,
    /// Units of the major already confirmed in full.
    pub done: usize,
    /// Criteria of the major's units waiting for the assessor.
    pub waiting: u32,
    pub next: Next,
}

/// The plan for a learner on `major` (an index into `q.majors`) with `progress`. A major
/// out of range has no units, and so nothing to do.
pub fn plan(q: &Qualification, major: usize, progress: &Progress) -> LearnerPlan {
    let mut in_major: Vec<(UnitIx, bool)> = Vec::new();
    if let Some(m) = q.majors.get(major) {
        for group in m.rule_sets.iter().flat_map(|r| &r.groups) {
            for &u in &group.units {
                match in_major.iter_mut().find(|(x, _)| *x == u) {
                    Some((_, needed)) => *needed |= group.all,
                    None => in_major.push((u, group.all)),
                }
            }
        }
    }
    in_major.sort_unstable();
    let mut todo = Vec::new();
    let mut done = 0;
    for (unit, needed) in in_major {
        let Some(p) = progress.units.iter().find(|p| p.unit == unit) else {
            continue;
        };
        let c = p.counts;
        if c.achieved() {
            done += 1;
            continue;
        }
        todo.push(UnitToDo {
            unit,
            counts: c,
            optional: !needed,
        });
    }
    // Closest to done first; units every way needs before ones to choose among.
    todo.sort_by_key(|t| (t.optional, t.to_go(), t.unit));
    let waiting = todo.iter().map(UnitToDo::waiting).sum();
    let next = match todo.iter().find(|t| t.to_go() > t.waiting()) {
        Some(t) => Next::AddEvidence(t.unit),
        None if todo.is_empty() => Next::Finished,
        None => Next::WaitForAssessor,
    };
    LearnerPlan {
        todo,
        done,
        waiting,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::{progress, Layers};
    use crate::domain::testkit::{group, major, qualification, rule_set, unit};
    use crate::domain::ticks::Layer;
    use proptest::prelude::*;

    /// Units 0–2 needed (all of them), 3–4 to choose from; unit 5 in no major.
    fn q() -> Qualification {
        let mut needed = group("Mandatory", &[0, 1, 2]);
        needed.all = true;
        qualification(
            (0..6).map(|i| unit(&format!("20{i}"), 2, 5, 4)).collect(),
            vec![major(
                "M",
                vec![rule_set("Route", vec![needed, group("Optional", &[3, 4])])],
            )],
        )
    }

    fn layers(q: &Qualification, marks: &[(usize, Layer)]) -> Vec<Layers> {
        let mut l = vec![Layers::default(); q.criterion_count()];
        for &(ordinal, layer) in marks {
            l[ordinal].add(layer);
        }
        l
    }

    #[test]
    fn the_to_do_is_the_majors_units_not_done_closest_first_needed_before_optional() {
        let q = q();
        // Unit 0 done; unit 2 one to go; unit 1 untouched; unit 3 one confirmed.
        let mut marks: Vec<(usize, Layer)> = (0..4).map(|o| (o, Layer::Assessor)).collect();
        marks.extend((8..11).map(|o| (o, Layer::Assessor)));
        marks.push((12, Layer::Assessor));
        let p = plan(&q, 0, &progress(&q, &layers(&q, &marks)));
        assert_eq!(p.done, 1);
        let order: Vec<(usize, u32, bool)> = p
            .todo
            .iter()
            .map(|t| (t.unit, t.to_go(), t.optional))
            .collect();
        assert_eq!(
            order,
            vec![(2, 1, false), (1, 4, false), (3, 3, true), (4, 4, true)]
        );
        assert_eq!(p.next, Next::AddEvidence(2));
        assert!(!p.todo.iter().any(|t| t.unit == 5), "a unit of no major");
    }

    #[test]
    fn when_everything_left_is_claimed_the_next_step_is_the_assessors() {
        let q = q();
        let marks: Vec<(usize, Layer)> = (0..20)
            .map(|o| {
                (
                    o,
                    if o < 10 {
                        Layer::Assessor
                    } else {
                        Layer::Learner
                    },
                )
            })
            .collect();
        let p = plan(&q, 0, &progress(&q, &layers(&q, &marks)));
        assert_eq!(p.next, Next::WaitForAssessor);
        assert_eq!(p.waiting, 10);
        let all: Vec<(usize, Layer)> = (0..20).map(|o| (o, Layer::Assessor)).collect();
        let finished = plan(&q, 0, &progress(&q, &layers(&q, &all)));
        assert_eq!((finished.next, finished.done), (Next::Finished, 5));
        assert_eq!(
            plan(&q, 7, &progress(&q, &layers(&q, &all))).next,
            Next::Finished
        );
    }

    proptest! {
        /// Whatever is ticked: the to-do and the done units are exactly the major's
        /// units; each to-go is its unit's unconfirmed criteria; the next unit to add
        /// evidence for is one of the to-do with something unclaimed.
        #[test]
        fn the_plan_accounts_for_every_unit_of_the_major(
            marks in proptest::collection::vec((0usize..24, 0usize..3), 0..60)
        ) {
            let q = q();
            let marks: Vec<(usize, Layer)> = marks
                .into_iter()
                .map(|(o, l)| (o, [Layer::Learner, Layer::TraineeAssessor, Layer::Assessor][l]))
                .collect();
            let pr = progress(&q, &layers(&q, &marks));
            let p = plan(&q, 0, &pr);
            prop_assert_eq!(p.todo.len() + p.done, 5);
            for t in &p.todo {
                let c = pr.units[t.unit].counts;
                prop_assert_eq!(t.to_go(), c.total - c.confirmed);
                prop_assert!(t.to_go() > 0 && t.waiting() <= t.to_go());
            }
            match p.next {
                Next::AddEvidence(u) => prop_assert!(p.todo.iter().any(|t| t.unit == u && t.to_go() > t.waiting())),
                Next::WaitForAssessor => prop_assert!(!p.todo.is_empty() && p.todo.iter().all(|t| t.to_go() == t.waiting())),
                Next::Finished => prop_assert!(p.todo.is_empty()),
            }
        }
    }
}
