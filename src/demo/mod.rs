//! The demo centre (`attest serve --demo`), the benchmark qualification, the
//! load-test centre built on it, and a sample certificate.
pub mod bench;
pub mod bench_apprenticeships;
pub mod bench_centre;
pub mod certificate;
pub mod large;
pub mod load;

/// The demo qualification, also a worked example of the import format.
pub const DEMO_QUALIFICATION: &str = include_str!("customer-service.toml");
