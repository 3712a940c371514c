//! The `hydrograd` command line: a thin layer over the library (see `hydrograd --help`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
