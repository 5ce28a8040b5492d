//! The direction of every `use` in `src/` (issue 20): no circle between files, and between
//! top-level modules only imports that point down the layer table below — the README's code
//! map. A new import that points up or closes a circle fails here, naming the files.
//!
//! Read from the source text: every `crate::…` and `super::…` path outside `#[cfg(test)]`
//! modules, resolved to the longest prefix that is a module file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules, bottom first. A module may use modules of lower layers only.
const LAYERS: &[&[&str]] = &[
    &["errors", "markup", "terminal", "analysis", "passages"],
    &["resolve", "list", "fetch", "extract", "embed"],
    &["assemble", "store", "index", "changes"],
    // Side data built from the index and the texts, beside it.
    &["neighbours", "vectors"],
    // The index and its side data as one snapshot for a search.
    &["library"],
    &["search"],
    &["output", "cli"],
    &["config"],
    // The only place stages meet (the web reader is one of the commands).
    &["commands"],
];

/// Module name (`search/rank`, `search` for `search/mod.rs`) → source without test modules.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p
                .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
                .unwrap()
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            let name = match rel.as_str() {
                "lib" | "main" => "crate".to_string(),
                r => r.strip_suffix("/mod").unwrap_or(r).to_string(),
            };
            let text = std::fs::read_to_string(&p).unwrap();
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let code: String = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(name, code);
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every path the code names from `crate::` or `super::`, as `a/b/c` from the crate root.
fn paths(module: &str, code: &str) -> Vec<String> {
    let mut out = vec![];
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 {
                let before = code[..at].chars().next_back().unwrap();
                if before.is_alphanumeric() || before == '_' {
                    continue;
                }
            }
            let base: Vec<String> = if start == "super::" {
                let mut parts: Vec<String> = module.split('/').map(str::to_string).collect();
                parts.pop();
                parts
            } else {
                vec![]
            };
            // Segments a::b::c, then perhaps {x, y::z}.
            let mut segs = base;
            let mut rest = &code[from..];
            loop {
                let id = ident(rest);
                if id.is_empty() {
                    break;
                }
                segs.push(id.to_string());
                rest = &rest[id.len()..];
                match rest.strip_prefix("::") {
                    Some(r) => rest = r,
                    None => break,
                }
            }
            out.push(segs.join("/"));
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let id = ident(item.trim());
                    if !id.is_empty() && id != "self" {
                        out.push(format!("{}/{id}", segs.join("/")));
                    }
                }
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("/"))
            .find(|m| mods.contains_key(m))
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, code) in &mods {
        for p in paths(m, code) {
            if let Some(t) = resolve(&p)
                && t != *m
                && !m.starts_with(&format!("{t}/"))
            {
                edges.entry(m.clone()).or_default().insert(t);
            }
        }
    }
    edges
}

fn top(m: &str) -> &str {
    m.split('/').next().unwrap()
}

#[test]
fn no_import_points_up_the_layers() {
    let layer = |m: &str| LAYERS.iter().position(|l| l.contains(&top(m)));
    let mut wrong = vec![];
    for (from, tos) in graph() {
        if from == "crate" {
            continue;
        }
        let Some(lf) = layer(&from) else {
            wrong.push(format!("{from} is in no layer: add it to LAYERS"));
            continue;
        };
        for to in tos {
            if top(&to) == top(&from) || to == "crate" {
                continue;
            }
            match layer(&to) {
                Some(lt) if lt < lf => {}
                _ => wrong.push(format!("{from} uses {to}, which is not below it")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_circle_between_files() {
    let edges = graph();
    // Depth-first search for a back edge; report the circle it closes.
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for t in edges.get(n).into_iter().flatten() {
            match state.get(t.as_str()) {
                Some(1) => {
                    let at = path.iter().position(|p| p == t).unwrap();
                    let mut circle = path[at..].to_vec();
                    circle.push(t.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(t, edges, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if !state.contains_key(n.as_str())
            && let Some(c) = visit(n, &edges, &mut state, &mut vec![])
        {
            panic!("a circle of imports: {}", c.join(" → "));
        }
    }
}

#[test]
fn the_reader_of_imports_sees_them() {
    // The test must be able to fail: its reader finds the imports of a known file.
    let g = graph();
    assert!(
        g["search/rank"].contains("library"),
        "{:?}",
        g["search/rank"]
    );
    assert!(g["search/rank"].contains("search/plan"));
    assert!(g["library"].contains("neighbours"));
}
