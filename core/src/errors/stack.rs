//! JavaScript stack traces (`Error.prototype.stack`) parsed into Rollbar frames.
//!
//! One parser reads the formats of the three engines; each line is recognised by its shape:
//!
//! | Engine | Frame line |
//! |---|---|
//! | V8 (Chrome, Edge, Node) | `    at name (location)` or `    at location`, after a `Name: message` header (which may span lines) |
//! | SpiderMonkey (Firefox) | `name@location`, `@location` (anonymous), `cause*name@location` (async) |
//! | JavaScriptCore (Safari) | `name@location`, `location` alone (anonymous), `name@[native code]` |
//!
//! A location is `url:line:column`; the URL may itself hold colons (`https://h:8080/a.js`),
//! `@` (`/npm/@scope/pkg`), spaces and balanced parentheses, so line and column are the
//! last two `:N` groups. When a trace holds any V8 frame, only V8 frames are read, so the
//! header never turns into a frame; lines that are no frame are skipped.
//!
//! # Mapping
//!
//! - **Order**: engines print the most recent call first; [`parse_stack`] returns the most
//!   recent call **last**, as Rollbar expects.
//! - **Method**: the function name as printed (`Foo.bar`, `Object.<anonymous>`, `new Foo`,
//!   `Foo.bar [as baz]`, Firefox's `foo/<`). Anonymous functions and top-level code (V8
//!   `at url:1:2`, Firefox `@url`, Safari's bare `url:1:2`, `global code`, `module code`)
//!   have no method.
//! - **Async**: the marker is dropped and the frame kept: V8 `at async fn (…)` and Firefox
//!   `async*fn@…` (or `promise callback*fn@…`, any `cause*`) both give method `fn`.
//! - **Eval**: the frame reports the **outer location**, where `eval` (or `new Function`)
//!   was called in a real script, because that is what source maps and grouping can use:
//!   V8 `at eval (eval at foo (https://x/a.js:10:5), <anonymous>:1:1)` gives
//!   `https://x/a.js` line 10 column 5 (nested evals are followed to the outermost script);
//!   Firefox `fn@https://x/a.js line 10 > eval:1:1` gives `https://x/a.js` line 10 and no
//!   column (Firefox prints none). Anonymous and top-level eval code has method `eval` (V8
//!   names it so; Firefox's empty name and Safari's `eval code` are mapped to it). Safari
//!   prints no location for eval code (`eval code@`): its filename is [`ANONYMOUS`].
//! - **Native**: built-in functions have filename [`NATIVE_CODE`] and no line or column:
//!   Safari `map@[native code]`, V8 `at Array.map (<anonymous>)`, `at Array.map (native)`
//!   and `at async Promise.all (index 0)` (method `Promise.all`).
//! - **WebAssembly**: filename is the module URL (`https://x/pkg/app_bg.wasm`) or V8's
//!   `wasm://wasm/<hash>`; for Firefox's `url line 1 > WebAssembly.instantiate` it is the
//!   URL before ` line `; Safari prints none, so [`WASM_CODE`]. Method is the function name
//!   when one is printed (V8 `at foo (…)`, V8's synthetic `$func12` too, Firefox `foo@…`,
//!   Safari `<?>.wasm-function[foo]`), else `wasm-function[12]`; Safari's `wasm-stub` is
//!   kept as is. `lineno` is `None` and `colno` is the byte offset in the module (`0x1a2b`
//!   read as hex), `None` when not printed (Safari). See [`StackFrame::is_wasm`].
//! - Numbers that do not fit a `u32` become `None`; when the line does not fit, the column
//!   is dropped too (so a column without a line always means a wasm byte offset).

use crate::prelude::*;
/// Filename of frames in built-in functions (`Array.prototype.map`, `eval`, `Promise.all`).
pub const NATIVE_CODE: &str = "[native code]";
/// Filename of WebAssembly frames printed without a module URL (Safari, old V8).
pub const WASM_CODE: &str = "[wasm code]";
/// Filename of code that has no URL: V8's console and `new Function` code, and Safari eval
/// code.
pub const ANONYMOUS: &str = "<anonymous>";

const WASM_FUNCTION: &str = "wasm-function[";

/// One stack frame, as Rollbar's `body.trace.frames[]` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFrame {
    /// Script URL, `wasm://wasm/<hash>` or a placeholder such as `[native code]`.
    pub filename: String,
    /// 1-based line; `None` when unknown (and for wasm frames).
    pub lineno: Option<u32>,
    /// 1-based column; for wasm frames the byte offset in the module.
    pub colno: Option<u32>,
    /// Function name; `None` for anonymous or top-level code.
    pub method: Option<String>,
}

