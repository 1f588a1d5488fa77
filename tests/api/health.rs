use crate::helpers::{Driver, TestApp, eventually};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let (status, body) = app.call(app.http.get(app.url("/healthz"))).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn unknown_route_gets_the_common_error_shape() {
    let app = TestApp::spawn().await;
    let (status, body) = app.call(app.http.get(app.url("/api/nope"))).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
    assert!(body["message"].as_str().unwrap().contains("/api/nope"));
}

#[tokio::test]
async fn readyz_follows_the_database_without_a_restart() {
    let app = TestApp::builder().with_db_proxy().spawn().await;
    let proxy = app.db_proxy.clone().unwrap();
    let (status, body) = app.call(app.http.get(app.url("/readyz"))).await;
    assert_eq!((status, &body["status"]), (200, &"ready".into()));

    proxy.cut();
    let body = eventually(10, "readyz to report 503", || async {
        let (status, body) = app.call(app.http.get(app.url("/readyz"))).await;
        (status == 503).then_some(body)
    })
    .await;
    assert_eq!(body["code"], "not_ready");
    // A reason code, not the driver's text (it can name hosts, ports and users).
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        ["database_unreachable", "database_query_failed"].contains(&reason),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("The database"), "{body}");
    assert!(
        !message.contains("127.0.0.1") && !message.contains("error"),
        "{body}"
    );

    proxy.restore();
    eventually(10, "readyz to recover", || async {
        let (status, _) = app.call(app.http.get(app.url("/readyz"))).await;
        (status == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn wrong_method_gets_the_common_error_shape() {
    let app = TestApp::spawn().await;
    let (status, body) = app.call(app.http.post(app.url("/healthz"))).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn readyz_names_the_storage_by_a_reason_code() {
    let app = TestApp::builder().storage(Driver::Local).spawn().await;
    app.storage.set_down(true);
    let (status, body) = app.call(app.http.get(app.url("/readyz"))).await;
    app.storage.set_down(false);
    assert_eq!(status, 503);
    assert_eq!(
        (body["code"].as_str(), body["reason"].as_str()),
        (Some("not_ready"), Some("storage_unreachable")),
        "{body}"
    );
    assert_eq!(body["message"], "The file storage is unreachable");
}
