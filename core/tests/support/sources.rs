//! Reading `tests/fixtures/SOURCES.md`, shared by the core's properties and the
//! workspace's allocation test (`tests/tests/no_alloc.rs` includes this file by path).

/// The HTTP status `SOURCES.md` gives for the fixture `name`: the first three-digit
/// number in the last cell of its table row; 200 where the row gives none.
pub(crate) fn status_in_sources(sources: &str, name: &str) -> u16 {
    sources
        .lines()
        .find(|l| l.starts_with(&format!("| {name} |")))
        .and_then(|l| l.trim_end_matches('|').rsplit('|').next())
        .and_then(|cell| {
            cell.split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 3)
                .and_then(|w| w.parse().ok())
        })
        .unwrap_or(200)
}
