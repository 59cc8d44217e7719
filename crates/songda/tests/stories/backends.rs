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

/// A client of one bucket of the test server, with the credentials from the environment.
fn bucket_client(endpoint: &str, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::from_env()
        .with_endpoint(endpoint)
        .with_bucket_name(bucket)
        .with_client_options(object_store::ClientOptions::new().with_allow_http(true))
        .build()
        .unwrap()
}

/// Overwrites an object in a bucket of the test server, as someone holding the bucket's
/// credentials could.
pub async fn overwrite_object(endpoint: &str, bucket: &str, key: &str, bytes: Vec<u8>) {
    use object_store::ObjectStoreExt;
    bucket_client(endpoint, bucket)
        .put(&object_store::path::Path::from(key), bytes.into())
        .await
        .expect("overwrite the object");
}

/// Empties (of the marker Songda writes at start) and deletes a bucket.
pub async fn delete_bucket(endpoint: &str, bucket: &str) {
    use object_store::ObjectStoreExt;
    bucket_client(endpoint, bucket)
        .delete(&object_store::path::Path::from("songda-bucket"))
        .await
        .expect("delete the marker");
    let r = reqwest::Client::new()
        .delete(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the test S3 server answers");
    assert!(r.status().is_success(), "delete bucket: {}", r.status());
}

/// A PostgreSQL cluster of one test's own, for stories that stop and start the server
/// (the shared test server must stay up for the other tests). Stopped when dropped.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = std::path::PathBuf::from(required("SONGDA_TEST_PG_BIN"));
        let dir = tempfile::Builder::new()
            .prefix("songda-pg-")
            .tempdir()
            .unwrap();
        if is_root() {
            // initdb and postgres refuse to run as root.
            let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
            let ok = Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let pg = PrivatePostgres {
            port: free_port(),
            dir,
            bin,
        };
        let out = pg
            .as_postgres("initdb")
            .args([
                "-U",
                "songda",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "-D",
            ])
            .arg(pg.dir.path().join("data"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.start_server();
        pg
    }

    fn as_postgres(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) {
        let out = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start_server(&self) {
        let opts = format!(
            // Commits are durable (no synchronous_commit=off): the stories stop this
            // server as a crash would and expect what was committed to be there after.
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        self.pg_ctl(&[
            "-w",
            "-s",
            "-l",
            log.to_str().unwrap(),
            "-o",
            &opts,
            "start",
        ]);
    }

    /// Stops the server the way a crash or a failover would look to clients.
    pub fn stop_server(&self) {
        self.pg_ctl(&["-w", "-s", "-m", "immediate", "stop"]);
    }

    pub fn url(&self) -> String {
        format!("postgres://songda@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
