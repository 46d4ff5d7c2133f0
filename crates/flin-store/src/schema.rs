//! The declared entities against the stored schema (data.md §8): tables are created for
//! new entities, new fields are added, renamed fields keep their data, and a change that
//! would lose or invent data stops start-up with an error naming the entity, the field,
//! the rows affected and the fix. Every applied change is recorded with its time.

use std::collections::HashMap;

use flin_query::{EntityDef, FieldDef, FieldType};
use rusqlite::params;

use crate::columns::{
    self, currency_column, field_columns, history_columns, history_table, join_table, quote,
    sql_type, table,
};
use crate::engine::{Conn, Engine};
use crate::error::{Result, StoreError};

/// The entities a store serves, with lookups the operations need.
#[derive(Debug, Default)]
pub struct Schema {
    pub entities: Vec<EntityDef>,
    by_name: HashMap<String, usize>,
    /// For each entity: the (entity, field) pairs that reference it.
    referrers: HashMap<String, Vec<(usize, usize)>>,
}

impl Schema {
    pub fn new(entities: Vec<EntityDef>) -> Schema {
        let by_name = entities
            .iter()
            .enumerate()
            .map(|(i, def)| (def.name.clone(), i))
            .collect();
        let mut referrers: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (e, def) in entities.iter().enumerate() {
            for (f, field) in def.fields.iter().enumerate() {
                if let FieldType::Ref(target) = &field.ty {
                    referrers.entry(target.clone()).or_default().push((e, f));
                }
            }
        }
        Schema {
            entities,
            by_name,
            referrers,
        }
    }

    pub fn entity(&self, name: &str) -> Result<&EntityDef> {
        self.by_name
            .get(name)
            .and_then(|i| self.entities.get(*i))
            .ok_or_else(|| StoreError::Schema(format!("unknown entity `{name}`")))
    }

    /// The reference fields pointing at `entity`: (referencing entity, field).
    pub fn referrers(&self, entity: &str) -> Vec<(&EntityDef, &FieldDef)> {
        self.referrers
            .get(entity)
            .into_iter()
            .flatten()
            .filter_map(|(e, f)| {
                let def = self.entities.get(*e)?;
                Some((def, def.fields.get(*f)?))
            })
            .collect()
    }
}

/// Creates the store's own tables when they are missing.
pub fn ensure_meta(conn: &Conn) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_flin_schema\" (entity TEXT PRIMARY KEY, def TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS \"_flin_changes\" (
             seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, entity TEXT NOT NULL, change TEXT NOT NULL);",
    )?;
    conn.execute_batch(crate::sessions::TABLE)?;
    conn.execute_batch(crate::jobs::TABLE)?;
    if conn.engine() == Engine::Postgres {
        // The last id of each entity (`Db::next_id`); broadcasts too long for a
        // notification (`bus.rs`); requests counted by `rate_limit` across servers;
        // when each job's schedule starts (`jobs.rs`).
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS \"_flin_ids\" (entity TEXT PRIMARY KEY, last INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS \"_flin_broadcasts\" (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS \"_flin_rates\" (key TEXT PRIMARY KEY, start INTEGER NOT NULL, n INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS \"_flin_job_anchors\" (job TEXT PRIMARY KEY, start INTEGER NOT NULL);",
        )?;
    }
    Ok(())
}

/// One recorded schema change: when, which entity, what.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub at: i64,
    pub entity: String,
    pub change: String,
}

/// Brings the database to the declared entities, in one transaction. Returns the
/// changes it applied (also recorded in the database).
/// On PostgreSQL the write lock the transaction takes first makes servers starting
/// together apply the schema one at a time (data.md §10); the next finds it applied.
pub fn apply(conn: &Conn, declared: &[EntityDef], now: i64) -> Result<Vec<Change>> {
    conn.write_transaction(|tx| apply_in(tx, declared, now))
}

