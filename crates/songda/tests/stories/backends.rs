//! Which backends the stories run on: the embedded default (SQLite file, local blob
//! folder) or the scale-out one (PostgreSQL, S3-compatible bucket). `scripts/test` starts
//! the servers and runs the suite once with `SONGDA_TEST_BACKEND=sqlite` and once with
//! `SONGDA_TEST_BACKEND=postgres`. Each test gets a fresh database and a fresh bucket.

use sqlx::Connection;
use std::process::Command;

#[derive(Clone, Debug, Default)]
pub struct Backing {
    /// None: the SQLite file in the data dir.
    pub database_url: Option<String>,
    /// None: the blob folder in the data dir.
    pub blob_url: Option<String>,
}

pub fn postgres_wanted() -> bool {
    match std::env::var("SONGDA_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Ok("") | Err(_) => false,
        Ok(other) => panic!("SONGDA_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

fn required(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests with scripts/test, which starts PostgreSQL and S3")
    })
}

impl Backing {
    /// What this run of the suite asks for.
    pub async fn for_this_run() -> Backing {
        if postgres_wanted() {
            Backing::scale_out().await
        } else {
            Backing::default()
        }
    }

    /// A fresh PostgreSQL database and a fresh bucket.
    pub async fn scale_out() -> Backing {
        Backing {
            database_url: Some(fresh_postgres_database().await),
            blob_url: Some(fresh_bucket().await),
        }
    }

    pub fn apply(&self, s: &mut songda::config::Settings) {
        s.database_url = self.database_url.clone();
        s.blob_url = self.blob_url.clone();
    }

    /// Passes the backends to a `songda` process.
    pub fn apply_to(&self, cmd: &mut Command) {
        if let Some(u) = &self.database_url {
            cmd.env("SONGDA_DATABASE_URL", u);
        }
        if let Some(u) = &self.blob_url {
            cmd.env("SONGDA_BLOB_URL", u);
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.is_some()
    }
}

/// The URL of the test PostgreSQL server (its `postgres` database, for admin work).
pub fn postgres_admin_url() -> String {
    required("SONGDA_TEST_DATABASE_URL")
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let name = format!("songda_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create database");
    conn.close().await.ok();
    let (base, _) = admin.rsplit_once('/').expect("URL names a database");
    format!("{base}/{name}")
}

/// The test S3 server's endpoint.
pub fn s3_endpoint() -> String {
    required("SONGDA_TEST_S3_ENDPOINT")
}

/// Creates an empty bucket on the test S3 server and returns its `s3://` URL.
pub async fn fresh_bucket() -> String {
    let endpoint = s3_endpoint();
    let bucket = format!("songda-{}", uuid::Uuid::new_v4().simple());
    create_bucket(&endpoint, &bucket).await;
    format!("s3://{bucket}?endpoint={endpoint}&region=us-east-1")
}

/// The test server (moto) takes unsigned bucket requests.
pub async fn create_bucket(endpoint: &str, bucket: &str) {
    let r = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the test S3 server answers");
    assert!(r.status().is_success(), "create bucket: {}", r.status());
}

pub async fn delete_bucket(endpoint: &str, bucket: &str) {
    let r = reqwest::Client::new()
        .delete(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the test S3 server answers");
    assert!(r.status().is_success(), "delete bucket: {}", r.status());
}
