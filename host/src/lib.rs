//! The Quack host as a library: what a [`plugin`] is and where its code is, the [`loader`] that
//! opens one (with [`cabi`] for plugins of quack.h's C ABI, and a [`program`] spoken to over
//! pipes for a file starting with `#!`), structural [`interfaces`], the
//! [`runner`] (one [`runner::Run`] per run, over its executors), task [`input`], the
//! [`report`]ers, the worker [`sandbox`], and the [`cli`] on top.
//! The benchmark is a package of its own, `quack-bench` (`bench/`), which drives this library.

pub mod cabi;
pub mod cli;
pub mod input;
pub mod interfaces;
pub mod loader;
pub mod plugin;
pub mod program;
pub mod report;
pub mod runner;
pub mod safe;
pub mod sandbox;
pub mod version;
