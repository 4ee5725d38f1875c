//! The `embedserve` command line: `serve` (the default), `healthcheck`, and the word2vec tools.
//!
//! The only place that knows clap: each subcommand's flags are parsed here and converted into
//! the library's plain settings at the edge.
//!
//! - `serve`: [`ServeArgs`], the flag/env layer of the service settings.
//! - `word2vec`: [`TrainArgs`], [`EvalArgs`], [`IndexArgs`], [`DemoArgs`].

mod serve;
mod word2vec;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use std::str::FromStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};

use crate::config::{LogFormat, Settings};
use crate::demo::DemoSettings;
use crate::startup::{Application, shutdown_signal};

pub use serve::ServeArgs;
pub use word2vec::{DemoArgs, EvalArgs, IndexArgs, TrainArgs};

/// Serve LLM input embeddings and word2vec similarity over HTTP.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without one, `serve`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(Box<ServeArgs>),
    /// Probe a running service's readiness: exit 0 when ready, 1 otherwise (for container
    /// health checks in images without a shell).
    Healthcheck(HealthcheckArgs),
    /// Evaluate a word2vec store on word analogies and word-pair similarities, as gensim's
    /// `evaluate_word_analogies` and `evaluate_word_pairs` do.
    Eval(EvalArgs),
    /// Train a word2vec store natively, as gensim's Word2Vec does (skip-gram or CBOW).
    Train(Box<TrainArgs>),
    /// Prepare a word2vec store to be served from a memory map: the vocabulary, the vectors,
    /// their norms and an approximate-nearest-neighbour graph in one file.
    Index(IndexArgs),
    /// Generate the bundled demo model directory and word2vec store.
    DemoModel(DemoArgs),
}

/// Flags of `embedserve healthcheck`.
#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// Address of the service.
    #[arg(
        long,
        env = "EMBEDSERVE_HEALTHCHECK_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    pub addr: SocketAddr,
    /// Path probed.
    #[arg(long, default_value = "/health/ready")]
    pub path: String,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

/// A value parser accepting exactly the names of `choices`, listed with their help as a
/// `clap::ValueEnum` would list them, and read with `T`'s `FromStr`.
fn choice<T>(choices: &'static [(&'static str, &'static str)]) -> impl TypedValueParser<Value = T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(
        choices
            .iter()
            .map(|&(name, help)| PossibleValue::new(name).help(help)),
    )
    .try_map(|name| name.parse::<T>())
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Healthcheck(args)) => healthcheck(&args),
        Some(Command::Eval(args)) => eval(&args),
        Some(Command::Train(args)) => report(crate::word2vec::train::run(&(*args).into())),
        Some(Command::Index(args)) => index(&args),
        Some(Command::DemoModel(args)) => {
            let settings = DemoSettings::from(args);
            report(crate::demo::generate(&settings).map(|()| {
                format!(
                    "demo model and word2vec store written to {}",
                    settings.out.display()
                )
            }))
        }
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    let source = match args.settings_source() {
        Ok(source) => source,
        Err(e) => return fail(&e),
    };
    let settings = match source.load() {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    init_logging(&settings);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let outcome = runtime.block_on(async {
        let application = Application::build_from(settings, source).await?;
        tracing::info!(port = application.port(), "listening");
        application.run(shutdown_signal()).await
    });
    // Connections still open after the drain are dropped with the runtime; loading still in
    // progress on a blocking thread is not waited for either.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            fail(&e)
        }
    }
}

fn index(args: &IndexArgs) -> ExitCode {
    let build = || crate::word2vec::index::build(&args.settings());
    match args.threads {
        Some(threads) => match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => report(pool.install(build)),
            Err(e) => fail(&format!("cannot start {threads} threads: {e}")),
        },
        None => report(build()),
    }
}

fn eval(args: &EvalArgs) -> ExitCode {
    match crate::word2vec::eval::run(&args.settings()).and_then(|report| report.render(args.json)) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Prints a finished command's summary, or its error with a non-zero exit.
fn report<T: std::fmt::Display, E: std::fmt::Display>(outcome: Result<T, E>) -> ExitCode {
    match outcome {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("embedserve: error: {error}");
    ExitCode::FAILURE
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only for a person at a terminal, never in container or CI logs.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let installed = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(e) = installed {
        eprintln!("embedserve: logging not initialised: {e}");
    }
}

fn healthcheck(args: &HealthcheckArgs) -> ExitCode {
    match probe(args) {
        Ok(200) => ExitCode::SUCCESS,
        Ok(status) => fail(&format!("{} answered {status}", args.path)),
        Err(e) => fail(&format!("cannot reach {}: {e}", args.addr)),
    }
}

/// A minimal HTTP/1.1 GET, so the image needs no curl.
fn probe(args: &HealthcheckArgs) -> std::io::Result<u16> {
    let timeout = Duration::from_secs(args.timeout_secs.max(1));
    let mut stream = TcpStream::connect_timeout(&args.addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        args.path, args.addr
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}
