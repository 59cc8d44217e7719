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

/// A recipient's view of a document: a typical event, about 800 bytes canonical.
fn event(case: CaseId, service: ServiceId, party: PartyId, i: u64) -> Event {
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
        id: case,
        case_number: "（2026）京0105民初12345号".into(),
        court: "北京市朝阳区人民法院".into(),
    });
    e.service_id = Some(service);
    e.documents = vec![DocumentRef {
        id: DocumentId::new(),
        title: "民事判决书".into(),
        doc_type: DocType::Judgment,
        sha256: Sha256Hex::parse(&format!("{:064x}", i)).unwrap(),
    }];
    e.recipient = Some(RecipientRef {
        party_id: party,
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

/// How a workload picks the case and service of its `i`-th event.
#[derive(Clone, Copy)]
enum Workload {
    /// Serving acts: each batch is one case's new services (two events each), the use of
    /// batches (a clerk serving a document on every party of a case).
    ServingActs,
    /// Every event in a random one of 1,000 cases and 10,000 services: the worst case for
    /// the indexes, each event touching another page.
    Scattered,
}

fn events(spread: &Spread, workload: Workload, batch: usize, total: usize) -> Vec<Event> {
    let mut services = Vec::new();
    (0..total as u64)
        .map(|i| {
            let k = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 11) as usize;
            let party = spread.parties[k % spread.parties.len()];
            match workload {
                Workload::ServingActs => {
                    let act = i as usize / batch;
                    let case = spread.cases[act.wrapping_mul(7919) % spread.cases.len()];
                    if i % 2 == 0 {
                        services.push(ServiceId::new());
                    }
                    event(case, *services.last().unwrap(), party, i)
                }
                Workload::Scattered => event(
                    spread.cases[k % spread.cases.len()],
                    spread.services[k % spread.services.len()],
                    party,
                    i,
                ),
            }
        })
        .collect()
}

async fn run(store: &Store, events: &[Event], batch: usize) -> f64 {
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        store.append_events(chunk).await.expect("append");
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
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
    let spread = Spread::new();
    let sample = events(&spread, Workload::Scattered, 1, 100_000);
    println!(
        "evidence append on {name}, ~{} bytes per event",
        sample[0].canonical_bytes().unwrap().len()
    );
    let started = Instant::now();
    let mut bytes = 0;
    for e in &sample {
        let body = e.canonical_bytes().unwrap();
        bytes += songda_core::merkle::leaf_hash(&body).as_ref()[0] as usize + body.len();
    }
    println!(
        "  encoding and hashing alone: {:>9.0} events/s ({bytes} bytes)",
        sample.len() as f64 / started.elapsed().as_secs_f64()
    );
    for (workload, name) in [
        (Workload::ServingActs, "serving acts, one case each"),
        (Workload::Scattered, "scattered over 1,000 cases"),
    ] {
        for (batch, total) in [(1, 2_000), (10, 20_000), (100, 50_000), (1_000, 200_000)] {
            let rate = run(&store, &events(&spread, workload, batch, total), batch).await;
            println!("  {name}, batches of {batch:>5}: {rate:>9.0} events/s ({total} events)");
        }
    }
    let size = store.log_size().await.unwrap();
    let started = Instant::now();
    let root = store.log_root(size).await.unwrap();
    println!(
        "  log of {size} leaves, root {root} read in {:?}",
        started.elapsed()
    );
    // `songda audit` on this log (no documents): read, re-hash and compare everything.
    let report = songda::audit::run(&store, None, &[]).await.expect("audit");
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