impl StackFrame {
    /// Whether [`parse_stack`] read this frame as a WebAssembly frame: a `wasm://` or
    /// `.wasm` filename, [`WASM_CODE`], or a byte offset without a line.
    pub fn is_wasm(&self) -> bool {
        self.filename.starts_with("wasm://")
            || self.filename.ends_with(".wasm")
            || self.filename == WASM_CODE
            || (self.lineno.is_none() && self.colno.is_some())
    }
}

/// Parses a stack trace from V8, SpiderMonkey or JavaScriptCore. Frames come out in the
/// order Rollbar expects: the most recent call last. Lines that are not frames (the
/// `TypeError: message` header of V8) are skipped. Never panics; linear in the input.
pub fn parse_stack(stack: &str) -> Vec<StackFrame> {
    let mut v8 = Vec::new();
    let mut others = Vec::new();
    for line in stack.lines() {
        let line = line.trim();
        if let Some(frame) = parse_v8_line(line) {
            v8.push(frame);
        } else if v8.is_empty() {
            if let Some(frame) = parse_at_line(line) {
                others.push(frame);
            }
        }
    }
    let mut frames = if v8.is_empty() { others } else { v8 };
    frames.reverse();
    frames
}

/// `at name (location)` or `at location`.
fn parse_v8_line(line: &str) -> Option<StackFrame> {
    let rest = line.strip_prefix("at ")?.trim_start();
    let (name, loc) = match rest.strip_suffix(')') {
        Some(inner) => {
            let open = v8_open_paren(inner)?;
            let loc = &inner[open + 1..];
            if !(loc.contains(':') || is_native(loc) || loc == "unknown location") {
                return None;
            }
            (inner[..open].trim_end(), loc)
        }
        None => {
            let loc = rest.strip_prefix("async ").unwrap_or(rest);
            if !(loc.contains(WASM_FUNCTION) || trailing_number(loc).is_some()) {
                return None;
            }
            ("", loc)
        }
    };
    let name = match name.strip_prefix("async ") {
        Some(n) if !n.is_empty() => n,
        _ => name,
    };
    Some(frame(
        (!name.is_empty()).then_some(name),
        parse_location(loc),
    ))
}

/// The `(` that opens the location of `at name (location` (closing `)` removed): scanning
/// back, the one that balances the closing parenthesis and follows a space, so that URLs
/// and eval origins may hold parentheses. Falls back to the first ` (`.
fn v8_open_paren(inner: &str) -> Option<usize> {
    let b = inner.as_bytes();
    let mut depth = 1usize;
    let mut i = b.len();
    while i > 0 {
        i -= 1;
        match b[i] {
            b')' => depth += 1,
            b'(' if depth > 1 => depth -= 1,
            b'(' if i == 0 || b[i - 1] == b' ' => return Some(i),
            _ => {}
        }
    }
    inner.find(" (").map(|i| i + 1)
}

/// Firefox and Safari: `name@location`, `@location`, a bare `location` (Safari's anonymous
/// functions), `[native code]`, or Safari's old `eval code`.
fn parse_at_line(line: &str) -> Option<StackFrame> {
    let (name, loc) = match line.find('@') {
        // An `@` after `://` belongs to a bare URL (`https://cdn/npm/@scope/a.js:1:2`).
        Some(i) if !line[..i].contains("://") => (&line[..i], &line[i + 1..]),
        _ if line == "eval code" => (line, ""),
        _ if line.contains(char::is_whitespace) && line != NATIVE_CODE => return None,
        _ => ("", line),
    };
    let plausible = if loc.is_empty() {
        !name.is_empty()
    } else if loc.starts_with(':') {
        false
    } else {
        loc == NATIVE_CODE
            || loc == WASM_CODE
            || loc.contains(WASM_FUNCTION)
            || trailing_number(loc).is_some()
    };
    if !plausible {
        return None;
    }
    // Firefox's async cause (`async*fn`, `promise callback*fn`).
    let name = name.find('*').map_or(name, |i| &name[i + 1..]);
    let name = name.strip_prefix("async ").unwrap_or(name);
    let method = match name {
        "" | "global code" | "module code" => None,
        "eval code" => Some("eval"),
        n => Some(n),
    };
    Some(frame(method, parse_location(loc)))
}

/// A location, borrowed from the line.
struct Location<'a> {
    file: &'a str,
    line: Option<u32>,
    col: Option<u32>,
    /// `wasm-function[12]` as printed, for wasm frames.
    wasm: Option<&'a str>,
    /// Code run by `eval`.
    eval: bool,
}

fn frame(method: Option<&str>, loc: Location<'_>) -> StackFrame {
    let method = match method.or(loc.wasm) {
        Some(m) => Some(wasm_name(m)),
        None if loc.eval => Some("eval"),
        None => None,
    };
    StackFrame {
        filename: loc.file.to_owned(),
        lineno: loc.line,
        colno: loc.col,
        method: method.map(str::to_owned),
    }
}

