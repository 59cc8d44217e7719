//! Tampering with stored evidence, as an operator with database access could: `songda
//! audit`, `songda verify` or a consistency proof against a head kept earlier must catch
//! each change: a byte of one event, a byte of one document, and the last events dropped
//! and others appended in their place.

use crate::backends::{Backing, overwrite_object, s3_endpoint};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use songda_core::evidence::head::TreeHead;
use songda_core::merkle::{self, Hash, MemoryTree};
use sqlx::{AnyConnection, Connection};
use std::path::Path;
use std::process::{Command, Output};

struct Scene {
    app: TestApp,
    backing: Backing,
    service_id: String,
    doc_id: String,
    party: Api,
    /// The size of the head signed right after serving, before the party acted.
    served_size: u64,
}

impl Scene {
    /// A served, viewed and signed document, and a head signed over it.
    async fn new() -> Scene {
        let backing = Backing::for_this_run().await;
        let app = TestApp::spawn_on(backing.clone(), |_| {}).await;
        let s = case_with_party(&app, "13900000002", Some("filing_address")).await;
        let svc = s.clerk.json_ok(s.serve().await, StatusCode::CREATED).await;
        let service_id = svc["id"].as_str().unwrap().to_string();
        let anon = app.anon();
        let served: TreeHead = serde_json::from_value(
            anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
                .await,
        )
        .unwrap();
        let party = s.bound_party(&app, "13900000002").await;
        let scene = Scene {
            app,
            backing,
            service_id,
            doc_id: s.doc_id,
            party,
            served_size: served.size,
        };
        scene.open_document().await;
        scene.party.sign(&scene.service_id).await;
        scene.app.drain().await;
        scene.head().await;
        scene
    }

    /// The party opens the served document (an event); its bytes as served now.
    async fn open_document(&self) -> Vec<u8> {
        let r = self
            .party
            .get(&format!(
                "/services/{}/documents/{}",
                self.service_id, self.doc_id
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }

    async fn head(&self) -> TreeHead {
        let anon = self.app.anon();
        serde_json::from_value(
            anon.json_ok(anon.get("/log/head").await, StatusCode::OK)
                .await,
        )
        .unwrap()
    }

    async fn certificate(&self) -> Value {
        self.party
            .json_ok(
                self.party
                    .get(&format!("/services/{}/certificate", self.service_id))
                    .await,
                StatusCode::OK,
            )
            .await
    }

    fn data_dir(&self) -> &Path {
        &self.app.state.settings.data_dir
    }

    fn audit(&self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
        cmd.arg("audit")
            .arg("--data-dir")
            .arg(self.data_dir())
            .env("SONGDA_LOG", "warn");
        self.backing.apply_to(&mut cmd);
        cmd.output().expect("the songda binary runs")
    }

    /// A connection of our own to the database, as a rogue operator would open.
    async fn sql(&self) -> AnyConnection {
        let url = match &self.backing.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir().join("songda.db").display()),
        };
        AnyConnection::connect(&url).await.unwrap()
    }
}

