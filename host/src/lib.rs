//! The Quack host as a library: the plugin [`loader`], structural [`interfaces`], the
//! [`runner`] with its executors, task [`input`], the [`report`]s, the [`cli`] on top,
//! and [`bench`], which measures them against the project's performance targets.

pub mod bench;
pub mod cli;
pub mod error;
pub mod input;
pub mod interfaces;
pub mod loader;
pub mod report;
pub mod runner;
