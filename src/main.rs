#![forbid(unsafe_code)]
fn main() {
    std::process::exit(whiteout::cli::main());
}