fn said(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn expect(o: &Output, code: i32, says: &[&str]) {
    let text = said(o);
    assert_eq!(o.status.code(), Some(code), "{text}");
    for s in says {
        assert!(text.contains(s), "expected {s:?} in:\n{text}");
    }
}

/// Runs `songda verify` on a certificate (and a document), with the log's keys.
async fn verify(scene: &Scene, cert: &Value, document: Option<&[u8]>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let anon = scene.app.anon();
    let keys = anon
        .json_ok(anon.get("/log/public-key").await, StatusCode::OK)
        .await;
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    std::fs::write(dir.path().join("cert.json"), cert.to_string()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_songda"));
    cmd.arg("verify")
        .arg(dir.path().join("cert.json"))
        .arg("--public-key")
        .arg(dir.path().join("keys.json"));
    if let Some(bytes) = document {
        std::fs::write(dir.path().join("doc.pdf"), bytes).unwrap();
        cmd.arg("--document").arg(dir.path().join("doc.pdf"));
    }
    cmd.output().unwrap()
}

async fn bodies(conn: &mut AnyConnection) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT seq, body FROM evidence ORDER BY seq")
        .fetch_all(conn)
        .await
        .unwrap()
}

/// Rewrites every stored hash from the stored bodies, as a thorough forger would.
async fn rehash_everything(conn: &mut AnyConnection) {
    let rows = bodies(conn).await;
    let mut tree = MemoryTree::default();
    for (seq, body) in &rows {
        let leaf = merkle::leaf_hash(body.as_bytes());
        tree.push(leaf);
        sqlx::query("UPDATE evidence SET leaf_hash = $1 WHERE seq = $2")
            .bind(leaf.to_string())
            .bind(seq)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM log_nodes")
        .execute(&mut *conn)
        .await
        .unwrap();
    let n = rows.len() as u64;
    // Leaves are kept in the events' rows; the node table starts at two leaves.
    for level in 1..64u32 {
        if n >> level == 0 {
            break;
        }
        for idx in 0..(n >> level) {
            sqlx::query("INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)")
                .bind(level as i64)
                .bind(idx as i64)
                .bind(tree.node(level, idx).unwrap().to_string())
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn an_untouched_log_audits_clean() {
    let scene = Scene::new().await;
    let size = scene.head().await.size;
    expect(
        &scene.audit(),
        0,
        &[
            &format!("entries    {size} recomputed"),
            "1 re-hashed",
            "CLEAN",
        ],
    );
}

#[tokio::test]
async fn one_changed_byte_of_one_stored_event_is_caught_even_when_every_hash_is_redone() {
    let scene = Scene::new().await;
    let kept = scene.certificate().await;
    let mut conn = scene.sql().await;
    // The sign-off event gets another time: one digit.
    let (seq, body): (i64, String) =
        sqlx::query_as("SELECT seq, body FROM evidence WHERE event_type = 'ConsignmentAcceptance'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let at = body.find("\"at\":\"2").unwrap() + 6;
    let mut forged = body.clone().into_bytes();
    forged[at + 3] = if forged[at + 3] == b'7' { b'8' } else { b'7' };
    let forged = String::from_utf8(forged).unwrap();
    sqlx::query("UPDATE evidence SET body = $1 WHERE seq = $2")
        .bind(&forged)
        .bind(seq)
        .execute(&mut conn)
        .await
        .unwrap();
    let index = seq - 1;
    expect(
        &scene.audit(),
        1,
        &[
            &format!("entry {index} (ConsignmentAcceptance"),
            "do not hash to its recorded leaf",
            &format!("first bad entry: {index} (ConsignmentAcceptance"),
        ],
    );

    // A forger who recomputes every leaf and node still cannot re-sign the heads.
    rehash_everything(&mut conn).await;
    expect(
        &scene.audit(),
        1,
        &[
            "does not match them",
            &format!("first bad entry: between {} and", scene.served_size),
        ],
    );
    // A certificate issued now carries the changed event, whose proof leads to a root
    // that no head signed.
    let fresh = scene.certificate().await;
    expect(
        &verify(&scene, &fresh, None).await,
        1,
        &["not included in the signed tree head"],
    );
    // The certificate kept from before still proves the original record.
    expect(&verify(&scene, &kept, None).await, 0, &["VALID"]);
}

#[tokio::test]
async fn one_changed_byte_of_a_stored_document_is_caught_by_audit_and_by_verify() {
    let scene = Scene::new().await;
    let cert = scene.certificate().await;
    let sha = cert["documents"][0]["sha256"].as_str().unwrap().to_string();
    let original = pdf("民事传票");
    let mut changed = original.clone();
    let last = changed.len() - 10;
    changed[last] ^= 0x01;
    match &scene.backing.blob_url {
        None => {
            let path = scene.data_dir().join("blobs").join(&sha[..2]).join(&sha);
            let mut perms = std::fs::metadata(&path).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&path, perms).unwrap();
            std::fs::write(&path, &changed).unwrap();
        }
        Some(url) => {
            let bucket = url.trim_start_matches("s3://").split('?').next().unwrap();
            let key = format!("{}/{sha}", &sha[..2]);
            overwrite_object(&s3_endpoint(), bucket, &key, changed.clone()).await;
        }
    }
    expect(
        &scene.audit(),
        1,
        &["document «民事传票»", "the file was changed"],
    );
    // What the platform now hands out is not what was served.
    let served_now = scene.open_document().await;
    assert_eq!(served_now, changed);
    expect(
        &verify(&scene, &cert, Some(&served_now)).await,
        1,
        &["is not a document of this service"],
    );
    expect(&verify(&scene, &cert, Some(&original)).await, 0, &["VALID"]);
}

#[tokio::test]
async fn dropping_the_last_events_and_appending_others_is_caught_by_audit_and_by_a_kept_head() {
    let scene = Scene::new().await;
    let kept = scene.head().await;
    let mut conn = scene.sql().await;
    // Drop the last two events, and their hashes, as if they had never been.
    let keep = kept.size as i64 - 2;
    sqlx::query("DELETE FROM evidence WHERE seq > $1")
        .bind(keep)
        .execute(&mut conn)
        .await
        .unwrap();
    rehash_everything(&mut conn).await;
    // Other events take their places: the party opens the document twice more.
    for _ in 0..3 {
        scene.open_document().await;
    }
    let now = scene.head().await;
    assert_eq!(now.size, kept.size + 1);

    // The audit finds the head signed over the original entries.
    expect(
        &scene.audit(),
        1,
        &[
            &format!("for the first {} entries does not match them", kept.size),
            &format!(
                "first bad entry: between {} and {}",
                scene.served_size,
                kept.size - 1
            ),
        ],
    );

    // A forger who also deletes the stored heads leaves the audit nothing to compare;
    // whoever kept a head can still tell: the new log does not extend the one they saw.
    sqlx::query("DELETE FROM tree_heads WHERE size > $1")
        .bind(keep)
        .execute(&mut conn)
        .await
        .unwrap();
    let now = scene.head().await;
    let anon = scene.app.anon();
    let v = anon
        .json_ok(
            anon.get(&format!(
                "/log/consistency?from={}&to={}",
                kept.size, now.size
            ))
            .await,
            StatusCode::OK,
        )
        .await;
    let proof: Vec<Hash> = v["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect();
    let (old_root, new_root): (Hash, Hash) =
        (kept.root.parse().unwrap(), now.root.parse().unwrap());
    assert!(
        merkle::verify_consistency(kept.size, now.size, &old_root, &new_root, &proof).is_err(),
        "the rewritten log must not prove consistent with the kept head"
    );
}
