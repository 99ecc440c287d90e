//! `splitid`: the one SplitID binary. It parses the command line and calls the libraries.

mod admin;
mod app;
mod demo;
mod demo_bank;
mod demo_phone;
mod eid;
mod loadtest;
mod serve;
mod settings;

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
    /// Run the service: relying-party API, app API and CA, on an embedded database.
    // Boxed (as Admin): the settings table is most of the size of the parsed command line.
    Serve(Box<serve::ServeArgs>),
    /// Play the phone: register this "device", check for and answer transactions.
    App(app::AppArgs),
    /// Operate the service: relying parties, accounts, billing figures, the audit log.
    Admin(Box<admin::AdminArgs>),
    /// Measure a running demo server: register simulated devices, run full logins at a given
    /// concurrency, report throughput and latencies.
    Loadtest(loadtest::LoadtestArgs),
    /// Demonstrate the split-key protocol in one process: make a key with a PIN, sign with
    /// the server's help, verify with a standard RSA verifier, watch a wrong PIN get caught.
    Demo(demo::DemoArgs),
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(args) => serve::run(*args),
        Command::App(args) => app::run(args),
        Command::Admin(args) => admin::run(*args),
        Command::Demo(args) => demo::run(&args),
        Command::Loadtest(args) => loadtest::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
