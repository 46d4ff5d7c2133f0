//! Declarations and who can see them (language.md §11): entities, enums, type aliases,
//! functions and guard definitions, collected per file; those of `entities/` and `lib/`
//! merged into the project-wide table. Entities, enums, types and functions share one
//! namespace: two visible declarations with one name are an error naming both places.

use std::collections::{HashMap, HashSet};

use flin_diagnostics::{FileId, Span};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, StmtKind};

use crate::builtins::BUILTINS;
use crate::error::{CheckError, Place};
use crate::lower::{TypeNames, lower};
use crate::ty::Ty;

#[derive(Clone, Debug)]
pub struct EntityInfo {
    pub name: Symbol,
    pub place: Place,
    pub fields: Vec<FieldInfo>,
}

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: Symbol,
    pub span: Span,
    pub ty: Ty,
    /// Must be given in an entity literal: not optional, no default, not a list.
    pub required: bool,
    /// `@search` or `semantic text`: `search … by` this field works.
    pub searchable: bool,
    pub semantic: bool,
}

/// Fields every entity has (data.md §1).
pub const AUTO_FIELDS: &[&str] = &["id", "version", "created_at", "updated_at", "deleted_at"];

pub fn auto_field_ty(name: &str) -> Option<Ty> {
    Some(match name {
        "id" | "version" => Ty::Int,
        "created_at" | "updated_at" => Ty::Time,
        "deleted_at" => Ty::optional(Ty::Time),
        _ => return None,
    })
}

impl EntityInfo {
    pub fn field(&self, name: Symbol) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The type of a declared or automatic field.
    pub fn field_ty(&self, name: Symbol) -> Option<Ty> {
        self.field(name)
            .map(|f| f.ty.clone())
            .or_else(|| auto_field_ty(name.as_str()))
    }

    pub fn field_names(&self) -> Vec<Symbol> {
        let mut names: Vec<Symbol> = self.fields.iter().map(|f| f.name).collect();
        names.extend(AUTO_FIELDS.iter().map(|n| Symbol::intern(n)));
        names
    }
}

#[derive(Clone, Debug)]
pub struct EnumInfo {
    pub name: Symbol,
    pub place: Place,
    pub variants: Vec<(Symbol, Vec<Ty>)>,
}

impl EnumInfo {
    pub fn variant(&self, name: Symbol) -> Option<&Vec<Ty>> {
        self.variants
            .iter()
            .find(|(v, _)| *v == name)
            .map(|(_, payload)| payload)
    }

    pub fn variant_names(&self) -> Vec<Symbol> {
        self.variants.iter().map(|(v, _)| *v).collect()
    }
}

/// The declarations of one file, or the project-wide ones.
#[derive(Default, Debug)]
pub struct DeclTable<'a> {
    pub entities: HashMap<Symbol, EntityInfo>,
    pub enums: HashMap<Symbol, EnumInfo>,
    pub aliases: HashMap<Symbol, Ty>,
    pub fns: HashMap<Symbol, (FileId, &'a ast::FnDecl)>,
    pub guards: HashMap<Symbol, (FileId, &'a [ast::Param], Span)>,
    /// Where each name of the shared namespace was declared.
    pub places: HashMap<Symbol, Place>,
    /// Entity and enum names, known before their types are resolved (a field may name an
    /// entity declared further down or in another file).
    pub entity_names: HashSet<Symbol>,
    pub enum_names: HashSet<Symbol>,
}

impl DeclTable<'_> {
    /// Whether this declaration is the one registered under its name (not a duplicate).
    fn registered(&self, file: FileId, name: &ast::Name) -> bool {
        self.places
            .get(&name.sym)
            .is_some_and(|p| p.file == file && p.span == name.span)
    }
}

/// What a file sees: its own declarations, then the project-wide ones.
pub struct Visible<'v, 'a> {
    pub local: &'v DeclTable<'a>,
    pub global: &'v DeclTable<'a>,
}

impl Visible<'_, '_> {
    pub fn entity(&self, name: Symbol) -> Option<&EntityInfo> {
        self.local
            .entities
            .get(&name)
            .or_else(|| self.global.entities.get(&name))
    }

