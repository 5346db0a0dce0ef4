//! Integration tests against a real PostgreSQL: `attest::testing` starts one cluster
//! per test process and gives every test a database of its own.
mod helpers;

mod access;
mod admin;
mod browser;
mod cli;
mod credential_pages;
mod credential_pdf;
mod credentials;
mod db_audit;
mod db_credentials;
mod db_enrolment;
mod db_import;
mod db_schema;
mod db_ticks;
mod demo;
mod help;
mod home;
mod htmx;
mod http;
mod iqa;
mod mail;
mod people;
mod people_email;
mod pg_cluster;
mod portfolio;
mod serve;
mod serve_jobs;
mod serve_mail;
mod signin;
mod smtp;
mod sql_statements;
mod status;
mod tick_transactions;
mod web;
