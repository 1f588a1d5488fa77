//! Session lifetime against the fake AD over HTTP (PRODUCT.md A3, A5, A6): refresh,
//! strikes, forced logout, inactivity, restart, and what the database holds.
//!
//! Refreshes are driven by configuration: tokens of 3 s and a threshold of 2 s put
//! the first refresh 1 s after login, and retries 1 s apart. Tests wait for
//! outcomes (`eventually`), never for fixed times.

use base64::Engine;

use crate::helpers::{TestApp, TestUser, eventually};

async fn fast_refresh_app() -> TestApp {
    let app = TestApp::builder()
        .env("ANDON_REFRESH_THRESHOLD_SECS", 2)
        .env("ANDON_REFRESH_RETRY_SECS", 1)
        .spawn()
        .await;
    app.ad.set_token_ttl(3).await;
    app
}

async fn failures(app: &TestApp, user: &TestUser) -> Option<i32> {
    app.db
        .client()
        .await
        .query_opt(
            "SELECT refresh_failures FROM sessions WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .unwrap()
        .map(|r| r.get(0))
}

#[tokio::test]
async fn three_rejected_refreshes_force_logout() {
    let app = fast_refresh_app().await;
    let user = app.user("forced").await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200); // active
    app.ad.set_password(&user.id, "changed-at-ad").await;

    let body = eventually(20, "the session to be revoked", || async {
        let (status, body) = app.get_as("/api/auth/me", &user.token).await;
        (status == 401).then_some(body)
    })
    .await;
    assert_eq!(body["code"], "session_revoked");
    assert_eq!(
        app.ad.login_requests().await,
        1 + 3,
        "the login, then exactly three rejected refreshes"
    );
    assert_eq!(failures(&app, &user).await, None, "session row deleted");
}

#[tokio::test]
async fn an_ad_outage_of_the_same_length_revokes_nothing() {
    let app = fast_refresh_app().await;
    let user = app.user("outage").await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    app.ad.set_outage(true).await;

    eventually(20, "three refresh attempts during the outage", || async {
        // The login, then three refresh attempts.
        (app.ad.login_requests().await > 3).then_some(())
    })
    .await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    assert_eq!(
        failures(&app, &user).await,
        Some(0),
        "an outage is no strike"
    );

    let before: chrono::DateTime<chrono::Utc> = app
        .db
        .client()
        .await
        .query_one(
            "SELECT ad_expires_at FROM sessions WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .unwrap()
        .get(0);
    app.ad.set_outage(false).await;
    eventually(20, "a successful refresh after the outage", || async {
        let row = app
            .db
            .client()
            .await
            .query_one(
                "SELECT ad_expires_at FROM sessions WHERE user_id = $1",
                &[&user.id],
            )
            .await
            .unwrap();
        (row.get::<_, chrono::DateTime<chrono::Utc>>(0) > before).then_some(())
    })
    .await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
}

#[tokio::test]
async fn inactive_sessions_expire_with_their_own_code() {
    let app = TestApp::builder()
        .env("ANDON_INACTIVITY_SECS", 1)
        .spawn()
        .await;
    let user = app.user("idle").await;
    eventually(20, "the session to expire", || async {
        let row = app
            .db
            .client()
            .await
            .query_opt("SELECT 1 FROM sessions WHERE user_id = $1", &[&user.id])
            .await
            .unwrap();
        row.is_none().then_some(())
    })
    .await;
    let (status, body) = app.get_as("/api/auth/me", &user.token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("session_expired"))
    );
}

#[tokio::test]
async fn inactivity_is_judged_by_the_stored_activity_that_other_nodes_write() {
    let app = TestApp::builder()
        .env("ANDON_INACTIVITY_SECS", 2)
        .spawn()
        .await;
    let user = app.user("active-elsewhere").await;
    let db = app.db.client().await;
    // Activity another node stored (this node saw none): the session is idle
    // here within 2 s, but may expire only 2 s after that activity.
    let active: chrono::DateTime<chrono::Utc> = db
        .query_one(
            "UPDATE sessions SET last_activity_at = now() + interval '4 seconds'
             WHERE user_id = $1 RETURNING last_activity_at",
            &[&user.id],
        )
        .await
        .unwrap()
        .get(0);
    let ended_at: chrono::DateTime<chrono::Utc> =
        eventually(20, "the session to expire", || async {
            let row = db
                .query_opt(
                    "SELECT e.ended_at FROM ended_sessions e
                 WHERE e.reason = 'expired'
                   AND NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = $1)",
                    &[&user.id],
                )
                .await
                .unwrap();
            row.map(|r| r.get(0))
        })
        .await;
    assert!(
        ended_at >= active + chrono::Duration::seconds(2),
        "expired at {ended_at}, before 2 s had passed since the activity at {active}"
    );
}

