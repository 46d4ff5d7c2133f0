//! The HTML document of a page (web.md §2, §4): the layout it renders in, `<head>`
//! content gathered from the page and its layout into the document head, and the shell
//! (doctype, charset, viewport).

use crate::routes::Route;
use crate::unit::{ResponseData, Site};

/// The layout's code for a page: the one it names, none for `layout none`, else
/// `layouts/default.flin` when there is one.
pub fn layout_of(site: &Site, route: &Route) -> Option<u32> {
    let chosen = site
        .layout_choices
        .iter()
        .find(|(file, _)| *file == route.file)
        .map(|(_, choice)| choice.clone());
    let name = match chosen {
        Some(None) => return None,
        Some(Some(name)) => name,
        None => "default".to_string(),
    };
    site.layouts
        .iter()
        .find(|(layout, _)| *layout == name)
        .map(|(_, main)| *main)
}

const HEAD_OPEN: &str = "<!--flin:head-->";
const HEAD_CLOSE: &str = "<!--/flin:head-->";

/// Splits rendered HTML into head content (from `<head>` elements) and body.
fn split_head(html: &str) -> (String, String) {
    let mut head = String::new();
    let mut body = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find(HEAD_OPEN) {
        body.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + HEAD_OPEN.len()..).unwrap_or("");
        match after.find(HEAD_CLOSE) {
            Some(end) => {
                let piece = after.get(..end).unwrap_or("");
                // A component rendered many times brings its `<style>` once.
                if !head.contains(piece) {
                    head.push_str(piece);
                }
                rest = after.get(end + HEAD_CLOSE.len()..).unwrap_or("");
            }
            None => {
                head.push_str(after);
                rest = "";
            }
        }
    }
    body.push_str(rest);
    (head, body)
}

/// The full document of a rendered page (`dev`: with the script that reloads it when
/// the project changes).
pub fn document(html: &str, dev: bool) -> ResponseData {
    let (head, body) = split_head(html);
    let has_title = head.contains("<title");
    let mut out = String::with_capacity(html.len() + 256);
    out.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if !has_title {
        out.push_str("<title>FLIN</title>\n");
    }
    out.push_str(&head);
    if dev {
        out.push_str("\n<script src=\"/__flin/dev.js\" defer></script>");
    }
    out.push_str("\n</head>\n<body>\n");
    out.push_str(&body);
    out.push_str("\n</body>\n</html>\n");
    ResponseData {
        status: 200,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: out.into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn head_content_moves_to_the_head() {
        let (head, body) = super::split_head(
            "<h1>x</h1><!--flin:head--><title>T</title><!--/flin:head--><p>y</p>",
        );
        assert_eq!(head, "<title>T</title>");
        assert_eq!(body, "<h1>x</h1><p>y</p>");
    }
}
