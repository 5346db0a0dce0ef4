//! The demo centre (`attest serve --demo`), the benchmark qualification and the
//! load-test centre built on it.
pub mod bench;
pub mod large;
pub mod load;

/// The demo qualification, also a worked example of the import format.
pub const DEMO_QUALIFICATION: &str = include_str!("customer-service.toml");
