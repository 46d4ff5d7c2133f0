//! File-based routing (web.md §1): each file under `app/` is a path; `index.flin` is
//! its folder; `[param]` matches one segment and `[...rest]` the rest. Static segments
//! beat `[param]`, which beats `[...rest]`; two files claiming one path are an error.

use flin_diagnostics::FileId;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Static(String),
    Param(String),
    Rest(String),
}

impl Segment {
    /// Precedence: static, then param, then rest.
    fn rank(&self) -> u8 {
        match self {
            Segment::Static(_) => 0,
            Segment::Param(_) => 1,
            Segment::Rest(_) => 2,
        }
    }
}

/// One routable file.
#[derive(Clone, Debug)]
pub struct Route {
    pub file: FileId,
    /// As written in the project (`app/books/[id].flin`).
    pub source: String,
    pub segments: Vec<Segment>,
    /// The file's top-level code (runs before a page renders or a route block runs).
    pub main: u32,
    /// Its `route METHOD { }` blocks.
    pub methods: Vec<(String, u32)>,
    /// Whether it holds markup: a `GET` renders it.
    pub page: bool,
    /// Whether it holds a `ws` block: a WebSocket upgrade opens a connection.
    pub socket: bool,
}

impl Route {
    /// The path pattern (`/books/[id]`).
    pub fn pattern(&self) -> String {
        let parts: Vec<String> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Static(t) => t.clone(),
                Segment::Param(p) => format!("[{p}]"),
                Segment::Rest(r) => format!("[...{r}]"),
            })
            .collect();
        format!("/{}", parts.join("/"))
    }

    /// The methods this path answers (`GET` for a page), for `Allow`.
    pub fn allowed(&self) -> Vec<String> {
        let mut methods: Vec<String> = self.methods.iter().map(|(m, _)| m.clone()).collect();
        if self.page && !methods.iter().any(|m| m == "GET") {
            methods.insert(0, "GET".into());
        }
        methods
    }
}

/// The segments of a file's path under `app/`, or `None` for a file that is not a
/// route (`_middleware.flin`).
pub fn segments_of(path: &str) -> Option<Vec<Segment>> {
    let inner = path.strip_prefix("app/")?.strip_suffix(".flin")?;
    let mut parts: Vec<&str> = inner.split('/').collect();
    if parts.last().is_some_and(|p| p.starts_with('_')) {
        return None;
    }
    if parts.last() == Some(&"index") {
        parts.pop();
    }
    Some(
        parts
            .into_iter()
            .map(|part| {
                if let Some(rest) = part.strip_prefix("[...").and_then(|p| p.strip_suffix(']')) {
                    Segment::Rest(rest.to_string())
                } else if let Some(param) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']'))
                {
                    Segment::Param(param.to_string())
                } else {
                    Segment::Static(part.to_string())
                }
            })
            .collect(),
    )
}

/// Every route, most specific first.
#[derive(Debug, Default)]
pub struct RouteTable {
    pub routes: Vec<Route>,
}

/// A route found for a path, with its parameters.
pub struct Found<'r> {
    pub route: &'r Route,
    pub params: Vec<(String, String)>,
}

impl RouteTable {
    /// The table of `routes`; two files with one path are an error naming both.
    pub fn new(mut routes: Vec<Route>) -> Result<RouteTable, String> {
        routes.sort_by(|a, b| {
            let ka: Vec<(u8, &Segment)> = a.segments.iter().map(|s| (s.rank(), s)).collect();
            let kb: Vec<(u8, &Segment)> = b.segments.iter().map(|s| (s.rank(), s)).collect();
            ka.cmp(&kb)
        });
        for pair in routes.windows(2) {
            if let [a, b] = pair {
                if same_path(&a.segments, &b.segments) {
                    return Err(format!(
                        "{} and {} both claim the path {}\n  = help: rename or move one of them",
                        a.source,
                        b.source,
                        a.pattern()
                    ));
                }
            }
        }
        Ok(RouteTable { routes })
    }