fn apply_in(tx: &Conn, declared: &[EntityDef], now: i64) -> Result<Vec<Change>> {
    ensure_meta(tx)?;
    let mut stored: HashMap<String, EntityDef> = HashMap::new();
    {
        let rows = tx.query_map(
            "SELECT entity, def FROM \"_flin_schema\"",
            params![],
            |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)),
        )?;
        for (name, def) in rows {
            let def: EntityDef = serde_json::from_str(&def).map_err(|e| {
                StoreError::Schema(format!("the stored schema of `{name}` cannot be read: {e}"))
            })?;
            stored.insert(name, def);
        }
    }
    let mut changes = Vec::new();
    for def in declared {
        let mut log = |change: String| {
            changes.push(Change {
                at: now,
                entity: def.name.clone(),
                change,
            })
        };
        match stored.get(&def.name) {
            None => {
                create_entity(tx, def)?;
                log(format!("created entity {}", def.name));
            }
            Some(old) => evolve(tx, old, def, &mut log)?,
        }
        let json = serde_json::to_string(def)
            .map_err(|e| StoreError::Schema(format!("cannot record the schema: {e}")))?;
        tx.execute(
            "INSERT INTO \"_flin_schema\"(entity, def) VALUES (?1, ?2)
             ON CONFLICT(entity) DO UPDATE SET def = excluded.def",
            params![def.name, json],
        )?;
    }
    for name in stored.keys() {
        if !declared.iter().any(|d| &d.name == name) {
            // Kept with its data; a later declaration brings it back.
            let already: Option<i64> = tx.query_opt(
                "SELECT seq FROM \"_flin_changes\" WHERE entity = ?1 AND change LIKE 'entity no longer declared%' AND seq = (SELECT max(seq) FROM \"_flin_changes\" WHERE entity = ?1)",
                params![name],
                |r| r.get(0),
            )?;
            if already.is_none() {
                changes.push(Change {
                    at: now,
                    entity: name.clone(),
                    change: "entity no longer declared: its table and data are kept".into(),
                });
            }
        }
    }
    record(tx, &changes)?;
    Ok(changes)
}

/// Records applied changes with their time (`flin db schema` prints them).
pub(crate) fn record(conn: &Conn, changes: &[Change]) -> Result<()> {
    for change in changes {
        conn.execute(
            "INSERT INTO \"_flin_changes\"(at, entity, change) VALUES (?1, ?2, ?3)",
            params![change.at, change.entity, change.change],
        )?;
    }
    Ok(())
}

/// The recorded changes, oldest first.
pub(crate) fn history(conn: &Conn) -> Result<Vec<Change>> {
    if !conn.has_table("_flin_changes")? {
        return Ok(Vec::new());
    }
    conn.query_map(
        "SELECT at, entity, change FROM \"_flin_changes\" ORDER BY seq",
        params![],
        |row| {
            Ok(Change {
                at: row.get(0)?,
                entity: row.get(1)?,
                change: row.get(2)?,
            })
        },
    )
}

/// The stored entity definitions.
pub(crate) fn stored(conn: &Conn) -> Result<Vec<EntityDef>> {
    if !conn.has_table("_flin_schema")? {
        return Ok(Vec::new());
    }
    let rows = conn.query_map(
        "SELECT def FROM \"_flin_schema\" ORDER BY entity",
        params![],
        |row| row.get::<String>(0),
    )?;
    Ok(rows
        .iter()
        .filter_map(|def| serde_json::from_str(def).ok())
        .collect())
}

fn create_entity(conn: &Conn, def: &EntityDef) -> Result<()> {
    let mut columns = vec![
        "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT".to_string(),
        "\"version\" INTEGER NOT NULL".into(),
        "\"created_at\" INTEGER NOT NULL".into(),
        "\"updated_at\" INTEGER NOT NULL".into(),
        "\"deleted_at\" INTEGER".into(),
    ];
    let mut history = vec![
        "\"id\" INTEGER NOT NULL".to_string(),
        "\"version\" INTEGER NOT NULL".into(),
        "\"created_at\" INTEGER NOT NULL".into(),
        "\"updated_at\" INTEGER NOT NULL".into(),
        "\"deleted_at\" INTEGER".into(),
        "\"valid_from\" INTEGER NOT NULL".into(),
        "\"valid_to\" INTEGER".into(),
    ];
    for field in &def.fields {
        columns.extend(column_defs(field));
        history.extend(history_column_defs(field));
    }
    history.push("PRIMARY KEY (\"id\", \"version\")".into());
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({});\nCREATE TABLE {} ({}) WITHOUT ROWID;",
        table(&def.name),
        columns.join(", "),
        history_table(&def.name),
        history.join(", ")
    ))?;
    for field in &def.fields {
        create_field_extras(conn, def, field)?;
    }
    Ok(())
}

