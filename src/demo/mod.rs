//! The demo centre (`attest serve --demo`) and the benchmark qualification.
pub mod certificate;
pub mod large;
pub mod load;

/// The demo qualification, also a worked example of the import format.
pub const DEMO_QUALIFICATION: &str = include_str!("customer-service.toml");
