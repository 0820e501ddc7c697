//! `picoauth-install-app`: the example install app; see [`picoauth_install_app::launcher`].

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::ExitCode::from(picoauth_install_app::launcher::run_command(&args))
}
