//! Backups page by page (what `flin db backup` and `restore` use in a terminal, to show a
//! progress bar): the copy holds every row, and the progress reaches the total.

#![allow(clippy::unwrap_used, clippy::panic)]

use flin_query::{Datum, EntityDef, FieldDef, FieldType};
use flin_store::{Durability, Location, Store};

#[test]
fn a_page_by_page_backup_copies_everything_and_reports_its_progress() {
    let dir = tempfile::tempdir().unwrap();
    let def = EntityDef {
        name: "Note".into(),
        fields: vec![FieldDef::new("body", FieldType::Text)],
    };
    let path = dir.path().join("flin.db");
    let store = Store::open(
        Location::File(path.clone()),
        std::slice::from_ref(&def),
        Durability::Relaxed,
    )
    .unwrap();
    let unit = store.unit().unwrap();
    for i in 0..3000 {
        let fields = vec![Datum::Text(format!("note {i} {}", "x".repeat(200)).into())];
        unit.db().unwrap().save("Note", None, fields).unwrap();
    }
    unit.commit().unwrap();
    let copy = dir.path().join("copy.db");
    let mut seen = Vec::new();
    flin_store::backup_with_progress(&path, &copy, &mut |done, total| seen.push((done, total)))
        .unwrap();
    let (done, total) = *seen.last().unwrap();
    assert!(total > 100 && done == total, "{seen:?}");
    assert!(seen.len() > 1, "reported as it went: {seen:?}");
    // The copy is a whole database: restored over another, it brings every row back.
    let other = dir.path().join("other.db");
    let mut restored = Vec::new();
    flin_store::restore_with_progress(&other, &copy, &mut |d, t| restored.push((d, t))).unwrap();
    let back = Store::open(
        Location::File(other),
        std::slice::from_ref(&def),
        Durability::Relaxed,
    )
    .unwrap();
    let unit = back.read_unit().unwrap();
    let row = unit.db().unwrap().get("Note", 3000).unwrap().unwrap();
    assert_eq!(
        row.fields[0],
        Datum::Text(format!("note 2999 {}", "x".repeat(200)).into())
    );
    assert!(restored.last().is_some_and(|(d, t)| d == t && *t > 100));
    // A backup never overwrites a file.
    assert!(flin_store::backup_with_progress(&path, &copy, &mut |_, _| {}).is_err());
}
