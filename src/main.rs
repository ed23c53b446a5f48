//! The `billing` binary: everything happens in [`billing::run`].

fn main() -> std::process::ExitCode {
    billing::run(std::env::args_os())
}
