//! The built web client served at `/` with a fallback for client-side routes.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_spa_is_served_with_fallback_and_cache_headers() {
    let dir = std::env::temp_dir().join(format!("andon-web-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>Andon</title>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/app-3f2a.js"), "console.log(1)").unwrap();
    let app = TestApp::builder()
        .env("ANDON_WEB_DIR", dir.display())
        .spawn()
        .await;

    for path in ["/", "/rooms/123", "/login?next=%2F"] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["cache-control"], "no-cache");
        assert!(
            resp.text().await.unwrap().contains("<title>Andon</title>"),
            "{path}"
        );
    }
    let resp = app
        .http
        .get(app.url("/assets/app-3f2a.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(resp.text().await.unwrap(), "console.log(1)");

    let (status, body) = app.call(app.http.get(app.url("/api/nope"))).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let resp = app
        .http
        .get(app.url("/../../etc/passwd"))
        .send()
        .await
        .unwrap();
    assert!(!resp.text().await.unwrap().contains("root:"));
    std::fs::remove_dir_all(dir).unwrap();
}
