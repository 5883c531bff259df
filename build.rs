//! Copies the README and the guides of `docs/` into `OUT_DIR` for rustdoc,
//! with their links to each other (`docs/guide.md`, `tower.md`) turned into
//! links to the pages they become (`crate::docs::guide`), so a link works on
//! GitHub and in rustdoc alike.

use std::path::Path;

/// Each guide, and the module of the facade whose page it is.
const PAGES: [(&str, &str); 8] = [
    ("guide.md", "crate::docs::guide"),
    ("tower.md", "crate::docs::tower"),
    ("middleware.md", "crate::docs::middleware"),
    ("design.md", "crate::docs::design"),
    ("dispatch.md", "crate::docs::dispatch"),
    ("conformance.md", "crate::docs::conformance"),
    ("reliability.md", "crate::docs::reliability"),
    ("benchmarks.md", "crate::docs::benchmarks"),
];

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut files = vec![("README.md".to_owned(), "docs/")];
    files.extend(PAGES.iter().map(|(name, _)| (format!("docs/{name}"), "")));
    for (file, prefix) in files {
        println!("cargo:rerun-if-changed={file}");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = PAGES.iter().fold(text, |text, (name, page)| {
            text.replace(&format!("]({prefix}{name})"), &format!("]({page})"))
        });
        let name = Path::new(&file).file_name().expect("a file name");
        std::fs::write(Path::new(&out).join(name), text).expect("write to OUT_DIR");
    }
}
