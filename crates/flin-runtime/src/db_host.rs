//! The host a unit of work runs with when the program has entities: everything the VM
//! asks about entities goes to one [`Unit`] of the store, and values cross between the
//! VM's layout and the store's plain rows here (and only here).
//!
//! Loading rows also loads what they refer to, one statement per reference field for all
//! the rows (batch loading: listing books and their authors is two statements, not one
//! per book). References of those loaded entities are loaded when read.

use std::collections::HashMap;
use std::rc::Rc;

use flin_query::{Datum, FieldType, QueryPlan, Terminal};
use flin_store::{At, QueryResult, Row, StoreError, Unit};
use flin_vm::entity::{EntityMeta, EntityObj, EntityType, new_entity};
use flin_vm::value::{Entries, Key, Money};
use flin_vm::{Host, PersistOp, Program, RuntimeError, Value};

pub struct DbHost<'a, 's> {
    out: &'a mut dyn Host,
    unit: Unit<'s>,
    program: Rc<Program>,
}

impl<'a, 's> DbHost<'a, 's> {
    pub fn new(out: &'a mut dyn Host, unit: Unit<'s>, program: Rc<Program>) -> DbHost<'a, 's> {
        DbHost { out, unit, program }
    }

    /// Ends the unit of work: its writes stay when `keep`, else none of them do.
    pub fn finish(self, keep: bool) -> Result<(), StoreError> {
        if keep {
            self.unit.commit()
        } else {
            self.unit.rollback()
        }
    }

    fn entity_type(&self, name: &str) -> Result<Rc<EntityType>, RuntimeError> {
        self.program
            .entity(name)
            .cloned()
            .ok_or_else(|| RuntimeError::runtime(format!("unknown entity `{name}`")))
    }

    fn db(&self) -> Result<flin_store::Db<'_>, RuntimeError> {
        self.unit.db().map_err(store_error)
    }

    /// Entity values of `rows`, their references loaded in batches.
    fn entities(&self, ty: &Rc<EntityType>, rows: Vec<Row>) -> Result<Vec<Value>, RuntimeError> {
        let mut values: Vec<Vec<Value>> = rows
            .iter()
            .map(|row| {
                ty.def
                    .fields
                    .iter()
                    .zip(&row.fields)
                    .map(|(field, datum)| from_datum(&field.ty, datum))
                    .collect()
            })
            .collect();
        for (f, field) in ty.def.fields.iter().enumerate() {
            let Some(target) = field.ty.target() else {
                continue;
            };
            let mut ids: Vec<i64> = Vec::new();
            for row in &rows {
                match row.fields.get(f) {
                    Some(Datum::Ref(id)) => ids.push(*id),
                    Some(Datum::List(items)) => ids.extend(items.iter().filter_map(|i| match i {
                        Datum::Ref(id) => Some(*id),
                        _ => None,
                    })),
                    _ => {}
                }
            }
            if ids.is_empty() {
                continue;
            }
            ids.sort_unstable();
            ids.dedup();
            let target_ty = self.entity_type(target)?;
            let loaded = self.db()?.get_many(target, &ids).map_err(store_error)?;
            let by_id: HashMap<i64, Value> = loaded
                .into_iter()
                .map(|row| (row.id, shallow(&target_ty, row)))
                .collect();
            for (row, slots) in rows.iter().zip(values.iter_mut()) {
                let Some(slot) = slots.get_mut(f) else {
                    continue;
                };
                match row.fields.get(f) {
                    Some(Datum::Ref(id)) => {
                        if let Some(entity) = by_id.get(id) {
                            *slot = entity.clone();
                        }
                    }
                    Some(Datum::List(items)) => {
                        let list = items
                            .iter()
                            .filter_map(|i| match i {
                                Datum::Ref(id) => by_id.get(id).cloned(),
                                _ => None,
                            })
                            .collect();
                        *slot = Value::list(list);
                    }
                    _ => {}
                }
            }
        }
        Ok(rows
            .iter()
            .zip(values)
            .map(|(row, fields)| new_entity(ty.clone(), meta(row), fields))
            .collect())
    }

    fn entity(&self, ty: &Rc<EntityType>, row: Option<Row>) -> Result<Value, RuntimeError> {
        match row {
            None => Ok(Value::None),
            Some(row) => Ok(self
                .entities(ty, vec![row])?
                .into_iter()
                .next()
                .unwrap_or(Value::None)),
        }
    }

    fn persist_one(&mut self, op: PersistOp, target: &Value) -> Result<(), RuntimeError> {
        let entity = match target {
            Value::Entity(entity) => entity.clone(),
            Value::Cell(cell) => {
                let inner = cell.borrow().clone();
                return self.persist_one(op, &inner);
            }
            Value::None => {
                return Err(RuntimeError::none(format!(
                    "cannot {} `none`",
                    op.keyword()
                )));
            }
            other => {
                return Err(RuntimeError::type_error(format!(
                    "`{}` takes an entity or a list of entities, not {}",
                    op.keyword(),
                    other.type_name()
                )));
            }
        };
        let name = entity.ty.def.name.clone();
        let db = self.db()?;
        let row = match (op, entity.id()) {
            (PersistOp::Save, id) => {
                let fields = to_fields(&entity)?;
                Some(db.save(&name, id, fields).map_err(store_error)?)
            }
            (_, None) => {
                return Err(RuntimeError::new(
                    "constraint",
                    format!(
                        "cannot {} {}: it was never saved",
                        op.keyword(),
                        flin_vm::entity::display(&entity)
                    ),
                ));
            }
            (PersistOp::Delete, Some(id)) => Some(db.delete(&name, id).map_err(store_error)?),
            (PersistOp::Restore, Some(id)) => Some(db.restore(&name, id).map_err(store_error)?),
            (PersistOp::Destroy, Some(id)) => {
                db.destroy(&name, id).map_err(store_error)?;
                None
            }
        };
        if let Some(row) = row {
            entity.meta.set(meta(&row));
        }
        // What the program changed is in the database now.
        entity.dirty.set(false);
        Ok(())
    }
}

