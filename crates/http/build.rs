//! Embeds the installable web app (crates/web-app/www, with its committed WebAssembly build in
//! www/pkg) into the service: a table of every file under it, with its content type, for
//! `web::app` to serve under `/app/`.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(root, &path, out);
        } else if path.file_name().is_some_and(|name| name != "TOOLCHAIN") {
            out.push(
                path.strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf(),
            );
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("wasm") => "application/wasm",
        Some("png") => "image/png",
        other => panic!("web app file of unknown type: {other:?}"),
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .join("../web-app/www")
        .canonicalize()
        .expect("crates/web-app/www");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut found = Vec::new();
    files(&root, &root, &mut found);
    let mut table = String::from("&[\n");
    for path in &found {
        let name = path.to_str().expect("UTF-8 file names").replace('\\', "/");
        println!("cargo:rerun-if-changed={}", root.join(path).display());
        table.push_str(&format!(
            "    ({name:?}, {:?}, include_bytes!({:?})),\n",
            content_type(path),
            root.join(path).display().to_string()
        ));
    }
    table.push(']');
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("web_app_files.rs");
    fs::write(out, table).expect("writing the web app's table");
}