/// `wasm-function[12]` stays; `<?>.wasm-function[12]` becomes `wasm-function[12]` and
/// `<?>.wasm-function[foo]` becomes `foo` (Safari); other names are unchanged.
fn wasm_name(name: &str) -> &str {
    let Some(i) = name.find(WASM_FUNCTION) else {
        return name;
    };
    let whole = &name[i..];
    let inner = whole[WASM_FUNCTION.len()..].strip_suffix(']');
    match inner {
        Some(n) if !n.is_empty() && !n.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => whole,
    }
}

fn parse_location(loc: &str) -> Location<'_> {
    let mut loc = loc.strip_prefix("address at ").unwrap_or(loc);
    let mut eval = false;
    if loc.starts_with("eval at ") {
        loc = v8_eval_origin(loc);
        eval = true;
    }
    if let Some(i) = loc.find(WASM_FUNCTION) {
        let tail = &loc[i..];
        let (func, after) = match tail.find(']') {
            Some(c) => (&tail[..=c], &tail[c + 1..]),
            None => (tail, ""),
        };
        let module = loc[..i].strip_suffix(':').unwrap_or(&loc[..i]);
        let module = firefox_origin(module).map_or(module, |o| o.0);
        return Location {
            file: or(module, WASM_CODE),
            line: None,
            col: after.strip_prefix(':').and_then(parse_offset),
            wasm: Some(func),
            eval,
        };
    }
    if let Some((file, line, is_eval)) = firefox_origin(loc) {
        return Location {
            file: or(file, ANONYMOUS),
            line,
            col: None,
            wasm: None,
            eval: eval || is_eval,
        };
    }
    if is_native(loc) {
        return Location {
            file: NATIVE_CODE,
            line: None,
            col: None,
            wasm: None,
            eval,
        };
    }
    let (file, line, col) = match trailing_number(loc) {
        None => (loc, None, None),
        Some((head, last)) => match trailing_number(head) {
            Some((file, line)) => (file, line, last),
            None => (head, last, None),
        },
    };
    Location {
        file: or(file, ANONYMOUS),
        line,
        col: line.and(col),
        wasm: None,
        eval,
    }
}

fn or<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() { default } else { s }
}

fn is_native(loc: &str) -> bool {
    matches!(loc, "native" | "<anonymous>" | NATIVE_CODE)
        || loc
            .strip_prefix("index ")
            .and_then(|n| number(n, 10))
            .is_some()
}

/// V8's `eval at f (eval at g (https://x/a.js:1:2), <anonymous>:3:4), <anonymous>:5:6`
/// gives `https://x/a.js:1:2`. One pass forward, however deep the nesting.
fn v8_eval_origin(mut loc: &str) -> &str {
    while let Some(rest) = loc.strip_prefix("eval at ") {
        let Some(open) = rest.find(" (") else {
            return "";
        };
        loc = &rest[open + 2..];
    }
    // `loc` is now `origin), <anonymous>:3:4)…`: cut where the origin's parenthesis closes.
    let mut depth = 0usize;
    for (i, b) in loc.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' if depth == 0 => return &loc[..i],
            b')' => depth -= 1,
            _ => {}
        }
    }
    loc
}

/// Firefox's `https://x/a.js line 10 > eval` (also `> Function`, `> eval line 1 > eval`,
/// `> WebAssembly.instantiate`, followed by the inner location): the outer URL, the outer
/// line, and whether the innermost code is eval code.
fn firefox_origin(loc: &str) -> Option<(&str, Option<u32>, bool)> {
    let i = loc.find(" line ")?;
    let after = &loc[i + 6..];
    let digits = after.bytes().position(|b| !b.is_ascii_digit())?;
    let rest = after[digits..].strip_prefix(" > ")?;
    if digits == 0 {
        return None;
    }
    let kind = rest.rfind(" > ").map_or(rest, |j| &rest[j + 3..]);
    Some((
        &loc[..i],
        after[..digits].parse().ok(),
        kind.starts_with("eval"),
    ))
}

