//! `flin db schema | backup <file> | restore <file> | prune`: the database tools (cli.md),
//! on the `.flindb/flin.db` of a project folder or beside a script, or on the PostgreSQL
//! database its `database.url` (or `FLIN_DATABASE_URL`) names, where backups are
//! `pg_dump`'s and `pg_restore` brings them back (data.md §10).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flin_store::StoreError;

/// The database file of a project folder or a script (`database.url = "sqlite:PATH"`,
/// else `.flindb/flin.db`).
pub fn database_of(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    match flin_web::options(&dir, None, false) {
        Ok(options) => flin_web::sqlite_file(&dir, &options),
        Err(_) => dir.join(".flindb").join("flin.db"),
    }
}

/// The PostgreSQL database of a project folder or a script, when it has one.
pub fn postgres_of(path: &Path) -> Option<String> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    flin_web::options(dir, None, false).ok()?.postgres
}

/// Where the data of `path` lives, for messages.
pub fn shown(path: &Path) -> String {
    match postgres_of(path) {
        Some(url) => flin_store::redact_url(&url),
        None => database_of(path).display().to_string(),
    }
}

/// The database of `path`, opened to read what is stored.
pub fn open(path: &Path) -> Result<flin_store::Database, StoreError> {
    match postgres_of(path) {
        Some(url) => flin_store::open_postgres(&url),
        None => flin_store::open_existing(&database_of(path)),
    }
}

/// The location a store of `path` opens.
pub fn location(path: &Path) -> flin_store::Location {
    match postgres_of(path) {
        Some(url) => flin_store::Location::Postgres {
            url,
            pool: 4,
            schema: None,
        },
        None => flin_store::Location::File(database_of(path)),
    }
}

/// Runs a PostgreSQL client tool (`pg_dump`, `pg_restore`), saying what went wrong.
///
/// The URL's password, if any, goes in `PGPASSWORD`, not on the command line where
/// every user of the machine could read it.
fn pg_tool(tool: &str, args: &[&std::ffi::OsStr], url: &str) -> Result<(), StoreError> {
    let mut command = std::process::Command::new(tool);
    command.args(args).arg(flin_store::redact_url(url));
    if let Some(password) = password_of(url) {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot run {tool}: {e} (install PostgreSQL's client tools, e.g. `apt-get install postgresql-client`)"
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(StoreError::Unavailable(format!(
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

/// The password of a `postgres://user:password@host/db` URL, percent-decoded.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.rsplit_once('@')?.0;
    let encoded = userinfo.split_once(':')?.1;
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn fail(err: &StoreError) -> ExitCode {
    eprintln!("error[{}]: {err}", err.kind());
    ExitCode::from(1)
}

/// Prints the stored entities and every recorded schema change.
pub fn schema(path: &Path) -> ExitCode {
    let conn = match open(path) {
        Ok(conn) => conn,
        Err(err) => return fail(&err),
    };
    let (entities, changes) = match conn
        .stored_schema()
        .and_then(|e| Ok((e, conn.schema_history()?)))
    {
        Ok(found) => found,
        Err(err) => return fail(&err),
    };
    println!("database: {}", shown(path));
    for entity in &entities {
        println!("\nentity {} {{", entity.name);
        for field in &entity.fields {
            let mut line = format!("    {}: {}", field.name, field.ty.describe());
            if field.optional {
                line.push('?');
            }
            if field.unique {
                line.push_str(" @unique");
            }
            if field.index {
                line.push_str(" @index");
            }
            println!("{line}");
        }
        println!("}}");
    }
    println!("\nchanges:");
    for change in &changes {
        let at = chrono::DateTime::from_timestamp_micros(change.at)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        println!("  {at}  {}: {}", change.entity, change.change);
    }
    ExitCode::SUCCESS
}

pub fn backup(path: &Path, to: &Path) -> ExitCode {
    if let Some(url) = postgres_of(path) {
        if to.exists() {
            return fail(&StoreError::Unavailable(format!(
                "{} already exists: choose a new file name",
                to.display()
            )));
        }
        let args = [
            "--format=custom".as_ref(),
            "--no-owner".as_ref(),
            "--file".as_ref(),
            to.as_os_str(),
        ];
        return match pg_tool("pg_dump", &args, &url) {
            Ok(()) => {
                println!("backed up {} to {}", shown(path), to.display());
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err),
        };
    }
    // In a terminal, page by page with a progress bar; else in one statement.
    let bar = crate::progress::bar("backing up", "pages");
    let result = match &bar {
        Some(_) => flin_store::backup_with_progress(
            &database_of(path),
            to,
            &mut crate::progress::reporter(&bar),
        ),
        None => flin_store::backup(&database_of(path), to),
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(()) => {
            println!(
                "backed up {} to {}",
                database_of(path).display(),
                to.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

pub fn restore(path: &Path, from: &Path) -> ExitCode {
    if let Some(url) = postgres_of(path) {
        if !from.exists() {
            return fail(&StoreError::Unavailable(format!(
                "there is no backup at {}",
                from.display()
            )));
        }
        // Everything of the backup replaces what is there, in one transaction.
        let args = [
            "--clean".as_ref(),
            "--if-exists".as_ref(),
            "--no-owner".as_ref(),
            "--single-transaction".as_ref(),
            from.as_os_str(),
            "--dbname".as_ref(),
        ];
        return match pg_tool("pg_restore", &args, &url) {
            Ok(()) => {
                println!("restored {} from {}", shown(path), from.display());
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err),
        };
    }
    let db = database_of(path);
    let bar = crate::progress::bar("restoring", "pages");
    let result = flin_store::restore_with_progress(&db, from, &mut crate::progress::reporter(&bar));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(()) => {
            println!("restored {} from {}", db.display(), from.display());
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

/// Deletes the data of fields the program no longer declares.
pub fn prune(path: &Path) -> ExitCode {
    let db = database_of(path);
    if postgres_of(path).is_none() && !db.exists() {
        return fail(&StoreError::Unavailable(format!(
            "there is no database at {}",
            db.display()
        )));
    }
    let built = match crate::run::build(path) {
        Ok(built) => built,
        Err(code) => return code,
    };
    if let Err(message) = flin_web::select_model(path) {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    let store = match flin_store::Store::open(
        location(path),
        &built.code.entities,
        flin_store::Durability::Full,
    ) {
        Ok(store) => store,
        Err(err) => return fail(&err),
    };
    match store.prune() {
        Ok(changes) if changes.is_empty() => {
            println!("nothing to prune: every stored field is declared");
            ExitCode::SUCCESS
        }
        Ok(changes) => {
            for change in changes {
                println!("{}: {}", change.entity, change.change);
            }
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::password_of;

    #[test]
    fn a_url_password_is_decoded_for_pgpassword() {
        assert_eq!(
            password_of("postgres://app:s%40cr%3Aet@db:5432/app").as_deref(),
            Some("s@cr:et")
        );
        assert_eq!(password_of("postgres://app@db/app"), None);
    }
}
