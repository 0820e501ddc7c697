//! The `picoauth` command; see `picoauth --help` and [`picoauth_std::cli`].

fn main() -> std::process::ExitCode {
    let code = picoauth_std::cli::run(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::ExitCode::from(code)
}