#[tokio::test]
async fn a_stored_session_past_its_end_is_refused_and_ended() {
    let app = TestApp::spawn().await;
    // Not used before the change: no activity of theirs waits to be written back.
    let idle = app.user("stale-idle").await;
    let struck = app.user("stale-struck").await;
    let db = app.db.client().await;
    // As if the supervisor had not managed to end them (default inactivity: 3 days).
    db.execute(
        "UPDATE sessions SET last_activity_at = now() - interval '4 days' WHERE user_id = $1",
        &[&idle.id],
    )
    .await
    .unwrap();
    db.execute(
        "UPDATE sessions SET refresh_failures = 3 WHERE user_id = $1",
        &[&struck.id],
    )
    .await
    .unwrap();

    for (user, code) in [(&idle, "session_expired"), (&struck, "session_revoked")] {
        let (status, body) = app.get_as("/api/auth/me", &user.token).await;
        assert_eq!((status, body["code"].as_str()), (401, Some(code)), "{body}");
        eventually(20, "the overdue session to be ended", || async {
            let row = db
                .query_opt("SELECT 1 FROM sessions WHERE user_id = $1", &[&user.id])
                .await
                .unwrap();
            row.is_none().then_some(())
        })
        .await;
        let (status, body) = app.get_as("/api/auth/me", &user.token).await;
        assert_eq!((status, body["code"].as_str()), (401, Some(code)), "{body}");
    }
}

#[tokio::test]
async fn the_database_holds_no_plaintext_password_or_usable_token() {
    let app = TestApp::spawn().await;
    app.ad
        .add_user("kim@andon.test", "same-password-123", "Kim")
        .await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (status, body) = app.login("kim@andon.test", "same-password-123").await;
        assert_eq!(status, 200);
        tokens.push(body["token"].as_str().unwrap().to_string());
    }

    let client = app.db.client().await;
    let rows = client
        .query(
            "SELECT s::text, password_enc, token_hash FROM sessions s WHERE user_id = 'kim@andon.test'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let whole_row: String = row.get(0);
        assert!(!whole_row.contains("same-password-123"));
        for token in &tokens {
            assert!(!whole_row.contains(token.as_str()), "token stored as is");
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .unwrap();
            let hex: String = b64.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!whole_row.contains(&hex), "token bytes stored as is");
        }
        let enc: Vec<u8> = row.get(1);
        assert!(!enc.windows(8).any(|w| w == b"same-pas"));
    }
    let (a, b): (Vec<u8>, Vec<u8>) = (rows[0].get(1), rows[1].get(1));
    assert_ne!(a, b, "equal passwords give different ciphertexts");
    // The tokens still work: what is stored is a hash of them.
    for token in &tokens {
        assert_eq!(app.get_as("/api/auth/me", token).await.0, 200);
    }
}

#[tokio::test]
async fn a_restart_keeps_sessions_valid_and_their_refreshes_scheduled() {
    let app = fast_refresh_app().await;
    let user = app.user("restart").await;
    let app = app.restart().await;
    let logins_before = app.ad.login_requests().await;

    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    eventually(20, "a refresh scheduled by the restarted app", || async {
        (app.ad.login_requests().await > logins_before).then_some(())
    })
    .await;
    assert_eq!(failures(&app, &user).await, Some(0));
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
}

#[tokio::test]
async fn key_rotation_keeps_sessions_and_reseals_under_the_new_key() {
    let app = fast_refresh_app().await;
    let user = app.user("rotate").await;
    let key_id = |app: &TestApp| {
        let db = app.db.clone();
        let id = user.id.clone();
        async move {
            db.client()
                .await
                .query_one("SELECT key_id FROM sessions WHERE user_id = $1", &[&id])
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    let old_id = key_id(&app).await;
    let old_key = app.var("ANDON_SECRET_KEY");
    let new_key = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let app = app
        .restart_with(&[
            ("ANDON_SECRET_KEY", new_key.as_str()),
            ("ANDON_OLD_SECRET_KEYS", old_key.as_str()),
        ])
        .await;
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    let new_id = eventually(20, "the refresh to re-seal under the new key", || async {
        let id = key_id(&app).await;
        (id != old_id).then_some(id)
    })
    .await;
    assert_ne!(new_id, old_id);
    assert_eq!(
        failures(&app, &user).await,
        Some(0),
        "old ciphertext decrypted"
    );
}

#[tokio::test]
async fn a_tampered_ciphertext_is_never_used() {
    let app = fast_refresh_app().await;
    let user = app.user("tamper").await;
    app.db
        .client()
        .await
        .execute(
            "UPDATE sessions SET password_enc = set_byte(password_enc, 20, get_byte(password_enc, 20) # 1) WHERE user_id = $1",
            &[&user.id],
        )
        .await
        .unwrap();
    assert_eq!(app.get_as("/api/auth/me", &user.token).await.0, 200);
    // AD would accept the real password, but the tampered one never decrypts, so
    // every refresh fails and the session ends; AD is not even asked.
    eventually(
        20,
        "the session with unusable credentials to end",
        || async { (app.get_as("/api/auth/me", &user.token).await.0 == 401).then_some(()) },
    )
    .await;
    assert_eq!(app.ad.login_requests().await, 1, "only the original login");
}
