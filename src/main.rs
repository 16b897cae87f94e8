fn main() {
    std::process::exit(oix::cli::main());
}
