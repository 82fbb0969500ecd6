//! The `surge` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() {
    let cli = surge::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("surge: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(surge::app::run(cli));
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    std::process::exit(code);
}
