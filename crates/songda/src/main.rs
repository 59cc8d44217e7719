//! A switchboard: parse the command line and hand over to the part that does the work.

use clap::Parser;
use songda::config::{Cli, Command, CourtCommand, MessagesCommand, UserCommand};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SONGDA_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => return songda::cli::verify(&args),
        Command::Audit(args) => return songda::cli::audit(args).await,
        Command::Serve(args) => songda::cli::serve(args).await,
        Command::Demo(args) => songda::cli::demo(args).await,
        Command::User {
            command: UserCommand::Add(args),
        } => songda::cli::user_add(args).await,
        Command::Migrate(args) => songda::cli::migrate(args).await,
        Command::Court {
            command: CourtCommand::SetRegime(args),
        } => songda::cli::court_set_regime(args).await,
        Command::Court {
            command: CourtCommand::SetEmailDocuments(args),
        } => songda::cli::court_set_email_documents(args).await,
        Command::Messages {
            command: MessagesCommand::Export { dir },
        } => songda::cli::messages_export(&dir),
        Command::Messages {
            command: MessagesCommand::Check { dir },
        } => songda::cli::messages_check(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("songda: {e:#}");
            ExitCode::FAILURE
        }
    }
}
