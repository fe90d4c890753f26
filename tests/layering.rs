//! The layering of session-runtime's modules, checked: no import cycle between its top-level
//! modules (a directory module counts as one), and no module importing one of a higher layer.
//!
//! The layers, top to bottom: adapters (extractors, the tower `Service`, the `Layer` and its
//! builder; one per framework, today axum) → lifecycle (per-request state, transitions,
//! flash) → persistence (stores, revocation) → the pipeline (codec, chunk, envelope, nonce,
//! key, clock, config) → the schema traits → the errors and the metrics. Nothing reaches up: the
//! lifecycle and the stores know no framework, the pipeline knows no request and no store, the
//! schema traits know no framework, the errors and the metrics are leaves.
//!
//! A module's edges are read from its source text, tests included: `use crate::x…`, `crate::x::`
//! paths anywhere (attributes too), `super::` and `self::` paths resolved from the (inline)
//! module they are written in, and `crate::Name` through the root's re-exports in `lib.rs`.
//! `mod` declarations are not edges (a parent declares its children), `$crate` paths in macro
//! bodies belong to the crate the macro expands in, and comments and strings are not code. What
//! a derive or macro expands to is not read.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// Every top-level module of session-runtime, by layer, bottom first. A module may import
/// modules of its own layer and of the layers below it, never one above.
const LAYERS: &[(&str, &[&str])] = &[
    // Leaves: the errors of every layer, and the schema's own (`BoundsError`, `SchemaError`),
    // which the others wrap; the metrics (feature `metrics`), which the lifecycle, the stores
    // and the layer record through, and which import nothing from the crate.
    ("errors", &["error", "metrics"]),
    // The traits the derives implement, their size bounds and `const` checks: no framework, no
    // pipeline.
    ("schema", &["schema"]),
    // Bytes in, bytes out, with no request and no store. `budget` holds the derive's `const`
    // budget checks, which measure with the envelope's and the config's sizes.
    (
        "pipeline",
        &[
            "budget", "chunk", "clock", "codec", "config", "envelope", "key", "nonce",
        ],
    ),
    // The stores and what they keep (revocation). Above the pipeline, whose session ids and
    // lifetimes a store may take, since the pipeline must know no store.
    ("persistence", &["store"]),
    // One request's session, from load to save: the transitions, and flash; and `respond`, what
    // the finished work does to a response (status, headers to drop, cache headers), decided on
    // bytes for every adapter.
    ("lifecycle", &["flash", "lifecycle", "respond"]),
    // The frameworks' side: the extractors, the service and the layer (tower and axum), `actix`
    // (feature `actix`: the layer as actix-web middleware, the extractors as `FromRequest`), and
    // `glue`, the extractor impls that the derive generates for every schema.
    (
        "adapters",
        &["actix", "extract", "glue", "layer", "service"],
    ),
    // `testing` (feature `testing`): frozen samples for users' tests, sealed with a layer built
    // through the public builder. A client of the whole crate, like the user's tests it serves,
    // so it sits on top, where no runtime module can come to depend on a test helper.
    ("test support", &["testing"]),
];

/// Upward edges allowed for now, as (from, to, reason): each is left out of both checks (a
/// cycle between layers always goes up somewhere; a cycle inside one layer cannot be allowed).
/// An entry whose edge is gone or no longer goes up fails the check, so the list only shrinks.
/// Empty: no edge breaks a rule today.
const ALLOWED: &[(&str, &str, &str)] = &[];

