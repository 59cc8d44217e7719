//! Evidence append throughput on the embedded database (SQLite through sqlx, WAL): events
//! appended with their Merkle leaves and nodes, in batches of several sizes, one
//! transaction per batch. Issue target: at least 50,000 events/s in batches.
//!
//! Then `songda audit`'s pass over the resulting log (issue target: the audit math at
//! 1,000,000 leaves/s; this measures it end to end, reading from the database).
//!
//! `cargo bench -p songda --bench append` (add `-- --postgres URL` to measure PostgreSQL).

use songda::store::{Location, Store};
use songda_core::consent::Channel;
use songda_core::document::{DocType, Sha256Hex};
use songda_core::evidence::{
    Actor, CaseRef, ClientInfo, DocumentRef, Event, EventType, RecipientRef,
};
use songda_core::ids::{CaseId, DocumentId, PartyId, ServiceId};
use songda_core::party::PartyRole;
use std::time::Instant;

/// The cases and services events are spread over, as on a court's platform.
struct Spread {
    cases: Vec<CaseId>,
    services: Vec<ServiceId>,
    parties: Vec<PartyId>,
}

impl Spread {
    fn new() -> Self {
        Self {
            cases: (0..1_000).map(|_| CaseId::new()).collect(),
            services: (0..10_000).map(|_| ServiceId::new()).collect(),
            parties: (0..5_000).map(|_| PartyId::new()).collect(),
        }
    }
}

/// A recipient's view of a document: a typical event, about 800 bytes canonical, in one of
/// 1,000 cases and 10,000 services.
fn event(i: u64, spread: &Spread) -> Event {
    // Scattered, not in order: a busy platform interleaves its cases.
    let k = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as usize;
    let mut e = Event::new(
        EventType::ContentAccessTracking,
        format!("2026-11-29T08:{:02}:{:02}.000000Z", i / 60 % 60, i % 60),
        Actor {
            kind: "party".into(),
            user_id: None,
            name: "李四".into(),
        },
    );
    e.case = Some(CaseRef {
        id: spread.cases[k % spread.cases.len()],
        case_number: "（2026）京0105民初12345号".into(),
        court: "北京市朝阳区人民法院".into(),
    });
    e.service_id = Some(spread.services[k % spread.services.len()]);
    e.documents = vec![DocumentRef {
        id: DocumentId::new(),
        title: "民事判决书".into(),
        doc_type: DocType::Judgment,
        sha256: Sha256Hex::parse(&format!("{:064x}", i)).unwrap(),
    }];
    e.recipient = Some(RecipientRef {
        party_id: spread.parties[k % spread.parties.len()],
        name: "李四".into(),
        role: PartyRole::Defendant,
    });
    e.channel = Some(Channel::Platform);
    e.regime = Some("CPL2021-A90".into());
    e.client = Some(ClientInfo {
        ip: "203.0.113.7".into(),
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148".into(),
    });
    e
}

async fn run(store: &Store, spread: &Spread, batch: usize, total: usize) -> f64 {
    let events: Vec<Event> = (0..total as u64).map(|i| event(i, spread)).collect();
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        store.append_events(chunk).await.expect("append");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let postgres = args
        .iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1).cloned());
    let dir = tempfile::tempdir().unwrap();
    let (location, name) = match postgres {
        Some(url) => (Location::Postgres(url), "PostgreSQL"),
        None => (
            Location::SqliteFile(dir.path().join("bench.db")),
            "SQLite (WAL, synchronous=NORMAL)",
        ),
    };
    let store = Store::open(&location).await.expect("open the store");
    println!(
        "evidence append on {name}, ~{} bytes per event",
        event(0, &Spread::new()).canonical_bytes().unwrap().len()
    );
    let spread = Spread::new();
    let events: Vec<Event> = (0..100_000u64).map(|i| event(i, &spread)).collect();
    let started = Instant::now();
    let mut bytes = 0;
    for e in &events {
        let body = e.canonical_bytes().unwrap();
        bytes += songda_core::merkle::leaf_hash(&body).as_ref()[0] as usize + body.len();
    }
    println!(
        "  encoding and hashing alone: {:>9.0} events/s ({bytes} bytes)",
        events.len() as f64 / started.elapsed().as_secs_f64()
    );
    for (batch, total) in [(1, 2_000), (10, 20_000), (100, 100_000), (1_000, 200_000)] {
        let rate = run(&store, &spread, batch, total).await;
        println!("  batches of {batch:>5}: {rate:>9.0} events/s ({total} events)");
    }
    let size = store.log_size().await.unwrap();
    let started = Instant::now();
    let root = store.log_root(size).await.unwrap();
    println!(
        "  log of {size} leaves, root {root} read in {:?}",
        started.elapsed()
    );
    // `songda audit` on this log (no documents): read, re-hash and compare everything.
    let report = songda::audit::run(&store, None).await.expect("audit");
    assert!(report.clean(), "{}", report.to_text());
    println!(
        "  audit of the whole log: {:>9.0} entries/s ({} entries, {} nodes compared, {:.2} s)",
        report.entries as f64 / report.elapsed.as_secs_f64(),
        report.entries,
        report.nodes,
        report.elapsed.as_secs_f64()
    );
    store.close().await;
}
