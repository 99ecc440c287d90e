//! `splitid-wasm-bindgen IN.wasm OUT_DIR`: the JavaScript glue and the final `.wasm` for a
//! `wasm-bindgen` library, for loading as an ES module in the browser (`--target web`).
//!
//! The same library the official `wasm-bindgen` command line is built on, without its test
//! runner (a web server and an HTTP client): a few dozen crates instead of a few hundred, so
//! that CI builds it in a minute or two instead of a quarter of an hour.

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        bail!("usage: splitid-wasm-bindgen IN.wasm OUT_DIR");
    };
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .web(true)?
        .typescript(false)
        .remove_producers_section(true)
        .generate(out_dir)
        .with_context(|| format!("generating the glue for {input}"))
}
