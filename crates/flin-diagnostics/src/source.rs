//! Source files, their line tables, and the set of files of one build.

use crate::Span;

/// Index of a file in [`Sources`].
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Debug,
    Default,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FileId(pub u32);

/// A 1-based line and a 1-based column counted in characters, as editors show them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One `.flin` file: the path it is shown under and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// The path as the user should see it (relative to the project where possible).
    pub path: String,
    pub text: String,
    /// Byte offset of the start of every line; the first is always 0.
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(id: FileId, path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        for (idx, byte) in text.bytes().enumerate() {
            if byte == b'\n' {
                line_starts.push(idx as u32 + 1);
            }
        }
        SourceFile {
            id,
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// Line starts, for the renderer.
    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }

    /// The line and character column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(idx) => idx,
            Err(idx) => idx.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_idx).copied().unwrap_or(0);
        let prefix = self
            .text
            .get(line_start as usize..offset as usize)
            .unwrap_or("");
        LineCol {
            line: line_idx as u32 + 1,
            column: prefix.chars().count() as u32 + 1,
        }
    }

    /// The text a span covers (empty when the span does not fall on character boundaries).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// Every source file of one build, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(id, path, text));
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