    /// The route serving `path` (already without a trailing slash), static segments
    /// first, then parameters, then rest segments.
    pub fn find(&self, path: &str) -> Option<Found<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut best: Option<(Vec<u8>, Found<'_>)> = None;
        for route in &self.routes {
            let Some(params) = matches(&route.segments, &parts) else {
                continue;
            };
            let rank: Vec<u8> = route.segments.iter().map(Segment::rank).collect();
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, Found { route, params }));
            }
        }
        best.map(|(_, found)| found)
    }
}

fn same_path(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Segment::Static(p), Segment::Static(q)) => p == q,
            (Segment::Param(_), Segment::Param(_)) | (Segment::Rest(_), Segment::Rest(_)) => true,
            _ => false,
        })
}

fn matches(segments: &[Segment], parts: &[&str]) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Static(text) => {
                if parts.get(i) != Some(&text.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let part = parts.get(i)?;
                params.push((name.clone(), decode(part)));
            }
            Segment::Rest(name) => {
                let rest: Vec<String> = parts.get(i..)?.iter().map(|p| decode(p)).collect();
                if rest.is_empty() {
                    return None;
                }
                params.push((name.clone(), rest.join("/")));
                return Some(params);
            }
        }
    }
    (segments.len() == parts.len()).then_some(params)
}

/// A path segment with `%XX` escapes decoded (invalid ones are kept as written).
pub fn decode(part: &str) -> String {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(h), Some(l)) => match (hex(*h), hex(*l)) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            (Some(b'+'), _, _) => {
                out.push(b'+');
                i += 1;
            }
            (Some(b), _, _) => {
                out.push(*b);
                i += 1;
            }
            (None, _, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    // Tests only: an unwrap that fails is the test failing.
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn route(source: &str) -> Route {
        Route {
            socket: false,
            file: FileId(0),
            source: source.into(),
            segments: segments_of(source).unwrap_or_default(),
            main: 0,
            methods: Vec::new(),
            page: true,
        }
    }

    #[test]
    fn static_beats_param_beats_rest() {
        let table = RouteTable::new(vec![
            route("app/docs/[...path].flin"),
            route("app/books/[id].flin"),
            route("app/books/new.flin"),
            route("app/index.flin"),
            route("app/books/index.flin"),
        ]);
        let table = table.unwrap();
        let source = |path: &str| table.find(path).map(|f| f.route.source.clone());
        assert_eq!(source("/").as_deref(), Some("app/index.flin"));
        assert_eq!(source("/books").as_deref(), Some("app/books/index.flin"));
        assert_eq!(source("/books/new").as_deref(), Some("app/books/new.flin"));
        assert_eq!(source("/books/7").as_deref(), Some("app/books/[id].flin"));
        assert_eq!(
            source("/docs/a/b%20c").as_deref(),
            Some("app/docs/[...path].flin")
        );
        assert_eq!(
            table.find("/docs/a/b%20c").map(|f| f.params),
            Some(vec![("path".to_string(), "a/b c".to_string())])
        );
        assert!(table.find("/books/7/edit").is_none());
        assert!(table.find("/docs").is_none());
    }

    proptest::proptest! {
        /// Any path a client sends is matched or not, never a panic.
        #[test]
        fn any_path_is_matched_or_not(path in "(/[a-z0-9%.~\\[\\]é]{0,6}){0,5}/?") {
            let table = RouteTable::new(vec![
                route("app/docs/[...path].flin"),
                route("app/books/[id].flin"),
                route("app/index.flin"),
            ]).unwrap();
            let _ = table.find(&path);
            let _ = decode(&path);
        }

        #[test]
        fn decoding_never_panics(text in "\\PC{0,40}") {
            let _ = decode(&text);
        }
    }

    #[test]
    fn two_files_for_one_path_are_an_error() {
        let err = RouteTable::new(vec![route("app/books.flin"), route("app/books/index.flin")]);
        assert!(
            err.is_err_and(|e| e.contains("app/books.flin") && e.contains("app/books/index.flin"))
        );
        let err = RouteTable::new(vec![route("app/b/[id].flin"), route("app/b/[slug].flin")]);
        assert!(err.is_err());
        assert!(segments_of("app/admin/_middleware.flin").is_none());
    }
}
