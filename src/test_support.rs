//! What the property tests share: the inputs kept from fuzzing and where
//! proptest keeps its own failures.

use proptest::test_runner::{Config, FileFailurePersistence};

/// The inputs that once failed fuzz target `target`
/// (`tests/fuzz/regressions/<target>/`), with their paths for failure messages.
pub fn fuzz_regressions(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/regressions")
        .join(target);
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a regression input");
            (path, data)
        })
        .collect()
}

/// proptest's configuration with `cases` cases; failures are kept beside the test
/// file (`props.regressions`).
pub fn proptest_config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}
