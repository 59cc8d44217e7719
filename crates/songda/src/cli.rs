//! The commands behind `main.rs`: serve, demo, user add, migrate, verify, audit.

use crate::actions::staff::{self, NewStaff};
use crate::app::App;
use crate::config::{
    AuditArgs, DataArgs, ServeArgs, SetEmailDocumentsArgs, SetRegimeArgs, Settings, UserAddArgs,
    VerifyArgs,
};
use crate::store::{Location, Store};
use anyhow::Context;
use songda_core::SystemClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::from_args(&args)?;
    tracing::info!(?settings, "starting");
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    eprintln!("Songda is serving on {}", app.url());
    app.run(true).await
}

/// Where the demo keeps its data unless told otherwise: never the production default.
const DEMO_DIR: &str = "songda-demo-data";
const DEMO_MARK: &str = ".songda-demo";

pub async fn demo(mut args: ServeArgs) -> anyhow::Result<()> {
    if args.data.data_dir == Path::new("songda-data") {
        args.data.data_dir = PathBuf::from(DEMO_DIR);
    }
    // The demo starts afresh by wiping its folder; it never touches a shared database or
    // bucket.
    if args
        .data
        .database_url
        .as_deref()
        .is_some_and(|u| !u.is_empty())
        || args.blob_url.as_deref().is_some_and(|u| !u.is_empty())
    {
        anyhow::bail!(
            "the demo runs on the embedded database and folder only; unset SONGDA_DATABASE_URL and SONGDA_BLOB_URL"
        );
    }
    reset_demo_dir(&args.data.data_dir)?;
    let settings = Settings::from_args(&args)?;
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    let seeded = crate::demo::seed(&app.state).await?;
    crate::jobs::outbox::drain(&app.state).await?;
    println!("{}", seeded.describe(&app.url()));
    app.run(true).await
}

/// Empties the demo data dir, refusing to touch a folder that is not a demo's.
fn reset_demo_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        // Never wipe the folder under a demo that is still running.
        drop(crate::state::lock_data_dir(dir)?);
        let is_demo = dir.join(DEMO_MARK).exists();
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !is_demo && !empty {
            anyhow::bail!(
                "{} holds data that is not a demo's; give the demo an empty folder with --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(DEMO_MARK),
        "songda demo data; `songda demo` wipes this folder\n",
    )?;
    Ok(())
}

pub async fn user_add(args: UserAddArgs) -> anyhow::Result<()> {
    let store = open_store(&args.data).await?;
    let now = songda_core::Clock::now(&SystemClock);
    let result = staff::create_staff(
        &store,
        &NewStaff {
            role: &args.role,
            name: &args.name,
            login: &args.login,
            password: &args.password,
            court: args.court.as_deref(),
            email: args.email.as_deref(),
        },
        now,
    )
    .await;
    store.close().await;
    let (user, court) = result.map_err(cli_error)?;
    println!(
        "created {} {} (login {}){}",
        user.role.as_str(),
        user.name,
        args.login.trim(),
        court.map(|c| format!(" at {}", c.name)).unwrap_or_default()
    );
    Ok(())
}

pub async fn court_set_regime(args: SetRegimeArgs) -> anyhow::Result<()> {
    let store = open_store(&args.data).await?;
    let result = staff::set_court_regime(&store, &args.court, &args.regime).await;
    store.close().await;
    let court = result.map_err(cli_error)?;
    println!(
        "{}: {}",
        court.name,
        court
            .regime
            .as_deref()
            .unwrap_or("regime chosen by dispatch date")
    );
    Ok(())
}

pub async fn court_set_email_documents(args: SetEmailDocumentsArgs) -> anyhow::Result<()> {
    let store = open_store(&args.data).await?;
    let result = staff::set_court_email_documents(&store, &args.court, &args.email_documents).await;
    store.close().await;
    let court = result.map_err(cli_error)?;
    println!(
        "{}: {}",
        court.name,
        if court.email_documents {
            "serves by email too: notices to a confirmed email address carry the documents"
        } else {
            "emails only tell; documents are served on the platform"
        }
    );
    Ok(())
}

/// An action's error as a one-line message for the terminal.
fn cli_error(e: crate::error::AppError) -> anyhow::Error {
    match &e.field {
        Some(f) => anyhow::anyhow!("--{}: {}", f.replace('_', "-"), e.message),
        None => anyhow::anyhow!("{}", e.message),
    }
}

