//! The end-to-end scenarios, one binary: one module per subject, each
//! starting the real server (on port 0, with a data folder of its own, and
//! its own Redis or SendGrid fake where it needs one) through the harness
//! of `onboard_tests`. What a server started in-process shares with the
//! others is the metrics recorder (its outbox gauge follows the newest
//! server), rustls' crypto provider and the id counter; no scenario reads
//! `/metrics` or expects particular ids, so the modules run side by side as
//! the tests within each always did.

mod access;
mod admin;
mod api;
mod branding;
mod browser;
mod descriptors;
mod invitations;
mod lifecycle;
mod limits;
mod mailbox;
mod page;
mod protojson;
mod redis;
mod reminders;
mod sdk_python;
mod sdk_v1;
mod sdk_v2;
mod sendgrid;
mod smtp;
mod user_v2;
mod users;
mod webhooks;