/// `head:N` split into `head` and N (`None` if N does not fit a `u32`).
fn trailing_number(s: &str) -> Option<(&str, Option<u32>)> {
    let i = s.rfind(':')?;
    let digits = &s[i + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((&s[..i], digits.parse().ok()))
}

/// A wasm byte offset: `0x1a2b` (hex) or decimal.
fn parse_offset(s: &str) -> Option<u32> {
    match s.strip_prefix("0x") {
        Some(hex) => number(hex, 16),
        None => number(s, 10),
    }
}

/// Digits in `radix` only (no sign), as a `u32`.
fn number(s: &str, radix: u32) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(s, radix).ok()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    /// `(method, filename, lineno, colno)`.
    type F = (Option<&'static str>, &'static str, Option<u32>, Option<u32>);

    fn check(cases: &[(&str, &str, &[F])]) {
        for (name, stack, want) in cases {
            let want: Vec<StackFrame> = want
                .iter()
                .map(|&(method, filename, lineno, colno)| StackFrame {
                    filename: filename.to_owned(),
                    lineno,
                    colno,
                    method: method.map(str::to_owned),
                })
                .collect();
            assert_eq!(parse_stack(stack), want, "{name}:\n{stack}");
        }
    }

    const A: &str = "https://app.example.com/static/js/main.4f2a9c.js";

    #[test]
    fn v8() {
        check(&[
            (
                "named functions and methods, most recent call last",
                "TypeError: Cannot read properties of undefined (reading 'id')\n    \
                 at getUser (https://app.example.com/static/js/main.4f2a9c.js:12:34)\n    \
                 at UserList.render (https://app.example.com/static/js/main.4f2a9c.js:40:7)\n    \
                 at new Store (https://app.example.com/static/js/main.4f2a9c.js:3:11)\n    \
                 at Object.<anonymous> (https://app.example.com/static/js/main.4f2a9c.js:90:1)",
                &[
                    (Some("Object.<anonymous>"), A, Some(90), Some(1)),
                    (Some("new Store"), A, Some(3), Some(11)),
                    (Some("UserList.render"), A, Some(40), Some(7)),
                    (Some("getUser"), A, Some(12), Some(34)),
                ],
            ),
            (
                "anonymous functions, console code, aliases",
                "Error: boom\n    \
                 at HTMLButtonElement.<anonymous> (https://x.test/a.js:5:9)\n    \
                 at Foo.bar [as baz] (https://x.test/a.js:7:1)\n    \
                 at https://x.test/a.js:1:2\n    \
                 at <anonymous>:1:1",
                &[
                    (None, ANONYMOUS, Some(1), Some(1)),
                    (None, "https://x.test/a.js", Some(1), Some(2)),
                    (
                        Some("Foo.bar [as baz]"),
                        "https://x.test/a.js",
                        Some(7),
                        Some(1),
                    ),
                    (
                        Some("HTMLButtonElement.<anonymous>"),
                        "https://x.test/a.js",
                        Some(5),
                        Some(9),
                    ),
                ],
            ),
            (
                "multi-line header with frame-like text is skipped",
                "Error: bad input\nsee user@example.com:25 for help\nat least once (really)\n\
                 failed@https://x.test/fake.js:1:2\n    at handler (https://x.test/a.js:3:4)",
                &[(Some("handler"), "https://x.test/a.js", Some(3), Some(4))],
            ),
            (
                "ports, IPv6, spaces and parentheses in URLs",
                "Error\n    \
                 at foo (https://x.test:8080/a (1).js:10:5)\n    \
                 at bar (http://[::1]:3000/b.js:2:3)\n    \
                 at baz (https://x.test/c(.js:3:4)\n    \
                 at https://x.test:8443/d.js:4:5",
                &[
                    (None, "https://x.test:8443/d.js", Some(4), Some(5)),
                    (Some("baz"), "https://x.test/c(.js", Some(3), Some(4)),
                    (Some("bar"), "http://[::1]:3000/b.js", Some(2), Some(3)),
                    (
                        Some("foo"),
                        "https://x.test:8080/a (1).js",
                        Some(10),
                        Some(5),
                    ),
                ],
            ),
            (
                "async frames",
                "Error: boom\n    \
                 at fetchUser (https://x.test/a.js:10:11)\n    \
                 at async loadPage (https://x.test/a.js:20:5)\n    \
                 at async Promise.all (index 0)\n    \
                 at async https://x.test/a.js:30:1",
                &[
                    (None, "https://x.test/a.js", Some(30), Some(1)),
                    (Some("Promise.all"), NATIVE_CODE, None, None),
                    (Some("loadPage"), "https://x.test/a.js", Some(20), Some(5)),
                    (Some("fetchUser"), "https://x.test/a.js", Some(10), Some(11)),
                ],
            ),
            (
                "eval reports the outer location",
                "ReferenceError: x is not defined\n    \
                 at eval (eval at run (https://x.test/a.js:10:5), <anonymous>:1:1)\n    \
                 at inner (eval at outer (eval at run (https://x.test/b.js:7:3), \
                 <anonymous>:2:9), <anonymous>:1:20)\n    \
                 at Object.eval [as go] (eval at <anonymous> (https://x.test/(c).js:4:2), \
                 <anonymous>:3:4)\n    \
                 at run (https://x.test/a.js:10:5)",
                &[
                    (Some("run"), "https://x.test/a.js", Some(10), Some(5)),
                    (
                        Some("Object.eval [as go]"),
                        "https://x.test/(c).js",
                        Some(4),
                        Some(2),
                    ),
                    (Some("inner"), "https://x.test/b.js", Some(7), Some(3)),
                    (Some("eval"), "https://x.test/a.js", Some(10), Some(5)),
                ],
            ),
            (
                "native frames",
                "TypeError: f is not a function\n    \
                 at Array.map (<anonymous>)\n    \
                 at new Promise (<anonymous>)\n    \
                 at Array.forEach (native)\n    \
                 at Generator.next (<anonymous>)\n    \
                 at main (https://x.test/a.js:1:1)",
                &[
                    (Some("main"), "https://x.test/a.js", Some(1), Some(1)),
                    (Some("Generator.next"), NATIVE_CODE, None, None),
                    (Some("Array.forEach"), NATIVE_CODE, None, None),
                    (Some("new Promise"), NATIVE_CODE, None, None),
                    (Some("Array.map"), NATIVE_CODE, None, None),
                ],
            ),
            (
                "Node paths",
                "Error: ENOENT\n    \
                 at Object.<anonymous> (/home/me/my app/index.js:5:11)\n    \
                 at Module._compile (node:internal/modules/cjs/loader:1358:14)\n    \
                 at load (C:\\Users\\me\\app\\lib.js:2:3)\n    \
                 at file:///C:/app/main.mjs:3:4\n    \
                 at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n    \
                 at node:internal/main/run_main_module:28:49",
                &[
                    (
                        None,
                        "node:internal/main/run_main_module",
                        Some(28),
                        Some(49),
                    ),
                    (
                        Some("process.processTicksAndRejections"),
                        "node:internal/process/task_queues",
                        Some(95),
                        Some(5),
                    ),
                    (None, "file:///C:/app/main.mjs", Some(3), Some(4)),
                    (Some("load"), "C:\\Users\\me\\app\\lib.js", Some(2), Some(3)),
                    (
                        Some("Module._compile"),
                        "node:internal/modules/cjs/loader",
                        Some(1358),
                        Some(14),
                    ),
                    (
                        Some("Object.<anonymous>"),
                        "/home/me/my app/index.js",
                        Some(5),
                        Some(11),
                    ),
                ],
            ),
            (
                "wasm frames by hash, named and anonymous",
                "RuntimeError: unreachable\n    \
                 at edge_telemetry_core::errors::stack::parse::h0a1b2c3d (wasm://wasm/6c4f0fa6:wasm-function[12]:0x1a2b)\n    \
                 at wasm://wasm/6c4f0fa6:wasm-function[7]:0x3f\n    \
                 at handle (https://x.test/pkg/edge_telemetry.js:300:10)",
                &[
                    (
                        Some("handle"),
                        "https://x.test/pkg/edge_telemetry.js",
                        Some(300),
                        Some(10),
                    ),
                    (
                        Some("wasm-function[7]"),
                        "wasm://wasm/6c4f0fa6",
                        None,
                        Some(0x3f),
                    ),
                    (
                        Some("edge_telemetry_core::errors::stack::parse::h0a1b2c3d"),
                        "wasm://wasm/6c4f0fa6",
                        None,
                        Some(0x1a2b),
                    ),
                ],
            ),
            (
                "wasm module loaded by URL",
                "Error: panicked\n    \
                 at imports.wbg.__wbg_new_8a6f238a6ece86ea (https://x.test/pkg/edge_telemetry.js:411:21)\n    \
                 at $func12 (https://x.test/pkg/edge_telemetry_bg.wasm:wasm-function[12]:0x1a2b)\n    \
                 at <core::fmt::Arguments as core::fmt::Display>::fmt (https://x.test/pkg/edge_telemetry_bg.wasm:wasm-function[40]:0x99)\n    \
                 at https://x.test/pkg/edge_telemetry_bg.wasm:wasm-function[3]:0x10\n    \
                 at start (https://x.test/pkg/edge_telemetry.js:500:5)",
                &[
                    (
                        Some("start"),
                        "https://x.test/pkg/edge_telemetry.js",
                        Some(500),
                        Some(5),
                    ),
                    (
                        Some("wasm-function[3]"),
                        "https://x.test/pkg/edge_telemetry_bg.wasm",
                        None,
                        Some(0x10),
                    ),
                    (
                        Some("<core::fmt::Arguments as core::fmt::Display>::fmt"),
                        "https://x.test/pkg/edge_telemetry_bg.wasm",
                        None,
                        Some(0x99),
                    ),
                    (
                        Some("$func12"),
                        "https://x.test/pkg/edge_telemetry_bg.wasm",
                        None,
                        Some(0x1a2b),
                    ),
                    (
                        Some("imports.wbg.__wbg_new_8a6f238a6ece86ea"),
                        "https://x.test/pkg/edge_telemetry.js",
                        Some(411),
                        Some(21),
                    ),
                ],
            ),
            (
                "old V8 wasm frames without a module",
                "Error\n    at wasm-function[3]:147\n    at f (wasm-function[4]:0x20)",
                &[
                    (Some("f"), WASM_CODE, None, Some(0x20)),
                    (Some("wasm-function[3]"), WASM_CODE, None, Some(147)),
                ],
            ),
            (
                "bundler and extension URLs, unknown location",
                "Error: x\n    \
                 at Module.init (webpack-internal:///./src/index.js:12:3)\n    \
                 at chrome-extension://abcdefghijklmnop/content.js:5:6\n    \
                 at Object.run (unknown location)\n    \
                 at Edge.handler (https://x.test/a.min.js:1:28451)",
                &[
                    (
                        Some("Edge.handler"),
                        "https://x.test/a.min.js",
                        Some(1),
                        Some(28451),
                    ),
                    (Some("Object.run"), "unknown location", None, None),
                    (
                        None,
                        "chrome-extension://abcdefghijklmnop/content.js",
                        Some(5),
                        Some(6),
                    ),
                    (
                        Some("Module.init"),
                        "webpack-internal:///./src/index.js",
                        Some(12),
                        Some(3),
                    ),
                ],
            ),
            (
                "no frames (Error.stackTraceLimit = 0)",
                "Error: contact support@example.com",
                &[],
            ),
        ]);
    }

    #[test]
    fn firefox() {
        check(&[
            (
                "named, methods, nested anonymous and top level",
                "getUser@https://x.test/a.js:12:34\n\
                 UserList.prototype.render@https://x.test/a.js:40:7\n\
                 Store@https://x.test/a.js:3:11\n\
                 render/<@https://x.test/a.js:5:9\n\
                 @https://x.test/a.js:90:1\n",
                &[
                    (None, "https://x.test/a.js", Some(90), Some(1)),
                    (Some("render/<"), "https://x.test/a.js", Some(5), Some(9)),
                    (Some("Store"), "https://x.test/a.js", Some(3), Some(11)),
                    (
                        Some("UserList.prototype.render"),
                        "https://x.test/a.js",
                        Some(40),
                        Some(7),
                    ),
                    (Some("getUser"), "https://x.test/a.js", Some(12), Some(34)),
                ],
            ),
            (
                "old Firefox without columns",
                "foo@https://x.test/a.js:48\n@https://x.test/a.js:52\n",
                &[
                    (None, "https://x.test/a.js", Some(52), None),
                    (Some("foo"), "https://x.test/a.js", Some(48), None),
                ],
            ),
            (
                "async causes",
                "fetchUser@https://x.test/a.js:10:11\n\
                 async*loadPage@https://x.test/a.js:20:5\n\
                 promise callback*init@https://x.test/a.js:25:3\n\
                 setTimeout handler*tick@https://x.test/a.js:27:1\n\
                 EventListener.handleEvent*onClick@https://x.test/a.js:28:2\n\
                 async*@https://x.test/a.js:30:1\n",
                &[
                    (None, "https://x.test/a.js", Some(30), Some(1)),
                    (Some("onClick"), "https://x.test/a.js", Some(28), Some(2)),
                    (Some("tick"), "https://x.test/a.js", Some(27), Some(1)),
                    (Some("init"), "https://x.test/a.js", Some(25), Some(3)),
                    (Some("loadPage"), "https://x.test/a.js", Some(20), Some(5)),
                    (Some("fetchUser"), "https://x.test/a.js", Some(10), Some(11)),
                ],
            ),
            (
                "eval and Function report the outer location",
                "@https://x.test/a.js line 10 > eval:1:1\n\
                 inner@https://x.test/a.js line 10 > eval:2:3\n\
                 @https://x.test/b.js line 7 > eval line 1 > eval:1:5\n\
                 anonymous@https://x.test/c.js line 2 > Function:1:1\n\
                 run@https://x.test/a.js:10:5\n",
                &[
                    (Some("run"), "https://x.test/a.js", Some(10), Some(5)),
                    (Some("anonymous"), "https://x.test/c.js", Some(2), None),
                    (Some("eval"), "https://x.test/b.js", Some(7), None),
                    (Some("inner"), "https://x.test/a.js", Some(10), None),
                    (Some("eval"), "https://x.test/a.js", Some(10), None),
                ],
            ),
            (
                "wasm frames",
                "edge_telemetry_core::errors::stack::parse::h0a1b2c3d@https://x.test/pkg/edge_telemetry_bg.wasm:wasm-function[12]:0x1a2b\n\
                 @https://x.test/m.wasm line 1 > WebAssembly.instantiate:wasm-function[12]:0x1a2b\n\
                 <alloc::vec::Vec<T> as core::ops::drop::Drop>::drop@https://x.test/glue.js line 88 > WebAssembly.instantiate:wasm-function[5]:0x7f\n\
                 __wbg_adapter_20@https://x.test/pkg/edge_telemetry.js:200:5\n",
                &[
                    (
                        Some("__wbg_adapter_20"),
                        "https://x.test/pkg/edge_telemetry.js",
                        Some(200),
                        Some(5),
                    ),
                    (
                        Some("<alloc::vec::Vec<T> as core::ops::drop::Drop>::drop"),
                        "https://x.test/glue.js",
                        None,
                        Some(0x7f),
                    ),
                    (
                        Some("wasm-function[12]"),
                        "https://x.test/m.wasm",
                        None,
                        Some(0x1a2b),
                    ),
                    (
                        Some("edge_telemetry_core::errors::stack::parse::h0a1b2c3d"),
                        "https://x.test/pkg/edge_telemetry_bg.wasm",
                        None,
                        Some(0x1a2b),
                    ),
                ],
            ),
            (
                "URLs with @, ports, blob and extension URLs, debugger eval",
                "init@https://cdn.example.com:8443/npm/@scope/pkg@1.2.3/dist/index.js:1:2\n\
                 worker@blob:https://x.test/6c4f0fa6-1b2c-4d5e-8f90-a1b2c3d4e5f6:3:4\n\
                 inject@moz-extension://0a1b2c3d/content.js:5:6\n\
                 @debugger eval code:1:1\n",
                &[
                    (None, "debugger eval code", Some(1), Some(1)),
                    (
                        Some("inject"),
                        "moz-extension://0a1b2c3d/content.js",
                        Some(5),
                        Some(6),
                    ),
                    (
                        Some("worker"),
                        "blob:https://x.test/6c4f0fa6-1b2c-4d5e-8f90-a1b2c3d4e5f6",
                        Some(3),
                        Some(4),
                    ),
                    (
                        Some("init"),
                        "https://cdn.example.com:8443/npm/@scope/pkg@1.2.3/dist/index.js",
                        Some(1),
                        Some(2),
                    ),
                ],
            ),
        ]);
    }

    #[test]
    fn safari() {
        check(&[
            (
                "class methods, constructors, getters",
                "get value@https://x.test/a.js:1:2\n\
                 Store@https://x.test/a.js:3:4\n\
                 onclick@https://x.test/index.html:20:30",
                &[
                    (
                        Some("onclick"),
                        "https://x.test/index.html",
                        Some(20),
                        Some(30),
                    ),
                    (Some("Store"), "https://x.test/a.js", Some(3), Some(4)),
                    (Some("get value"), "https://x.test/a.js", Some(1), Some(2)),
                ],
            ),
            (
                "named functions and global code",
                "getUser@https://x.test/a.js:12:34\n\
                 render@https://x.test/a.js:40:7\n\
                 global code@https://x.test/a.js:90:1",
                &[
                    (None, "https://x.test/a.js", Some(90), Some(1)),
                    (Some("render"), "https://x.test/a.js", Some(40), Some(7)),
                    (Some("getUser"), "https://x.test/a.js", Some(12), Some(34)),
                ],
            ),
            (
                "anonymous functions and module code",
                "https://cdn.example.com/npm/@scope/pkg/a.js:5:9\n\
                 load@https://x.test/main.mjs:2:3\n\
                 module code@https://x.test/main.mjs:10:1",
                &[
                    (None, "https://x.test/main.mjs", Some(10), Some(1)),
                    (Some("load"), "https://x.test/main.mjs", Some(2), Some(3)),
                    (
                        None,
                        "https://cdn.example.com/npm/@scope/pkg/a.js",
                        Some(5),
                        Some(9),
                    ),
                ],
            ),
            (
                "native frames",
                "f@https://x.test/a.js:1:2\nmap@[native code]\nforEach@[native code]\n\
                 global code@https://x.test/a.js:3:4",
                &[
                    (None, "https://x.test/a.js", Some(3), Some(4)),
                    (Some("forEach"), NATIVE_CODE, None, None),
                    (Some("map"), NATIVE_CODE, None, None),
                    (Some("f"), "https://x.test/a.js", Some(1), Some(2)),
                ],
            ),
            (
                "eval code",
                "eval code@\neval@[native code]\nrun@https://x.test/a.js:58:21\n\
                 global code@https://x.test/a.js:60:1",
                &[
                    (None, "https://x.test/a.js", Some(60), Some(1)),
                    (Some("run"), "https://x.test/a.js", Some(58), Some(21)),
                    (Some("eval"), NATIVE_CODE, None, None),
                    (Some("eval"), ANONYMOUS, None, None),
                ],
            ),
            (
                "old Safari: bare eval code and native code, no columns",
                "eval code\neval@[native code]\nfoo@https://x.test/a.js:48\n[native code]",
                &[
                    (None, NATIVE_CODE, None, None),
                    (Some("foo"), "https://x.test/a.js", Some(48), None),
                    (Some("eval"), NATIVE_CODE, None, None),
                    (Some("eval"), ANONYMOUS, None, None),
                ],
            ),
            (
                "wasm frames",
                "wasm-stub@[wasm code]\n\
                 <?>.wasm-function[12]@[wasm code]\n\
                 <?>.wasm-function[edge_telemetry::panic]@[wasm code]\n\
                 wasm-stub@[wasm code]\n\
                 __wbg_call@https://x.test/pkg/edge_telemetry.js:10:20",
                &[
                    (
                        Some("__wbg_call"),
                        "https://x.test/pkg/edge_telemetry.js",
                        Some(10),
                        Some(20),
                    ),
                    (Some("wasm-stub"), WASM_CODE, None, None),
                    (Some("edge_telemetry::panic"), WASM_CODE, None, None),
                    (Some("wasm-function[12]"), WASM_CODE, None, None),
                    (Some("wasm-stub"), WASM_CODE, None, None),
                ],
            ),
            (
                "async frames",
                "fetchUser@https://x.test/a.js:10:11\nasync loadPage@https://x.test/a.js:20:5",
                &[
                    (Some("loadPage"), "https://x.test/a.js", Some(20), Some(5)),
                    (Some("fetchUser"), "https://x.test/a.js", Some(10), Some(11)),
                ],
            ),
        ]);
    }

    #[test]
    fn robustness() {
        check(&[
            ("empty", "", &[]),
            ("blank lines", "\n\n   \n", &[]),
            (
                "garbage",
                "hello\n@\nat\nat \n)\n(((\nat ()\nat foo (\nat foo )\nat (x)\n\u{1F642}@\u{1F642}\n\
                 :1:2\nat least one (1) thing\nundefined",
                &[],
            ),
            (
                "non-ASCII names and URLs",
                "Error: \u{00E9}chec\n    at \u{0444}\u{0443}\u{043D}\u{043A}\u{0446}\u{0438}\u{044F} \
                 (https://\u{043F}\u{0440}\u{0438}\u{043C}\u{0435}\u{0440}.\u{0440}\u{0444}/\u{00E4}.js:3:4)",
                &[(
                    Some("\u{0444}\u{0443}\u{043D}\u{043A}\u{0446}\u{0438}\u{044F}"),
                    "https://\u{043F}\u{0440}\u{0438}\u{043C}\u{0435}\u{0440}.\u{0440}\u{0444}/\u{00E4}.js",
                    Some(3),
                    Some(4),
                )],
            ),
            (
                "numbers too large",
                "Error\n    at foo (https://x.test/a.js:99999999999:5)\n    \
                 at bar (https://x.test/a.js:1:99999999999)\n    \
                 at wasm://wasm/6c4f0fa6:wasm-function[1]:0xfffffffff",
                &[
                    (Some("wasm-function[1]"), "wasm://wasm/6c4f0fa6", None, None),
                    (Some("bar"), "https://x.test/a.js", Some(1), None),
                    (Some("foo"), "https://x.test/a.js", None, None),
                ],
            ),
            (
                "CRLF line endings",
                "Error: x\r\n    at foo (https://x.test/a.js:1:2)\r\n    at https://x.test/a.js:3:4\r\n",
                &[
                    (None, "https://x.test/a.js", Some(3), Some(4)),
                    (Some("foo"), "https://x.test/a.js", Some(1), Some(2)),
                ],
            ),
        ]);
    }

    #[test]
    fn deep_nesting_and_long_input_stay_linear() {
        let depth = 50_000;
        let mut line = String::from("    at f (");
        for _ in 0..depth {
            line.push_str("eval at g (");
        }
        line.push_str("https://x.test/a.js:1:2");
        for _ in 0..depth {
            line.push_str("), <anonymous>:1:1");
        }
        line.push(')');
        let frames = parse_stack(&line);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].filename, "https://x.test/a.js");
        assert_eq!((frames[0].lineno, frames[0].colno), (Some(1), Some(2)));

        let parens = "(".repeat(200_000) + &")".repeat(200_000);
        assert!(parse_stack(&format!("    at f ({parens}:1:2)")).len() <= 1);
        let many = "    at f (https://x.test/a.js:1:2)\n".repeat(100_000);
        assert_eq!(parse_stack(&many).len(), 100_000);
        let junk = "@:(".repeat(300_000);
        assert!(parse_stack(&junk).len() <= 1);
    }

    #[test]
    fn wasm_frames_are_recognised() {
        let frames = parse_stack(
            "Error\n    at $func12 (https://x.test/pkg/app_bg.wasm:wasm-function[12]:0x1a2b)\n    \
             at wasm://wasm/6c4f0fa6:wasm-function[7]:0x3f\n    \
             at foo (https://x.test/a.js:1:2)\n    at Array.map (<anonymous>)",
        );
        let wasm: Vec<bool> = frames.iter().map(StackFrame::is_wasm).collect();
        assert_eq!(wasm, [false, false, true, true]);
        let ff = parse_stack(
            "@https://x.test/glue.js line 1 > WebAssembly.instantiate:wasm-function[2]:0x10\n\
             wasm-stub@[wasm code]\n@https://x.test/a.js line 10 > eval:1:1",
        );
        let wasm: Vec<bool> = ff.iter().map(StackFrame::is_wasm).collect();
        assert_eq!(wasm, [false, true, true]);
    }
}
