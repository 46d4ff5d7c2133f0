//! What a file is, from where it sits in the project (web.md §1, language.md §11):
//! its declarations' visibility, what context names it sees (route `params`, component
//! `props`, layout `children`), and whether it is a component or layout found by name.

use flin_syntax::Symbol;

#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// `entities/…`: declarations visible in the whole project.
    Entities,
    /// `lib/…`: declarations visible in the whole project.
    Lib,
    /// `app/…`: a route. `params` holds the names of its `[param]` segments; `rest` the
    /// name of a `[...rest]` segment.
    App {
        params: Vec<Symbol>,
        rest: Option<Symbol>,
        middleware: bool,
        /// `app/_error.flin`: the app's error page (`status` and `message` in scope).
        error_page: bool,
    },
    /// `components/Name.flin`
    Component(Symbol),
    /// `layouts/name.flin`
    Layout(Symbol),
    /// `jobs/…`
    Job,
    /// `tests/…`
    Test,
    /// A single file checked on its own, or a file elsewhere in the project.
    Script,
}

impl Role {
    /// Where a file at `path` (relative to the project, with `/`) stands. A single file
    /// checked alone is a script, which sees everything it declares.
    pub fn of(path: &str, single_file: bool) -> Role {
        if single_file {
            return Role::Script;
        }
        let mut parts = path.split('/');
        let top = parts.next().unwrap_or("");
        let stem = path
            .rsplit('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".flin");
        match top {
            "entities" => Role::Entities,
            "lib" => Role::Lib,
            "components" => Role::Component(Symbol::intern(stem)),
            "layouts" => Role::Layout(Symbol::intern(stem)),
            "jobs" => Role::Job,
            "tests" => Role::Test,
            "app" => {
                let mut params = Vec::new();
                let mut rest = None;
                for segment in path.trim_end_matches(".flin").split('/') {
                    if let Some(inner) = segment
                        .strip_prefix("[...")
                        .and_then(|s| s.strip_suffix(']'))
                    {
                        rest = Some(Symbol::intern(inner));
                    } else if let Some(inner) =
                        segment.strip_prefix('[').and_then(|s| s.strip_suffix(']'))
                    {
                        params.push(Symbol::intern(inner));
                    }
                }
                Role::App {
                    params,
                    rest,
                    middleware: stem == "_middleware",
                    error_page: path == "app/_error.flin",
                }
            }
            _ => Role::Script,
        }
    }

    /// Whether the file's declarations are visible in the whole project.
    pub fn is_project_wide(&self) -> bool {
        matches!(self, Role::Entities | Role::Lib)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_project_layout() {
        assert_eq!(Role::of("entities/Book.flin", false), Role::Entities);
        assert_eq!(
            Role::of("components/Card.flin", false),
            Role::Component(Symbol::intern("Card"))
        );
        let Role::App { params, rest, .. } = Role::of("app/books/[id].flin", false) else {
            panic!("not an app file");
        };
        assert_eq!(params, vec![Symbol::intern("id")]);
        assert_eq!(rest, None);
        let Role::App { rest, .. } = Role::of("app/docs/[...path].flin", false) else {
            panic!("not an app file");
        };
        assert_eq!(rest, Some(Symbol::intern("path")));
        assert_eq!(Role::of("app.flin", true), Role::Script);
    }
}
