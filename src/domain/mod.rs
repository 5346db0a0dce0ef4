//! Business rules, pure: no database, web, IO, environment or clock.
pub mod access;
pub mod accounts;
pub mod apprenticeship;
pub mod audit;
pub(crate) mod centre_log;
pub mod client_address;
pub mod credential;
pub mod credential_number;
pub mod describe;
pub mod employers;
pub mod evidence;
pub mod figures;
pub mod file_type;
pub mod form;
pub mod funding_risk;
pub mod import;
pub mod iqa;
pub mod jcs;
pub mod learner_plan;
pub(crate) mod log_filter;
pub mod mail;
pub mod onboarding;
pub mod otj;
pub mod outcome;
pub(crate) mod password_reset;
pub(crate) mod passwords;
pub mod people;
pub(crate) mod people_list;
pub mod progress;
pub mod qualification;
pub mod reassign;
pub mod report;
pub mod retention;
pub mod reviews;
pub mod signature;
pub mod signin;
pub mod status;
pub mod suggest;
pub mod text;
pub mod ticks;
pub mod witness;

#[cfg(test)]
pub(crate) mod testkit;

pub use outcome::{ConfirmedCriteria, Outcome};
pub use qualification::{
    Criterion, Group, LevelCredits, Major, Outcome as LearningOutcome, Qualification, RuleSet,
    Unit, UnitIx,
};
pub use status::{Action, Decision, Refusal, Status};
