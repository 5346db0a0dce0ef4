//! The credential's outputs (SPEC §6).
pub mod jcs;
pub mod multibase;
pub mod vc;
