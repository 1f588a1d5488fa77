use andon::config::DatabaseConfig;
use secrecy::SecretString;

use crate::helpers::TestDb;

fn config(db: &TestDb) -> DatabaseConfig {
    DatabaseConfig {
        url: SecretString::from(db.url.clone()),
        pool_size: 2,
        connect_timeout: std::time::Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(15),
    }
}

#[tokio::test]
async fn migrations_applied_twice_are_a_no_op() {
    let db = TestDb::create().await;
    let first = andon::db::migrate::run(&config(&db)).await.unwrap();
    assert!(first >= 1, "a fresh database gets every migration");
    let tables = |c: tokio_postgres::Client| async move {
        c.query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
    };
    let before = tables(db.client().await).await;
    let second = andon::db::migrate::run(&config(&db)).await.unwrap();
    assert_eq!(second, 0, "nothing left to apply");
    assert_eq!(tables(db.client().await).await, before);
    assert!(before.contains(&"users".to_string()));
}
