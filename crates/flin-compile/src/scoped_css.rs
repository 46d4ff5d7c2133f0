//! Scoped `<style>` (web.md §2): a page's or component's CSS applies to its own
//! elements only. Each element the file renders carries an attribute `data-s-<id>` (the
//! id from the file's path), and each selector of its CSS gets `[data-s-<id>]` on its
//! last compound (before pseudo-classes and pseudo-elements), as Vue does. `@media` and
//! `@supports` blocks are scoped inside; `@keyframes`, `@font-face` and other at-rules
//! are left as written. `<style global>` is not scoped.

/// The scope attribute of a file.
pub fn scope_attribute(path: &str) -> String {
    // FNV-1a: stable across builds and machines (a page's HTML does not change when the
    // compiler does).
    let mut hash: u32 = 0x811c_9dc5;
    for byte in path.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("data-s-{:06x}", hash & 0x00ff_ffff)
}

/// `css` with every selector limited to elements carrying `attribute`.
pub fn scope(css: &str, attribute: &str) -> String {
    let mut out = String::with_capacity(css.len() + 64);
    let mut rest = css;
    scope_rules(&mut rest, attribute, &mut out, false);
    out
}

/// Rules until the end of `rest` or (`nested`) the `}` closing the enclosing block; at
/// the top level a stray `}` is kept as written.
fn scope_rules(rest: &mut &str, attribute: &str, out: &mut String, nested: bool) {
    loop {
        let Some(open) = find_outside_comments(rest, |c| c == '{' || c == '}') else {
            out.push_str(rest);
            *rest = "";
            return;
        };
        let (prelude, after) = rest.split_at(open);
        if after.starts_with('}') {
            out.push_str(prelude);
            out.push('}');
            *rest = after.get(1..).unwrap_or("");
            if nested {
                // The end of the enclosing block.
                return;
            }
            continue;
        }
        let body_start = after.get(1..).unwrap_or("");
        let trimmed = prelude.trim_start();
        if trimmed.starts_with("@media") || trimmed.starts_with("@supports") {
            out.push_str(prelude);
            out.push('{');
            *rest = body_start;
            scope_rules(rest, attribute, out, true);
        } else if trimmed.starts_with('@') {
            // `@keyframes`, `@font-face` …: copied as written, nested braces included.
            out.push_str(prelude);
            out.push('{');
            let end = matching_close(body_start);
            out.push_str(body_start.get(..end).unwrap_or(body_start));
            *rest = body_start.get(end..).unwrap_or("");
        } else {
            out.push_str(&scope_selectors(prelude, attribute));
            out.push('{');
            let end = matching_close(body_start);
            out.push_str(body_start.get(..end).unwrap_or(body_start));
            *rest = body_start.get(end..).unwrap_or("");
        }
    }
}

/// The index just after the `}` closing the block `text` starts inside of.
fn matching_close(text: &str) -> usize {
    let mut depth = 1usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '/' if chars.peek().is_some_and(|(_, n)| *n == '*') => {
                // Skip a comment.
                let after = text.get(i + 2..).unwrap_or("");
                match after.find("*/") {
                    Some(end) => {
                        let target = i + 2 + end + 2;
                        while chars.peek().is_some_and(|(j, _)| *j < target) {
                            chars.next();
                        }
                    }
                    None => return text.len(),
                }
            }
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

fn find_outside_comments(text: &str, wanted: impl Fn(char) -> bool) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '/' && chars.peek().is_some_and(|(_, n)| *n == '*') {
            let after = text.get(i + 2..)?;
            let end = after.find("*/")?;
            let target = i + 2 + end + 2;
            while chars.peek().is_some_and(|(j, _)| *j < target) {
                chars.next();
            }
            continue;
        }
        if wanted(c) {
            return Some(i);
        }
    }
    None
}

fn scope_selectors(prelude: &str, attribute: &str) -> String {
    let leading = prelude
        .get(..prelude.len() - prelude.trim_start().len())
        .unwrap_or("");
    let selectors: Vec<String> = prelude
        .trim()
        .split(',')
        .map(|selector| scope_selector(selector.trim(), attribute))
        .collect();
    format!("{leading}{} ", selectors.join(", "))
}

fn scope_selector(selector: &str, attribute: &str) -> String {
    if selector.is_empty() {
        return String::new();
    }
    // The last compound: after the last combinator or space.
    let start = selector.rfind([' ', '>', '+', '~']).map_or(0, |i| i + 1);
    let (head, last) = selector.split_at(start);
    // Before its first pseudo-class or pseudo-element.
    let cut = last.find(':').unwrap_or(last.len());
    let (name, pseudo) = last.split_at(cut);
    format!("{head}{name}[{attribute}]{pseudo}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_get_the_scope_and_at_rules_are_kept() {
        let css = ".badge { padding: 2px; }\nul li > a:hover, h1::before { color: red }\n@media (max-width: 600px) { .badge { padding: 0 } }\n@keyframes spin { from { transform: rotate(0) } to { transform: rotate(1turn) } }\n/* a { } */";
        let scoped = scope(css, "data-s-1");
        assert_eq!(
            scoped,
            ".badge[data-s-1] { padding: 2px; }\nul li > a[data-s-1]:hover, h1[data-s-1]::before { color: red }\n@media (max-width: 600px) { .badge[data-s-1] { padding: 0 } }\n@keyframes spin { from { transform: rotate(0) } to { transform: rotate(1turn) } }\n/* a { } */"
        );
    }

    proptest::proptest! {
        /// Whatever is written in a `<style>`, scoping it never panics and keeps every
        /// brace.
        #[test]
        fn any_css_scopes_without_panic(css in "[a-z .#:>+~,{}()@*/0-9;\\-]{0,80}") {
            let scoped = scope(&css, "data-s-1");
            proptest::prop_assert_eq!(
                scoped.matches('{').count() + scoped.matches('}').count(),
                css.matches('{').count() + css.matches('}').count()
            );
        }
    }

    #[test]
    fn the_scope_is_stable_per_path() {
        assert_eq!(
            scope_attribute("components/Badge.flin"),
            scope_attribute("components/Badge.flin")
        );
        assert_ne!(
            scope_attribute("components/Badge.flin"),
            scope_attribute("app/index.flin")
        );
    }
}
