//! The `usefirst` binary: see `usefirst --help`.

use clap::Parser;

#[actix_web::main]
async fn main() {
    let cli = usefirst::cli::Cli::parse();
    match usefirst::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("usefirst: {err:#}");
            std::process::exit(2);
        }
    }
}
