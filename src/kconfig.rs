//! A small reader of Linux's Kconfig language, enough to say which symbols
//! a maximal x86-64 configuration without `COMPILE_TEST` can enable (as
//! `make allmodconfig` with `CONFIG_COMPILE_TEST=n` would), for `resurgo
//! driver survey`.
//!
//! It reads `config`/`menuconfig` entries with their prompts, `depends on`,
//! `default`/`def_bool`/`def_tristate` and `select` lines, and the `if`/`menu`
//! blocks around them, from every Kconfig file of the tree (Linux's own
//! `scripts/kconfig` needs flex and bison to build, which a Resurgo host does
//! not have). A symbol is enabled when its dependencies are and it has a
//! prompt (the maximal configuration answers yes to every question), a true
//! default, or a selection by an enabled symbol. `X86`, `X86_64` and `64BIT`
//! are given; `COMPILE_TEST` is off. A symbol only another architecture's
//! Kconfig defines is off; so is a symbol no Kconfig file defines.
//!
//! Pure: Kconfig text in, answers out.

use std::collections::{BTreeMap, BTreeSet};

/// A dependency expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Sym(String),
    /// `y`, `m` (both true here) or `n`.
    Const(bool),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `A = B` (`negated`: `A != B`), compared by truth.
    Eq(Box<Expr>, Box<Expr>, bool),
}

/// Parses a Kconfig expression; `None` when it does not parse.
pub fn parse_expr(text: &str) -> Option<Expr> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, pos: 0 };
    let e = p.or()?;
    (p.pos == p.tokens.len()).then_some(e)
}

