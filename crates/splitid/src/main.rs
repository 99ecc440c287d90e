//! `splitid`: the one SplitID binary. It parses the command line and calls the libraries.

mod demo;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "splitid",
    version,
    about = "SplitID: open two-party RSA electronic identity"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Demonstrate the split-key protocol: make a key with a PIN, sign with the server's help,
    /// verify with a standard RSA verifier, and watch a wrong PIN get caught.
    Demo(demo::DemoArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Demo(args) => demo::run(&args),
    }
}
