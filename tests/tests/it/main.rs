//! Quack's integration tests, one binary with a module per topic. Every test drives the real
//! `host` binary against real plugin libraries (see the quack-tests library for how they are found).

// Test code: unwrap is how a test says "this must work".
#![allow(clippy::unwrap_used)]

mod animals;
mod auto_choice;
mod bench;
mod cluster;
mod compat;
mod events;
mod faults;
mod inputs;
mod inspect_list;
mod interrupt;
mod loading;
mod new_plugin;
mod report;
mod run_failures;
mod streaming;
mod time_limits;
mod workloads;
