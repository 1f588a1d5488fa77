use crate::helpers::{TestApp, eventually};

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
    assert!(body["message"].as_str().unwrap().contains("database"));

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
