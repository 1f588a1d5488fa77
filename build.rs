// refinery embeds migrations at compile time; without this, adding a new migration
// file would not trigger a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
