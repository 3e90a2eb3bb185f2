//! Quack's integration tests, one binary with a module per topic. Every test drives the real
//! `host` binary against real plugin libraries (see the quack-tests library for how they are found).

// Test code: unwrap is how a test says "this must work".
#![allow(clippy::unwrap_used)]

mod animals;
mod auto_choice;
mod batched_answers;
mod bench;
mod c_abi;
mod children;
mod cli_words;
mod closed_streams;
mod cluster;
mod compare;
mod compat;
mod docs_match;
mod dry_run;
mod events;
mod faults;
mod forged_frames;
mod heartbeat;
mod hostile_files;
mod inputs;
mod inspect_list;
mod interrupt;
mod isolation;
mod loading;
mod new_plugin;
mod nodes;
mod option_limits;
mod picture;
mod plugin_cache;
mod plugin_exit;
mod plugin_stdout;
mod program_plugins;
mod reader_gone;
mod report;
mod report_metadata;
mod report_paths;
mod run_failures;
mod run_logs;
mod sandbox;
mod shell_integration;
mod signal_stages;
mod slow_tasks;
mod split_isolated;
mod stop_signals;
mod streaming;
mod terminal;
mod terminal_escapes;
mod time_limits;
mod worker_by_hand;
mod workloads;
