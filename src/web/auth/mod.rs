//! Sign-in and access. Passwords only for now; sessions come with the e-portfolio pages.
pub mod password;