fn meta(row: &Row) -> EntityMeta {
    EntityMeta {
        id: Some(row.id),
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deleted_at: row.deleted_at,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
    }
}

/// An entity whose references stay ids until read.
fn shallow(ty: &Rc<EntityType>, row: Row) -> Value {
    let fields = ty
        .def
        .fields
        .iter()
        .zip(&row.fields)
        .map(|(field, datum)| from_datum(&field.ty, datum))
        .collect();
    new_entity(ty.clone(), meta(&row), fields)
}

pub fn store_error(error: StoreError) -> RuntimeError {
    let mut runtime = RuntimeError::new(error.kind(), error.to_string());
    match error {
        StoreError::Validation(fields) => runtime.fields = fields,
        // The database cannot be reached or used right now: a server answers 503
        // (data.md §10), and the next unit of work reconnects.
        StoreError::Unavailable(_) => runtime.status = Some(503),
        _ => {}
    }
    runtime
}

/// A stored value as a VM value (a reference as its id, loaded when read).
pub fn from_datum(ty: &FieldType, datum: &Datum) -> Value {
    match (ty, datum) {
        (_, Datum::None) => Value::None,
        (_, Datum::Bool(b)) => Value::Bool(*b),
        (_, Datum::Int(i)) | (_, Datum::Ref(i)) => Value::Int(*i),
        (_, Datum::Number(n)) => Value::Number(*n),
        // A file column holds the file's parts as JSON (services.md §2).
        (FieldType::File, Datum::Text(t)) => flin_vm::file::FileParts::from_stored(t)
            .map_or_else(|| Value::text(t.as_ref()), |file| file.to_value()),
        (_, Datum::Text(t)) => Value::text(t.as_ref()),
        (_, Datum::Time(t)) => Value::Time(*t),
        (_, Datum::Duration(d)) => Value::Duration(*d),
        (_, Datum::Money { minor, currency }) => flin_syntax::currency::index_of(currency)
            .and_then(|c| Money::new(*minor, c))
            .map_or(Value::None, Value::Money),
        (FieldType::Enum { name, .. }, Datum::Enum(variant)) => {
            Value::variant(name, variant, Vec::new())
        }
        (FieldType::List(inner), Datum::Enum(variant)) => match &**inner {
            FieldType::Enum { name, .. } => Value::variant(name, variant, Vec::new()),
            _ => Value::text(variant.as_ref()),
        },
        (_, Datum::Enum(variant)) => Value::text(variant.as_ref()),
        (FieldType::List(inner), Datum::List(items)) => {
            Value::list(items.iter().map(|i| from_datum(inner, i)).collect())
        }
        (_, Datum::List(items)) => Value::list(items.iter().map(|i| from_datum(ty, i)).collect()),
    }
}

/// The declared fields of an entity value as stored data.
fn to_fields(entity: &EntityObj) -> Result<Vec<Datum>, RuntimeError> {
    let values = entity.values.borrow();
    entity
        .ty
        .def
        .fields
        .iter()
        .zip(values.iter())
        .map(|(field, value)| to_datum(&entity.ty.def.name, &field.name, &field.ty, value))
        .collect()
}

