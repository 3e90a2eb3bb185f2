//! The scenarios, one file each, in the order of the table: per-task [`overhead`], the seed's
//! [`factorize`] numbers, [`slow_io`] waits, process [`startup`], the [`memory`] of a long run,
//! the race with a plain rayon program ([`rayon_race`]), JSON Lines against JSON array input
//! ([`input_formats`]), the seed's numbers without splitting ([`not_split`]), workers as Slurm
//! job steps ([`cluster`], where srun works), the C ABI's trial division against Rust's
//! ([`c_abi`]) and the Python plugin against Python's executors ([`python_plugin`], where python3
//! is installed), and what the worker sandbox costs ([`sandbox`]). Each returns one
//! section of the table. Scenarios that drive the library do it through [`crate::drive`] only;
//! the others run whole `host run` processes ([`crate::process`]), so they stay valid whatever
//! the runner's internals become.

pub mod c_abi;
pub mod cluster;
pub mod factorize;
pub mod input_formats;
pub mod memory;
pub mod not_split;
pub mod overhead;
pub mod python_plugin;
pub mod rayon_race;
pub mod sandbox;
pub mod slow_io;
pub mod startup;

/// The seed's numbers and their exact divisors (see docs/peers.md).
pub const SEED: [(u64, &[u64]); 4] = [
    (53541233, &[1, 5501, 9733, 53541233]),
    (21235343, &[1, 21235343]),
    (
        11421443,
        &[1, 11, 383, 2711, 4213, 29821, 1038313, 11421443],
    ),
    (5423123, &[1, 5423123]),
];
