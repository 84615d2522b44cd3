//! The `figwatch` command: argument parsing and the one-shot commands over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