#[test]
fn runtime_modules_form_no_cycle_and_respect_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../session-runtime/src");
    let files = read_tree(&src);
    let graph = Graph::from_sources(&files);
    assert!(
        graph.edges.len() > 20,
        "the scan found only {} edges between {} modules: is it still reading the sources?",
        graph.edges.len(),
        graph.modules.len()
    );
    let problems = check(&graph, LAYERS, ALLOWED);
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// Every rule broken, as messages for the developer; empty when the layering holds.
fn check(graph: &Graph, layers: &[(&str, &[&str])], allowed: &[(&str, &str, &str)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rank = BTreeMap::new();
    for (i, (layer, modules)) in layers.iter().enumerate() {
        for &module in *modules {
            if rank.insert(module, (i, *layer)).is_some() {
                problems.push(format!("LAYERS places `{module}` twice; keep one."));
            }
            if !graph.modules.contains(module) {
                problems.push(format!(
                    "LAYERS places `{module}`, which session-runtime/src no longer has: remove it \
                     from LAYERS in tests/layering.rs."
                ));
            }
        }
    }
    for module in &graph.modules {
        if !rank.contains_key(module.as_str()) {
            problems.push(format!(
                "session-runtime module `{module}` is in no layer: place it in LAYERS in \
                 tests/layering.rs, in the layer of what it does ({}), and keep its imports to \
                 that layer and the ones below.",
                layers
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(" < ")
            ));
        }
    }
    let is_allowed = |from: &str, to: &str| allowed.iter().any(|&(f, t, _)| f == from && t == to);
    for &(from, to, _) in allowed {
        let breaks = match (rank.get(from), rank.get(to)) {
            (Some((a, _)), Some((b, _))) => a < b,
            _ => false,
        };
        if !graph.edges.contains_key(&(from.to_owned(), to.to_owned())) || !breaks {
            problems.push(format!(
                "ALLOWED lists `{from}` -> `{to}`, which no longer goes up a layer: remove it."
            ));
        }
    }
    for ((from, to), sites) in &graph.edges {
        let (Some(&(a, layer_a)), Some(&(b, layer_b))) =
            (rank.get(from.as_str()), rank.get(to.as_str()))
        else {
            continue;
        };
        if a < b && !is_allowed(from, to) {
            problems.push(format!(
                "`{from}` ({layer_a}) imports `{to}` ({layer_b}), a higher layer:\n{}\n\
                 Move what it takes down to the layer it belongs to, or invert the dependency.",
                sites_text(sites)
            ));
        }
    }
    for (cycle, component) in graph.cycles(&is_allowed) {
        let mut text = format!("import cycle: {}", cycle.join(" -> "));
        if component.len() + 1 > cycle.len() {
            let all: Vec<&str> = component.iter().map(String::as_str).collect();
            let _ = write!(text, " (one of the loops between {})", all.join(", "));
        }
        for pair in cycle.windows(2) {
            let sites = &graph.edges[&(pair[0].clone(), pair[1].clone())];
            let _ = write!(
                text,
                "\n  {} -> {}:\n{}",
                pair[0],
                pair[1],
                sites_text(sites)
            );
        }
        text.push_str("\nBreak one of these edges by moving code to the layer it belongs to.");
        problems.push(text);
    }
    problems
}

fn sites_text(sites: &[Site]) -> String {
    let mut text = String::new();
    for site in sites.iter().take(3) {
        let _ = writeln!(text, "    {}:{} `{}`", site.file, site.line, site.path);
    }
    if sites.len() > 3 {
        let _ = writeln!(text, "    and {} more", sites.len() - 3);
    }
    text.trim_end().to_owned()
}

/// The `.rs` files under `src`, as (path relative to `src`, text).
fn read_tree(src: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path.strip_prefix(src).expect("under src").to_path_buf();
                files.push((relative, text));
            }
        }
    }
    files.sort();
    files
}

/// Where an edge is written.
#[derive(Debug, Clone)]
struct Site {
    file: String,
    line: usize,
    path: String,
}

/// The top-level modules and the edges between them.
#[derive(Debug, Default)]
struct Graph {
    modules: BTreeSet<String>,
    edges: BTreeMap<(String, String), Vec<Site>>,
}

/// A path as written: absolute segments once resolved, and its text for messages.
struct Written {
    segments: Vec<String>,
    text: String,
    line: usize,
}

impl Graph {
    fn from_sources(files: &[(PathBuf, String)]) -> Graph {
        let mut graph = Graph::default();
        let mut parsed = Vec::new();
        for (relative, text) in files {
            let module = module_path(relative);
            let tokens: TokenStream = text
                .parse()
                .unwrap_or_else(|e| panic!("{}: does not tokenize: {e:?}", relative.display()));
            if let Some(top) = module.first() {
                graph.modules.insert(top.clone());
            }
            parsed.push((relative, module, tokens));
        }
        // What `crate::Name` means: the root's re-exports and the `#[macro_export]` macros.
        let mut root = BTreeMap::new();
        for (_, module, tokens) in &parsed {
            macro_exports(tokens.clone(), module, &mut root);
        }
        for (_, module, tokens) in &parsed {
            if module.is_empty() {
                reexports(tokens.clone(), &[], &graph.modules, &mut root);
            }
        }
        for (relative, module, tokens) in &parsed {
            let Some(from) = module.first() else {
                continue; // lib.rs: the facade that declares and re-exports every module
            };
            let mut paths = Vec::new();
            paths_in(tokens.clone(), module, &mut paths);
            for path in paths {
                let Some(to) = top_of(&path.segments, &graph.modules, &root) else {
                    continue;
                };
                if &to != from {
                    let site = Site {
                        file: format!("session-runtime/src/{}", relative.display()),
                        line: path.line,
                        path: path.text,
                    };
                    graph
                        .edges
                        .entry((from.clone(), to))
                        .or_default()
                        .push(site);
                }
            }
        }
        graph
    }

