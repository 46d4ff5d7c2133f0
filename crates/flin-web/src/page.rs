//! The HTML document of a page (web.md §2, §4, §9): the layout it renders in, `<head>`
//! content gathered from the page and its layout into the document head, the shell
//! (doctype, charset, viewport) and, for a live page, its view token and the client
//! runtime.

use flin_diagnostics::FileId;

use crate::host::WebHost;
use crate::live::token::{TOKEN_LIFETIME_SECS, ViewToken, now_secs};
use crate::routes::Route;
use crate::unit::{ResponseData, Site};

/// The layout a page renders in: the one it names, none for `layout none`, else
/// `layouts/default.flin` when there is one.
pub fn layout_of(site: &Site, route: &Route) -> Option<FileId> {
    layout_of_file(site, route.file)
}

/// The layout a file with markup renders in.
pub fn layout_of_file(site: &Site, file: FileId) -> Option<FileId> {
    let chosen = site
        .layout_choices
        .iter()
        .find(|(chooser, _)| *chooser == file)
        .map(|(_, choice)| choice.clone());
    let name = match chosen {
        Some(None) => return None,
        Some(Some(name)) => name,
        None => "default".to_string(),
    };
    site.layouts
        .iter()
        .find(|(layout, _)| *layout == name)
        .map(|(_, file)| *file)
}

/// Where a live page's region starts and ends in the document (the page in its
/// layout): the client runtime patches what is between.
pub const LIVE_START: &str = "<!--flin:live-->";
pub const LIVE_END: &str = "<!--/flin:live-->";

/// The full document of a rendered page: the shell (doctype, charset, viewport), the
/// head content gathered from the page, its components and layout, and for a live page
/// its view token and the client runtime; `flin dev` adds the script that reloads the
/// page when the project changes.
pub fn document(site: &Site, host: &WebHost<'_>, route: &Route) -> ResponseData {
    let mut page = host.page.borrow_mut();
    let mut body = page.take_html();
    let live = host.live || page.live || is_live(site, route);
    if live {
        body = format!("{LIVE_START}{body}{LIVE_END}");
    }
    let head = page.head_html();
    let has_title = head.contains("<title");
    let mut out = String::with_capacity(body.len() + head.len() + 512);
    out.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if !has_title {
        out.push_str("<title>FLIN</title>\n");
    }
    out.push_str(head);
    if !head.is_empty() && !head.ends_with('\n') {
        out.push('\n');
    }
    if live {
        let path = match host.request.query.is_empty() {
            true => host.request.path.clone(),
            false => format!("{}?{}", host.request.path, host.request.query_text()),
        };
        let token = site.signer.view_token(&ViewToken {
            path,
            user: host
                .user
                .as_ref()
                .map_or(serde_json::Value::Null, |(e, id)| {
                    serde_json::json!([e, id])
                }),
            build: site.build,
            expires: now_secs() + TOKEN_LIFETIME_SECS,
        });
        out.push_str(&format!(
            "<meta name=\"flin-live\" content=\"{token}\">\n<script src=\"{}\" defer></script>\n",
            crate::live::assets::script_url()
        ));
    }
    if site.dev {
        out.push_str("<script src=\"/__flin/dev.js\" defer></script>\n");
    }
    out.push_str("</head>\n<body>\n");
    out.push_str(&body);
    out.push_str("\n</body>\n</html>\n");
    let mut headers = vec![("content-type".into(), "text/html; charset=utf-8".into())];
    if live {
        // The page carries a view token: a copy from a cache would be stale.
        headers.push(("cache-control".into(), "no-store".into()));
    }
    ResponseData {
        status: 200,
        headers,
        body: out.into_bytes(),
    }
}

/// Whether a page is live by its own code or its layout's: an event attribute, `bind`
/// or a live value.
pub fn is_live(site: &Site, route: &Route) -> bool {
    let code = &site.program.code;
    std::iter::once(route.file)
        .chain(layout_of(site, route))
        .filter_map(|file| code.view_of(file))
        .any(|view| view.interactive || !view.live.is_empty())
}
