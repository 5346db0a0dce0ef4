//! Integration tests against a real PostgreSQL: `attest::testing` starts one cluster
//! per test process and gives every test a database of its own.
mod helpers;

mod admin;
mod cli;
mod db_audit;
mod db_enrolment;
mod db_import;
mod db_schema;
mod db_ticks;
mod demo;
mod home;
mod http;
mod iqa;
mod people;
mod pg_cluster;
mod portfolio;
mod serve;
mod signin;
mod sql_statements;
mod tick_transactions;
mod version_cache;
mod web;