fn tokenize(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' {
            break;
        } else if i + 1 < b.len()
            && matches!((c, b[i + 1]), ('&', '&') | ('|', '|') | ('!', '=') | ('<', '=') | ('>', '='))
        {
            out.push(format!("{c}{}", b[i + 1]));
            i += 2;
        } else if matches!(c, '(' | ')' | '!' | '=' | '<' | '>') {
            out.push(c.to_string());
            i += 1;
        } else if c == '"' || c == '\'' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            out.push(format!("\"{}", b[start..i.min(b.len())].iter().collect::<String>()));
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], '_' | '$' | '-' | '.')) {
                i += 1;
            }
            out.push(b[start..i].iter().collect());
        } else {
            return None;
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }
    fn or(&mut self) -> Option<Expr> {
        let mut e = self.and()?;
        while self.peek() == Some("||") {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Some(e)
    }
    fn and(&mut self) -> Option<Expr> {
        let mut e = self.not()?;
        while self.peek() == Some("&&") {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Some(e)
    }
    fn not(&mut self) -> Option<Expr> {
        if self.peek() == Some("!") {
            self.pos += 1;
            return Some(Expr::Not(Box::new(self.not()?)));
        }
        let a = self.atom()?;
        match self.peek() {
            Some(op @ ("=" | "!=")) => {
                let negated = op == "!=";
                self.pos += 1;
                let b = self.atom()?;
                Some(Expr::Eq(Box::new(a), Box::new(b), negated))
            }
            // Numeric comparisons: taken as true (they guard value ranges).
            Some("<" | ">" | "<=" | ">=") => {
                self.pos += 1;
                self.atom()?;
                Some(Expr::Const(true))
            }
            _ => Some(a),
        }
    }
    fn atom(&mut self) -> Option<Expr> {
        let t = self.tokens.get(self.pos)?.clone();
        self.pos += 1;
        match t.as_str() {
            "(" => {
                let e = self.or()?;
                (self.peek() == Some(")")).then(|| self.pos += 1)?;
                Some(e)
            }
            "y" | "m" => Some(Expr::Const(true)),
            "n" => Some(Expr::Const(false)),
            ")" | "&&" | "||" | "=" | "!=" => None,
            s if s.starts_with('"') => Some(Expr::Const(!s[1..].is_empty() && &s[1..] != "n")),
            s if s.starts_with('$') => Some(Expr::Const(true)),
            s => Some(Expr::Sym(s.to_string())),
        }
    }
}

/// One definition of a symbol (a symbol may be defined in several places).
#[derive(Debug, Clone, Default)]
pub struct Definition {
    /// The Kconfig file, by its path in the tree.
    pub file: String,
    pub prompt: bool,
    /// `depends on` lines and the enclosing `if`/`menu` conditions, ANDed.
    pub depends: Vec<Expr>,
    /// `default y if X` and `def_bool X`: (value, condition).
    pub defaults: Vec<(Expr, Option<Expr>)>,
}

/// Every symbol of a tree's Kconfig files, and who selects whom.
#[derive(Debug, Default)]
pub struct Kconfig {
    pub defs: BTreeMap<String, Vec<Definition>>,
    /// symbol → (selector, condition and the selector's own context).
    pub selected_by: BTreeMap<String, Vec<(String, Option<Expr>)>>,
}

impl Kconfig {
    /// Adds one Kconfig file (its `source` lines are not followed: every
    /// file of the tree is added on its own).
    pub fn add_file(&mut self, file: &str, text: &str) {
        let joined = text.replace("\\\n", " ");
        // The conditions of the enclosing `if`s and `menu ... depends on`s.
        let mut blocks: Vec<Option<Expr>> = Vec::new();
        let mut current: Option<(String, Definition)> = None;
        let mut in_help = false;
        let mut help_indent = 0usize;
        let mut menu_pending = false;
        let finish = |cur: &mut Option<(String, Definition)>, kc: &mut Kconfig| {
            if let Some((name, def)) = cur.take() {
                kc.defs.entry(name).or_default().push(def);
            }
        };
        for raw in joined.lines() {
            let indent = raw.len() - raw.trim_start().len() + raw.chars().take_while(|c| *c == '\t').count() * 7;
            let line = raw.trim();
            if in_help {
                if line.is_empty() || indent > help_indent {
                    continue;
                }
                in_help = false;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(w, r)| (w, r.trim()));
            match word {
                "config" | "menuconfig" => {
                    finish(&mut current, self);
                    menu_pending = false;
                    let depends = blocks.iter().flatten().cloned().collect();
                    current =
                        Some((rest.to_string(), Definition { file: file.to_string(), depends, ..Default::default() }));
                }
                "if" => {
                    finish(&mut current, self);
                    blocks.push(parse_expr(rest));
                }
                "endif" | "endmenu" => {
                    finish(&mut current, self);
                    menu_pending = false;
                    blocks.pop();
                }
                "menu" => {
                    finish(&mut current, self);
                    blocks.push(None);
                    menu_pending = true;
                }
                "choice" | "endchoice" | "comment" | "source" | "mainmenu" | "rsource" | "osource" | "orsource" => {
                    finish(&mut current, self);
                    menu_pending = false;
                }
                "help" | "---help---" => {
                    in_help = true;
                    help_indent = indent;
                }
                "depends" => {
                    let e = rest.strip_prefix("on").map(str::trim).and_then(parse_expr);
                    if let Some((_, def)) = current.as_mut() {
                        def.depends.extend(e);
                    } else if menu_pending && let Some(last) = blocks.last_mut() {
                        *last = match (last.take(), e) {
                            (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
                            (a, b) => a.or(b),
                        };
                    }
                }
                "bool" | "tristate" | "string" | "int" | "hex" | "prompt" => {
                    if let Some((_, def)) = current.as_mut() {
                        let (prompt, cond) = split_if(rest);
                        if !prompt.is_empty() {
                            def.prompt = true;
                            if let Some(c) = cond {
                                // A prompt only under a condition: taken as a dependency.
                                def.depends.push(c);
                            }
                        }
                    }
                }
                "def_bool" | "def_tristate" | "default" => {
                    if let Some((_, def)) = current.as_mut() {
                        let (value, cond) = split_if(rest);
                        if let Some(v) = parse_expr(value) {
                            def.defaults.push((v, cond));
                        }
                    }
                }
                "select" => {
                    if let Some((name, def)) = current.as_ref() {
                        let (target, cond) = split_if(rest);
                        let mut context: Vec<Expr> = def.depends.clone();
                        context.extend(cond);
                        self.selected_by.entry(target.to_string()).or_default().push((name.clone(), and_all(context)));
                    }
                }
                _ => {}
            }
        }
        finish(&mut current, self);
    }

    /// Whether the maximal x86-64 configuration enables `sym`.
    pub fn enabled(&self, sym: &str) -> bool {
        let mut memo = BTreeMap::new();
        self.eval_sym(sym, &mut memo, &mut BTreeSet::new())
    }

    /// Whether an expression holds in that configuration.
    pub fn holds(&self, e: &Expr) -> bool {
        self.eval(e, &mut BTreeMap::new(), &mut BTreeSet::new())
    }

    fn eval(&self, e: &Expr, memo: &mut BTreeMap<String, bool>, stack: &mut BTreeSet<String>) -> bool {
        match e {
            Expr::Sym(s) => self.eval_sym(s, memo, stack),
            Expr::Const(b) => *b,
            Expr::Not(a) => !self.eval(a, memo, stack),
            Expr::And(a, b) => self.eval(a, memo, stack) && self.eval(b, memo, stack),
            Expr::Or(a, b) => self.eval(a, memo, stack) || self.eval(b, memo, stack),
            Expr::Eq(a, b, neg) => (self.eval(a, memo, stack) == self.eval(b, memo, stack)) != *neg,
        }
    }

    fn eval_sym(&self, sym: &str, memo: &mut BTreeMap<String, bool>, stack: &mut BTreeSet<String>) -> bool {
        match sym {
            "X86" | "X86_64" | "64BIT" => return true,
            "COMPILE_TEST" | "X86_32" => return false,
            _ => {}
        }
        if let Some(v) = memo.get(sym) {
            return *v;
        }
        if !stack.insert(sym.to_string()) {
            // A dependency loop (Kconfig forbids them; `select` cycles do occur): not enabled through it.
            return false;
        }
        let defs: Vec<&Definition> =
            self.defs.get(sym).map(|d| d.iter().filter(|d| !other_arch(&d.file)).collect()).unwrap_or_default();
        let mut value = false;
        for def in &defs {
            if !def.depends.iter().all(|e| self.eval(e, memo, stack)) {
                continue;
            }
            if def.prompt
                || def
                    .defaults
                    .iter()
                    .any(|(v, c)| c.as_ref().is_none_or(|c| self.eval(c, memo, stack)) && self.eval(v, memo, stack))
            {
                value = true;
                break;
            }
        }
        if !value && !defs.is_empty() {
            value = self.selected_by.get(sym).is_some_and(|list| {
                list.iter().any(|(by, cond)| {
                    self.eval_sym(by, memo, stack) && cond.as_ref().is_none_or(|c| self.eval(c, memo, stack))
                })
            });
        }
        stack.remove(sym);
        memo.insert(sym.to_string(), value);
        value
    }
}

/// A Kconfig file of another architecture than x86.
fn other_arch(file: &str) -> bool {
    file.strip_prefix("arch/").is_some_and(|rest| !rest.starts_with("x86/") && rest.contains('/'))
}

/// `VALUE if COND` → (VALUE, COND).
fn split_if(text: &str) -> (&str, Option<Expr>) {
    // An `if` outside quotes.
    let mut in_quote = false;
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'"' => in_quote = !in_quote,
            b'i' if !in_quote
                && text[i..].starts_with("if")
                && (i == 0 || bytes[i - 1].is_ascii_whitespace())
                && bytes.get(i + 2).is_some_and(u8::is_ascii_whitespace) =>
            {
                return (text[..i].trim(), parse_expr(&text[i + 2..]));
            }
            _ => {}
        }
    }
    (text.trim(), None)
}

