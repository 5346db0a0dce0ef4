//! The four audit outcomes of SPEC §4 and the set of confirmed criteria an audit reads.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    NoMajorsAchieved,
    AssignedMajorAchieved,
    OtherMajorsAchieved,
    AllMajorsAchieved,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::NoMajorsAchieved,
        Outcome::AssignedMajorAchieved,
        Outcome::OtherMajorsAchieved,
        Outcome::AllMajorsAchieved,
    ];

    /// The SPEC's wording, used in pages, CLI output and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::NoMajorsAchieved => "No Majors Achieved",
            Outcome::AssignedMajorAchieved => "Assigned Major Achieved",
            Outcome::OtherMajorsAchieved => "Other Majors Achieved",
            Outcome::AllMajorsAchieved => "All Majors Achieved",
        }
    }

    /// The stable key stored in the database.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::NoMajorsAchieved => "no_majors_achieved",
            Outcome::AssignedMajorAchieved => "assigned_major_achieved",
            Outcome::OtherMajorsAchieved => "other_majors_achieved",
            Outcome::AllMajorsAchieved => "all_majors_achieved",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.key() == key)
    }

    /// Whether the enrolment's assigned major is achieved under this outcome.
    pub fn assigned_achieved(self) -> bool {
        matches!(
            self,
            Outcome::AssignedMajorAchieved | Outcome::AllMajorsAchieved
        )
    }

    /// SPEC §4's table, from which majors are achieved.
    pub(crate) fn from_results(assigned_achieved: bool, achieved: usize, majors: usize) -> Outcome {
        match (assigned_achieved, achieved) {
            (false, 0) => Outcome::NoMajorsAchieved,
            (false, _) => Outcome::OtherMajorsAchieved,
            (true, n) if n == majors && majors >= 2 => Outcome::AllMajorsAchieved,
            (true, _) => Outcome::AssignedMajorAchieved,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The criteria of one enrolment that carry an assessor-layer tick, by ordinal
/// (see `Qualification::criterion_count`). A bitset: auditing must stay in microseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfirmedCriteria {
    bits: Vec<u64>,
    len: usize,
}

impl ConfirmedCriteria {
    pub fn new(len: usize) -> Self {
        ConfirmedCriteria {
            bits: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Ordinals outside `0..len` are an error: they name a criterion of another version.
    pub(crate) fn from_ordinals(
        len: usize,
        ordinals: impl IntoIterator<Item = usize>,
    ) -> Result<Self, OrdinalOutOfRange> {
        let mut set = ConfirmedCriteria::new(len);
        for o in ordinals {
            set.insert(o)?;
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns whether the ordinal was newly confirmed.
    pub fn insert(&mut self, ordinal: usize) -> Result<bool, OrdinalOutOfRange> {
        if ordinal >= self.len {
            return Err(OrdinalOutOfRange {
                ordinal,
                len: self.len,
            });
        }
        let (word, bit) = (ordinal / 64, 1u64 << (ordinal % 64));
        let new = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        Ok(new)
    }

    pub fn contains(&self, ordinal: usize) -> bool {
        ordinal < self.len && self.bits[ordinal / 64] & (1u64 << (ordinal % 64)) != 0
    }

    /// How many ordinals in `range` are confirmed.
    pub fn count_in(&self, range: std::ops::Range<usize>) -> usize {
        let end = range.end.min(self.len);
        if range.start >= end {
            return 0;
        }
        // Bits [lo, hi) of one word.
        let bits = |word: usize, lo: usize, hi: usize| {
            let mask = if hi - lo == 64 {
                u64::MAX
            } else {
                ((1u64 << (hi - lo)) - 1) << lo
            };
            (self.bits[word] & mask).count_ones() as usize
        };
        let (first, last) = (range.start / 64, (end - 1) / 64);
        if first == last {
            return bits(first, range.start % 64, (end - 1) % 64 + 1);
        }
        let middle: usize = self.bits[first + 1..last]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum();
        bits(first, range.start % 64, 64) + middle + bits(last, 0, (end - 1) % 64 + 1)
    }

    pub fn count(&self) -> usize {
        self.count_in(0..self.len)
    }

    pub fn ordinals(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&o| self.contains(o))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("criterion ordinal {ordinal} is outside this qualification version's {len} criteria")]
pub struct OrdinalOutOfRange {
    pub ordinal: usize,
    pub len: usize,
}
