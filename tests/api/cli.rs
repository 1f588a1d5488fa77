//! The `andon` binary itself: configuration errors and `andon migrate`.

use std::process::Output;

use crate::helpers::TestDb;

async fn andon(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_andon"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.expect("running andon")
}

#[tokio::test]
async fn serve_without_secret_key_exits_naming_the_variable() {
    let out = andon(&["serve"], &[]).await;
    assert_eq!(out.status.code(), Some(andon::cli::EXIT_CONFIG));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ANDON_SECRET_KEY: required"),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn serve_with_malformed_value_exits_naming_the_variable() {
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let out = andon(
        &["serve"],
        &[
            ("ANDON_SECRET_KEY", key),
            ("ANDON_LISTEN", "not-an-address"),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(andon::cli::EXIT_CONFIG));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ANDON_LISTEN: cannot parse"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains(key), "the key must never be printed");
}

#[tokio::test]
async fn two_concurrent_migrate_commands_both_succeed_and_apply_once() {
    let db = TestDb::create().await;
    let env = [("ANDON_DATABASE_URL", db.url.as_str())];
    let (a, b) = tokio::join!(andon(&["migrate"], &env), andon(&["migrate"], &env));
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT version, count(*) FROM refinery_schema_history GROUP BY version",
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(
            row.get::<_, i64>(1),
            1,
            "version {} applied twice",
            row.get::<_, i32>(0)
        );
    }
}

#[tokio::test]
async fn sigterm_shuts_down_in_logged_steps_and_exits_zero() {
    let db = TestDb::create().await;
    let server = crate::helpers::binary::serve(&[
        (
            "ANDON_SECRET_KEY",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ANDON_DATABASE_URL", db.url.as_str()),
    ])
    .await;
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    server.sigterm();
    let (code, log) = server.exit_code(30).await;
    assert_eq!(code, Some(0));
    let messages = crate::helpers::binary::Server::messages(&log);
    let position = |needle: &str| {
        messages
            .iter()
            .position(|m| m.starts_with(needle))
            .unwrap_or_else(|| panic!("no log line `{needle}` in {messages:?}"))
    };
    let steps = [
        position("shutdown requested"),
        position("shutdown: stop accepting connections"),
        position("shutdown: close sockets with 1001"),
        position("shutdown: commit in-flight message batches"),
        position("shutdown: store session activity"),
        position("shutdown: fail the reports still running here"),
        position("shutdown: stop the HTTP server"),
        position("shutdown: close the database pool"),
        position("shutdown complete"),
    ];
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{messages:?}");
    assert!(log.iter().any(|l| l.contains("\"reason\":\"SIGTERM\"")));
}
