//! The `embedserve` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    embedserve::cli::main()
}
