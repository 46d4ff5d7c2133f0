//! The operations on entities inside a unit of work (data.md §2, §3, §5, §6): saves with
//! validation and history, soft and hard deletes with `@on_delete`, loading rows by id
//! (one or a batch), history and time travel. Each write runs in its own savepoint, so a
//! failure leaves nothing half-written.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use flin_query::{Datum, EntityDef, FieldType, OnDelete};
use rusqlite::types::{Value as Sql, ValueRef};

use crate::columns::{
    self, AUTO, field_columns, history_columns, history_table, join_table, quote, select_list,
    table,
};
use crate::engine::{self, Conn, Engine, RowRef};
use crate::error::{Result, StoreError};
use crate::row::{At, Row};
use crate::store::Store;
use crate::validate;

/// A connection inside a unit of work, with the store's schema.
pub struct Db<'u> {
    pub(crate) conn: &'u Conn,
    pub(crate) store: &'u Store,
}

impl<'u> Db<'u> {
    pub(crate) fn new(conn: &'u Conn, store: &'u Store) -> Db<'u> {
        Db { conn, store }
    }

    pub(crate) fn engine(&self) -> Engine {
        self.conn.engine()
    }

    pub fn entity(&self, name: &str) -> Result<&'u EntityDef> {
        self.store.schema.entity(name)
    }

    /// Runs `f` in a savepoint: all of its writes or none.
    fn atomic<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.conn.execute::<Sql>("SAVEPOINT flin_op", &[])?;
        match f() {
            Ok(value) => {
                self.conn.execute::<Sql>("RELEASE flin_op", &[])?;
                Ok(value)
            }
            Err(error) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO flin_op; RELEASE flin_op");
                Err(error)
            }
        }
    }

    /// The SQL of operation `kind` on the entity or field at `of`, built on first use.
    fn memo<T>(&self, kind: &'static str, of: &T, build: impl FnOnce() -> String) -> Arc<str> {
        let key = (kind, std::ptr::from_ref(of) as usize);
        if let Ok(memo) = self.store.memo.lock() {
            if let Some(sql) = memo.get(&key) {
                return sql.clone();
            }
        }
        let sql: Arc<str> = build().into();
        if let Ok(mut memo) = self.store.memo.lock() {
            memo.insert(key, sql.clone());
        }
        sql
    }

    pub(crate) fn execute(&self, sql: &str, values: &[Sql]) -> Result<usize> {
        self.store.count_statement();
        self.store.count_write();
        self.conn.execute(sql, values)
    }

    /// Rows of `entity` from a select whose columns are [`select_list`].
    pub(crate) fn select_rows(
        &self,
        def: &EntityDef,
        sql: &str,
        values: &[Sql],
    ) -> Result<Vec<Row>> {
        self.store.count_statement();
        let mut out = Vec::new();
        self.conn.each(sql, values, |row| {
            out.push(read_row(def, row, false)?);
            Ok(())
        })?;
        self.load_ref_lists(def, &mut out)?;
        Ok(out)
    }

    /// Fills the `[Entity]` fields of `rows` from their join tables, one statement per
    /// field for all the rows.
    fn load_ref_lists(&self, def: &EntityDef, rows: &mut [Row]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        for (f, field) in def.fields.iter().enumerate() {
            if !matches!(field.ty, FieldType::RefList(_)) {
                continue;
            }
            let ids = serde_json::to_string(&rows.iter().map(|r| r.id).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into());
            let sql = self.memo("ref_list", field, || format!(
                "SELECT \"owner\", \"target\" FROM {} WHERE \"owner\" IN {} ORDER BY \"owner\", \"position\"",
                join_table(&def.name, &field.name),
                engine::id_list(self.engine(), "?1")
            ));
            self.store.count_statement();
            let mut by_owner: HashMap<i64, Vec<Datum>> = HashMap::new();
            self.conn.each(&sql, &[ids], |r| {
                let (owner, target) = (r.get::<i64>(0)?, r.get::<i64>(1)?);
                by_owner.entry(owner).or_default().push(Datum::Ref(target));
                Ok(())
            })?;
            for row in rows.iter_mut() {
                if let Some(slot) = row.fields.get_mut(f) {
                    *slot = Datum::List(by_owner.remove(&row.id).unwrap_or_default());
                }
            }
        }
        Ok(())
    }

    /// The row with this id, soft-deleted or not.
    pub fn get(&self, entity: &str, id: i64) -> Result<Option<Row>> {
        let def = self.entity(entity)?;
        let sql = self.memo("get", def, || {
            format!(
                "SELECT {} FROM {} AS t WHERE t.\"id\" = ?1",
                select_list(def, "t"),
                table(&def.name)
            )
        });
        Ok(self
            .select_rows(def, &sql, &[Sql::Integer(id)])?
            .into_iter()
            .next())
    }

    /// The rows with these ids (soft-deleted or not), in one statement; missing ids are
    /// left out.
    pub fn get_many(&self, entity: &str, ids: &[i64]) -> Result<Vec<Row>> {
        let def = self.entity(entity)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = self.memo("get_many", def, || {
            format!(
                "SELECT {} FROM {} AS t WHERE t.\"id\" IN {}",
                select_list(def, "t"),
                table(&def.name),
                engine::id_list(self.engine(), "?1")
            )
        });
        let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.select_rows(def, &sql, &[Sql::Text(json)])
    }

    /// Saves a new row (`id` none) or a new version of a row. A save that changes no
    /// field is a no-op and returns the row as stored.
    pub fn save(&self, entity: &str, id: Option<i64>, fields: Vec<Datum>) -> Result<Row> {
        let def = self.entity(entity)?;
        if fields.len() != def.fields.len() {
            return Err(StoreError::Database(format!(
                "{entity} has {} fields, {} were given",
                def.fields.len(),
                fields.len()
            )));
        }
        let failures = validate::check(def, &fields);
        if !failures.is_empty() {
            return Err(StoreError::Validation(failures));
        }
        self.atomic(|| {
            self.check_references(def, &fields)?;
            match id {
                None => self.insert(def, fields),
                Some(id) => self.update(def, id, fields),
            }
        })
    }

    fn check_references(&self, def: &EntityDef, fields: &[Datum]) -> Result<()> {
        for (field, value) in def.fields.iter().zip(fields) {
            let Some(target) = field.ty.target() else {
                continue;
            };
            let ids: Vec<i64> = match value {
                Datum::Ref(id) | Datum::Int(id) => vec![*id],
                Datum::List(items) => items
                    .iter()
                    .filter_map(|i| match i {
                        Datum::Ref(id) | Datum::Int(id) => Some(*id),
                        _ => None,
                    })
                    .collect(),
                _ => continue,
            };
            for id in ids {
                self.store.count_statement();
                let sql = self.memo("exists", field, || {
                    format!("SELECT 1 FROM {} WHERE \"id\" = ?1", table(target))
                });
                let found: Option<i64> = self.conn.query_opt(&sql, &[id], |r| r.get(0))?;
                if found.is_none() {
                    return Err(StoreError::Constraint(format!(
                        "{}.{} refers to {target}#{id}, which does not exist (was it destroyed, or not saved yet?)",
                        def.name, field.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The id of a new row on PostgreSQL: one more than the entity's last, counted in a
    /// table, so a rolled-back insert gives its id back as SQLite's AUTOINCREMENT does
    /// (a sequence would not) and ids are the same on both engines.
    fn next_id(&self, def: &EntityDef) -> Result<i64> {
        self.store.count_statement();
        self.conn.query_row(
            "INSERT INTO \"_flin_ids\" (entity, last) VALUES (?1, 1)
                 ON CONFLICT (entity) DO UPDATE SET last = \"_flin_ids\".last + 1 RETURNING last",
            &[def.name.as_str()],
            |r| r.get::<i64>(0),
        )
    }

    fn insert(&self, def: &EntityDef, fields: Vec<Datum>) -> Result<Row> {
        let now = self.store.now();
        let given_id = match self.engine() {
            Engine::Sqlite => None,
            Engine::Postgres => Some(self.next_id(def)?),
        };
        let mut values: Vec<Sql> = given_id.map(Sql::Integer).into_iter().collect();
        values.extend([
            Sql::Integer(1),
            Sql::Integer(now),
            Sql::Integer(now),
            Sql::Null,
        ]);
        for (field, value) in def.fields.iter().zip(&fields) {
            values.extend(columns::to_sql(field, value)?);
        }
        let sql = self.memo("insert", def, || {
            let mut columns: Vec<String> = given_id.map(|_| quote("id")).into_iter().collect();
            columns.extend(
                ["version", "created_at", "updated_at", "deleted_at"]
                    .iter()
                    .map(|c| quote(c)),
            );
            for field in &def.fields {
                columns.extend(field_columns(field));
            }
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO {}({}) VALUES ({}) RETURNING \"id\"",
                table(&def.name),
                columns.join(", "),
                marks.join(", ")
            )
        });
        self.store.count_statement();
        self.store.count_write();
        let id = self
            .conn
            .insert_returning(&sql, &values)
            .map_err(|e| unique_error(def, e))?
            .ok_or_else(|| StoreError::Database("the insert returned no id".into()))?;
        let row = Row {
            id,
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            valid_from: None,
            valid_to: None,
            fields,
        };
        self.write_ref_lists(def, &row, false)?;
        self.insert_history(def, &row, now)?;
        self.index_row(def, &row, None)?;
        Ok(row)
    }

    fn update(&self, def: &EntityDef, id: i64, fields: Vec<Datum>) -> Result<Row> {
        let Some(current) = self.get(&def.name, id)? else {
            return Err(destroyed(def, id));
        };
        if same_fields(def, &current.fields, &fields) {
            return Ok(current);
        }
        let row = Row {
            fields,
            ..current.clone()
        };
        self.write_version(def, row, Some(&current))
    }

    /// Stores `row` as the next version of its row (fields and `deleted_at` as given).
    fn write_version(&self, def: &EntityDef, mut row: Row, current: Option<&Row>) -> Result<Row> {
        let now = self.store.now();
        row.version = current.map_or(row.version, |c| c.version) + 1;
        row.updated_at = now;
        row.valid_from = None;
        row.valid_to = None;
        let mut values = vec![
            Sql::Integer(row.version),
            Sql::Integer(now),
            row.deleted_at.map_or(Sql::Null, Sql::Integer),
        ];
        for (field, value) in def.fields.iter().zip(&row.fields) {
            values.extend(columns::to_sql(field, value)?);
        }
        values.push(Sql::Integer(row.id));
        let sql = self.memo("update", def, || {
            let mut sets = vec![
                "\"version\" = ?1".to_string(),
                "\"updated_at\" = ?2".into(),
                "\"deleted_at\" = ?3".into(),
            ];
            for field in &def.fields {
                for column in field_columns(field) {
                    sets.push(format!("{column} = ?{}", sets.len() + 1));
                }
            }
            format!(
                "UPDATE {} SET {} WHERE \"id\" = ?{}",
                table(&def.name),
                sets.join(", "),
                sets.len() + 1
            )
        });
        self.execute(&sql, &values)
            .map_err(|e| unique_error(def, e))?;
        let lists_changed = current.is_none_or(|c| {
            def.fields
                .iter()
                .zip(c.fields.iter().zip(&row.fields))
                .any(|(f, (a, b))| matches!(f.ty, FieldType::RefList(_)) && a != b)
        });
        if lists_changed {
            self.write_ref_lists(def, &row, true)?;
        }
        let close = self.memo("close_version", def, || {
            format!(
                "UPDATE {} SET \"valid_to\" = ?1 WHERE \"id\" = ?2 AND \"valid_to\" IS NULL",
                history_table(&def.name)
            )
        });
        self.execute(&close, &[Sql::Integer(now), Sql::Integer(row.id)])?;
        self.insert_history(def, &row, now)?;
        self.index_row(def, &row, current)?;
        Ok(row)
    }

    fn write_ref_lists(&self, def: &EntityDef, row: &Row, replace: bool) -> Result<()> {
        for (field, value) in def.fields.iter().zip(&row.fields) {
            if !matches!(field.ty, FieldType::RefList(_)) {
                continue;
            }
            if replace {
                let clear = self.memo("join_clear", field, || {
                    let join = join_table(&def.name, &field.name);
                    format!("DELETE FROM {join} WHERE \"owner\" = ?1")
                });
                self.execute(&clear, &[Sql::Integer(row.id)])?;
            }
            let Datum::List(items) = value else { continue };
            let sql = self.memo("join_insert", field, || {
                let join = join_table(&def.name, &field.name);
                format!(
                    "INSERT INTO {join}(\"owner\", \"position\", \"target\") VALUES (?1, ?2, ?3)"
                )
            });
            for (position, item) in items.iter().enumerate() {
                if let Datum::Ref(target) | Datum::Int(target) = item {
                    self.execute(
                        &sql,
                        &[
                            Sql::Integer(row.id),
                            Sql::Integer(position as i64),
                            Sql::Integer(*target),
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    fn insert_history(&self, def: &EntityDef, row: &Row, valid_from: i64) -> Result<()> {
        let mut values = vec![
            Sql::Integer(row.id),
            Sql::Integer(row.version),
            Sql::Integer(row.created_at),
            Sql::Integer(row.updated_at),
            row.deleted_at.map_or(Sql::Null, Sql::Integer),
            Sql::Integer(valid_from),
        ];
        for (field, value) in def.fields.iter().zip(&row.fields) {
            values.extend(columns::to_history_sql(field, value)?);
        }
        let sql = self.memo("history_insert", def, || {
            let mut columns: Vec<String> = AUTO.iter().map(|c| quote(c)).collect();
            columns.push(quote("valid_from"));
            for field in &def.fields {
                columns.extend(history_columns(field));
            }
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO {}({}) VALUES ({})",
                history_table(&def.name),
                columns.join(", "),
                marks.join(", ")
            )
        });
        self.execute(&sql, &values)?;
        Ok(())
    }

    /// `delete`: a soft delete, as a new version. Deleting a deleted row changes nothing.
    pub fn delete(&self, entity: &str, id: i64) -> Result<Row> {
        self.set_deleted(entity, id, true)
    }

    /// `restore`: undoes a soft delete, as a new version.
    pub fn restore(&self, entity: &str, id: i64) -> Result<Row> {
        self.set_deleted(entity, id, false)
    }

    fn set_deleted(&self, entity: &str, id: i64, deleted: bool) -> Result<Row> {
        let def = self.entity(entity)?;
        self.atomic(|| {
            let Some(current) = self.get(entity, id)? else {
                return Err(destroyed(def, id));
            };
            if current.deleted_at.is_some() == deleted {
                return Ok(current);
            }
            let row = Row {
                deleted_at: deleted.then(|| self.store.now()),
                ..current.clone()
            };
            self.write_version(def, row, Some(&current))
        })
    }

    /// `destroy`: erases the row, its history and its memberships, following
    /// `@on_delete` on the references to it.
    pub fn destroy(&self, entity: &str, id: i64) -> Result<()> {
        let def = self.entity(entity)?;
        self.atomic(|| {
            let mut seen = HashSet::new();
            self.destroy_one(def, id, &mut seen)
        })
    }

    fn destroy_one(
        &self,
        def: &EntityDef,
        id: i64,
        seen: &mut HashSet<(String, i64)>,
    ) -> Result<()> {
        if !seen.insert((def.name.clone(), id)) {
            return Ok(());
        }
        if self.get(&def.name, id)?.is_none() {
            return Err(destroyed(def, id));
        }
        let referrers = self.store.schema.referrers(&def.name);
        // Every restriction is checked before anything changes.
        for (other, field) in &referrers {
            if field.on_delete != OnDelete::Restrict {
                continue;
            }
            // A row that refers to itself does not hold itself back.
            let count = self
                .referencing(other, &field.name, id)?
                .iter()
                .filter(|r| !(other.name == def.name && **r == id))
                .count();
            if count > 0 {
                let rows = if count == 1 { "row" } else { "rows" };
                return Err(StoreError::Constraint(format!(
                    "cannot destroy {}#{id}: {count} {} {rows} refer to it through `{}` (@on_delete(restrict))\n  = help: destroy or change those rows first, or declare `{}: {} @on_delete(cascade)` or `@on_delete(set_none)`",
                    def.name, other.name, field.name, field.name, def.name
                )));
            }
        }
        for (other, field) in &referrers {
            match field.on_delete {
                OnDelete::Restrict => {}
                OnDelete::Cascade => {
                    for referencing in self.referencing(other, &field.name, id)? {
                        self.destroy_one(other, referencing, seen)?;
                    }
                }
                OnDelete::SetNone => {
                    let index = other.fields.iter().position(|f| f.name == field.name);
                    for referencing in self.referencing(other, &field.name, id)? {
                        let Some(current) = self.get(&other.name, referencing)? else {
                            continue;
                        };
                        let mut row = current.clone();
                        if let Some(slot) = index.and_then(|i| row.fields.get_mut(i)) {
                            *slot = Datum::None;
                        }
                        self.write_version(other, row, Some(&current))?;
                    }
                }
            }
        }
        for field in &def.fields {
            if let FieldType::RefList(_) = field.ty {
                self.execute(
                    &format!(
                        "DELETE FROM {} WHERE \"owner\" = ?1",
                        join_table(&def.name, &field.name)
                    ),
                    &[Sql::Integer(id)],
                )?;
            }
        }
        // Memberships of this row in other entities' lists go too.
        for other in &self.store.schema.entities {
            for field in &other.fields {
                if field.ty == FieldType::RefList(def.name.clone()) {
                    self.execute(
                        &format!(
                            "DELETE FROM {} WHERE \"target\" = ?1",
                            join_table(&other.name, &field.name)
                        ),
                        &[Sql::Integer(id)],
                    )?;
                }
            }
        }
        self.unindex_row(def, id)?;
        self.execute(
            &format!("DELETE FROM {} WHERE \"id\" = ?1", history_table(&def.name)),
            &[Sql::Integer(id)],
        )?;
        self.execute(
            &format!("DELETE FROM {} WHERE \"id\" = ?1", table(&def.name)),
            &[Sql::Integer(id)],
        )?;
        Ok(())
    }

    fn referencing(&self, other: &EntityDef, field: &str, id: i64) -> Result<Vec<i64>> {
        self.store.count_statement();
        self.conn.query_map(
            &format!(
                "SELECT \"id\" FROM {} WHERE {} = ?1",
                table(&other.name),
                quote(field)
            ),
            &[id],
            |r| r.get::<i64>(0),
        )
    }

    /// Every version of a row, oldest first (none left after `destroy`).
    pub fn history(&self, entity: &str, id: i64) -> Result<Vec<Row>> {
        let def = self.entity(entity)?;
        let sql = self.memo("history", def, || {
            format!(
                "SELECT {} FROM {} WHERE \"id\" = ?1 ORDER BY \"version\"",
                history_select(def),
                history_table(&def.name)
            )
        });
        self.history_rows(def, &sql, &[Sql::Integer(id)])
    }

    /// The version of a row `at` a version number or an instant, if there is one.
    pub fn version_at(&self, entity: &str, id: i64, at: At) -> Result<Option<Row>> {
        let def = self.entity(entity)?;
        let (kind, condition, value) = match at {
            At::Version(v) => ("at_version", "\"version\" = ?2", v),
            At::Time(t) => (
                "at_time",
                "\"valid_from\" <= ?2 AND (\"valid_to\" IS NULL OR \"valid_to\" > ?2)",
                t,
            ),
        };
        let sql = self.memo(kind, def, || {
            format!(
                "SELECT {} FROM {} WHERE \"id\" = ?1 AND {condition}",
                history_select(def),
                history_table(&def.name)
            )
        });
        Ok(self
            .history_rows(def, &sql, &[Sql::Integer(id), Sql::Integer(value)])?
            .into_iter()
            .next())
    }

    fn history_rows(&self, def: &EntityDef, sql: &str, values: &[Sql]) -> Result<Vec<Row>> {
        self.store.count_statement();
        self.conn
            .query_map(sql, values, |row| read_row(def, row, true))
    }
}

fn history_select(def: &EntityDef) -> String {
    let mut columns: Vec<String> = AUTO.iter().map(|c| quote(c)).collect();
    columns.push(quote("valid_from"));
    columns.push(quote("valid_to"));
    for field in &def.fields {
        columns.extend(history_columns(field));
    }
    columns.join(", ")
}

/// A row from a select of [`select_list`] (or, for history, [`history_select`]).
pub(crate) fn read_row(def: &EntityDef, row: &RowRef<'_, '_>, history: bool) -> Result<Row> {
    let int = |i: usize| -> Result<i64> { row.get::<i64>(i) };
    let opt = |i: usize| -> Result<Option<i64>> { row.get::<Option<i64>>(i) };
    let mut at = if history { 7 } else { 5 };
    let mut fields = Vec::with_capacity(def.fields.len());
    for field in &def.fields {
        let width = columns::width(field, history);
        if width == 0 {
            fields.push(Datum::List(Vec::new()));
            continue;
        }
        let mut refs: Vec<ValueRef<'_>> = Vec::with_capacity(width);
        for i in at..at + width {
            refs.push(row.get_ref(i)?);
        }
        let (value, _) = columns::from_sql(&field.ty, &refs);
        fields.push(value);
        at += width;
    }
    Ok(Row {
        id: int(0)?,
        version: int(1)?,
        created_at: int(2)?,
        updated_at: int(3)?,
        deleted_at: opt(4)?,
        valid_from: if history { opt(5)? } else { None },
        valid_to: if history { opt(6)? } else { None },
        fields,
    })
}

fn same_fields(def: &EntityDef, a: &[Datum], b: &[Datum]) -> bool {
    def.fields
        .iter()
        .zip(a.iter().zip(b))
        .all(|(field, (x, y))| match (&field.ty, x, y) {
            (FieldType::Number, Datum::Int(i), Datum::Number(n))
            | (FieldType::Number, Datum::Number(n), Datum::Int(i)) => (*i as f64) == *n,
            (FieldType::Ref(_), Datum::Ref(i) | Datum::Int(i), Datum::Ref(j) | Datum::Int(j)) => {
                i == j
            }
            (
                FieldType::Enum { .. },
                Datum::Enum(s) | Datum::Text(s),
                Datum::Enum(t) | Datum::Text(t),
            ) => s == t,
            (FieldType::RefList(_), Datum::List(l), Datum::List(m)) => {
                l.len() == m.len()
                    && l.iter().zip(m).all(|(p, q)| match (p, q) {
                        (Datum::Ref(i) | Datum::Int(i), Datum::Ref(j) | Datum::Int(j)) => i == j,
                        _ => false,
                    })
            }
            _ => x == y,
        })
}

fn destroyed(def: &EntityDef, id: i64) -> StoreError {
    StoreError::Constraint(format!(
        "{}#{id} does not exist (it was destroyed)",
        def.name
    ))
}

/// A unique-index violation as a validation error on the field.
fn unique_error(def: &EntityDef, error: StoreError) -> StoreError {
    if let StoreError::Database(message) = &error {
        if let Some(rest) = message.split("UNIQUE constraint failed: ").nth(1) {
            let column = rest
                .split(',')
                .next()
                .and_then(|c| c.trim().split('.').nth(1))
                .unwrap_or("")
                .trim_end_matches("$cur");
            if let Some(field) = def.field(column) {
                return StoreError::validation(
                    &field.name,
                    format!("{} is already taken", field.name),
                );
            }
        }
    }
    error
}
