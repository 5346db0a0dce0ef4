//! attest: an e-portfolio and qualification tracker.
pub mod domain;
