//! Error pages for people (web.md §7 "Errors for browsers", §9 "Pages for people"): a
//! request whose `Accept` prefers HTML gets 4xx and 5xx answers as an HTML page, the
//! app's `app/_error.flin` (with `status` and `message` in scope) when it has one, else
//! a plain built-in page, in the app's default layout when it has one. API clients keep
//! the JSON bodies. In `flin start` the page shows no source path or code: the request
//! id links it to the log line with the details.

use flin_vm::{Value, Vm};

use crate::host::WebHost;
use crate::render::PageRender;
use crate::unit::{RequestData, ResponseData, Site, with_unit};

/// Whether the client prefers HTML to JSON (a browser navigating).
pub fn wants_html(request: &RequestData) -> bool {
    let accept = request
        .headers
        .iter()
        .find(|(k, _)| k == "accept")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The HTML page for an error response that was JSON.
pub fn render(site: &Site, request: &RequestData, response: ResponseData) -> ResponseData {
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let status = response.status;
    let mut message = body
        .get("error")
        .and_then(|e| e.as_str())
        .unwrap_or("Something went wrong")
        .to_string();
    if let Some(fields) = body.get("fields").and_then(|f| f.as_object()) {
        let details: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("")))
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join("; "));
        }
    }
    let request_id = body
        .get("request_id")
        .and_then(|r| r.as_str())
        .map(str::to_string);
    let html = app_page(site, request, status, &message).unwrap_or_else(|| {
        let id = request_id
            .map(|id| {
                format!(
                    "<p class=\"flin-request\">Request {}</p>",
                    flin_vm::html::escape(&id)
                )
            })
            .unwrap_or_default();
        let detail = body
            .get("detail")
            .and_then(|d| d.get("at"))
            .and_then(|a| a.as_str())
            .filter(|_| site.dev)
            .map(|at| format!("<p><code>{}</code></p>", flin_vm::html::escape(at)))
            .unwrap_or_default();
        let page = format!(
            "<h1>{status} {}</h1>\n<p>{}</p>{detail}{id}",
            reason(status),
            flin_vm::html::escape(&message)
        );
        in_layout(site, request, &page).unwrap_or_else(|| shell(status, &page))
    });
    let mut headers: Vec<(String, String)> = response
        .headers
        .into_iter()
        .filter(|(k, _)| k != "content-type" && k != "content-length")
        .collect();
    headers.push(("content-type".into(), "text/html; charset=utf-8".into()));
    ResponseData {
        status,
        headers,
        body: html.into_bytes(),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Log in needed",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "Too slow",
        413 => "Too large",
        414 => "URL too long",
        429 => "Too many requests",
        503 => "Unavailable",
        504 => "Took too long",
        _ if status >= 500 => "Server error",
        _ => "Error",
    }
}

fn shell(status: u16, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{status} {}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        reason(status)
    )
}

/// `app/_error.flin` rendered with `status` and `message` (in the app's layout when the
/// file does not say `layout none`).
fn app_page(site: &Site, request: &RequestData, status: u16, message: &str) -> Option<String> {
    let file = site.error_page?;
    let code = site.program.code.clone();
    let main = code.entries.iter().find(|(f, _)| *f == file)?.1;
    let view = code.view_of(file)?.render;
    let mut host = host(site, request);
    host.extra_context = vec![
        ("status".into(), Value::Int(i64::from(status))),
        ("message".into(), Value::text(message)),
    ];
    let page = host.page.clone();
    let layout = crate::page::layout_of_file(site, file);
    let rendered = with_unit(site, &mut host, false, |h| {
        let mut vm = Vm::new(site.program.clone(), h);
        vm.run_function(main, &[])?;
        vm.run_function(view, &[])?;
        if let Some(layout) = layout {
            vm.host.wrap_children();
            crate::unit::render_layout(site, &mut vm, layout)?;
        }
        Ok(())
    });
    if let Err(err) = rendered {
        crate::logs::line(
            site.dev,
            "error",
            &format!(
                "app/_error.flin failed: {} error: {}",
                err.kind, err.message
            ),
            Some(&request.request_id),
        );
        return None;
    }
    let mut page = page.borrow_mut();
    let body = page.take_html();
    Some(document(page.head_html(), &body, status))
}

/// The built-in error page inside the app's default layout.
fn in_layout(site: &Site, request: &RequestData, content: &str) -> Option<String> {
    let layout = site
        .layouts
        .iter()
        .find(|(name, _)| name == "default")
        .map(|(_, f)| *f)?;
    let mut host = host(site, request);
    host.children = Some(content.to_string());
    let page = host.page.clone();
    let rendered = with_unit(site, &mut host, false, |h| {
        let mut vm = Vm::new(site.program.clone(), h);
        crate::unit::render_layout(site, &mut vm, layout)
    });
    if rendered.is_err() {
        return None;
    }
    let mut page = page.borrow_mut();
    let body = page.take_html();
    Some(document(page.head_html(), &body, 0))
}

fn host<'s>(site: &'s Site, request: &RequestData) -> WebHost<'s> {
    let session = site.sessions.open(&request.cookies).data;
    WebHost::new(
        site,
        "app/_error.flin".into(),
        request.clone(),
        session,
        PageRender::new(false),
    )
}

fn document(head: &str, body: &str, status: u16) -> String {
    let title = if head.contains("<title") {
        String::new()
    } else if status > 0 {
        format!("<title>{status} {}</title>\n", reason(status))
    } else {
        "<title>Error</title>\n".to_string()
    };
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n{title}{head}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}