    pub fn enum_info(&self, name: Symbol) -> Option<&EnumInfo> {
        self.local
            .enums
            .get(&name)
            .or_else(|| self.global.enums.get(&name))
    }

    pub fn all_enums(&self) -> impl Iterator<Item = &EnumInfo> {
        self.local.enums.values().chain(self.global.enums.values())
    }

    pub fn all_entities(&self) -> impl Iterator<Item = &EntityInfo> {
        self.local
            .entities
            .values()
            .chain(self.global.entities.values())
    }
}

impl TypeNames for Visible<'_, '_> {
    fn lookup_type(&self, name: Symbol) -> Option<Ty> {
        for table in [self.local, self.global] {
            if table.entity_names.contains(&name) {
                return Some(Ty::Entity(name));
            }
            if table.enum_names.contains(&name) {
                return Some(Ty::Enum(name));
            }
            if let Some(alias) = table.aliases.get(&name) {
                return Some(alias.clone());
            }
        }
        BUILTINS.aliases.get(&name).cloned()
    }

    fn type_names(&self) -> Vec<Symbol> {
        let mut names = Vec::new();
        for table in [self.local, self.global] {
            names.extend(table.entity_names.iter().copied());
            names.extend(table.enum_names.iter().copied());
            names.extend(table.aliases.keys().copied());
        }
        names
    }
}

/// One file's declarations, before resolution.
pub struct FileDecls<'a> {
    pub file: FileId,
    pub stmts: &'a [ast::Stmt],
}

/// Registers the names declared by `files` into `table`, reporting duplicates at the
/// second declaration (also against `outer`, the table that stays visible beside it).
pub fn register<'a>(
    table: &mut DeclTable<'a>,
    files: &[FileDecls<'a>],
    outer: Option<&DeclTable<'a>>,
    errors: &mut Vec<(FileId, CheckError)>,
) {
    for file in files {
        for stmt in file.stmts {
            let (name, what) = match &stmt.kind {
                StmtKind::Entity(decl) => (decl.name, "entity"),
                StmtKind::Enum(decl) => (decl.name, "enum"),
                StmtKind::TypeAlias { name, .. } => (*name, "type"),
                StmtKind::Fn(decl) => (decl.name, "function"),
                StmtKind::GuardDefinition { name, params, .. } => {
                    table
                        .guards
                        .insert(name.sym, (file.file, params.as_slice(), name.span));
                    continue;
                }
                _ => continue,
            };
            let place = Place {
                file: file.file,
                span: name.span,
            };
            let earlier = table
                .places
                .get(&name.sym)
                .copied()
                .or_else(|| outer.and_then(|o| o.places.get(&name.sym).copied()));
            if let Some(first) = earlier {
                errors.push((
                    file.file,
                    CheckError::Duplicate {
                        span: name.span,
                        name: name.sym,
                        what,
                        first,
                    },
                ));
                continue;
            }
            table.places.insert(name.sym, place);
            match &stmt.kind {
                StmtKind::Entity(_) => {
                    table.entity_names.insert(name.sym);
                }
                StmtKind::Enum(_) => {
                    table.enum_names.insert(name.sym);
                }
                StmtKind::Fn(decl) => {
                    if BUILTINS.is_builtin_function(name.sym) {
                        errors.push((
                            file.file,
                            CheckError::ShadowsBuiltin {
                                span: name.span,
                                name: name.sym,
                            },
                        ));
                    }
                    table.fns.insert(name.sym, (file.file, decl));
                }
                _ => {}
            }
        }
    }
}