pub async fn migrate(args: DataArgs) -> anyhow::Result<()> {
    let location = args.database()?;
    if let Location::SqliteFile(_) = location {
        std::fs::create_dir_all(&args.data_dir)
            .with_context(|| format!("creating {}", args.data_dir.display()))?;
    }
    let store = Store::connect(&location)
        .await
        .with_context(|| format!("opening the {}", location.describe()))?;
    let applied = crate::store::migrate(&store).await;
    store.close().await;
    let applied = applied?;
    println!(
        "{}: {applied} migration(s) applied, schema up to date",
        location.describe()
    );
    Ok(())
}

/// `songda messages export DIR`: the built-in notification texts, to edit.
pub fn messages_export(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (file, text) in crate::notify::templates::Templates::builtin_files() {
        let path = dir.join(&file);
        if path.exists() {
            println!("{}: kept (exists)", path.display());
            continue;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    println!(
        "Edit these, delete the ones to keep as built in, and start the server with SONGDA_MESSAGES_DIR={}",
        dir.display()
    );
    Ok(())
}

/// `songda messages check DIR`: the texts checked as the server checks them at start, and
/// each shown with sample values.
pub fn messages_check(dir: &std::path::Path) -> anyhow::Result<()> {
    let t = crate::notify::templates::Templates::load(Some(dir))?;
    for (name, sample) in t.samples() {
        println!("== {name}");
        if let Some(subject) = sample.subject {
            println!("Subject: {subject}\n");
        }
        println!("{}\n", sample.body.trim_end());
    }
    println!("{}: every message checks", dir.display());
    Ok(())
}

async fn open_store(args: &DataArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let location = args.database()?;
    Store::open(&location)
        .await
        .with_context(|| format!("opening the {}", location.describe()))
}

/// `songda verify`: offline, no database, no server. Exit 0 valid, 1 invalid, 2 unusable.
pub fn verify(args: &VerifyArgs) -> std::process::ExitCode {
    use crate::verify::{GivenDocument, Trust, parse_public_keys, verify_with};
    use std::process::ExitCode;
    let unusable = |message: String| {
        eprintln!("songda verify: {message}");
        ExitCode::from(2)
    };
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let certificate = match read(&args.certificate) {
        Ok(bytes) => bytes,
        Err(e) => return unusable(e),
    };
    let mut documents = Vec::new();
    for path in &args.documents {
        match read(path) {
            Ok(bytes) => documents.push(GivenDocument::new(path.display().to_string(), &bytes)),
            Err(e) => return unusable(e),
        }
    }
    let keys = match args.public_key.as_deref().map(read).transpose() {
        Ok(bytes) => match bytes.as_deref().map(parse_public_keys).transpose() {
            Ok(keys) => keys,
            Err(e) => return unusable(e),
        },
        Err(e) => return unusable(e),
    };
    let tsa_certificates = match args.tsa_cert.as_deref().map(read).transpose() {
        Ok(bytes) => match bytes
            .as_deref()
            .map(crate::timestamp::read_certificates)
            .transpose()
        {
            Ok(certs) => certs.unwrap_or_default(),
            Err(e) => return unusable(format!("--tsa-cert: {e}")),
        },
        Err(e) => return unusable(e),
    };
    let trust = Trust {
        keys: keys.as_deref(),
        tsa_certificates: &tsa_certificates,
    };
    let report = match verify_with(&certificate, &documents, trust) {
        Ok(report) => report,
        Err(e) => return unusable(e.0),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print!("{}", report.to_text());
    }
    if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `songda audit`: exit 0 clean, 1 with the problems and the first bad entry named (or
/// when the database or documents cannot be read).
pub async fn audit(args: AuditArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    let result = async {
        let store = open_store(&args.data).await?;
        let blobs = if args.skip_documents {
            None
        } else {
            let blobs = crate::blob::BlobStore::open_for_reading(
                &args.data.data_dir,
                args.blob_url.as_deref().filter(|u| !u.is_empty()),
            )?;
            blobs.check().await?;
            Some(blobs)
        };
        println!(
            "audit of the evidence log in the {}",
            args.data.database()?.describe()
        );
        let tsa_trusted = match &args.tsa_cert {
            Some(path) => {
                let bytes = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                crate::timestamp::read_certificates(&bytes)
                    .map_err(|e| anyhow::anyhow!("--tsa-cert {}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        let report = crate::audit::run(&store, blobs.as_ref(), &tsa_trusted).await;
        store.close().await;
        anyhow::Ok(report?)
    }
    .await;
    match result {
        Ok(report) => {
            print!("{}", report.to_text());
            if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("songda audit: {e:#}");
            ExitCode::from(1)
        }
    }
}
