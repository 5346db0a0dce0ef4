//! attest: an e-portfolio and qualification tracker.
pub mod cli;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod domain;
pub mod embedding;
pub mod evidence_text;
pub mod jobs;
pub mod load;
pub mod mail;
pub mod pg;
pub mod startup;
pub mod storage;
pub mod testing;
pub mod web;
