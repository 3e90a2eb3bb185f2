//! The `host` binary: parse the command line, run it, exit with the command's code.

fn main() -> std::process::ExitCode {
    quack_host::cli::main()
}
