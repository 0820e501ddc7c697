//! The `picoauth` command; see `picoauth --help` and the `picoauth-cli` crate.

fn main() -> std::process::ExitCode {
    let code = picoauth_cli::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