/// Column definitions of a field in the main table.
fn column_defs(field: &FieldDef) -> Vec<String> {
    match &field.ty {
        FieldType::Money => vec![
            format!("{} INTEGER", quote(&field.name)),
            format!("{} TEXT", currency_column(&field.name)),
        ],
        FieldType::RefList(_) => Vec::new(),
        FieldType::Ref(target) => vec![format!(
            "{} INTEGER REFERENCES {}(\"id\")",
            quote(&field.name),
            table(target)
        )],
        ty => vec![format!("{} {}", quote(&field.name), sql_type(ty))],
    }
}

fn history_column_defs(field: &FieldDef) -> Vec<String> {
    match &field.ty {
        FieldType::RefList(_) => vec![format!("{} TEXT", quote(&field.name))],
        FieldType::Ref(_) => vec![format!("{} INTEGER", quote(&field.name))],
        _ => column_defs(field),
    }
}

/// Join tables and indexes of a field.
fn create_field_extras(conn: &Conn, def: &EntityDef, field: &FieldDef) -> Result<()> {
    match &field.ty {
        FieldType::RefList(target) => {
            let join = join_table(&def.name, &field.name);
            conn.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {join} (
                    \"owner\" INTEGER NOT NULL REFERENCES {}(\"id\") ON DELETE CASCADE,
                    \"position\" INTEGER NOT NULL,
                    \"target\" INTEGER NOT NULL REFERENCES {}(\"id\") ON DELETE CASCADE,
                    PRIMARY KEY (\"owner\", \"position\")) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS {} ON {join}(\"target\");",
                table(&def.name),
                table(target),
                quote(&format!("{}${}$target", def.name, field.name)),
            ))?;
        }
        FieldType::Ref(_) => create_index(conn, def, field, false)?,
        _ if field.index => create_index(conn, def, field, false)?,
        _ => {}
    }
    if field.unique {
        create_unique(conn, def, field)?;
    }
    Ok(())
}

fn index_name(def: &EntityDef, field: &FieldDef, kind: &str) -> String {
    quote(&format!("{}${kind}${}", def.name, field.name))
}

fn create_index(conn: &Conn, def: &EntityDef, field: &FieldDef, _unique: bool) -> Result<()> {
    let cols = field_columns(field);
    if cols.is_empty() {
        return Ok(());
    }
    conn.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS {} ON {}({})",
        index_name(def, field, "index"),
        table(&def.name),
        cols.join(", ")
    ))?;
    Ok(())
}

fn create_unique(conn: &Conn, def: &EntityDef, field: &FieldDef) -> Result<()> {
    let cols = field_columns(field);
    if cols.is_empty() {
        return Ok(());
    }
    let result = conn.execute_batch(&format!(
        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {}({}) WHERE \"deleted_at\" IS NULL",
        index_name(def, field, "unique"),
        table(&def.name),
        cols.join(", ")
    ));
    if result.is_err() {
        let column = quote(&field.name);
        let rows: i64 = conn.query_row(
            &format!(
                "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {} WHERE \"deleted_at\" IS NULL AND {column} IS NOT NULL GROUP BY {column} HAVING count(*) > 1) AS q",
                table(&def.name)
            ),
            params![],
            |r| r.get(0),
        )?;
        return Err(StoreError::Schema(format!(
            "entity {}: field `{}` is now @unique, but {rows} live rows share values\n  = help: make the values unique (or soft-delete the duplicates) before adding @unique, or remove @unique",
            def.name, field.name
        )));
    }
    Ok(())
}

fn row_count(conn: &Conn, entity: &str) -> Result<i64> {
    conn.query_row(
        &format!("SELECT count(*) FROM {}", table(entity)),
        params![],
        |r| r.get(0),
    )
}

fn existing_columns(conn: &Conn, table_name: &str) -> Result<Vec<String>> {
    conn.columns(table_name)
}