    /// Each import cycle (a set of modules that all reach each other), as its shortest loop
    /// from its first module and the whole set, without the edges `skip` says to leave out.
    fn cycles(&self, skip: &dyn Fn(&str, &str) -> bool) -> Vec<(Vec<String>, BTreeSet<String>)> {
        let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, to) in self.edges.keys() {
            if !skip(from, to) {
                next.entry(from).or_default().push(to);
            }
        }
        let reach = |start: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![start];
            while let Some(m) = todo.pop() {
                for &n in next.get(m).into_iter().flatten() {
                    if seen.insert(n.to_owned()) {
                        todo.push(n);
                    }
                }
            }
            seen
        };
        let mut done = BTreeSet::new();
        let mut cycles = Vec::new();
        for start in &self.modules {
            if done.contains(start) || !reach(start).contains(start) {
                continue;
            }
            // Shortest way back to `start`, breadth first.
            let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = VecDeque::from([start.as_str()]);
            'search: while let Some(m) = queue.pop_front() {
                for &n in next.get(m).into_iter().flatten() {
                    if n == start {
                        came_from.insert("", m);
                        break 'search;
                    }
                    if !came_from.contains_key(n) {
                        came_from.insert(n, m);
                        queue.push_back(n);
                    }
                }
            }
            let mut back = Vec::new();
            let mut at = came_from[""];
            while at != start {
                back.push(at.to_owned());
                at = came_from[at];
            }
            let mut cycle = vec![start.clone()];
            cycle.extend(back.into_iter().rev());
            cycle.push(start.clone());
            // Every module on a loop with `start` is in its cycle: report the set once.
            let component: BTreeSet<String> = reach(start)
                .into_iter()
                .filter(|m| reach(m).contains(start.as_str()))
                .collect();
            done.extend(component.iter().cloned());
            cycles.push((cycle, component));
        }
        cycles
    }
}

/// The module a file is: `lib.rs` the root, `x.rs` and `x/mod.rs` `x`, `x/y.rs` `x::y`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut segments: Vec<String> = relative
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if segments == ["lib"] || segments.last().is_some_and(|last| last == "mod") {
        segments.pop();
    }
    segments
}

/// The top-level module an absolute path lands in, if it is one of the crate's.
fn top_of(
    segments: &[String],
    modules: &BTreeSet<String>,
    root: &BTreeMap<Vec<String>, String>,
) -> Option<String> {
    let first = segments.first()?;
    if modules.contains(first) {
        return Some(first.clone());
    }
    (1..=segments.len()).find_map(|n| root.get(&segments[..n]).cloned())
}

