//! `flin db schema | backup <file> | restore <file>`: the database tools (cli.md), on the
//! `.flindb/flin.db` of a project folder or beside a script.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flin_store::StoreError;

/// The database file of a project folder or a script.
pub fn database_of(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    dir.join(".flindb").join("flin.db")
}

fn fail(err: &StoreError) -> ExitCode {
    eprintln!("error[{}]: {err}", err.kind());
    ExitCode::from(1)
}

/// Prints the stored entities and every recorded schema change.
pub fn schema(path: &Path) -> ExitCode {
    let db = database_of(path);
    let conn = match flin_store::open_existing(&db) {
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
    println!("database: {}", db.display());
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
    if !db.exists() {
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
        flin_store::Location::File(db),
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