/// Whether values stored as `old` read back unchanged as `new`.
fn compatible(old: &FieldType, new: &FieldType) -> bool {
    use FieldType as T;
    match (old, new) {
        (a, b) if a == b => true,
        (T::Int, T::Number) => true,
        (T::Text | T::SemanticText, T::Text | T::SemanticText) => true,
        (T::Enum { name: a, .. }, T::Enum { name: b, .. }) => a == b,
        _ => false,
    }
}

fn evolve(
    conn: &Conn,
    old: &EntityDef,
    new: &EntityDef,
    log: &mut dyn FnMut(String),
) -> Result<()> {
    let entity = &new.name;
    let main_columns = existing_columns(conn, entity)?;
    let history_name = format!("{entity}$history");
    let history_columns_now = existing_columns(conn, &history_name)?;
    for field in &new.fields {
        let previous = old.field(&field.name);
        let renamed = match (&field.renamed_from, previous) {
            (Some(from), None) => old.field(from),
            _ => None,
        };
        if let Some(from) = renamed {
            rename_field(conn, new, from, field)?;
            log(format!("renamed field {} to {}", from.name, field.name));
            check_field_change(conn, new, from, field, log)?;
            continue;
        }
        match previous {
            Some(previous) => check_field_change(conn, new, previous, field, log)?,
            None => {
                let rows = row_count(conn, entity)?;
                if field.is_required() && rows > 0 {
                    return Err(StoreError::Schema(format!(
                        "entity {entity}: new field `{}` is required, and the {rows} existing rows have no value for it\n  = help: give it a default (`{}: {} = …`), make it optional (`{}?`), or add it with @renamed_from(\"old_name\") if it replaces a field",
                        field.name,
                        field.name,
                        field.ty.describe(),
                        field.ty.describe()
                    )));
                }
                add_field(conn, new, field, &main_columns, &history_columns_now)?;
                log(format!(
                    "added field {}: {}",
                    field.name,
                    field.ty.describe()
                ));
            }
        }
    }
    for field in &old.fields {
        let kept = new.field(&field.name).is_some()
            || new
                .fields
                .iter()
                .any(|f| f.renamed_from.as_deref() == Some(field.name.as_str()));
        if !kept {
            if field.unique {
                conn.execute_batch(&format!(
                    "DROP INDEX IF EXISTS {}",
                    index_name(new, field, "unique")
                ))?;
            }
            log(format!(
                "removed field {}: its data is kept, unread (`flin db prune` deletes it)",
                field.name
            ));
        }
    }
    Ok(())
}

fn rename_field(conn: &Conn, def: &EntityDef, from: &FieldDef, to: &FieldDef) -> Result<()> {
    let entity = &def.name;
    for (old_col, new_col) in field_columns(from).iter().zip(field_columns(to).iter()) {
        conn.execute_batch(&format!(
            "ALTER TABLE {} RENAME COLUMN {old_col} TO {new_col}",
            table(entity)
        ))?;
    }
    for (old_col, new_col) in history_columns(from).iter().zip(history_columns(to).iter()) {
        conn.execute_batch(&format!(
            "ALTER TABLE {} RENAME COLUMN {old_col} TO {new_col}",
            history_table(entity)
        ))?;
    }
    if let FieldType::RefList(_) = from.ty {
        conn.execute_batch(&format!(
            "ALTER TABLE {} RENAME TO {}",
            join_table(entity, &from.name),
            join_table(entity, &to.name)
        ))?;
    }
    for kind in ["unique", "index"] {
        conn.execute_batch(&format!(
            "DROP INDEX IF EXISTS {}",
            index_name(def, from, kind)
        ))?;
    }
    create_field_extras(conn, def, to)?;
    Ok(())
}

fn add_field(
    conn: &Conn,
    def: &EntityDef,
    field: &FieldDef,
    main_columns: &[String],
    history_existing: &[String],
) -> Result<()> {
    let entity = &def.name;
    // A field declared again after it was removed finds its column (and data) there.
    let fresh = !main_columns.contains(&field.name);
    if fresh {
        for column in column_defs(field) {
            conn.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {column}",
                table(entity)
            ))?;
        }
    }
    if !history_existing.contains(&field.name) {
        for column in history_column_defs(field) {
            conn.execute_batch(&format!(
                "ALTER TABLE {} ADD COLUMN {column}",
                history_table(entity)
            ))?;
        }
    }
    if let Some(default) = &field.default_value {
        let values = columns::to_sql(field, default)?;
        for (column, value) in field_columns(field).iter().zip(values) {
            conn.execute(
                &format!(
                    "UPDATE {} SET {column} = ?1 WHERE {column} IS NULL",
                    table(entity)
                ),
                &[value],
            )?;
        }
    }
    create_field_extras(conn, def, field)
}

