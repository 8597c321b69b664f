//! The Redis adapters against real `redis-server`s (standalone and a
//! 3-master cluster, each on free ports): one test binary, so the suite
//! links once.

mod behaviour;
mod concurrency;
mod layout;
mod limits;
mod store_format;
mod support;