fn and_all(list: Vec<Expr>) -> Option<Expr> {
    list.into_iter().reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ETH: &str = r#"
menuconfig NET_VENDOR_REALTEK
	bool "Realtek devices"
	default y
	depends on PCI || (PARPORT && X86)

if NET_VENDOR_REALTEK

config 8139CP
	tristate "RealTek RTL-8139 C+ PCI Fast Ethernet Adapter support"
	depends on PCI
	select CRC32
	select MII
	help
	  This is a driver for the Fast Ethernet PCI network cards.
	  if you have one, say Y.

config ATP
	tristate "AT-LAN-TEC/RealTek pocket adapter support"
	depends on PARPORT && X86

config SPARCONLY
	tristate "A card of another machine"
	depends on PCI && (SPARC || COMPILE_TEST)

config ARMONLY
	tristate "On an ARM board"
	depends on ARCH_FOO

config NEEDS_NO_DMA
	tristate "Without DMA"
	depends on !HAS_DMA

endif
"#;
    const BASE: &str = r#"
config PCI
	bool "PCI support"
	depends on HAVE_PCI
config HAVE_PCI
	bool
config X86_ARCH
	def_bool y
	select HAVE_PCI
config HAS_DMA
	bool
	depends on !NO_DMA
	default y
config NO_DMA
	bool
config PARPORT
	tristate "Parallel port support"
	depends on HAS_IOMEM
config HAS_IOMEM
	def_bool y
config CRC32
	tristate
config MII
	tristate
"#;
    const ARM: &str = "config ARCH_FOO\n\tbool \"Foo boards\"\n";

    fn tree() -> Kconfig {
        let mut k = Kconfig::default();
        k.add_file("drivers/net/ethernet/realtek/Kconfig", ETH);
        k.add_file("drivers/base/Kconfig", BASE);
        k.add_file("arch/arm/Kconfig", ARM);
        k
    }

    #[test]
    fn x86_64_enables_what_its_dependencies_allow() {
        let k = tree();
        assert!(k.enabled("PCI"), "selected by the architecture");
        assert!(k.enabled("NET_VENDOR_REALTEK"));
        assert!(k.enabled("8139CP"));
        assert!(k.enabled("ATP"));
        assert!(k.enabled("CRC32") && k.enabled("MII"), "selected by an enabled driver");
        assert!(!k.enabled("SPARCONLY"), "COMPILE_TEST is off, SPARC undefined");
        assert!(!k.enabled("ARMONLY"), "ARCH_FOO is only another architecture's");
        assert!(!k.enabled("NEEDS_NO_DMA"), "HAS_DMA defaults to y");
        assert!(!k.enabled("NOT_DEFINED_ANYWHERE"));
    }

    #[test]
    fn expressions_parse() {
        let e = parse_expr("PCI && (X86 || COMPILE_TEST) && !NO_DMA").unwrap();
        assert!(matches!(e, Expr::And(..)));
        assert_eq!(parse_expr("y"), Some(Expr::Const(true)));
        assert_eq!(
            parse_expr("A != n"),
            Some(Expr::Eq(Box::new(Expr::Sym("A".into())), Box::new(Expr::Const(false)), true))
        );
        assert!(parse_expr("A &&").is_none());
        assert_eq!(split_if("y if PCI").0, "y");
        assert_eq!(split_if("\"if you like\"").1, None);
    }
}
