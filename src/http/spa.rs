//! The web client: the built SPA (`web/dist`) served at `/`. Files are served as
//! they are (with ranges and ETags); hashed assets under `/assets/` are cached for
//! a year, everything else revalidates. Any other non-API path gets `index.html`
//! so client-side routes survive a reload; unknown `/api/` paths stay JSON 404s.

use std::path::{Component, Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;

pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(root) = state.config.web_dir.as_deref() else {
        return super::not_found(req).await;
    };
    let path = req.path();
    if path.starts_with("/api/") || req.method() != actix_web::http::Method::GET {
        return super::not_found(req).await;
    }
    let (file, immutable) = match safe_join(root, path) {
        Some(p) if p.is_file() => {
            let immutable = path.starts_with("/assets/");
            (p, immutable)
        }
        _ => (root.join("index.html"), false),
    };
    match NamedFile::open_async(&file).await {
        Ok(named) => {
            let mut response = named.into_response(&req);
            let cache = if immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Err(_) => super::not_found(req).await,
    }
}

/// `root` + the request path, refusing anything that would leave `root`.
fn safe_join(root: &Path, path: &str) -> Option<PathBuf> {
    let mut out = root.to_path_buf();
    for part in Path::new(path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        let root = Path::new("/srv/web");
        assert_eq!(
            safe_join(root, "/assets/a.js"),
            Some(PathBuf::from("/srv/web/assets/a.js"))
        );
        assert_eq!(safe_join(root, "/../etc/passwd"), None);
        assert_eq!(safe_join(root, "/rooms/x/../../.."), None);
    }
}