fn to_datum(
    entity: &str,
    field: &str,
    ty: &FieldType,
    value: &Value,
) -> Result<Datum, RuntimeError> {
    match (ty, value) {
        (_, Value::Cell(cell)) => to_datum(entity, field, ty, &cell.borrow()),
        (FieldType::Ref(_), Value::Entity(other)) => match other.id() {
            Some(id) => Ok(Datum::Ref(id)),
            None => Err(unsaved(entity, field, other)),
        },
        (FieldType::Ref(_), Value::Int(id)) => Ok(Datum::Ref(*id)),
        (FieldType::RefList(_), Value::List(items)) => {
            let items = items.borrow();
            let mut ids = Vec::with_capacity(items.len());
            for item in items.iter() {
                match item {
                    Value::Entity(other) => match other.id() {
                        Some(id) => ids.push(Datum::Ref(id)),
                        None => return Err(unsaved(entity, field, other)),
                    },
                    Value::Int(id) => ids.push(Datum::Ref(*id)),
                    other => {
                        return Err(RuntimeError::type_error(format!(
                            "{entity}.{field} holds entities, not {}",
                            other.type_name()
                        )));
                    }
                }
            }
            Ok(Datum::List(ids))
        }
        // Dynamic data (json) checked against the field's type by the store.
        (_, Value::Json(json)) => Ok(json_datum(ty, json)),
        (_, other) => flin_vm::query::datum(other),
    }
}

fn json_datum(ty: &FieldType, json: &serde_json::Value) -> Datum {
    use serde_json::Value as J;
    match (ty, json) {
        (_, J::Null) => Datum::None,
        (FieldType::Number, J::Number(n)) => Datum::Number(n.as_f64().unwrap_or(0.0)),
        (_, J::Number(n)) => match n.as_i64() {
            Some(i) => Datum::Int(i),
            None => Datum::Number(n.as_f64().unwrap_or(0.0)),
        },
        (FieldType::Enum { .. }, J::String(s)) => Datum::Enum(s.as_str().into()),
        (_, J::String(s)) => Datum::Text(s.as_str().into()),
        (_, J::Bool(b)) => Datum::Bool(*b),
        (FieldType::List(inner), J::Array(items)) => {
            Datum::List(items.iter().map(|i| json_datum(inner, i)).collect())
        }
        (_, J::Array(items)) => Datum::List(items.iter().map(|i| json_datum(ty, i)).collect()),
        (_, J::Object(_)) => Datum::Text(json.to_string().into()),
    }
}

fn unsaved(entity: &str, field: &str, other: &EntityObj) -> RuntimeError {
    RuntimeError::new(
        "constraint",
        format!(
            "{entity}.{field} refers to {}, which is not saved yet: save it first",
            flin_vm::entity::display(other)
        ),
    )
}

impl Host for DbHost<'_, '_> {
    fn socket(&mut self, op: flin_vm::SocketOp) -> Result<(), RuntimeError> {
        self.out.socket(op)
    }

    /// A test's request to its app: what the test wrote so far is committed, the
    /// route runs in its own unit of work, and the test goes on in a new one.
    fn http(&mut self, call: &flin_vm::HttpCall) -> Result<flin_vm::HttpReply, RuntimeError> {
        self.unit.pause().map_err(store_error)?;
        let reply = self.out.http(call);
        self.unit.resume().map_err(store_error)?;
        reply
    }

    fn print(&mut self, line: &str) {
        self.out.print(line);
    }

    fn log(&mut self, level: &'static str, line: &str) {
        self.out.log(level, line);
    }

    fn emit(&mut self, html: &str) {
        self.out.emit(html);
    }

    fn context(&mut self, name: &str) -> Value {
        self.out.context(name)
    }

    fn wrap_children(&mut self) {
        self.out.wrap_children();
    }

    fn validate(&mut self, fields: &flin_query::EntityDef) -> Result<(), RuntimeError> {
        self.out.validate(fields)
    }

    fn session_user(&mut self) -> Option<(String, i64)> {
        self.out.session_user()
    }

    fn set_session_user(&mut self, user: Option<(String, i64)>) -> Result<(), RuntimeError> {
        self.out.set_session_user(user)
    }

    fn guard(&mut self, name: &str, args: &[Value]) -> Result<(), RuntimeError> {
        self.out.guard(name, args)
    }

