//! The real provider bodies of `tests/fixtures/` and the HTTP status `SOURCES.md` gives
//! each, shared by the core's properties and the workspace's allocation test.

use std::path::{Path, PathBuf};

use picoauth::provider::ProviderKind;

/// `tests/fixtures/` of the workspace.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The HTTP status `SOURCES.md` gives for the fixture `name`: the first three-digit
/// number in the last cell of its table row; 200 where the row gives none.
pub fn status_in_sources(sources: &str, name: &str) -> u16 {
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

/// Which provider a fixture's body comes from, by its file name's prefix
/// (`slack-v2-`, `slack-v1-`, `pinterest-`; RFC 6749 otherwise).
pub fn kind_of(name: &str) -> ProviderKind {
    if name.starts_with("slack-v2-") {
        ProviderKind::SlackV2
    } else if name.starts_with("slack-v1-") {
        ProviderKind::SlackV1
    } else if name.starts_with("pinterest-") {
        ProviderKind::Pinterest
    } else {
        ProviderKind::Rfc6749
    }
}

/// A real provider body and the HTTP status its source sent it with.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The file name, e.g. `slack-v2-ok.json`.
    pub name: String,
    /// The provider the body comes from ([`kind_of`] the name).
    pub kind: ProviderKind,
    /// The status from `SOURCES.md` (200 where it gives none).
    pub status: u16,
    /// The body, as the file holds it.
    pub body: Vec<u8>,
}

/// Every `.json` fixture, sorted by name. Panics if the directory cannot be read or
/// holds fewer than the 50 fixtures `SOURCES.md` lists.
pub fn fixtures() -> Vec<Fixture> {
    let dir = fixtures_dir();
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).expect("SOURCES.md");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file name")
                .to_owned();
            Fixture {
                kind: kind_of(&name),
                status: status_in_sources(&sources, &name),
                body: std::fs::read(&p).expect("read fixture"),
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        out.len() >= 50,
        "SOURCES.md lists 50 fixtures, found {}",
        out.len()
    );
    out
}