/// Resolves the types of the entities, enums and aliases registered in `target` (which
/// is either `visible.local` or `visible.global`), given everything visible.
pub fn resolve<'a>(
    files: &[FileDecls<'a>],
    visible: &Visible<'_, 'a>,
    errors: &mut Vec<(FileId, CheckError)>,
) -> Resolved {
    let mut resolved = Resolved::default();
    let mut type_errors = Vec::new();
    // Aliases first, in order, so entity fields may use them; an alias may use an
    // earlier alias.
    let mut aliases: HashMap<Symbol, Ty> = HashMap::new();
    for file in files {
        for stmt in file.stmts {
            if let StmtKind::TypeAlias { name, ty } = &stmt.kind {
                if !visible.local.registered(file.file, name)
                    && !visible.global.registered(file.file, name)
                {
                    continue;
                }
                let names = WithAliases {
                    visible,
                    aliases: &aliases,
                };
                let lowered = lower(ty, &names, &mut type_errors);
                errors.extend(type_errors.drain(..).map(|e| (file.file, e)));
                aliases.insert(name.sym, lowered);
            }
        }
    }
    let names = WithAliases {
        visible,
        aliases: &aliases,
    };
    for file in files {
        for stmt in file.stmts {
            let registered = |name: &ast::Name| {
                visible.local.registered(file.file, name)
                    || visible.global.registered(file.file, name)
            };
            match &stmt.kind {
                StmtKind::Entity(decl) if registered(&decl.name) => {
                    let fields = decl
                        .fields
                        .iter()
                        .map(|field| {
                            let ty = lower(&field.ty, &names, &mut type_errors);
                            let semantic = is_semantic(&field.ty);
                            let searchable = semantic
                                || field.decorators.iter().any(|d| d.name.as_str() == "search");
                            let optional = matches!(ty, Ty::Optional(_));
                            let list = matches!(ty, Ty::List(_));
                            FieldInfo {
                                name: field.name.sym,
                                span: field.name.span,
                                ty,
                                required: !optional && !list && field.default.is_none(),
                                searchable,
                                semantic,
                            }
                        })
                        .collect();
                    errors.extend(type_errors.drain(..).map(|e| (file.file, e)));
                    resolved.entities.push(EntityInfo {
                        name: decl.name.sym,
                        place: Place {
                            file: file.file,
                            span: decl.name.span,
                        },
                        fields,
                    });
                }
                StmtKind::Enum(decl) if registered(&decl.name) => {
                    let variants = decl
                        .variants
                        .iter()
                        .map(|variant| {
                            (
                                variant.name.sym,
                                variant
                                    .payload
                                    .iter()
                                    .map(|ty| lower(ty, &names, &mut type_errors))
                                    .collect(),
                            )
                        })
                        .collect();
                    errors.extend(type_errors.drain(..).map(|e| (file.file, e)));
                    resolved.enums.push(EnumInfo {
                        name: decl.name.sym,
                        place: Place {
                            file: file.file,
                            span: decl.name.span,
                        },
                        variants,
                    });
                }
                _ => {}
            }
        }
    }
    resolved.aliases = aliases;
    resolved
}

fn is_semantic(ty: &ast::Type) -> bool {
    match &ty.kind {
        ast::TypeKind::SemanticText => true,
        ast::TypeKind::Optional(inner) => is_semantic(inner),
        _ => false,
    }
}

#[derive(Default)]
pub struct Resolved {
    pub entities: Vec<EntityInfo>,
    pub enums: Vec<EnumInfo>,
    pub aliases: HashMap<Symbol, Ty>,
}

impl Resolved {
    pub fn install(self, table: &mut DeclTable<'_>) {
        for entity in self.entities {
            table.entities.insert(entity.name, entity);
        }
        for decl in self.enums {
            table.enums.insert(decl.name, decl);
        }
        table.aliases.extend(self.aliases);
    }
}

/// Type names while aliases are being resolved.
struct WithAliases<'v, 'w, 'a> {
    visible: &'v Visible<'w, 'a>,
    aliases: &'v HashMap<Symbol, Ty>,
}

impl TypeNames for WithAliases<'_, '_, '_> {
    fn lookup_type(&self, name: Symbol) -> Option<Ty> {
        self.aliases
            .get(&name)
            .cloned()
            .or_else(|| self.visible.lookup_type(name))
    }

    fn type_names(&self) -> Vec<Symbol> {
        let mut names = self.visible.type_names();
        names.extend(self.aliases.keys().copied());
        names
    }
}
