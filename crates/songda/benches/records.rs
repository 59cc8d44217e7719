//! Finding records on the embedded database: 100,000 services across 1,000 cases, one
//! of them with 500 parties. Measures, over repeated queries, the p50 and p95 of
//!
//! - a lawyer's list (bound to a party in every case, about 5,000 services): the first
//!   page, a filtered page, and searches by a fragment of a Chinese title of two and of
//!   three or more characters (the trigram index), each with its counts by status;
//! - a clerk's lists across the court's 100,000 services: the first page, searches of two
//!   and of four characters and by a party's name, and those pending for more than 3 days;
//! - the clerk's board of the 500-party case (every service of the case with its
//!   documents, party and case, and every notification about them, as the case page
//!   reads them).
//!
//! Issue targets: search and filtered listing p95 under 50 ms; the 500-party board under
//! 100 ms. `cargo bench -p songda --bench records`
//!
//! The data set is written straight into the schema in one transaction (building it
//! through the service flow would take far longer and measure something else).

use songda::store::{Location, Scope, ServiceQuery, Sort, StatusFilter, Store};
use songda_core::document::DocType;
use songda_core::ids::{CaseId, CourtId, UserId};
use std::time::Instant;

const CASES: usize = 1_000;
const SERVICES: usize = 100_000;
const BIG_CASE_PARTIES: usize = 500;
const TITLES: [(&str, &str); 6] = [
    ("民事判决书", "judgment"),
    ("民事裁定书（管辖权异议）", "ruling"),
    ("应诉通知书", "notice"),
    ("开庭传票", "summons"),
    ("起诉状副本", "complaint_copy"),
    ("证据材料（第一组）", "evidence"),
];

struct Data {
    court: CourtId,
    lawyer: UserId,
    big_case: CaseId,
}

