//! The Redis adapters against real `redis-server`s (standalone and a
//! 3-master cluster, each on free ports): one test binary, so the suite
//! links once.

mod behaviour;
mod caching;
mod concurrency;
mod delivery;
mod format;
mod layout;
mod limits;
mod replication;
mod samples;
mod store_format;
mod support;
