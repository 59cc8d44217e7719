//! A real RFC 3161 timestamp authority for the stories: OpenSSL's `openssl ts -reply`
//! behind a small HTTP handler, with its own CA and a TSA certificate made by OpenSSL at
//! start. It can be told to be down (HTTP 503) to test what happens when it is.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The key the authority signs with.
#[derive(Clone, Copy, Debug)]
pub enum TsaKey {
    Rsa,
    EcP256,
}

/// Who issues the TSA's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issuer {
    /// The root CA itself.
    Root,
    /// An intermediate CA (CA:TRUE, keyCertSign) under the root; the token carries it.
    IntermediateCa,
    /// A certificate the root issued for something else (CA:FALSE), misused to issue the
    /// TSA's: a chain that must not count.
    NotACa,
}

pub struct TestTsa {
    pub url: String,
    dir: tempfile::TempDir,
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    down: AtomicBool,
    answered: AtomicUsize,
}

pub fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs openssl in `dir` with `words` split on spaces, then `more` as they are (subjects,
/// which hold spaces).
pub fn openssl_words(dir: &Path, words: &str, more: &[&str]) {
    let mut args: Vec<&str> = words.split_whitespace().collect();
    args.extend_from_slice(more);
    run(dir, &args);
}

impl TestTsa {
    pub async fn start(key: TsaKey) -> TestTsa {
        Self::start_with(key, Issuer::Root).await
    }

    pub async fn start_with(key: TsaKey, issuer: Issuer) -> TestTsa {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let openssl = |words: &str, more: &[&str]| openssl_words(d, words, more);
        openssl(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
            &["-subj", "/CN=Songda Test Root CA/O=Songda Tests"],
        );
        // The certificate that signs the TSA's: the root, or one the root issued.
        let (issuer_cert, issuer_key) = match issuer {
            Issuer::Root => ("ca.crt", "ca.key"),
            Issuer::IntermediateCa | Issuer::NotACa => {
                let ext = if issuer == Issuer::IntermediateCa {
                    "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
                } else {
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                };
                std::fs::write(d.join("mid.ext"), ext).unwrap();
                openssl(
                    "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout mid.key -out mid.csr",
                    &["-subj", "/CN=Songda Test Issuer/O=Songda Tests"],
                );
                openssl(
                    "x509 -req -in mid.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -extfile mid.ext -out mid.crt",
                    &[],
                );
                ("mid.crt", "mid.key")
            }
        };
        match key {
            TsaKey::Rsa => openssl(
                "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out tsa.key",
                &[],
            ),
            TsaKey::EcP256 => openssl(
                "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tsa.key",
                &[],
            ),
        }
        openssl(
            "req -new -key tsa.key -out tsa.csr",
            &["-subj", "/CN=Songda Test TSA/O=Songda Tests"],
        );
        std::fs::write(
            d.join("tsa.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\n",
        )
        .unwrap();
        openssl(
            &format!(
                "x509 -req -in tsa.csr -CA {issuer_cert} -CAkey {issuer_key} -CAcreateserial -days 365 -extfile tsa.ext -out tsa.crt"
            ),
            &[],
        );
        std::fs::write(d.join("tsaserial"), "01\n").unwrap();
        std::fs::write(
            d.join("tsa.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = songda_test_tsa\n\n[ songda_test_tsa ]\ndir = {}\nserial = $dir/tsaserial\ncrypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/{issuer_cert}\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = yes\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
                d.display()
            ),
        )
        .unwrap();

        let inner = Arc::new(Inner {
            dir: d.to_path_buf(),
            down: AtomicBool::new(false),
            answered: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/", axum::routing::post(reply))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TestTsa { url, dir, inner }
    }

    /// The root the TSA certificate is issued by (PEM).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The TSA's own certificate (PEM).
    pub fn tsa_cert(&self) -> PathBuf {
        self.dir.path().join("tsa.crt")
    }

    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// How many tokens it has issued.
    pub fn answered(&self) -> usize {
        self.inner.answered.load(Ordering::SeqCst)
    }
}

async fn reply(State(inner): State<Arc<Inner>>, query: Bytes) -> Response {
    if inner.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
    }
    let n = inner.answered.fetch_add(1, Ordering::SeqCst);
    let dir = inner.dir.clone();
    let result = tokio::task::spawn_blocking(move || {
        let (q, r) = (dir.join(format!("q{n}.tsq")), dir.join(format!("r{n}.tsr")));
        std::fs::write(&q, &query).unwrap();
        let out = Command::new("openssl")
            .args(["ts", "-reply", "-config"])
            .arg(dir.join("tsa.cnf"))
            .arg("-queryfile")
            .arg(&q)
            .arg("-out")
            .arg(&r)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(std::fs::read(&r).unwrap())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    })
    .await
    .unwrap();
    match result {
        Ok(body) => (
            [(header::CONTENT_TYPE, "application/timestamp-reply")],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}
