//! The SendGrid mailer against the SendGrid-compatible fake of the
//! `testing` feature, one binary.

mod gather;
mod mailer;
