//! Group commit's batch write against PostgreSQL: 100 messages of 10 rooms through
//! `PgBatchWriter` in one transaction, on a fresh database migrated by
//! `andon::db::migrate::run`. Skipped (with a note) when PostgreSQL is unreachable.
//! Admin URL: `ANDON_BENCH_ADMIN_DATABASE_URL`, default the local `postgres` user.

use std::time::{Duration, Instant};

use andon::config::DatabaseConfig;
use andon::db::batch::PgBatchWriter;
use andon_actors::realtime::{BatchWriter, SendRequest};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use uuid::Uuid;

const BATCH: usize = 100;
const ROOMS: usize = 10;

async fn admin(sql: &str) -> Result<(), tokio_postgres::Error> {
    let url = std::env::var("ANDON_BENCH_ADMIN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

fn database_config(name: &str) -> DatabaseConfig {
    let admin = std::env::var("ANDON_BENCH_ADMIN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    DatabaseConfig {
        url: format!("{base}/{name}").into(),
        pool_size: 4,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: std::time::Duration::from_secs(15),
    }
}

/// A migrated database with `ROOMS` rooms whose sender is an editor.
async fn prepare(name: &str) -> anyhow::Result<(PgBatchWriter, Vec<Uuid>)> {
    admin(&format!("CREATE DATABASE {name}")).await?;
    let config = database_config(name);
    andon::db::migrate::run(&config).await?;
    let pool = andon::db::pool(&config)?;
    let client = pool.get().await?;
    client
        .batch_execute(
            "INSERT INTO users (id, display_name) VALUES ('sender@bench.example', 'Sender')",
        )
        .await?;
    let mut rooms = Vec::new();
    for i in 0..ROOMS {
        let id = Uuid::new_v4();
        client
            .execute(
                "INSERT INTO rooms (id, title, incident_type, severity, created_by)
                 VALUES ($1, $2, 'other', 'low', 'sender@bench.example')",
                &[&id, &format!("bench {i}")],
            )
            .await?;
        client
            .execute(
                "INSERT INTO room_members (room_id, user_id, role, added_by)
                 VALUES ($1, 'sender@bench.example', 'owner', 'sender@bench.example')",
                &[&id],
            )
            .await?;
        rooms.push(id);
    }
    drop(client);
    Ok((
        PgBatchWriter {
            db: pool,
            notifier: None,
        },
        rooms,
    ))
}

fn batch(rooms: &[Uuid], n: &mut u64) -> Vec<SendRequest> {
    (0..BATCH)
        .map(|i| {
            *n += 1;
            SendRequest {
                room_id: rooms[i % rooms.len()],
                sender: "sender@bench.example".into(),
                sender_name: "Sender".into(),
                sender_is_admin: false,
                client_id: format!("c{n}"),
                message_type: "text".into(),
                content: "Line 2 stopped: material shortage at station 7".into(),
                metadata: json!({}),
            }
        })
        .collect()
}

fn batch_insert(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let name = format!(
        "andon_bench_crit_{}",
        &Uuid::new_v4().simple().to_string()[..12]
    );
    let (writer, rooms) = match rt.block_on(prepare(&name)) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("batch_insert: skipped, PostgreSQL is unreachable or refused: {e:#}");
            return;
        }
    };
    let mut g = c.benchmark_group("pg_batch_writer");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(30);
    let mut n = 0u64;
    g.bench_function("write_100_messages_10_rooms", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let requests = batch(&rooms, &mut n);
                    let outcome = writer.write(&requests).await.expect("batch committed");
                    assert!(outcome.results.iter().all(Result::is_ok));
                }
                start.elapsed()
            })
        });
    });
    g.finish();
    drop(writer);
    if let Err(e) = rt.block_on(admin(&format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    ))) {
        eprintln!("batch_insert: could not drop {name}: {e}");
    }
}

criterion_group!(benches, batch_insert);
criterion_main!(benches);
