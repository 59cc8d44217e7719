//! The commands behind `main.rs`: serve, demo, user add, migrate.

use crate::app::App;
use crate::config::{DataArgs, ServeArgs, Settings, UserAddArgs};
use crate::secrets::hash_password;
use crate::store::{NewUser, Role, Store};
use anyhow::Context;
use songda_core::SystemClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::from_args(&args);
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
    reset_demo_dir(&args.data.data_dir)?;
    let settings = Settings::from_args(&args);
    let app = App::build(settings, Arc::new(SystemClock)).await?;
    let seeded = crate::demo::seed(&app.state).await?;
    crate::jobs::outbox::drain(&app.state).await?;
    println!("{}", seeded.describe(&app.url()));
    app.run(true).await
}

/// Empties the demo data dir, refusing to touch a folder that is not a demo's.
fn reset_demo_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
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
    let role = Role::parse(&args.role).context("role must be admin or clerk")?;
    crate::actions::accounts::check_password(&args.password)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let name = songda_core::party::PersonName::parse(&args.name)?;
    let login = args.login.trim();
    if login.is_empty() {
        anyhow::bail!("--login must not be empty");
    }
    let store = open_store(&args.data).await?;
    let now = songda_core::Clock::now(&SystemClock);
    let court = match (&args.court, role) {
        (Some(c), _) => Some(store.ensure_court(c.trim(), now).await?),
        (None, Role::Clerk) => anyhow::bail!("a clerk needs --court"),
        (None, _) => None,
    };
    let hash = hash_password(&args.password)?;
    let user = store
        .create_user(
            &NewUser {
                role,
                name: name.as_str(),
                login: Some(login),
                phone: None,
                email: None,
                password_hash: &hash,
                phone_verified_at: Some(now),
                court_id: court.as_ref().map(|c| c.id),
            },
            now,
        )
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => {
                anyhow::anyhow!("the login {login:?} is taken")
            }
            other => other.into(),
        })?;
    store.close().await;
    println!(
        "created {} {} (login {login}){}",
        role.as_str(),
        user.name,
        court.map(|c| format!(" at {}", c.name)).unwrap_or_default()
    );
    Ok(())
}

pub async fn migrate(args: DataArgs) -> anyhow::Result<()> {
    let store = open_store(&args).await?;
    store.close().await;
    println!("database in {} is up to date", args.data_dir.display());
    Ok(())
}

async fn open_store(args: &DataArgs) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    Store::open(&args.data_dir.join("songda.db"))
        .await
        .with_context(|| format!("opening the database in {}", args.data_dir.display()))
}
