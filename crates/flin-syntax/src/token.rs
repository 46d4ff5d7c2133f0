//! Tokens: what the lexer produces and the parser reads.
//!
//! A token is a kind and a byte span; its text is read from the source when needed, so
//! lexing allocates nothing per token. Soft keywords (`route`, `search`, `by` …) are
//! [`TokenKind::Ident`]s: the parser decides where they are keywords (spec/language.md §2).

use flin_diagnostics::Span;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
#[repr(u8)]
pub enum TokenKind {
    // ---- literals and names ----
    /// `42`, `1_000`, `0xff`, `0b1010`
    Int,
    /// `3.14`, `1e-9`
    Number,
    /// `450 USD`: a number, blanks, an ISO 4217 code; one token
    Money,
    /// `30.seconds`, `1.day`: a number, `.`, a unit; one token
    Duration,
    Ident,

    // ---- hard keywords (language.md §2) ----
    Fn,
    Return,
    If,
    Else,
    For,
    In,
    While,
    Break,
    Continue,
    Match,
    Is,
    Entity,
    Enum,
    Type,
    Test,
    Assert,
    Save,
    Delete,
    Restore,
    Destroy,
    Transaction,
    Try,
    True,
    False,
    /// `none`, or its alias `null`
    None,

    // ---- text literals ----
    /// `"`, `'` or `"""` opening a text
    StrStart,
    /// characters of a text between quotes and interpolations, escapes not yet decoded
    StrText,
    /// `{` opening an interpolation inside a text
    InterpStart,
    /// `}` closing an interpolation
    InterpEnd,
    /// the quote(s) closing a text; empty span when the text was left open
    StrEnd,

    // ---- punctuation ----
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    Dot,
    DotDot,
    DotDotEq,
    QuestionDot,
    Question,
    QuestionQuestion,
    /// `->`
    Arrow,
    /// `=>`
    FatArrow,
    /// `|` (or-patterns)
    Pipe,
    PipePipe,
    /// `|>`
    PipeGt,
    AmpAmp,
    Bang,
    Eq,
    EqEq,
    BangEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PlusPlus,
    MinusMinus,
    At,

    /// A newline that ends a statement (the lexer drops the ones that do not).
    Newline,

    // ---- markup (web.md §2) ----
    /// `<` opening a tag
    TagStart,
    /// `</` opening a closing tag
    CloseTagStart,
    TagName,
    AttrName,
    /// `>` ending a tag
    TagEnd,
    /// `/>` ending a self-closing tag
    TagSelfClose,
    /// text between tags
    MarkupText,
    /// the content of `<style>` or `<script>`: raw, never interpolated
    RawText,
    /// `{` opening an expression, statements or a block tag (`{if …}`) in markup
    MarkupLBrace,
    /// `}` closing it
    MarkupRBrace,

    Eof,
}

impl TokenKind {
    /// How the token is named in "expected X, found Y".
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            Int => "an integer",
            Number => "a number",
            Money => "a money literal",
            Duration => "a duration literal",
            Ident => "a name",
            Fn => "`fn`",
            Return => "`return`",
            If => "`if`",
            Else => "`else`",
            For => "`for`",
            In => "`in`",
            While => "`while`",
            Break => "`break`",
            Continue => "`continue`",
            Match => "`match`",
            Is => "`is`",
            Entity => "`entity`",
            Enum => "`enum`",
            Type => "`type`",
            Test => "`test`",
            Assert => "`assert`",
            Save => "`save`",
            Delete => "`delete`",
            Restore => "`restore`",
            Destroy => "`destroy`",
            Transaction => "`transaction`",
            Try => "`try`",
            True => "`true`",
            False => "`false`",
            None => "`none`",
            StrStart => "a text",
            StrText => "text",
            InterpStart => "`{`",
            InterpEnd => "`}`",
            StrEnd => "the end of the text",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            LBrace => "`{`",
            RBrace => "`}`",
            Comma => "`,`",
            Semi => "`;`",
            Colon => "`:`",
            Dot => "`.`",
            DotDot => "`..`",
            DotDotEq => "`..=`",
            QuestionDot => "`?.`",
            Question => "`?`",
            QuestionQuestion => "`??`",
            Arrow => "`->`",
            FatArrow => "`=>`",
            Pipe => "`|`",
            PipePipe => "`||`",
            PipeGt => "`|>`",
            AmpAmp => "`&&`",
            Bang => "`!`",
            Eq => "`=`",
            EqEq => "`==`",
            BangEq => "`!=`",
            Lt => "`<`",
            Le => "`<=`",
            Gt => "`>`",
            Ge => "`>=`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Percent => "`%`",
            PlusEq => "`+=`",
            MinusEq => "`-=`",
            StarEq => "`*=`",
            SlashEq => "`/=`",
            PlusPlus => "`++`",
            MinusMinus => "`--`",
            At => "`@`",
            Newline => "a new line",
            TagStart => "a tag",
            CloseTagStart => "a closing tag",
            TagName => "a tag name",
            AttrName => "an attribute",
            TagEnd => "`>`",
            TagSelfClose => "`/>`",
            MarkupText => "text",
            RawText => "text",
            MarkupLBrace => "`{`",
            MarkupRBrace => "`}`",
            Eof => "the end of the file",
        }
    }

    /// Hard keywords; after `.` and before `:` in a record they are plain names.
    pub fn is_keyword(self) -> bool {
        (self as u8) >= (TokenKind::Fn as u8) && (self as u8) <= (TokenKind::None as u8)
    }

    /// A token after which a line break does not end the statement (language.md §1).
    ///
    /// `?` and `>` are left out: at the end of a line they usually end a type (`price:
    /// money?`, `hits: Option<Hit>`). When the parser reads one as an operator it skips
    /// the newlines after it itself.
    pub fn continues_line(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Comma
                | Dot
                | DotDot
                | DotDotEq
                | QuestionDot
                | QuestionQuestion
                | Arrow
                | FatArrow
                | Pipe
                | PipePipe
                | PipeGt
                | AmpAmp
                | Bang
                | Eq
                | EqEq
                | BangEq
                | Lt
                | Le
                | Ge
                | Plus
                | Minus
                | Star
                | Slash
                | Percent
                | PlusEq
                | MinusEq
                | StarEq
                | SlashEq
                | Colon
                | At
                | LParen
                | LBracket
        )
    }

    /// A token that ends an operand, so a following `<` compares instead of opening a tag.
    pub fn ends_operand(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Int | Number
                | Money
                | Duration
                | Ident
                | True
                | False
                | None
                | StrEnd
                | RParen
                | RBracket
                | RBrace
                | PlusPlus
                | MinusMinus
        )
    }
}

/// Hard keywords by spelling. `null` is the alias of `none`.
pub fn keyword(text: &[u8]) -> Option<TokenKind> {
    use TokenKind::*;
    Some(match text {
        b"fn" => Fn,
        b"return" => Return,
        b"if" => If,
        b"else" => Else,
        b"for" => For,
        b"in" => In,
        b"while" => While,
        b"break" => Break,
        b"continue" => Continue,
        b"match" => Match,
        b"is" => Is,
        b"entity" => Entity,
        b"enum" => Enum,
        b"type" => Type,
        b"test" => Test,
        b"assert" => Assert,
        b"save" => Save,
        b"delete" => Delete,
        b"restore" => Restore,
        b"destroy" => Destroy,
        b"transaction" => Transaction,
        b"try" => Try,
        b"true" => True,
        b"false" => False,
        b"none" | b"null" => None,
        _ => return Option::None,
    })
}