fn is_punct(tree: Option<&TokenTree>, ch: char) -> bool {
    matches!(tree, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

fn is_ident(tree: Option<&TokenTree>, name: &str) -> bool {
    matches!(tree, Some(TokenTree::Ident(i)) if i == name)
}

/// Whether `::` starts at `trees[i]`.
fn is_path_sep(trees: &[TokenTree], i: usize) -> bool {
    let joint = matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.spacing() == Spacing::Joint);
    joint && is_punct(trees.get(i), ':') && is_punct(trees.get(i + 1), ':')
}

/// Every `crate::`, `super::` and `self::` path in `tokens`, resolved to absolute segments.
fn paths_in(tokens: TokenStream, module: &[String], out: &mut Vec<Written>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        // An inline module: what is inside is relative to it.
        if is_ident(trees.get(i), "mod")
            && let Some(TokenTree::Ident(name)) = trees.get(i + 1)
            && let Some(TokenTree::Group(body)) = trees.get(i + 2)
            && body.delimiter() == Delimiter::Brace
        {
            let mut inner = module.to_vec();
            inner.push(name.to_string());
            paths_in(body.stream(), &inner, out);
            i += 3;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(group) => paths_in(group.stream(), module, out),
            TokenTree::Ident(ident)
                if matches!(ident.to_string().as_str(), "crate" | "super" | "self")
                    && is_path_sep(&trees, i + 1)
                    // `$crate` names the crate a macro expands in; `pub(in crate::x)` is no import.
                    && !(i > 0 && is_punct(trees.get(i - 1), '$'))
                    && !(i > 0 && is_ident(trees.get(i - 1), "in")) =>
            {
                let line = ident.span().start().line;
                let mut base = match ident.to_string().as_str() {
                    "crate" => Vec::new(),
                    _ => module.to_vec(),
                };
                let mut text = ident.to_string();
                let mut j = i;
                if ident == "super" {
                    base.pop();
                    while is_path_sep(&trees, j + 1) && is_ident(trees.get(j + 3), "super") {
                        base.pop();
                        text.push_str("::super");
                        j += 3;
                    }
                }
                let mut tails = Vec::new();
                j = use_tree(&trees, j + 1, Vec::new(), &mut tails);
                for (tail, name) in tails {
                    let mut segments = base.clone();
                    segments.extend(tail.iter().cloned());
                    let mut written = vec![text.clone()];
                    written.extend(tail.iter().cloned());
                    if name == "*" {
                        written.push(name);
                    }
                    out.push(Written {
                        text: written.join("::"),
                        segments,
                        line,
                    });
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// Reads the `::a::b::{c, d::e as f}` tail of a path from `trees[i]` on, into the paths it
/// names (each with the name it binds, for re-exports); returns the index after it.
fn use_tree(
    trees: &[TokenTree],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) -> usize {
    let mut path = prefix;
    while is_path_sep(trees, i) {
        match trees.get(i + 2) {
            Some(TokenTree::Ident(ident)) => {
                path.push(ident.to_string());
                i += 3;
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for item in inner.split(|t| is_punct(Some(t), ',')) {
                    if item.is_empty() {
                        continue;
                    }
                    // Each item is a tree of its own: `a::b`, `self`, `x as y`, `*`.
                    match &item[0] {
                        TokenTree::Ident(first) if first == "self" => {
                            let name = path.last().cloned().unwrap_or_default();
                            out.push((path.clone(), alias(&item[1..]).unwrap_or(name)));
                        }
                        TokenTree::Ident(first) => {
                            let mut sub = path.clone();
                            sub.push(first.to_string());
                            use_tree(item, 1, sub, out);
                        }
                        TokenTree::Punct(p) if p.as_char() == '*' => {
                            out.push((path.clone(), "*".to_owned()));
                        }
                        _ => {}
                    }
                }
                return i + 3;
            }
            Some(TokenTree::Punct(p)) if p.as_char() == '*' => {
                out.push((path, "*".to_owned()));
                return i + 3;
            }
            _ => break,
        }
    }
    let name = alias(&trees[i.min(trees.len())..])
        .or_else(|| path.last().cloned())
        .unwrap_or_default();
    if !path.is_empty() {
        out.push((path, name));
    }
    i
}

/// The `y` of `as y` at the start of `trees`.
fn alias(trees: &[TokenTree]) -> Option<String> {
    match (trees.first(), trees.get(1)) {
        (Some(TokenTree::Ident(r#as)), Some(TokenTree::Ident(name))) if r#as == "as" => {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// The root's re-exports (in `lib.rs`, its inline modules included): exported path → the
/// top-level module it comes from.
fn reexports(
    tokens: TokenStream,
    module: &[String],
    modules: &BTreeSet<String>,
    root: &mut BTreeMap<Vec<String>, String>,
) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        if is_ident(Some(tree), "mod")
            && let Some(TokenTree::Ident(name)) = trees.get(i + 1)
            && let Some(TokenTree::Group(body)) = trees.get(i + 2)
        {
            let mut inner = module.to_vec();
            inner.push(name.to_string());
            reexports(body.stream(), &inner, modules, root);
        }
        if !is_ident(Some(tree), "use") {
            continue;
        }
        let Some(TokenTree::Ident(first)) = trees.get(i + 1) else {
            continue;
        };
        let (base, start) = match first.to_string().as_str() {
            "crate" => (Vec::new(), vec![]),
            "self" => (module.to_vec(), vec![]),
            other => (module.to_vec(), vec![other.to_owned()]),
        };
        let mut named = Vec::new();
        use_tree(&trees, i + 2, start, &mut named);
        for (path, name) in named {
            let mut target = base.clone();
            target.extend(path);
            if let Some(top) = top_of(&target, modules, root) {
                let mut exported = module.to_vec();
                exported.push(name);
                root.insert(exported, top);
            }
        }
    }
}

/// The `#[macro_export]` macros in `tokens`: they live at the crate root, by name.
fn macro_exports(tokens: TokenStream, module: &[String], root: &mut BTreeMap<Vec<String>, String>) {
    let Some(top) = module.first() else {
        return;
    };
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut exported = false;
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Bracket => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                exported |= is_ident(inner.first(), "macro_export");
            }
            TokenTree::Group(group) => macro_exports(group.stream(), module, root),
            TokenTree::Punct(p) if p.as_char() == '#' => {}
            TokenTree::Ident(ident) if ident == "macro_rules" => {
                if exported && let Some(TokenTree::Ident(name)) = trees.get(i + 2) {
                    root.insert(vec![name.to_string()], top.clone());
                }
                exported = false;
            }
            _ => exported = false,
        }
    }
}

/// The scan and the check on a made-up crate: the cases the real sources may one day hold.
#[test]
fn the_check_reads_paths_and_names_cycles_and_upward_edges() {
    let files: Vec<(PathBuf, String)> = [
        (
            "lib.rs",
            "mod low; mod mid; mod high; pub use high::Top;
            pub mod __private { pub use crate::mid::Thing; }",
        ),
        (
            "low.rs",
            r#"
            // use crate::high::Top; (a comment is no import)
            /// [`Top`](crate::high::Top) (nor is a doc link)
            pub(crate) struct Low;
            pub(in crate::high) struct Scoped;
            const S: &str = "crate::high::Top";
            macro_rules! m { () => { $crate::high::Top } }
            mod tests { use super::Low; use super::super::mid::Thing; }
            "#,
        ),
        (
            "mid/mod.rs",
            "mod inner; pub(crate) struct Thing; use crate::{low::{self, Low}};",
        ),
        (
            "mid/inner.rs",
            "use super::Thing; fn f() -> crate::Top { crate::__private::Thing; todo!() }",
        ),
        (
            "high.rs",
            "#[derive(crate::Top)] pub struct Top(crate::low::Low);",
        ),
    ]
    .into_iter()
    .map(|(path, text)| (PathBuf::from(path), text.to_owned()))
    .collect();
    let graph = Graph::from_sources(&files);
    let edges: Vec<String> = graph
        .edges
        .iter()
        .map(|((from, to), sites)| format!("{from}->{to}@{}", sites[0].line))
        .collect();
    // low's test module reaches mid (`super::super::mid`); mid/inner reaches high through the
    // root's re-export of `Top`, and mid through `__private` (itself: no edge).
    assert_eq!(
        edges,
        ["high->low@1", "low->mid@8", "mid->high@1", "mid->low@1"]
    );

    let layers: &[(&str, &[&str])] = &[("bottom", &["low"]), ("top", &["mid", "high"])];
    let problems = check(&graph, layers, &[]);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems[0].starts_with("`low` (bottom) imports `mid` (top), a higher layer:"));
    assert!(problems[0].contains("session-runtime/src/low.rs:8 `super::super::mid::Thing`"));
    assert!(
        problems[1].starts_with("import cycle: high -> low -> mid -> high\n"),
        "{}",
        problems[1]
    );

    // An allowed edge is no longer reported, in either check; a stale entry is.
    let problems = check(
        &graph,
        layers,
        &[("low", "mid", "a reason"), ("high", "low", "stale")],
    );
    assert_eq!(
        problems,
        ["ALLOWED lists `high` -> `low`, which no longer goes up a layer: remove it."]
    );

    // A module outside the table, and a table entry without a module.
    let layers: &[(&str, &[&str])] = &[("all", &["low", "mid", "gone"])];
    let problems = check(&graph, layers, &[]);
    assert!(problems[0].contains("`gone`, which session-runtime/src no longer has"));
    assert!(
        problems[1].starts_with("session-runtime module `high` is in no layer: place it in LAYERS")
    );
}
