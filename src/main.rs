fn main() -> std::process::ExitCode {
    figwatch::cli::main()
}
