//! The `picoauth` command.
fn main() {}
