//! Files (PRODUCT.md F1–F4) over HTTP, the same tests against both drivers: a
//! local directory and S3 (a Garage server, with a bucket per test).

use andon_actors::metrics;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{
    Driver, S3Server, TestApp, TestUser, WsClient, add_member, cast, delete_room_permanently,
    eventually, new_room,
};

const MIB: usize = 1024 * 1024;

/// Pseudo-random bytes (noise does not compress, so a JPEG of it is large).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A JPEG of about `target` bytes with an EXIF segment carrying a GPS marker.
fn jpeg_with_exif(target: usize) -> Vec<u8> {
    // Noise at quality 92 costs about 2.1 bytes a pixel.
    let side = (target as f64 / 2.1).sqrt() as u32;
    let img = image::RgbImage::from_raw(side, side, noise((side * side * 3) as usize, 7)).unwrap();
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 92)
        .encode_image(&img)
        .unwrap();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPS 25.0330N 121.5654E ANDON-GPS-MARKER");
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(width, height, image::Rgba([0, 120, 200, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A PNG of a few bytes that declares `width`×`height` RGB pixels (a
/// decompression bomb's header: the decoder would allocate before reading data).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let idat = [0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01];
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &idat), (b"IEND", &[])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let body = [kind, data].concat();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    openssl::sha::sha256(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `POST /api/rooms/{room}/files` with `bytes` as `name`, claiming `claimed_type`.
async fn upload(
    app: &TestApp,
    user: &TestUser,
    room: &str,
    name: &str,
    bytes: Vec<u8>,
    caption: Option<&str>,
) -> (u16, Value) {
    let part = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("image/jpeg")
        .unwrap();
    let mut form = Form::new().part("file", part);
    if let Some(c) = caption {
        form = form.text("caption", c.to_string());
    }
    app.call(
        app.authed(
            Method::POST,
            &format!("/api/rooms/{room}/files"),
            &user.token,
        )
        .multipart(form),
    )
    .await
}

/// Everything an upload could have left: objects, file rows, file messages.
async fn leftovers(app: &TestApp) -> (Vec<String>, i64, i64) {
    let client = app.db.client().await;
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let objects = app
        .storage
        .objects()
        .await
        .into_iter()
        .filter(|k| !k.starts_with(".tmp/.probe"))
        .collect();
    (
        objects,
        count("SELECT count(*) FROM files").await,
        count("SELECT count(*) FROM messages WHERE message_type IN ('image_ref', 'file_ref')")
            .await,
    )
}

async fn nothing_left(app: &TestApp) {
    let (objects, files, messages) = leftovers(app).await;
    assert!(objects.is_empty(), "objects left: {objects:?}");
    assert_eq!((files, messages), (0, 0), "rows left");
}

async fn app_for(driver: Driver) -> TestApp {
    TestApp::builder().storage(driver).spawn().await
}

/// The downloaded bytes, following the S3 driver's redirect.
async fn download(
    app: &TestApp,
    user: &TestUser,
    path: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = app
        .authed(Method::GET, path, &user.token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

async fn nine_mb_jpeg_uploads_with_a_clean_thumbnail_is_broadcast_and_downloads_identically(
    driver: Driver,
) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    let mut ws = WsClient::connect(&app, &c.viewer.token).await;
    ws.subscribe(&c.room, None).await;

    let photo = jpeg_with_exif(9 * MIB);
    assert!(
        (8 * MIB..10 * MIB).contains(&photo.len()),
        "fixture is {} bytes",
        photo.len()
    );
    let (status, body) = upload(
        &app,
        &c.editor,
        &c.room,
        "belt-tear.jpg",
        photo.clone(),
        Some("Tear at roller 4"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let file = &body["file"];
    assert_eq!(
        (file["kind"].as_str(), file["mime_type"].as_str()),
        (Some("image"), Some("image/jpeg"))
    );
    assert_eq!(file["size"], photo.len());
    assert_eq!(file["sha256"], sha256_hex(&photo));
    assert_eq!(file["name"], "belt-tear.jpg");
    assert_eq!(body["message"]["message_type"], "image_ref");
    assert_eq!(body["message"]["content"], "Tear at roller 4");

    let created = ws.recv_kind(&c.room, "message.created").await;
    assert_eq!(created["data"]["file"]["id"], file["id"]);
    let added = ws.recv_kind(&c.room, "file.added").await;
    assert_eq!(added["data"]["file"]["sha256"], file["sha256"]);
    assert_eq!(added["seq"], created["seq"].as_i64().unwrap() + 1);

    let (status, headers, bytes) =
        download(&app, &c.viewer, file["content_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&bytes), sha256_hex(&photo), "byte-identical");
    if driver == Driver::Local {
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-type"], "image/jpeg");
    }

    let (status, _, thumb) =
        download(&app, &c.viewer, file["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let decoded = image::load_from_memory(&thumb).unwrap();
    assert_eq!(decoded.width().max(decoded.height()), 320);
    let has = |needle: &[u8]| thumb.windows(needle.len()).any(|w| w == needle);
    assert!(
        !has(b"Exif") && !has(b"ANDON-GPS-MARKER"),
        "no metadata in the thumbnail"
    );

    let (_, history) = app
        .get_as(&format!("/api/rooms/{}/messages", c.room), &c.viewer.token)
        .await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["file"]["id"], file["id"]);
}

async fn too_large_uploads_are_refused_while_streaming_and_leave_nothing(driver: Driver) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    // 25 MB, no Content-Length (chunked): the limit is found while streaming.
    let mut first = jpeg_with_exif(64 * 1024);
    first.truncate(64 * 1024);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = std::iter::once(Ok(first))
        .chain((0..400).map(|i| Ok(noise(64 * 1024, i))))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let form = Form::new().part("file", Part::stream(body).file_name("huge.jpg"));
    let result = app
        .authed(
            Method::POST,
            &format!("/api/rooms/{}/files", c.room),
            &c.editor.token,
        )
        .multipart(form)
        .send()
        .await;
    if let Ok(resp) = result {
        assert_eq!(resp.status(), 413);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large");
    } // else the server closed the connection while the client was still sending
    let read = app.metrics.gauge(metrics::UPLOAD_READ_MAX) as usize;
    assert!(
        read <= 10 * MIB + 256 * 1024,
        "read {read} bytes of a 25 MB upload"
    );
    // With a Content-Length over every limit, nothing is read at all.
    let (status, body) = upload(
        &app,
        &c.editor,
        &c.room,
        "big.pdf",
        vec![b'%'; 25 * MIB],
        None,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    nothing_left(&app).await;
}

async fn types_come_from_the_bytes(driver: Driver) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    let (status, body) = upload(&app, &c.editor, &c.room, "report.pdf", png(640, 480), None).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["file"]["mime_type"], "image/png",
        "a PNG named .pdf is a PNG"
    );
    assert_eq!(
        body["file"]["name"], "report.png",
        "the stored extension follows the bytes"
    );
    let (status, headers, _) = download(
        &app,
        &c.editor,
        body["file"]["thumbnail_url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    if driver == Driver::Local {
        assert_eq!(headers["content-type"], "image/jpeg");
    }

    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
    elf.extend(noise(4096, 3));
    let (status, body) = upload(&app, &c.editor, &c.room, "cat.jpg", elf, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );

    let (status, body) = upload(
        &app,
        &c.editor,
        &c.room,
        "plc.csv",
        "溫度,壓力\n21.5,3.1\n".as_bytes().to_vec(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (
            body["file"]["kind"].as_str(),
            body["file"]["mime_type"].as_str()
        ),
        (Some("log"), Some("text/csv"))
    );
    assert_eq!(body["message"]["message_type"], "file_ref");
    assert!(body["file"]["thumbnail_url"].is_null());
    if driver == Driver::Local {
        let (_, headers, _) = download(
            &app,
            &c.editor,
            body["file"]["content_url"].as_str().unwrap(),
        )
        .await;
        let cd = headers["content-disposition"].to_str().unwrap();
        assert!(cd.starts_with("attachment"), "{cd}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

async fn only_editors_and_owners_upload_and_only_members_download(driver: Driver) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    for user in [&c.viewer, &c.outsider] {
        let (status, body) = upload(&app, user, &c.room, "x.png", png(10, 10), None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("forbidden")),
            "{}",
            user.id
        );
    }
    let (_, body) = upload(&app, &c.owner, &c.room, "x.png", png(10, 10), None).await;
    let file = body["file"].clone();
    let (status, _, _) = download(&app, &c.outsider, file["content_url"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    let (status, list) = app
        .get_as(&format!("/api/rooms/{}/files", c.room), &c.viewer.token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["files"].as_array().unwrap().len(), 1);
    let (status, meta) = app
        .get_as(
            &format!(
                "/api/rooms/{}/files/{}",
                c.room,
                file["id"].as_str().unwrap()
            ),
            &c.viewer.token,
        )
        .await;
    assert_eq!((status, &meta["sha256"]), (200, &file["sha256"]));
}

async fn storage_down_gives_503_and_leaves_nothing_then_recovers(driver: Driver) {
    let app = TestApp::builder()
        .storage(driver)
        .with_storage_proxy()
        .spawn()
        .await;
    let c = cast(&app).await;
    app.storage.set_down(true);
    let (status, body) = upload(&app, &c.editor, &c.room, "x.png", png(400, 300), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    let (status, _) = app.call(app.http.get(app.url("/readyz"))).await;
    assert_eq!(status, 503, "readyz follows the storage");
    app.storage.set_down(false);
    nothing_left(&app).await;
    let (status, body) = upload(&app, &c.editor, &c.room, "x.png", png(400, 300), None).await;
    assert_eq!(status, 201, "works again without a restart: {body}");
}

type Chunks = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

/// An upload whose body the test feeds chunk by chunk through the sender.
fn streamed_upload(
    app: &TestApp,
    user: &TestUser,
    room: &str,
) -> (
    Chunks,
    impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let stream =
        futures_util::stream::unfold(rx, |mut rx: tokio::sync::mpsc::Receiver<_>| async move {
            rx.recv().await.map(|c| (c, rx))
        });
    let form = Form::new().part(
        "file",
        Part::stream(reqwest::Body::wrap_stream(stream)).file_name("x.png"),
    );
    let request = app
        .authed(
            Method::POST,
            &format!("/api/rooms/{room}/files"),
            &user.token,
        )
        .multipart(form)
        .send();
    (tx, request)
}

async fn database_down_during_an_upload_leaves_no_object(driver: Driver) {
    let app = TestApp::builder()
        .storage(driver)
        .with_db_proxy()
        .spawn()
        .await;
    let c = cast(&app).await;
    let (tx, request) = streamed_upload(&app, &c.editor, &c.room);
    let bytes = png(800, 600);
    let (half, rest) = bytes.split_at(bytes.len() / 2);
    let (half, rest) = (half.to_vec(), rest.to_vec());
    let proxy = app.db_proxy.clone().unwrap();
    let feeder = async move {
        tx.send(Ok(half)).await.unwrap();
        // The room was checked before the body was read; now the database goes.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        proxy.cut();
        tx.send(Ok(rest)).await.unwrap();
    };
    let (resp, ()) = tokio::join!(request, feeder);
    let resp = resp.unwrap();
    assert_eq!(resp.status(), 503);
    app.db_proxy.as_ref().unwrap().restore();
    nothing_left(&app).await;
}

async fn a_client_leaving_mid_upload_leaves_nothing(driver: Driver) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    let (tx, request) = streamed_upload(&app, &c.editor, &c.room);
    let bytes = png(800, 600);
    tx.send(Ok(bytes[..bytes.len() / 2].to_vec()))
        .await
        .unwrap();
    // Give up mid-way: the request future is dropped with the body half sent.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(300), request).await;
    drop(tx);
    eventually(
        10,
        "the spool file of the abandoned upload to go",
        || async {
            let (objects, files, messages) = leftovers(&app).await;
            (objects.iter().all(|o| !o.contains(".part")) && files == 0 && messages == 0)
                .then_some(())
        },
    )
    .await;
    nothing_left(&app).await;
}

async fn deleting_a_file_deletes_its_message_and_is_broadcast(driver: Driver) {
    let app = app_for(driver).await;
    let c = cast(&app).await;
    let (_, body) = upload(&app, &c.editor, &c.room, "x.png", png(50, 50), Some("leak")).await;
    let file = body["file"].clone();
    let path = format!(
        "/api/rooms/{}/files/{}",
        c.room,
        file["id"].as_str().unwrap()
    );
    let mut ws = WsClient::connect(&app, &c.owner.token).await;
    ws.subscribe(&c.room, None).await;
    let (status, _) = app
        .send_as(Method::DELETE, &path, &c.viewer.token, None)
        .await;
    assert_eq!(status, 403, "a viewer may not");
    let (status, _) = app
        .send_as(Method::DELETE, &path, &c.editor.token, None)
        .await;
    assert_eq!(status, 204, "the uploader may");
    ws.recv_kind(&c.room, "message.deleted").await;
    let deleted = ws.recv_kind(&c.room, "file.deleted").await;
    assert_eq!(deleted["data"]["file_id"], file["id"]);
    let (status, _, _) = download(&app, &c.owner, file["content_url"].as_str().unwrap()).await;
    assert_eq!(status, 404);
    let (_, history) = app
        .get_as(&format!("/api/rooms/{}/messages", c.room), &c.owner.token)
        .await;
    let m = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (m["deleted"].as_bool(), m["file"].is_null()),
        (Some(true), true)
    );
}

async fn permanent_room_delete_removes_every_object(driver: Driver) {
    let app = app_for(driver).await;
    let owner = app.user("owner").await;
    let admin = app.user_with_id("admin@andon.test", "Admin").await;
    let editor = app.user("editor").await;
    let room = new_room(&app, &owner).await;
    add_member(&app, &owner, &room, &editor, "editor").await;
    for i in 0..2 {
        let (status, _) = upload(
            &app,
            &editor,
            &room,
            &format!("p{i}.png"),
            png(400, 400),
            None,
        )
        .await;
        assert_eq!(status, 201);
    }
    let (objects, _, _) = leftovers(&app).await;
    assert_eq!(objects.len(), 4, "two files, two thumbnails: {objects:?}");
    assert_eq!(delete_room_permanently(&app, &admin, &room).await, 204);
    nothing_left(&app).await;
}

macro_rules! for_both_drivers {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(#[tokio::test] async fn $name() { super::$name(super::Driver::Local).await })*
        }
        mod s3 {
            $(#[tokio::test] async fn $name() { super::$name(super::Driver::S3).await })*
        }
    };
}

for_both_drivers!(
    nine_mb_jpeg_uploads_with_a_clean_thumbnail_is_broadcast_and_downloads_identically,
    too_large_uploads_are_refused_while_streaming_and_leave_nothing,
    types_come_from_the_bytes,
    only_editors_and_owners_upload_and_only_members_download,
    storage_down_gives_503_and_leaves_nothing_then_recovers,
    database_down_during_an_upload_leaves_no_object,
    a_client_leaving_mid_upload_leaves_nothing,
    deleting_a_file_deletes_its_message_and_is_broadcast,
    permanent_room_delete_removes_every_object,
);

#[tokio::test]
async fn an_image_declaring_more_than_50_megapixels_is_kept_without_a_thumbnail() {
    let app = app_for(Driver::Local).await;
    let c = cast(&app).await;
    // 12000×12000: 432 MB of pixels declared by a 70-byte file.
    let bomb = png_declaring(12_000, 12_000);
    let (status, body) = upload(&app, &c.editor, &c.room, "bomb.png", bomb.clone(), None).await;
    assert_eq!(status, 201, "{body}");
    let file = &body["file"];
    assert_eq!(
        (file["kind"].as_str(), file["mime_type"].as_str()),
        (Some("image"), Some("image/png"))
    );
    assert_eq!(file["has_thumbnail"], false);
    assert!(file["thumbnail_url"].is_null());
    assert_eq!(body["message"]["message_type"], "image_ref");

    let thumb = format!(
        "{}/thumbnail",
        file["content_url"]
            .as_str()
            .unwrap()
            .trim_end_matches("/content")
    );
    assert_eq!(download(&app, &c.editor, &thumb).await.0, 404);
    let (status, headers, bytes) =
        download(&app, &c.editor, file["content_url"].as_str().unwrap()).await;
    assert_eq!((status, bytes), (200, bomb), "stored as uploaded");
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "not rendered inline: {cd}");
}

#[tokio::test]
async fn a_disguised_name_loses_its_invisible_characters_and_gets_the_sniffed_extension() {
    let app = app_for(Driver::Local).await;
    let c = cast(&app).await;
    // Shows as `restarttab.txt` where bidirectional text is honoured; it is a .bat.
    let disguised = "restart\u{202E}txt.bat";
    let (status, body) = upload(
        &app,
        &c.editor,
        &c.room,
        disguised,
        b"shutdown /r /t 0\r\n".to_vec(),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["file"]["mime_type"], "text/plain");
    assert_eq!(body["file"]["name"], "restarttxt.bat.txt");
    assert_eq!(body["message"]["file"]["name"], "restarttxt.bat.txt");

    let (status, headers, _) = download(
        &app,
        &c.editor,
        body["file"]["content_url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(cd.contains("restarttxt.bat.txt"), "{cd}");
    assert!(!cd.contains("%E2%80%AE"), "no RLO in the header: {cd}");
}

#[tokio::test]
async fn local_downloads_support_ranges() {
    let app = app_for(Driver::Local).await;
    let c = cast(&app).await;
    let (_, body) = upload(
        &app,
        &c.editor,
        &c.room,
        "log.txt",
        b"0123456789abcdef".to_vec(),
        None,
    )
    .await;
    let resp = app
        .authed(
            Method::GET,
            body["file"]["content_url"].as_str().unwrap(),
            &c.editor.token,
        )
        .header("range", "bytes=4-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"456789");
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn thumbnail_url(file: &Value) -> String {
    file["thumbnail_url"]
        .as_str()
        .expect("a thumbnail")
        .to_string()
}

#[tokio::test]
async fn s3_without_a_public_endpoint_is_streamed_by_andon() {
    let app = app_for(Driver::S3).await;
    let c = cast(&app).await;
    let image = png(640, 400);
    let (status, body) = upload(
        &app,
        &c.editor,
        &c.room,
        "scratch.png",
        image.clone(),
        Some("Scratch on housing"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let file = &body["file"];
    let get = |path: String, range: Option<&'static str>| {
        let mut req = no_redirects()
            .get(app.url(&path))
            .bearer_auth(&c.viewer.token);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        req.send()
    };

    // No redirect to the internal endpoint: the bytes come from Andon.
    let resp = get(file["content_url"].as_str().unwrap().into(), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-length"], image.len().to_string().as_str());
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["accept-ranges"], "bytes");
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("inline") && cd.contains("scratch.png"),
        "{cd}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains(":3900"), "no S3 origin in the CSP: {csp}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &image[..]);

    let resp = get(thumbnail_url(file), None).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&resp.bytes().await.unwrap()).expect("a JPEG");
    assert_eq!((thumb.width(), thumb.height()), (320, 200));

    // One range is passed on to S3; one it cannot satisfy is a 416.
    let resp = get(
        file["content_url"].as_str().unwrap().into(),
        Some("bytes=1-3"),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 1-3/{}", image.len()).as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &image[1..4]);
    let resp = get(
        file["content_url"].as_str().unwrap().into(),
        Some("bytes=99999999-"),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 416);

    // A PDF is an attachment, byte for byte.
    let pdf = b"%PDF-1.4\n%test\n".to_vec();
    let (_, body) = upload(&app, &c.editor, &c.room, "r.pdf", pdf.clone(), None).await;
    let resp = get(body["file"]["content_url"].as_str().unwrap().into(), None)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cd = resp.headers()["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), pdf);

    // Still only for members.
    let resp = no_redirects()
        .get(app.url(file["content_url"].as_str().unwrap()))
        .bearer_auth(&c.outsider.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn s3_with_a_public_endpoint_redirects_to_urls_presigned_for_it() {
    let server = S3Server::from_env();
    // The same Garage under another name, as a browser-facing address would be.
    let public = server.endpoint.replace("127.0.0.1", "localhost");
    assert_ne!(public, server.endpoint);
    let app = TestApp::builder()
        .storage(Driver::S3)
        .env("ANDON_S3_PUBLIC_ENDPOINT", &public)
        .spawn()
        .await;
    let c = cast(&app).await;
    let image = png(640, 400);
    let (_, body) = upload(&app, &c.editor, &c.room, "p.png", image.clone(), None).await;
    let file = &body["file"];
    let pdf = b"%PDF-1.4\n%test\n".to_vec();
    let (_, body) = upload(&app, &c.editor, &c.room, "r.pdf", pdf.clone(), None).await;
    let pdf_url = body["file"]["content_url"].as_str().unwrap().to_string();

    for (path, expected, disposition) in [
        (
            file["content_url"].as_str().unwrap().to_string(),
            Some(image.clone()),
            "inline",
        ),
        (thumbnail_url(file), None, "inline"),
        (pdf_url, Some(pdf.clone()), "attachment"),
    ] {
        let resp = no_redirects()
            .get(app.url(&path))
            .bearer_auth(&c.editor.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302, "{path}");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.headers()["cache-control"], "private, no-store");
        let csp = resp.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains(&format!("img-src 'self' blob: data: {public};"))
                && csp.contains(&format!("{public};"))
                && !csp.contains("127.0.0.1:3900"),
            "{csp}"
        );
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{public}/{}/rooms/", app.storage.bucket())),
            "{location}"
        );
        assert!(
            location.contains("X-Amz-Expires=3600") && location.contains("X-Amz-Signature="),
            "{location}"
        );
        assert!(
            location.contains(&format!("response-content-disposition={disposition}")),
            "{location}"
        );
        // The signature holds for the public name: what a browser gets.
        let fetched = reqwest::get(&location).await.unwrap();
        assert_eq!(fetched.status(), 200, "{location}");
        let bytes = fetched.bytes().await.unwrap().to_vec();
        match expected {
            Some(e) => assert_eq!(bytes, e, "{path}"),
            None => assert!(image::load_from_memory(&bytes).is_ok(), "a thumbnail"),
        }
    }
}

#[tokio::test]
async fn a_caption_is_the_message_text_bounded_to_2000_characters() {
    let app = app_for(Driver::Local).await;
    let c = cast(&app).await;
    let post = |caption: String| {
        // The caption before the file this time: either order is accepted.
        let form = Form::new().text("caption", caption).part(
            "file",
            Part::bytes(b"line 4 stopped\n".to_vec()).file_name("stop.txt"),
        );
        app.call(
            app.authed(
                Method::POST,
                &format!("/api/rooms/{}/files", c.room),
                &c.editor.token,
            )
            .multipart(form),
        )
    };
    let (status, body) = post("滾".repeat(2001)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "validation_failed");
    assert!(body["message"].as_str().unwrap().contains("2000"), "{body}");
    nothing_left(&app).await;

    // 2000 characters of three bytes each fit: the bound is in characters.
    let caption = "滾".repeat(2000);
    let (status, body) = post(caption.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"]["content"], caption.as_str());
    assert_eq!(body["message"]["message_type"], "file_ref");
    let (_, page) = app
        .call(app.authed(
            Method::GET,
            &format!("/api/rooms/{}/messages", c.room),
            &c.viewer.token,
        ))
        .await;
    let stored = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == body["message"]["id"])
        .expect("the file's message");
    assert_eq!(stored["content"], caption.as_str());
    assert_eq!(stored["file"]["name"], "stop.txt");
}