fn check_field_change(
    conn: &Conn,
    def: &EntityDef,
    old: &FieldDef,
    new: &FieldDef,
    log: &mut dyn FnMut(String),
) -> Result<()> {
    let entity = &def.name;
    if compatible(&old.ty, &new.ty) {
        retype_columns(conn, def, old, new)?;
    }
    if !compatible(&old.ty, &new.ty) {
        let filled = count_filled(conn, entity, old)?;
        if filled > 0 {
            return Err(StoreError::Schema(format!(
                "entity {entity}: field `{}` changes type from {} to {}, which would lose the data of {filled} rows\n  = help: keep the type, or add a new field with the new type (and remove this one once its data is copied)",
                new.name,
                old.ty.describe(),
                new.ty.describe()
            )));
        }
        retype_columns(conn, def, old, new)?;
        // Nothing stored: the column can simply change.
        if old.ty.is_list() != new.ty.is_list()
            || old.ty == FieldType::Money
            || new.ty == FieldType::Money
        {
            for kind in ["unique", "index"] {
                conn.execute_batch(&format!(
                    "DROP INDEX IF EXISTS {}",
                    index_name(def, old, kind)
                ))?;
            }
            let main = existing_columns(conn, entity)?;
            for column in field_columns(old) {
                if main.iter().any(|c| quote(c) == column) {
                    conn.execute_batch(&format!(
                        "ALTER TABLE {} DROP COLUMN {column}",
                        table(entity)
                    ))?;
                }
            }
            if let FieldType::RefList(_) = new.ty {
                create_field_extras(conn, def, new)?;
            } else {
                let main = existing_columns(conn, entity)?;
                let history = existing_columns(conn, &format!("{entity}$history"))?;
                add_field(conn, def, new, &main, &history)?;
            }
        }
        log(format!(
            "changed field {} from {} to {} (no data stored)",
            new.name,
            old.ty.describe(),
            new.ty.describe()
        ));
    } else if let (
        FieldType::Enum {
            variants: before, ..
        },
        FieldType::Enum {
            variants: after,
            name,
        },
    ) = (&old.ty, &new.ty)
    {
        for gone in before.iter().filter(|v| !after.contains(v)) {
            let used: i64 = conn.query_row(
                &format!(
                    "SELECT count(*) FROM {} WHERE {} = ?1",
                    table(entity),
                    quote(&new.name)
                ),
                &[gone],
                |r| r.get(0),
            )?;
            if used > 0 {
                return Err(StoreError::Schema(format!(
                    "entity {entity}: field `{}` holds {name}.{gone} in {used} rows, but the variant is gone\n  = help: keep the variant until no row uses it (change those rows first)",
                    new.name
                )));
            }
        }
        if before != after {
            log(format!(
                "field {}: variants of {name} now {}",
                new.name,
                after.join(", ")
            ));
        }
    }
    if old.optional && new.is_required() && !new.ty.is_list() {
        let missing: i64 = conn.query_row(
            &format!(
                "SELECT count(*) FROM {} WHERE {} IS NULL",
                table(entity),
                quote(&new.name)
            ),
            params![],
            |r| r.get(0),
        )?;
        if missing > 0 {
            return Err(StoreError::Schema(format!(
                "entity {entity}: field `{}` is now required, but {missing} rows have no value\n  = help: fill those rows first, or give the field a default",
                new.name
            )));
        }
    }
    if new.unique && !old.unique {
        create_unique(conn, def, new)?;
        log(format!("field {} is now @unique", new.name));
    } else if old.unique && !new.unique {
        conn.execute_batch(&format!(
            "DROP INDEX IF EXISTS {}",
            index_name(def, new, "unique")
        ))?;
        log(format!("field {} is no longer @unique", new.name));
    }
    if new.index && !old.index {
        create_index(conn, def, new, false)?;
        log(format!("field {} is now @index", new.name));
    } else if old.index && !new.index && !matches!(new.ty, FieldType::Ref(_)) {
        conn.execute_batch(&format!(
            "DROP INDEX IF EXISTS {}",
            index_name(def, new, "index")
        ))?;
    }
    Ok(())
}

