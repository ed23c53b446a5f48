//! The `billing` binary: everything happens in [`billing::cli`].

fn main() -> std::process::ExitCode {
    billing::cli::run(std::env::args_os())
}
