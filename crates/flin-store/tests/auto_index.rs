//! A query that filters by equality and orders by another field gets an index on both,
//! made when the writer is free, so later runs read it in order instead of sorting.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use flin_query::{
    CmpOp, Cond, Datum, EntityDef, FieldDef, FieldType, Operand, OrderKey, QueryPlan, QueryShape,
    Terminal,
};
use flin_store::{Durability, Location, QueryResult, Store};

#[test]
fn a_filtered_ordered_query_gets_its_index_and_keeps_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let def = EntityDef {
        name: "Item".into(),
        fields: vec![
            FieldDef::new("category", FieldType::Text),
            FieldDef::new("price", FieldType::Int),
        ],
    };
    let path = dir.path().join("flin.db");
    let store = Store::open(
        Location::File(path.clone()),
        std::slice::from_ref(&def),
        Durability::Relaxed,
    )
    .unwrap();
    let unit = store.unit().unwrap();
    for i in 0..2000i64 {
        let fields = vec![
            Datum::Text(format!("c{}", i % 10).into()),
            Datum::Int((i * 7919) % 1000),
        ];
        unit.db().unwrap().save("Item", None, fields).unwrap();
    }
    unit.commit().unwrap();
    let mut shape = QueryShape::all("Item");
    let category = shape.param();
    shape.filter.push(Cond::Compare(
        CmpOp::Eq,
        Operand::Field("category".into()),
        Operand::Param(category),
    ));
    shape.order.push(OrderKey {
        field: "price".into(),
        descending: true,
    });
    let limit = shape.param();
    shape.limit = Some(limit);
    let plan = QueryPlan {
        shape: Arc::new(shape),
        params: vec![Datum::Text("c3".into()), Datum::Int(5)],
    };
    let run = || {
        let unit = store.read_unit().unwrap();
        let QueryResult::Rows(rows) = unit.db().unwrap().query(&plan, &Terminal::Rows).unwrap()
        else {
            panic!("rows expected");
        };
        drop(unit);
        rows.iter()
            .map(|r| (r.id, r.fields[1].clone()))
            .collect::<Vec<_>>()
    };
    let before = run();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'Item$auto$%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(indexes, vec!["Item$auto$category$price".to_string()]);
    assert_eq!(run(), before, "the same rows in the same order");
    assert_eq!(before.len(), 5);
    let changes = flin_store::open_existing(&path)
        .unwrap()
        .schema_history()
        .unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c.change.contains("added index on (category, price)"))
    );
}