/// On PostgreSQL a column's type is enforced: a field whose single column changes SQL
/// type (an int field becoming a number, or any change of a field with no data) has its
/// columns converted. SQLite stores any value in any column.
fn retype_columns(conn: &Conn, def: &EntityDef, old: &FieldDef, new: &FieldDef) -> Result<()> {
    let single = |ty: &FieldType| !ty.is_list() && *ty != FieldType::Money;
    if conn.engine() != Engine::Postgres
        || !single(&old.ty)
        || !single(&new.ty)
        || sql_type(&old.ty) == sql_type(&new.ty)
    {
        return Ok(());
    }
    let (to, cast) = match sql_type(&new.ty) {
        "INTEGER" => ("BIGINT", "bigint"),
        "REAL" => ("DOUBLE PRECISION", "double precision"),
        _ => ("TEXT COLLATE \"C\"", "text"),
    };
    // A renamed field's columns already carry the new name.
    let column = quote(&new.name);
    // Values convert when the types are compatible; otherwise the column is empty.
    let using = if compatible(&old.ty, &new.ty) {
        format!("{column}::{cast}")
    } else {
        "NULL".into()
    };
    for table_name in [table(&def.name), history_table(&def.name)] {
        conn.execute_batch(&format!(
            "ALTER TABLE {table_name} ALTER COLUMN {column} TYPE {to} USING {using}"
        ))?;
    }
    Ok(())
}

fn count_filled(conn: &Conn, entity: &str, field: &FieldDef) -> Result<i64> {
    if let FieldType::RefList(_) = field.ty {
        if !conn.has_table(&format!("{entity}${}", field.name))? {
            return Ok(0);
        }
        return conn.query_row(
            &format!(
                "SELECT count(DISTINCT owner) FROM {}",
                join_table(entity, &field.name)
            ),
            params![],
            |r| r.get(0),
        );
    }
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE {} IS NOT NULL",
            table(entity),
            quote(&field.name)
        ),
        params![],
        |r| r.get(0),
    )
}

/// `flin db prune`: deletes the columns (and their data) of fields no longer declared,
/// in the entity and history tables. Returns what it deleted (also recorded).
pub fn prune(conn: &Conn, declared: &[EntityDef], now: i64) -> Result<Vec<Change>> {
    conn.write_transaction(|tx| prune_in(tx, declared, now))
}

fn prune_in(tx: &Conn, declared: &[EntityDef], now: i64) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for def in declared {
        let mut wanted: Vec<String> = columns::AUTO.iter().map(|c| c.to_string()).collect();
        wanted.extend(["valid_from".to_string(), "valid_to".to_string()]);
        for field in &def.fields {
            wanted.push(field.name.clone());
            if field.ty == FieldType::Money {
                wanted.push(format!("{}$cur", field.name));
            }
        }
        for table_name in [def.name.clone(), format!("{}$history", def.name)] {
            for column in existing_columns(tx, &table_name)? {
                if wanted.contains(&column) {
                    continue;
                }
                // An index on the column would refuse the drop (PostgreSQL drops them
                // with the column).
                let indexes: Vec<String> = match tx.engine() {
                    Engine::Sqlite => tx.query_map(
                        "SELECT DISTINCT il.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii WHERE ii.name = ?2 AND il.origin = 'c'",
                        params![table_name, column],
                        |r| r.get::<String>(0),
                    )?,
                    Engine::Postgres => Vec::new(),
                };
                for index in indexes {
                    tx.execute_batch(&format!("DROP INDEX IF EXISTS {}", quote(&index)))?;
                }
                tx.execute_batch(&format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    quote(&table_name),
                    quote(&column)
                ))?;
                if !table_name.ends_with("$history") {
                    changes.push(Change {
                        at: now,
                        entity: def.name.clone(),
                        change: format!("pruned removed field {column}: its data is deleted"),
                    });
                }
            }
        }
    }
    record(tx, &changes)?;
    Ok(changes)
}