    fn next_middleware(&mut self) {
        self.out.next_middleware();
    }

    fn capture_begin(&mut self) {
        self.out.capture_begin();
    }

    fn capture_end(&mut self) -> String {
        self.out.capture_end()
    }

    fn component_begin(
        &mut self,
        name: &str,
        site: flin_vm::host::Site,
        props: Value,
        children: Value,
    ) -> Option<flin_vm::host::KeptInstance> {
        self.out.component_begin(name, site, props, children)
    }

    fn component_end(&mut self, state: Vec<Value>) {
        self.out.component_end(state);
    }

    fn emit_hole(&mut self, html: &str) {
        self.out.emit_hole(html);
    }

    fn mark(&mut self, mark: flin_vm::host::Mark, key: Option<&Value>) {
        self.out.mark(mark, key);
    }

    fn handler(
        &mut self,
        site: flin_vm::host::Site,
        event: &str,
        handler: &Value,
    ) -> Result<(), RuntimeError> {
        self.out.handler(site, event, handler)
    }

    fn bind(
        &mut self,
        site: flin_vm::host::Site,
        kind: &str,
        setter: &Value,
    ) -> Result<(), RuntimeError> {
        self.out.bind(site, kind, setter)
    }

    fn head(&mut self, html: &str) {
        self.out.head(html);
    }

    fn written_entities(&self) -> Vec<String> {
        self.unit.written()
    }

    fn search(&mut self, call: &flin_vm::host::SearchCall) -> Result<Value, RuntimeError> {
        let entity = call.candidates.shape.entity.to_string();
        let ty = self.entity_type(&entity)?;
        let request = flin_store::SearchRequest {
            entity: &entity,
            field: &call.field,
            text: &call.text,
            mode: call.mode,
            limit: call.limit,
            filter: Some(&call.candidates),
        };
        let db = self.db()?;
        let hits = db.search(&request).map_err(store_error)?;
        let ids: Vec<i64> = hits.iter().map(|(id, _)| *id).collect();
        let rows = db.get_many(&entity, &ids).map_err(store_error)?;
        let loaded = self.entities(&ty, rows)?;
        let by_id: std::collections::HashMap<i64, Value> = loaded
            .into_iter()
            .filter_map(|value| match &value {
                Value::Entity(e) => e.id().map(|id| (id, value.clone())),
                _ => None,
            })
            .collect();
        let shape: Rc<[flin_syntax::Symbol]> = ["entity", "score"]
            .iter()
            .map(|name| flin_syntax::Symbol::intern(name))
            .collect();
        let list = hits
            .into_iter()
            .filter_map(|(id, score)| {
                let entity = by_id.get(&id)?.clone();
                Some(Value::record(
                    shape.clone(),
                    vec![entity, Value::Number(score)],
                ))
            })
            .collect();
        Ok(Value::list(list))
    }

    fn query(&mut self, plan: &QueryPlan, terminal: &Terminal) -> Result<Value, RuntimeError> {
        let ty = self.entity_type(&plan.shape.entity)?;
        let result = self.db()?.query(plan, terminal).map_err(store_error)?;
        // `.with(author)`: those references show in full in JSON.
        let expanded: u64 = plan
            .shape
            .with
            .iter()
            .filter_map(|name| {
                ty.def
                    .fields
                    .iter()
                    .position(|f| f.name.as_str() == &**name)
            })
            .filter(|i| *i < 64)
            .fold(0, |mask, i| mask | (1 << i));
        let mark = |value: &Value| {
            if let Value::Entity(entity) = value {
                entity.expanded.set(expanded);
            }
        };
        Ok(match result {
            QueryResult::Rows(rows) => {
                let list = self.entities(&ty, rows)?;
                if expanded != 0 {
                    list.iter().for_each(mark);
                }
                Value::list(list)
            }
            QueryResult::Row(row) => {
                let value = self.entity(&ty, row)?;
                mark(&value);
                value
            }
            QueryResult::Count(n) => Value::Int(n),
            QueryResult::Exists(b) => Value::Bool(b),
            QueryResult::Value(datum) => {
                let field_ty = match terminal {
                    Terminal::Sum(f) | Terminal::Min(f) | Terminal::Max(f) => ty
                        .def
                        .field(f)
                        .map(|f| f.ty.clone())
                        .unwrap_or(FieldType::Int),
                    _ => FieldType::Number,
                };
                match (terminal, &field_ty, datum) {
                    (Terminal::Avg(f), _, Datum::Number(n)) => {
                        let money = ty.def.field(f).is_some_and(|f| f.ty == FieldType::Money);
                        if money {
                            // The average of minor units, as major units.
                            Value::Number(n / 100.0)
                        } else {
                            Value::Number(n)
                        }
                    }
                    (_, field_ty, datum) => from_datum(field_ty, &datum),
                }
            }
            QueryResult::Groups(groups) => {
                let field_ty = group_field(&ty, terminal);
                let entries: Entries = groups
                    .into_iter()
                    .map(|(key, n)| (Key(from_datum(&field_ty, &key)), Value::Int(n)))
                    .collect();
                Value::map(entries)
            }
            QueryResult::GroupRows(groups) => {
                let field_ty = group_field(&ty, terminal);
                let mut entries = Entries::default();
                for (key, rows) in groups {
                    let list = Value::list(self.entities(&ty, rows)?);
                    entries.insert(Key(from_datum(&field_ty, &key)), list);
                }
                Value::map(entries)
            }
        })
    }

