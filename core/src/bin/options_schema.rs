//! Prints the `init` options table as the ES module the package's facade imports
//! (`scripts/build-pkg` writes it to `pkg/options-schema.js`).

fn main() {
    print!("{}", edge_telemetry_core::config::schema::to_js_module());
}
