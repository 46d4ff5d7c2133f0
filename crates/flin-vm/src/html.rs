//! HTML escaping for pages (web.md §2: `{expr}` inserts a value as text, HTML-escaped),
//! and the two checks of values from data in attributes (web.md §7 "URLs in markup"):
//! URLs keep only safe schemes, styles are CSS text.

/// `text` with `& < > " '` escaped, safe inside element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as [`escape`] does (pages render each value into
/// one reused buffer).
pub fn escape_into(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        let (plain, special) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = special.chars();
        out.push_str(match chars.next() {
            Some('&') => "&amp;",
            Some('<') => "&lt;",
            Some('>') => "&gt;",
            Some('"') => "&quot;",
            _ => "&#39;",
        });
        rest = chars.as_str();
    }
    out.push_str(rest);
}

/// `text` with the escapes of [`escape`] undone (what the browser reads).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Whether a URL attribute's value (its HTML, as rendered) may stay: a relative URL, or
/// a scheme among http, https, mailto and tel; `data:image/…` in `src`. Browsers ignore
/// blanks and control characters inside a scheme (`java\tscript:`), so they are
/// dropped before looking.
pub fn safe_url(html: &str, in_src: bool) -> bool {
    let seen: String = unescape(html)
        .chars()
        .filter(|c| !c.is_ascii_control() && *c != ' ')
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end =
        seen.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    match scheme_end {
        Some(end) if seen.get(end..end + 1) == Some(":") && end > 0 => {
            let scheme = seen.get(..end).unwrap_or("");
            matches!(scheme, "http" | "https" | "mailto" | "tel")
                || (in_src
                    && scheme == "data"
                    && seen
                        .get(end + 1..)
                        .is_some_and(|rest| rest.starts_with("image/")))
        }
        // No scheme: a path, a query or a fragment of this site.
        _ => true,
    }
}

/// A value placed inside a `style` attribute as CSS text: no characters that end a
/// value or a declaration block (`;` kept when the value is the whole attribute's
/// declarations), no `url(`, `expression(` or `javascript:`.
pub fn css_text(text: &str, declarations: bool) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| {
            !matches!(c, '{' | '}' | '\\' | '"' | '\'' | '<' | '>')
                && !c.is_control()
                && (declarations || *c != ';')
        })
        .collect();
    loop {
        let lower = out.to_ascii_lowercase();
        let found = [
            "url(",
            "expression(",
            "javascript:",
            "@import",
            "-moz-binding",
            "behavior:",
        ]
        .iter()
        .find_map(|bad| lower.find(bad).map(|at| (at, bad.len())));
        match found {
            Some((at, len)) => out.replace_range(at..at + len, ""),
            None => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_from_data_keep_safe_schemes_only() {
        for safe in [
            "/books/3",
            "books?x=1",
            "#top",
            "https://example.com",
            "mailto:a@b.c",
            "tel:+123",
            "a/b:c",
        ] {
            assert!(super::safe_url(safe, false), "{safe}");
        }
        for unsafe_url in [
            "javascript:alert(1)",
            "JavaScript:x",
            "java\tscript:x",
            " javascript:x",
            "vbscript:x",
            "data:text/html,x",
            "JAVA SCRIPT:x",
        ] {
            assert!(!super::safe_url(unsafe_url, false), "{unsafe_url}");
        }
        assert!(super::safe_url("data:image/png;base64,AAAA", true));
        assert!(!super::safe_url("data:image/png;base64,AAAA", false));
    }

    #[test]
    fn styles_from_data_are_text() {
        assert_eq!(
            super::css_text("10%;background:red", false),
            "10%background:red"
        );
        assert_eq!(super::css_text("red\"><script>", false), "redscript");
        assert_eq!(
            super::css_text("url(javascript:alert(1))", true),
            "alert(1))"
        );
        assert_eq!(super::css_text("uurl(rl(x)", false), "x)");
    }

    #[test]
    fn script_tags_and_quotes_are_escaped() {
        assert_eq!(
            super::escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(super::escape("plain"), "plain");
    }
}