async fn build(path: &std::path::Path) -> Data {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let t = "2026-11-01T00:00:00.000000Z";
    let court = CourtId::new();
    let clerk = UserId::new();
    let lawyer = UserId::new();
    sqlx::query("INSERT INTO courts (id, name, created_at) VALUES (?, '北京市朝阳区人民法院', ?)")
        .bind(court.to_string())
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    for (id, role, login, court_id) in [
        (clerk, "clerk", Some("clerk"), Some(court.to_string())),
        (lawyer, "party", None, None),
    ] {
        sqlx::query(
            "INSERT INTO users (id, role, name, login, phone, password_hash, court_id, created_at)
             VALUES (?, ?, ?, ?, ?, 'x', ?, ?)",
        )
        .bind(id.to_string())
        .bind(role)
        .bind(if role == "clerk" {
            "书记员"
        } else {
            "王律师"
        })
        .bind(login)
        .bind(if role == "party" {
            Some("13900000000")
        } else {
            None
        })
        .bind(court_id)
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let mut big_case = None;
    let mut n = 0usize;
    for c in 0..CASES {
        let case = CaseId::new();
        let number = format!("(2026)京0105民初{:05}号", 10_000 + c);
        sqlx::query("INSERT INTO cases (id, court_id, case_number, case_key, title, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(case.to_string()).bind(court.to_string()).bind(&number).bind(&number)
            .bind(format!("张{c}诉李{c}买卖合同纠纷")).bind(clerk.to_string()).bind(t)
            .execute(&mut *tx).await.unwrap();
        // Case 0 has 500 parties served once each; the others share the rest out.
        let (parties, services) = if c == 0 {
            big_case = Some(case);
            (BIG_CASE_PARTIES, BIG_CASE_PARTIES)
        } else {
            (
                20,
                (SERVICES - BIG_CASE_PARTIES) / (CASES - 1)
                    + usize::from(c <= (SERVICES - BIG_CASE_PARTIES) % (CASES - 1)),
            )
        };
        let mut docs = Vec::new();
        for (title, doc_type) in TITLES {
            let id = uuid::Uuid::new_v4().to_string();
            sqlx::query("INSERT INTO documents (id, case_id, title, doc_type, sha256, size, page_count, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, 1000, 2, ?, ?)")
                .bind(&id).bind(case.to_string()).bind(title).bind(doc_type).bind(format!("{:064x}", n))
                .bind(clerk.to_string()).bind(t).execute(&mut *tx).await.unwrap();
            docs.push((id, title));
        }
        let mut party_ids = Vec::new();
        for p in 0..parties {
            let id = uuid::Uuid::new_v4().to_string();
            // The lawyer represents the first party of every case.
            let bound = (p == 0).then(|| lawyer.to_string());
            sqlx::query("INSERT INTO parties (id, case_id, name, role, phone, binding_code_hmac, bound_user_id, created_by, created_at) VALUES (?, ?, ?, 'defendant', '13800000000', ?, ?, ?, ?)")
                .bind(&id).bind(case.to_string()).bind(format!("当事人{c}-{p}")).bind(uuid::Uuid::new_v4().to_string())
                .bind(bound).bind(clerk.to_string()).bind(t).execute(&mut *tx).await.unwrap();
            party_ids.push((id, format!("当事人{c}-{p}")));
        }
        for s in 0..services {
            let id = uuid::Uuid::new_v4().to_string();
            let (party, party_name) = &party_ids[s % parties];
            let (doc, title) = &docs[(s / parties) % docs.len()];
            let at = format!(
                "2026-11-{:02}T{:02}:{:02}:00.000000Z",
                1 + n % 28,
                n / 60 % 24,
                n % 60
            );
            let stage = ["deposited", "viewed", "signed", "signed", "refused"][n % 5];
            sqlx::query("INSERT INTO services (id, case_id, party_id, stage, regime, provenance, consent_basis, consent_version, deposited_at, served_at, service_rule, created_by, created_at) VALUES (?, ?, ?, ?, 'CPL2021-A90', 'confirmed', 'prior_agreement', 1, ?, ?, 'inbox_deposit_confirmed_address', ?, ?)")
                .bind(&id).bind(case.to_string()).bind(party).bind(stage).bind(&at).bind(&at).bind(clerk.to_string()).bind(&at)
                .execute(&mut *tx).await.unwrap();
            sqlx::query("INSERT INTO service_documents (service_id, document_id, position) VALUES (?, ?, 0)")
                .bind(&id).bind(doc).execute(&mut *tx).await.unwrap();
            let body = format!(
                "{number} 张{c}诉李{c}买卖合同纠纷 北京市朝阳区人民法院 {party_name} {title}"
            );
            sqlx::query("INSERT INTO service_search (service_id, body, court_id, case_id, stage, deposited_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(&id)
                .bind(&body)
                .bind(court.to_string())
                .bind(case.to_string())
                .bind(stage)
                .bind(&at)
                .bind(&at)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("INSERT INTO service_search_pairs (rowid, pairs) SELECT id, ? FROM service_search WHERE service_id = ?")
                .bind(pairs(&body))
                .bind(&id)
                .execute(&mut *tx)
                .await
                .unwrap();
            n += 1;
        }
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(n, SERVICES);
    Data {
        court,
        lawyer,
        big_case: big_case.unwrap(),
    }
}

/// The distinct pairs of adjacent characters of `body`, space-separated, as the store
/// writes them for its index of two-character terms.
fn pairs(body: &str) -> String {
    let chars: Vec<char> = body.chars().collect();
    let mut seen = std::collections::HashSet::new();
    chars
        .windows(2)
        .map(|w| w.iter().collect::<String>())
        .filter(|p| seen.insert(p.clone()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// p50 and p95 of `runs` timed calls, in milliseconds.
async fn time<F, Fut>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f().await);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[runs * 95 / 100])
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    // RECORDS_BENCH_DB keeps the data set there, for a look at the query plans.
    let path = std::env::var_os("RECORDS_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("songda.db"));
    let _ = std::fs::remove_file(&path);
    let location = Location::SqliteFile(path.clone());
    Store::open(&location).await.unwrap().close().await;
    let t = Instant::now();
    let data = build(&path).await;
    println!(
        "data set: {SERVICES} services in {CASES} cases, built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let store = Store::open(&location).await.unwrap();
    let lawyer = Scope::User(data.lawyer);
    let court = Scope::Court(data.court);
    let page = |q: ServiceQuery| ServiceQuery { limit: 20, ..q };
    let mut report = Vec::new();
    for (name, scope, q) in [
        ("lawyer: first page", lawyer, page(ServiceQuery::default())),
        (
            "lawyer: pending judgments, newest",
            lawyer,
            page(ServiceQuery {
                status: Some(StatusFilter::Pending),
                doc_type: Some(DocType::Judgment),
                sort: Sort::Newest,
                ..Default::default()
            }),
        ),
        (
            "lawyer: search 2 chars '判决'",
            lawyer,
            page(ServiceQuery {
                q: Some("判决".into()),
                ..Default::default()
            }),
        ),
        (
            "lawyer: search 4 chars '管辖权异'",
            lawyer,
            page(ServiceQuery {
                q: Some("管辖权异".into()),
                ..Default::default()
            }),
        ),
        (
            "lawyer: search case number '民初10500'",
            lawyer,
            page(ServiceQuery {
                q: Some("民初10500".into()),
                ..Default::default()
            }),
        ),
        (
            "clerk: court-wide first page",
            court,
            page(ServiceQuery::default()),
        ),
        (
            "clerk: court-wide search 2 chars '判决'",
            court,
            page(ServiceQuery {
                q: Some("判决".into()),
                ..Default::default()
            }),
        ),
        (
            "clerk: court-wide search '管辖权异'",
            court,
            page(ServiceQuery {
                q: Some("管辖权异".into()),
                ..Default::default()
            }),
        ),
        (
            "clerk: court-wide search party '当事人77-3'",
            court,
            page(ServiceQuery {
                q: Some("当事人77-3".into()),
                ..Default::default()
            }),
        ),
        (
            "clerk: court-wide pending > 3 days",
            court,
            page(ServiceQuery {
                pending_since: Some(time::macros::datetime!(2026-11-20 0:00 UTC)),
                sort: Sort::Oldest,
                ..Default::default()
            }),
        ),
    ] {
        let (p50, p95) = time(50, || {
            let (store, q) = (&store, &q);
            async move {
                let (page, counts) = store.list_services(scope, q).await.unwrap();
                page.items.len() + counts.all() as usize
            }
        })
        .await;
        let total = store.list_services(scope, &q).await.unwrap().0.total;
        report.push((name.to_string(), total, p50, p95));
    }
    let board = |store: &Store| {
        let store = store.clone();
        async move {
            let services = store.services_of_case(data.big_case).await.unwrap();
            let notices = store.case_notifications(data.big_case).await.unwrap();
            services.len() + notices.len()
        }
    };
    let (p50, p95) = time(30, || board(&store)).await;
    let rows = store.services_of_case(data.big_case).await.unwrap().len() as i64;
    report.push(("clerk: board of the 500-party case".into(), rows, p50, p95));
    println!(
        "{:<48} {:>8} {:>9} {:>9}",
        "query (page of 20 with counts)", "matches", "p50 ms", "p95 ms"
    );
    for (name, total, p50, p95) in report {
        println!("{name:<48} {total:>8} {p50:>9.2} {p95:>9.2}");
    }
    store.close().await;
}
