//! `session-tool`: see the crate documentation, or run `session-tool help`.

fn main() -> std::process::ExitCode {
    session_cli::run_without_schema(std::env::args())
}
