//! The `picoauth` command run in process, as the workspace's command-line tests drive
//! it (feature `cli`).

/// Runs the `picoauth` command with `argv` (the program name first) and returns its
/// exit status, standard output and standard error.
pub fn run_argv<S: AsRef<str>>(argv: &[S]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = picoauth_cli::run(argv.iter().map(AsRef::as_ref), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("UTF-8 standard output"),
        String::from_utf8(err).expect("UTF-8 standard error"),
    )
}

/// Runs `picoauth` with `args` (after the program name): see [`run_argv`].
pub fn run(args: &[&str]) -> (u8, String, String) {
    let argv: Vec<&str> = core::iter::once("picoauth")
        .chain(args.iter().copied())
        .collect();
    run_argv(&argv)
}