    fn persist(&mut self, op: PersistOp, target: &Value) -> Result<(), RuntimeError> {
        match target {
            Value::List(items) => {
                // A list is saved atomically: all of it or none.
                let items: Vec<Value> = items.borrow().clone();
                let depth = self.unit.depth();
                self.unit.savepoint().map_err(store_error)?;
                for item in &items {
                    if let Err(err) = self.persist_one(op, item) {
                        let _ = self.unit.rollback_to(depth);
                        return Err(err);
                    }
                }
                self.unit.release().map_err(store_error)
            }
            other => self.persist_one(op, other),
        }
    }

    fn load(&mut self, entity: &str, id: i64) -> Result<Value, RuntimeError> {
        let ty = self.entity_type(entity)?;
        let row = self.db()?.get(entity, id).map_err(store_error)?;
        self.entity(&ty, row)
    }

    fn history(&mut self, entity: &str, id: i64) -> Result<Value, RuntimeError> {
        let ty = self.entity_type(entity)?;
        let rows = self.db()?.history(entity, id).map_err(store_error)?;
        Ok(Value::list(self.entities(&ty, rows)?))
    }

    fn time_travel(&mut self, entity: &Value, at: &Value) -> Result<Value, RuntimeError> {
        let entity = match entity {
            Value::Entity(entity) => entity.clone(),
            Value::None => return Ok(Value::None),
            other => {
                return Err(RuntimeError::type_error(format!(
                    "`@` takes an entity, not {}",
                    other.type_name()
                )));
            }
        };
        let Some(id) = entity.id() else {
            return Ok(Value::None);
        };
        let version = entity.meta.get().version;
        let at = match at {
            Value::Int(n) if *n < 0 => At::Version(version + n),
            Value::Int(0) => {
                return Err(RuntimeError::runtime(
                    "versions count from 1: `@ 0` has no version",
                ));
            }
            Value::Int(n) => At::Version(*n),
            Value::Time(t) => At::Time(*t),
            Value::Text(text) => match flin_vm::builtins::time::parse_time(text.as_str()) {
                Some(Value::Time(t)) => At::Time(t),
                _ => {
                    return Err(RuntimeError::type_error(format!(
                        "`@ \"{}\"` is not a date (write \"2026-03-01\" or an RFC 3339 time)",
                        text.as_str()
                    )));
                }
            },
            other => {
                return Err(RuntimeError::type_error(format!(
                    "`@` takes a version (int), a time or a date text, not {}",
                    other.type_name()
                )));
            }
        };
        if let At::Version(v) = at {
            if v < 1 {
                return Ok(Value::None);
            }
        }
        let row = self
            .db()?
            .version_at(&entity.ty.def.name, id, at)
            .map_err(store_error)?;
        self.entity(&entity.ty, row)
    }

    fn savepoint(&mut self) -> Result<usize, RuntimeError> {
        self.unit.savepoint().map_err(store_error)
    }

    fn release(&mut self) -> Result<(), RuntimeError> {
        self.unit.release().map_err(store_error)
    }

    fn rollback_to(&mut self, depth: usize) -> Result<(), RuntimeError> {
        self.unit.rollback_to(depth).map_err(store_error)
    }

    fn depth(&self) -> usize {
        self.unit.depth()
    }
}

fn group_field(ty: &EntityType, terminal: &Terminal) -> FieldType {
    match terminal {
        Terminal::GroupCount(f) | Terminal::GroupRows(f) => ty
            .def
            .field(f)
            .map(|f| f.ty.clone())
            .unwrap_or(FieldType::Text),
        _ => FieldType::Text,
    }
}
