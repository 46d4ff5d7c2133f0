//! `flin new <name> --template minimal|todo|blog` (cli.md): a project that runs as it is.
//! The todo and blog templates are the apps in `examples/`, built into the binary.

use std::path::Path;
use std::process::ExitCode;

/// The files of a template: path and text.
pub fn template(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "todo" => vec![
            (
                "README.md",
                include_str!("../../../examples/todo/README.md"),
            ),
            (
                "app/api/todos.flin",
                include_str!("../../../examples/todo/app/api/todos.flin"),
            ),
            (
                "tests/api.flin",
                include_str!("../../../examples/todo/tests/api.flin"),
            ),
            (
                "app/index.flin",
                include_str!("../../../examples/todo/app/index.flin"),
            ),
            (
                "components/TodoItem.flin",
                include_str!("../../../examples/todo/components/TodoItem.flin"),
            ),
            (
                "entities/Todo.flin",
                include_str!("../../../examples/todo/entities/Todo.flin"),
            ),
            (
                "layouts/default.flin",
                include_str!("../../../examples/todo/layouts/default.flin"),
            ),
            (
                "public/style.css",
                include_str!("../../../examples/todo/public/style.css"),
            ),
        ],
        "blog" => vec![
            (
                "README.md",
                include_str!("../../../examples/blog/README.md"),
            ),
            (
                "app/api/posts.flin",
                include_str!("../../../examples/blog/app/api/posts.flin"),
            ),
            (
                "app/index.flin",
                include_str!("../../../examples/blog/app/index.flin"),
            ),
            (
                "app/posts/[id].flin",
                include_str!("../../../examples/blog/app/posts/[id].flin"),
            ),
            (
                "components/PostCard.flin",
                include_str!("../../../examples/blog/components/PostCard.flin"),
            ),
            (
                "entities/Blog.flin",
                include_str!("../../../examples/blog/entities/Blog.flin"),
            ),
            (
                "layouts/default.flin",
                include_str!("../../../examples/blog/layouts/default.flin"),
            ),
            (
                "lib/seed.flin",
                include_str!("../../../examples/blog/lib/seed.flin"),
            ),
            (
                "public/blog.css",
                include_str!("../../../examples/blog/public/blog.css"),
            ),
        ],
        _ => vec![
            (
                "app/index.flin",
                "name = query.name ?? \"world\"\n\n<head><title>Hello</title></head>\n<h1>Hello, {name}!</h1>\n<p>Edit app/index.flin and reload.</p>\n",
            ),
            (
                "README.md",
                "# A FLIN app\n\n```sh\nflin dev .    # http://127.0.0.1:3000\n```\n",
            ),
        ],
    }
}

/// Writes the template into a new folder `name`.
pub fn create(name: &str, template_name: &str) -> ExitCode {
    if let Err(reason) = check_name(name) {
        eprintln!("error: `{name}` cannot name a project: {reason}");
        eprintln!(
            "  = help: a project's name is a simple folder name: letters, digits, `-`, `_` and `.`, not starting with `.` or `-`, like `my-app`"
        );
        return ExitCode::from(2);
    }
    let dir = Path::new(name);
    if dir.exists() {
        eprintln!("error: {name} already exists: choose a new name");
        return ExitCode::from(2);
    }
    for (path, text) in template(template_name) {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            if let Err(err) = std::fs::create_dir_all(parent) {
                eprintln!("error: cannot create {}: {err}", parent.display());
                return ExitCode::from(1);
            }
        }
        if let Err(err) = std::fs::write(&full, text) {
            eprintln!("error: cannot write {}: {err}", full.display());
            return ExitCode::from(1);
        }
    }
    if let Err(err) = std::fs::write(dir.join(".gitignore"), ".flindb/\n") {
        eprintln!("error: cannot write .gitignore: {err}");
        return ExitCode::from(1);
    }
    println!("created {name} ({template_name}); run it with: flin dev {name}");
    ExitCode::SUCCESS
}

/// Why `name` is not a simple folder name, if it is not.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > 100 {
        return Err("it is longer than 100 characters");
    }
    if name.starts_with('.') || name.starts_with('-') {
        return Err("it starts with `.` or `-`");
    }
    if name.contains(['/', '\\']) {
        return Err("it holds a path separator");
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("it holds a space or a character other than letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}
