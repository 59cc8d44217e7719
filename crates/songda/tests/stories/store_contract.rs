//! The store contract: the same rules checked on both backends.
//!
//! Each rule is written once, as an `async fn` taking a fresh empty [`Db`]; `contract!`
//! turns it into `sqlite::<rule>` (a new file in a temp dir) and `postgres::<rule>` (a new
//! database on the test server), whatever `SONGDA_TEST_BACKEND` says. Times are explicit
//! (`at(seconds)` after a fixed start), so windows and leases run out on cue; racing
//! tasks start together behind a barrier.

use crate::backends::fresh_postgres_database;
use futures_util::future::join_all;
use songda::messages::phone_code_sms;
use songda::store::*;
use songda_core::consent::{Channel, ConsentBasis, Provenance};
use songda_core::evidence::{Actor, Event, EventType};
use songda_core::ids::{CaseId, CourtId, DocumentId, PartyId, ServiceId, UserId};
use songda_core::service::{RefusalReason, ServiceState, Stage};
use songda_core::{case::CaseNumber, document::*, party::PartyRole, timefmt::rfc3339};
use sqlx::Connection;
use std::{collections::HashSet, fmt::Debug, future::Future, sync::Arc};
use time::{Duration, OffsetDateTime, macros::datetime};

/// Two tests per rule, one per backend, each on a multi-threaded runtime so that racing
/// tasks really run at once.
macro_rules! contract {
    ($($rule:ident),* $(,)?) => {
        contract!(@on sqlite, $($rule),*);
        contract!(@on postgres, $($rule),*);
    };
    (@on $db:ident, $($rule:ident),*) => {
        mod $db {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $rule() {
                super::$rule(super::Db::$db().await).await;
            })*
        }
    };
}

contract! {
    opening_again_applies_nothing_and_the_schema_table_has_both_versions,
    upgrading_to_court_lists_fills_the_search_rows_of_existing_services,
    a_taken_login_phone_or_email_is_a_conflict_naming_it_even_when_sign_ups_race,
    a_court_is_made_once_however_calls_race_and_a_case_number_is_unique_within_it,
    a_party_binds_once_however_binds_race_and_a_lost_bind_leaves_no_event,
    a_service_closes_once_however_outcomes_race_and_a_lost_one_writes_nothing,
    a_change_whose_message_or_evidence_cannot_be_written_leaves_nothing_behind,
    concurrent_consent_records_each_get_the_next_version,
    a_rate_limit_allows_the_maximum_per_window_even_when_hits_race,
    concurrent_guesses_at_a_phone_code_get_exactly_the_maximum_tries,
    queued_messages_wait_for_their_time_and_lease_and_are_retried_or_finished,
    concurrent_claims_never_hand_one_message_to_two_workers_nor_lose_one,
    concurrent_appends_number_the_log_without_gaps_and_keep_each_writers_order,
    the_first_deployment_fact_wins_even_when_processes_race,
    unknown_ids_are_not_found_never_another_error,
    every_event_is_a_leaf_of_the_log_whose_roots_and_proofs_verify,
}

// --- Fixtures ----------------------------------------------------------------------------

/// A fresh, empty database on one backend, and the temp dir that holds a SQLite file.
pub struct Db(Location, #[allow(dead_code)] Option<tempfile::TempDir>);

impl Db {
    async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("songda.db");
        Db(Location::SqliteFile(file), Some(dir))
    }

    async fn postgres() -> Db {
        Db(Location::Postgres(fresh_postgres_database().await), None)
    }

    async fn open(&self) -> Store {
        Store::open(&self.0).await.expect("store opens")
    }
}

const T0: OffsetDateTime = datetime!(2026-11-29 08:00 UTC);
const MINUTE: Duration = Duration::seconds(60);
const CASE_NUMBER: &str = "(2026)京0105民初1号";
/// The HMAC of the world's binding code.
const CODE: &str = "binding-code-hmac";

/// `secs` seconds after the start of every test's clock.
fn at(secs: i64) -> OffsetDateTime {
    T0 + Duration::seconds(secs)
}

fn key_of(number: &str) -> String {
    CaseNumber::parse(number).expect("case number").key()
}

fn account<'a>(role: Role, login: Option<&'a str>, phone: Option<&'a str>) -> NewUser<'a> {
    NewUser {
        role,
        name: "测试用户",
        login,
        phone,
        email: None,
        password_hash: "$argon2id$not-a-real-hash",
        phone_verified_at: None,
        court_id: None,
    }
}

async fn party_user(store: &Store, phone: &str) -> UserId {
    let new = account(Role::Party, None, Some(phone));
    store.create_user(&new, T0).await.expect("account").id
}

async fn new_case(store: &Store, court: CourtId, number: &str, by: UserId) -> Result<CaseRecord> {
    let (key, title) = (key_of(number), "Apple Inc诉李四合同纠纷");
    store.create_case(court, number, &key, title, by, T0).await
}

fn event(kind: EventType) -> Event {
    Event::new(kind, rfc3339(T0), Actor::system())
}

/// A code SMS as the app queues one at `now`, keyed by `key`; its body is the key too, so
/// claims can be told apart.
fn note(key: &str, now: OffsetDateTime) -> NewNotification {
    let templates = songda::notify::templates::Templates::builtin();
    let mut n = phone_code_sms(&templates, "13900000000", "123456".into(), key, now);
    n.body = key.into();
    n
}

/// A message the outbox must refuse: its channel breaks a CHECK rule.
fn unqueueable(key: &str) -> NewNotification {
    let mut n = note(key, T0);
    n.channel = "fax";
    n
}

fn code(phone: &str, hmac: &str) -> NewPhoneCode {
    NewPhoneCode {
        phone: phone.into(),
        code_hmac: hmac.into(),
        expires_at: at(600),
        sent_at: T0,
    }
}

/// Queues each message through a public method that enqueues one: a code resend.
async fn queue(store: &Store, notes: &[NewNotification]) {
    for n in notes {
        let c = code("13900000000", "hmac");
        store.resend_phone_code(&c, n).await.expect("queued");
    }
}

async fn outbox(store: &Store) -> Vec<Notification> {
    store.recent_notifications(100_000).await.expect("outbox")
}

async fn claim(store: &Store, limit: i64, now: OffsetDateTime) -> Vec<Notification> {
    let claimed = store.claim_notifications(limit, MINUTE, now);
    claimed.await.expect("claim")
}

fn bodies(ns: &[Notification]) -> Vec<&str> {
    ns.iter().map(|n| n.body.as_str()).collect()
}

/// How many evidence events and outbox messages the store holds.
async fn counts(store: &Store) -> (i64, usize) {
    let events = store.evidence_count().await.unwrap();
    (events, outbox(store).await.len())
}

#[track_caller]
fn conflict<T: Debug>(r: &Result<T>, code: &str) {
    let ok = matches!(r, Err(StoreError::Conflict(c)) if *c == code);
    assert!(ok, "want {code}: {r:?}");
}

/// A failure of the database itself (a constraint), not a rule the store checks.
#[track_caller]
fn db_error<T: Debug>(r: &Result<T>) {
    assert!(matches!(r, Err(StoreError::Db(_))), "{r:?}");
}

/// The one success among racing calls; every other one lost with one of `codes`.
#[track_caller]
fn one_winner<'r, T: Debug>(results: &'r [Result<T>], codes: &[&str]) -> &'r T {
    let won: Vec<&T> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        let lost = matches!(r, Err(StoreError::Conflict(c)) if codes.contains(c));
        assert!(lost, "want a conflict {codes:?}: {r:?}");
    }
    won[0]
}

/// Runs `task(ctx, i)` for each i in 0..n at once, from a barrier; the results in order.
async fn race<C: Clone, T, Fut>(ctx: &C, n: usize, task: impl Fn(C, usize) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks = (0..n).map(|i| {
        let (barrier, work) = (barrier.clone(), task(ctx.clone(), i));
        tokio::spawn(async move {
            barrier.wait().await;
            work.await
        })
    });
    let done = join_all(tasks.collect::<Vec<_>>()).await;
    done.into_iter().map(|r| r.expect("task ran")).collect()
}

/// A court, its clerk, a case, and a party with `CODE` whose consent the clerk recorded.
struct World {
    clerk: UserId,
    case: CaseRecord,
    party: PartyId,
}

async fn world(store: &Store) -> World {
    let court = store.ensure_court("朝阳法院", T0).await.unwrap().id;
    let mut clerk = account(Role::Clerk, Some("clerk"), None);
    clerk.court_id = Some(court);
    let clerk = store.create_user(&clerk, T0).await.unwrap().id;
    let case = new_case(store, court, CASE_NUMBER, clerk).await.unwrap();
    let new = NewParty {
        case_id: case.id,
        name: "李四",
        role: PartyRole::Defendant,
        phone: "13900000001",
        email: None,
        binding_code_hmac: CODE,
    };
    let c = consent(ConsentBasis::FilingAddress);
    let e = event(EventType::AddressConfirmation);
    let party = store.add_party(&new, Some((&c, &e)), &[], clerk, T0).await;
    let party = party.unwrap().id;
    World { clerk, case, party }
}

fn consent(basis: ConsentBasis) -> NewConsent<'static> {
    NewConsent {
        basis: Some(basis),
        channels: &[Channel::Platform, Channel::Sms],
        phone: Some("13900000001"),
        email: None,
        provenance: Provenance::Confirmed,
        notice_version: None,
    }
}

type Served = (ServiceId, DocumentId, Result<()>);

/// Tries to serve a new document on the world's party, with these events (of the service).
async fn try_serve(store: &Store, w: &World, events: &[Event]) -> Served {
    let sha256 = Sha256Hex::from_bytes(&[7; 32]);
    let doc = NewDocument {
        case_id: w.case.id,
        title: "传票",
        doc_type: DocType::Summons,
        sha256: &sha256,
        size: 9,
        page_count: 1,
        time_limit: None,
        corrects: None,
    };
    let docs = vec![store.add_document(&doc, w.clerk, T0).await.unwrap().id];
    let (id, case_id, party_id) = (ServiceId::new(), w.case.id, w.party);
    let new = NewService {
        id,
        case_id,
        party_id,
        regime: "CPL2023",
        provenance: Provenance::Confirmed,
        consent_basis: ConsentBasis::FilingAddress,
        consent_version: 1,
        deposited_at: T0,
        legal: None,
        document_ids: docs.clone(),
        created_by: w.clerk,
    };
    let decision = NewPolicyDecision {
        case_id,
        party_id,
        document_ids: &docs,
        permitted: true,
        regime: Some("CPL2023"),
        reason_code: None,
        explanation: "confirmed address",
        decided_by: w.clerk,
        decided_at: T0,
    };
    let notes = [note(&format!("service:{id}"), T0)];
    let mut events = events.to_vec();
    events.iter_mut().for_each(|e| e.service_id = Some(id));
    let r = store.create_service(&new, &decision, &events, &notes).await;
    (id, docs[0], r)
}

/// A service and its state as a request read it.
type Read = (ServiceId, ServiceState);

/// A service just deposited, and its state as a request would read it.
async fn serve(store: &Store, w: &World) -> Read {
    let (id, _, r) = try_serve(store, w, &[event(EventType::ContentConsignment)]).await;
    r.expect("service created");
    (id, store.service(id).await.unwrap().service.state())
}

/// Signs (`true`) or refuses a service at 60s, from the state its request read.
async fn decide(store: &Store, read: &Read, sign: bool, n: &[NewNotification]) -> Result<()> {
    let (id, mut state) = read.clone();
    let (kind, refusal) = if sign {
        state.sign(at(60)).unwrap();
        (EventType::ConsignmentAcceptance, None)
    } else {
        state.refuse(at(60)).unwrap();
        let refusal = (RefusalReason::Other, Some("not mine"));
        (EventType::ConsignmentRejection, Some(refusal))
    };
    let mut e = event(kind);
    e.service_id = Some(id);
    store.record_outcome(id, &state, refusal, &e, n).await
}

/// Asserts that each call's result matches the pattern.
macro_rules! each {
    ($pat:pat => $($call:expr),+ $(,)?) => {$(
        let r = $call.await;
        assert!(matches!(r, $pat), "{}: {r:?}", stringify!($call));
    )+};
}

// --- Migrations and uniqueness ----------------------------------------------------------

/// Migration 13 copies each existing service's court, case, stage and times to its search
/// row, where a court's lists read them (and, on SQLite, indexes its character pairs).
async fn upgrading_to_court_lists_fills_the_search_rows_of_existing_services(db: Db) {
    let store = Store::connect(&db.0).await.unwrap();
    assert_eq!(migrate_through(&store, 12).await.unwrap(), 12);
    let url = match &db.0 {
        Location::SqliteFile(p) => format!("sqlite://{}", p.display()),
        Location::Postgres(u) => u.clone(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let (court, clerk, case, party) = (
        CourtId::new().to_string(),
        UserId::new().to_string(),
        CaseId::new().to_string(),
        PartyId::new().to_string(),
    );
    let t = "2026-11-02T03:04:05.000000Z";
    // What a release of schema 12 wrote for a case with two services.
    let rows: [(&str, &[&str]); 4] = [
        (
            "INSERT INTO courts (id, name, created_at) VALUES ($1, '北京市朝阳区人民法院', $2)",
            &[&court, t],
        ),
        (
            "INSERT INTO users (id, role, name, login, password_hash, court_id, created_at)
             VALUES ($1, 'clerk', '书记员', 'clerk', 'x', $2, $3)",
            &[&clerk, &court, t],
        ),
        (
            "INSERT INTO cases (id, court_id, case_number, case_key, title, created_by, created_at)
             VALUES ($1, $2, $3, $3, '张三诉李四', $4, $5)",
            &[&case, &court, CASE_NUMBER, &clerk, t],
        ),
        (
            "INSERT INTO parties (id, case_id, name, role, phone, binding_code_hmac, created_by, created_at)
             VALUES ($1, $2, '李四', 'defendant', '13800000000', 'h', $3, $4)",
            &[&party, &case, &clerk, t],
        ),
    ];
    for (sql, binds) in rows {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut conn).await.unwrap();
    }
    let (viewed, refused) = (ServiceId::new().to_string(), ServiceId::new().to_string());
    for (id, stage) in [(&viewed, "viewed"), (&refused, "refused")] {
        sqlx::query(
            "INSERT INTO services (id, case_id, party_id, stage, regime, provenance, consent_basis,
                consent_version, deposited_at, created_by, created_at)
             VALUES ($1, $2, $3, $4, 'CPL2021-A90', 'confirmed', 'prior_agreement', 1, $5, $6, $5)",
        )
        .bind(id.as_str())
        .bind(case.as_str())
        .bind(party.as_str())
        .bind(stage)
        .bind(t)
        .bind(clerk.as_str())
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query("INSERT INTO service_search (service_id, body) VALUES ($1, $2)")
            .bind(id.as_str())
            .bind(format!("民事裁定书 李四 {stage}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();

    assert!(migrate(&store).await.unwrap() >= 1);
    let copied: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT court_id, case_id, stage, deposited_at, created_at
         FROM service_search WHERE service_id = $1",
    )
    .bind(viewed.as_str())
    .fetch_all(&mut sqlx::AnyConnection::connect(&url).await.unwrap())
    .await
    .unwrap();
    let expected = (
        court.clone(),
        case,
        "viewed".to_string(),
        t.into(),
        t.into(),
    );
    assert_eq!(copied, [expected]);
    // The court's lists find them by stage and through the text indexes.
    let scope = Scope::Court(court.parse().unwrap());
    let list = |q: ServiceQuery| {
        let store = &store;
        async move {
            let q = ServiceQuery { limit: 20, ..q };
            let (page, _) = store.list_services(scope, &q).await.unwrap();
            page.items
                .iter()
                .map(|i| i.detail.service.id.to_string())
                .collect::<Vec<_>>()
        }
    };
    let pending = ServiceQuery {
        status: Some(StatusFilter::Pending),
        ..Default::default()
    };
    assert_eq!(list(pending).await, vec![viewed.clone()]);
    let search = ServiceQuery {
        q: Some("裁定书 refused".into()),
        ..Default::default()
    };
    assert_eq!(list(search).await, vec![refused.clone()]);
    // A two-character term (on SQLite through the index of pairs the migration filled).
    let pair = ServiceQuery {
        q: Some("李四".into()),
        ..Default::default()
    };
    assert_eq!(list(pair).await, vec![viewed, refused]);
    store.close().await;
}

async fn opening_again_applies_nothing_and_the_schema_table_has_both_versions(db: Db) {
    // Processes opening a new database together take turns: an advisory lock on
    // PostgreSQL, the write lock on SQLite (a server and `songda migrate` at once).
    let applied = race(&db.0, 4, |location, _| async move {
        let store = Store::connect(&location).await.unwrap();
        migrate(&store).await.unwrap()
    })
    .await;
    assert_eq!(applied.iter().sum::<usize>(), 13, "{applied:?}");
    let (first, second) = (db.open().await, db.open().await);
    assert_eq!(migrate(&first).await.unwrap(), 0);
    assert_eq!(migrate(&second).await.unwrap(), 0);
    let url = match &db.0 {
        Location::SqliteFile(p) => format!("sqlite://{}?mode=ro", p.display()),
        Location::Postgres(u) => u.clone(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let sql = "SELECT version, name FROM schema_migrations ORDER BY version";
    let rows: Vec<(i64, String)> = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
    let versions: Vec<_> = rows.iter().map(|(v, n)| (*v, n.as_str())).collect();
    assert_eq!(
        versions,
        [
            (1, "core_flow"),
            (2, "deployment"),
            (3, "merkle_log"),
            (4, "tree_heads"),
            (5, "certificates"),
            (6, "head_timestamps"),
            (7, "leaves_once"),
            (8, "delivery_reports"),
            (9, "reminders"),
            (10, "email_documents"),
            (11, "time_limits"),
            (12, "records"),
            (13, "court_lists"),
        ]
    );
}

async fn a_taken_login_phone_or_email_is_a_conflict_naming_it_even_when_sign_ups_race(db: Db) {
    let store = db.open().await;
    // Racing sign-ups with one phone make one account. The others see the phone taken
    // or meet the unique index: a conflict either way, never a 500.
    let results = race(&store, 8, |store, i| async move {
        let email = format!("p{i}@example.cn");
        let mut new = account(Role::Party, None, Some("13900000002"));
        new.email = Some(&email);
        store.create_user(&new, T0).await.map(|u| u.id)
    })
    .await;
    let winner = one_winner(&results, &["phone_taken", "account_exists"]);
    let user = store.user_by_phone("13900000002").await.unwrap();
    assert_eq!(&user.unwrap().id, winner);
    let mut first = account(Role::Party, Some("li"), Some("13900000001"));
    first.email = Some("li@example.cn");
    store.create_user(&first, T0).await.unwrap();
    let mut same_email = account(Role::Party, None, None);
    same_email.email = first.email;
    for (new, code) in [
        (account(Role::Party, Some("li"), None), "login_taken"),
        (account(Role::Party, None, first.phone), "phone_taken"),
        (same_email, "email_taken"),
    ] {
        conflict(&store.create_user(&new, T0).await, code);
    }
    // A missing login, phone or email is no value, so it never clashes.
    let admin = account(Role::Admin, None, None);
    store.create_user(&admin, T0).await.unwrap();
    store.create_user(&admin, T0).await.unwrap();
}

async fn a_court_is_made_once_however_calls_race_and_a_case_number_is_unique_within_it(db: Db) {
    let store = db.open().await;
    // Every caller gets the court the first one made (a read-then-insert had the losers of
    // the unique index fail on PostgreSQL).
    let courts = race(&store, 16, |store, _| async move {
        store.ensure_court("朝阳法院", T0).await.map(|c| c.id)
    })
    .await;
    let a = *courts[0].as_ref().unwrap();
    assert!(
        courts.iter().all(|c| c.as_ref().ok() == Some(&a)),
        "{courts:?}"
    );
    let b = store.ensure_court("海淀法院", T0).await.unwrap().id;
    let clerk = party_user(&store, "13900000003").await;
    new_case(&store, a, CASE_NUMBER, clerk).await.unwrap();
    let again = new_case(&store, a, CASE_NUMBER, clerk).await;
    conflict(&again, "case_exists");
    // Written with full-width parentheses, it is the same number.
    let full_width = new_case(&store, a, "（2026）京0105民初1号", clerk).await;
    conflict(&full_width, "case_exists");
    let elsewhere = new_case(&store, b, CASE_NUMBER, clerk).await;
    assert_eq!(elsewhere.unwrap().court_id, b);
    // A search finds the same cases on both backends, whatever the case of its letters
    // (SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
    for q in ["Apple", "apple", "APPLE", "inc诉"] {
        let found = store.cases_of_court(a, Some(q)).await.unwrap();
        assert_eq!(found.len(), 1, "searching {q:?}");
    }
}

// --- Transactions: a change, its evidence and its messages commit together or not at all

async fn a_party_binds_once_however_binds_race_and_a_lost_bind_leaves_no_event(db: Db) {
    let store = db.open().await;
    let (w, key) = (world(&store).await, key_of(CASE_NUMBER));
    assert_eq!(store.find_binding(&key, CODE).await.unwrap().id, w.party);
    let mut users = Vec::new();
    for i in 0..9 {
        users.push(party_user(&store, &format!("1390000002{i}")).await);
    }
    let ((events, _), party) = (counts(&store).await, w.party);
    let results = race(&store, 8, |store, i| {
        let user = users[i];
        async move {
            let e = event(EventType::CaseBinding);
            let bound = store.bind_party(party, user, &e, at(1)).await;
            bound.map(|()| user)
        }
    })
    .await;
    let winner = *one_winner(&results, &["code_used"]);
    assert_eq!(counts(&store).await.0, events + 1, "one binding event");
    // A late bind, long after the race, fails the same way and leaves no event either.
    let e = event(EventType::CaseBinding);
    let late = store.bind_party(party, users[8], &e, at(2)).await;
    conflict(&late, "code_used");
    assert_eq!(counts(&store).await.0, events + 1);
    let p = store.party(party).await.unwrap();
    assert_eq!((p.bound_user_id, p.bound_at), (Some(winner), Some(at(1))));
    conflict(&store.find_binding(&key, CODE).await, "code_used");
}

async fn a_service_closes_once_however_outcomes_race_and_a_lost_one_writes_nothing(db: Db) {
    let store = db.open().await;
    let w = world(&store).await;
    // Every request read the service while it was open.
    let read = serve(&store, &w).await;
    let (events, queued) = counts(&store).await;
    let results = race(&store, 8, |store, i| {
        let read = read.clone();
        async move {
            let (sign, n) = (i % 2 == 0, note(&format!("outcome {i}"), at(60)));
            decide(&store, &read, sign, &[n]).await.map(|()| sign)
        }
    })
    .await;
    let signed = *one_winner(&results, &["service_closed"]);
    let after = (events + 1, queued + 1);
    assert_eq!(counts(&store).await, after, "one event, one message");
    // A late outcome, long after the race: refused, and it appends and queues nothing.
    let late = decide(&store, &read, !signed, &[note("late", at(61))]).await;
    conflict(&late, "service_closed");
    assert_eq!(counts(&store).await, after);
    let (stage, outcome) = match signed {
        true => (Stage::Signed, EventType::ConsignmentAcceptance),
        false => (Stage::Refused, EventType::ConsignmentRejection),
    };
    assert_eq!(store.service(read.0).await.unwrap().service.stage, stage);
    let events = store.service_events(read.0).await.unwrap();
    let kinds: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(kinds, [EventType::ContentConsignment, outcome]);
}

async fn a_change_whose_message_or_evidence_cannot_be_written_leaves_nothing_behind(db: Db) {
    let store = db.open().await;
    let w = world(&store).await;
    let read = serve(&store, &w).await;
    let before = counts(&store).await;
    // An outcome whose second message the outbox refuses: its first goes back too.
    let notes = [note("fine", at(60)), unqueueable("bad")];
    db_error(&decide(&store, &read, true, &notes).await);
    let s = store.service(read.0).await.unwrap().service;
    assert_eq!((s.stage, s.served_at), (Stage::Deposited, None));
    // A service whose second event reuses the first one's id (the log takes an id once):
    // its row, documents and decision were written before that fails.
    let e = event(EventType::ContentConsignment);
    let (id, _, r) = try_serve(&store, &w, &[e.clone(), e]).await;
    db_error(&r);
    let gone = store.service(id).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
    let decisions = store.policy_decisions_of_case(w.case.id).await;
    assert_eq!(decisions.unwrap().len(), 1, "the first service's only");
    // A sign-up whose code SMS is refused: no account, no code.
    let phone = "13900000031";
    let new = account(Role::Party, None, Some(phone));
    let (c, sms) = (code(phone, "h"), unqueueable("sms"));
    db_error(&store.register_party(&new, &c, &sms, T0).await);
    assert!(store.user_by_phone(phone).await.unwrap().is_none());
    assert!(store.phone_code(phone).await.unwrap().is_none());
    assert_eq!(counts(&store).await, before, "no event, no message");
}

async fn concurrent_consent_records_each_get_the_next_version(db: Db) {
    // Racing records each get their own version; reading `MAX(version) + 1` unlocked had
    // all but one fail on PostgreSQL's primary key (party_id, version).
    let store = db.open().await;
    let w = world(&store).await;
    let (party, clerk) = (w.party, w.clerk);
    let results = race(&store, 8, |store, _| async move {
        let c = consent(ConsentBasis::Express);
        let e = event(EventType::AddressConfirmation);
        store.record_consent(party, &c, &e, clerk, at(1)).await
    })
    .await;
    let mut versions: Vec<i64> = results.iter().map(|r| *r.as_ref().unwrap()).collect();
    versions.sort();
    assert_eq!(versions, (2..=9).collect::<Vec<_>>(), "after the clerk's 1");
    let latest = store.party(party).await.unwrap().consent.unwrap();
    assert_eq!(latest.version, 9);
}

// --- Rate-limit counters and phone code tries -------------------------------------------

async fn a_rate_limit_allows_the_maximum_per_window_even_when_hits_race(db: Db) {
    let store = db.open().await;
    let results = race(&store, 50, |store, _| async move {
        store.rate_limit("racing", 10, MINUTE, at(1)).await.unwrap()
    })
    .await;
    let allowed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!((allowed, results.len()), (10, 50), "{results:?}");
    // `rate_limited` tells, without counting, whether the next hit would be refused; a
    // refusal gives the seconds the window has left.
    let (key, max) = ("login:13900000000", 3);
    let hit = |secs: i64| store.rate_limit(key, max, MINUTE, at(secs));
    let peek = |secs: i64| store.rate_limited(key, max, MINUTE, at(secs));
    for secs in [0, 1, 2] {
        assert_eq!(peek(secs).await.unwrap(), None);
        assert_eq!(hit(secs).await.unwrap(), Ok(()));
    }
    assert_eq!(peek(10).await.unwrap(), Some(50));
    assert_eq!(hit(10).await.unwrap(), Err(50));
    // The window ran out at 60s: the next hit opens a new one.
    assert_eq!(peek(60).await.unwrap(), None);
    for secs in [60, 61, 62] {
        assert_eq!(hit(secs).await.unwrap(), Ok(()));
    }
    assert_eq!(hit(63).await.unwrap(), Err(57));
    let other = store.rate_limit("other", max, MINUTE, at(63)).await;
    assert_eq!(other.unwrap(), Ok(()), "keys count apart");
}

async fn concurrent_guesses_at_a_phone_code_get_exactly_the_maximum_tries(db: Db) {
    let store = db.open().await;
    let phone = "13900000042";
    let user = party_user(&store, phone).await;
    let (c1, c2) = (code(phone, "h1"), code(phone, "h2"));
    store.resend_phone_code(&c1, &note("1", T0)).await.unwrap();
    let results = race(&store, 20, |store, _| async move {
        store.take_phone_code_try(phone, 5).await.unwrap()
    })
    .await;
    let mut tries: Vec<i64> = results.iter().flatten().map(|c| c.attempts).collect();
    tries.sort();
    assert_eq!(tries, [1, 2, 3, 4, 5], "five tries, each numbered once");
    let take = || store.take_phone_code_try(phone, 5);
    assert!(take().await.unwrap().is_none(), "tries used up");
    // A new code replaces the old one, with fresh tries.
    store.resend_phone_code(&c2, &note("2", T0)).await.unwrap();
    let taken = take().await.unwrap().expect("a fresh try");
    assert_eq!((taken.code_hmac.as_str(), taken.attempts), ("h2", 1));
    // Verification spends the code for good.
    store.mark_phone_verified(phone, at(5)).await.unwrap();
    assert!(store.user(user).await.unwrap().phone_verified);
    assert!(take().await.unwrap().is_none());
}

// --- The outbox queue --------------------------------------------------------------------

async fn queued_messages_wait_for_their_time_and_lease_and_are_retried_or_finished(db: Db) {
    let store = db.open().await;
    let mut twice = note("early", at(5));
    twice.body = "queued twice".into();
    queue(&store, &[note("late", at(100)), note("early", T0)]).await;
    queue(&store, &[note("mid", T0), twice]).await;
    assert_eq!(outbox(&store).await.len(), 3, "one message per key");
    assert!(claim(&store, 10, at(-1)).await.is_empty(), "none due yet");
    let first = claim(&store, 10, T0).await;
    assert_eq!(bodies(&first), ["early", "mid"], "due ones, queue order");
    assert!(claim(&store, 10, at(59)).await.is_empty(), "leased");
    // The leases ran out: claimed again, oldest first.
    let again = claim(&store, 1, at(60)).await;
    assert_eq!((bodies(&again), again[0].attempts), (vec!["early"], 2));
    let (stale, early, mid) = (first[0].clone(), again[0].clone(), first[1].clone());
    let (events, _) = counts(&store).await;
    // The first claim of "early" ran out and was taken over: its holder may not renew it
    // to send, and its late outcome does not overwrite the new holder's.
    let mut stale_copy = stale.clone();
    let lease = time::Duration::seconds(60);
    assert!(
        !store
            .renew_claim(&mut stale_copy, lease, at(61))
            .await
            .unwrap()
    );
    let fail =
        |n, retry, e| store.mark_notification_failed(n, "boom", retry, e, ("smpp", &[]), &[]);
    assert!(!fail(&stale, None, None).await.unwrap());
    // Retried later; failed for good; sent. The last two leave evidence.
    assert!(fail(&early, Some(at(300)), None).await.unwrap());
    let failure = event(EventType::ConsignmentNotificationFailure);
    assert!(fail(&mid, None, Some(&failure)).await.unwrap());
    let mut late = claim(&store, 10, at(100)).await.remove(0);
    assert!(store.renew_claim(&mut late, lease, at(100)).await.unwrap());
    let delivered = event(EventType::ConsignmentNotification);
    let sent =
        store.mark_notification_sent(&late, "gw-1", ("smpp", &[]), Some(&delivered), at(101));
    assert!(sent.await.unwrap());
    assert_eq!(counts(&store).await.0, events + 2);
    assert!(claim(&store, 10, at(299)).await.is_empty(), "retry waits");
    let retried = claim(&store, 10, at(300)).await;
    assert_eq!(retried[0].last_error.as_deref(), Some("boom"));
    let all = outbox(&store).await;
    let by = |body: &str| all.iter().find(|n| n.body == body).unwrap();
    let (mid, late) = (by("mid"), by("late"));
    assert_eq!((&mid.status[..], &late.status[..]), ("failed", "sent"));
    // Sending erases the one-time code.
    assert_eq!((mid.secret.is_some(), late.secret.is_some()), (true, false));
    // Long after every lease, only the retried one comes back.
    assert_eq!(bodies(&claim(&store, 10, at(9_999)).await), ["early"]);
}

async fn concurrent_claims_never_hand_one_message_to_two_workers_nor_lose_one(db: Db) {
    let store = db.open().await;
    let notes: Vec<_> = (0..200).map(|i| note(&format!("n{i:03}"), T0)).collect();
    queue(&store, &notes).await;
    let per_worker = race(&store, 8, |store, _| async move {
        let mut mine = Vec::new();
        // Until the queue is empty; bounded, so that claims coming back fail, not hang.
        for _ in 0..100 {
            let got = claim(&store, 5, at(1)).await;
            if got.is_empty() {
                break;
            }
            mine.extend(got.into_iter().map(|n| n.body));
        }
        mine
    })
    .await;
    let claimed: Vec<&String> = per_worker.iter().flatten().collect();
    let distinct: HashSet<&String> = claimed.iter().copied().collect();
    assert_eq!(distinct.len(), claimed.len(), "a message claimed twice");
    assert_eq!(claimed.len(), 200, "every message is claimed");
    assert!(outbox(&store).await.iter().all(|n| n.attempts == 1));
    // At start, the one process that owns a SQLite file takes back every claim; on
    // PostgreSQL other live processes may hold claims, so only leases bring them back.
    let released = store.release_claims_of_dead_process().await.unwrap();
    let again = claim(&store, 200, at(1)).await.len();
    match store.backend() {
        Backend::Sqlite => assert_eq!((released, again), (200, 200)),
        Backend::Postgres => assert_eq!((released, again), (0, 0)),
    }
    let after_leases = claim(&store, 200, at(100)).await;
    assert_eq!(after_leases.len(), 200);
}

// --- Evidence order, deployment facts, unknown ids --------------------------------------

async fn concurrent_appends_number_the_log_without_gaps_and_keep_each_writers_order(db: Db) {
    let store = db.open().await;
    race(&store, 16, |store, task| async move {
        for n in 0..25 {
            let mut e = event(EventType::ContentHandover);
            e.note = Some(format!("{task}:{n}"));
            store.append_event(&e).await.unwrap();
        }
    })
    .await;
    let log = store.all_events().await.unwrap();
    let seqs: Vec<i64> = log.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=400).collect::<Vec<_>>(), "1..=400, no gap");
    for task in 0..16 {
        let mine: Vec<usize> = log
            .iter()
            .filter_map(|(_, e)| {
                let (t, n) = e.note.as_deref()?.split_once(':')?;
                (t == task.to_string()).then(|| n.parse().unwrap())
            })
            .collect();
        assert_eq!(mine, (0..25).collect::<Vec<_>>(), "task {task}");
    }
}

async fn the_first_deployment_fact_wins_even_when_processes_race(db: Db) {
    let store = db.open().await;
    let seen = race(&store, 8, |store, i| async move {
        let value = format!("v{i}");
        store.deployment_fact("key", &value).await.unwrap()
    })
    .await;
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 1, "{seen:?}");
    let fact = |key: &'static str, value| store.deployment_fact(key, value);
    assert_eq!(fact("key", "late").await.unwrap(), seen[0]);
    assert_eq!(fact("other", "a").await.unwrap(), "a");
    assert_eq!(fact("other", "b").await.unwrap(), "a");
}

async fn unknown_ids_are_not_found_never_another_error(db: Db) {
    let store = db.open().await;
    let w = world(&store).await;
    let (_, doc, r) = try_serve(&store, &w, &[]).await;
    r.unwrap();
    let (case, service) = (CaseId::new(), ServiceId::new());
    let (key, other_key) = (key_of(CASE_NUMBER), key_of("(2026)京0105民初9号"));
    each!(Err(StoreError::NotFound) =>
        store.court(CourtId::new()),
        store.user(UserId::new()),
        store.case(case),
        store.party(PartyId::new()),
        store.service(service),
        store.document(w.case.id, DocumentId::new()),
        store.document(case, doc), // a document of another case
        store.find_binding(&key, "no such code"),
        store.find_binding(&other_key, CODE),
    );
    // Writes to an unknown service or party change nothing and append no evidence.
    let before = counts(&store).await;
    let (_, mut state) = serve(&store, &w).await;
    let after_serve = counts(&store).await;
    state.sign(at(60)).unwrap();
    let e = event(EventType::ConsignmentAcceptance);
    each!(Err(StoreError::NotFound) =>
        store.record_view(service, &event(EventType::ContentAccessTracking), at(30)),
        store.record_outcome(service, &state, None, &e, &[]),
        store.bind_party(PartyId::new(), w.clerk, &event(EventType::CaseBinding), at(30)),
    );
    assert_ne!(before, after_serve);
    assert_eq!(
        counts(&store).await,
        after_serve,
        "no event for an unknown id"
    );
    each!(Ok(None) =>
        store.user_by_login("nobody"),
        store.user_by_phone("13900000099"),
        store.phone_code("13900000099"),
        store.take_phone_code_try("13900000099", 5),
        store.session("no such token", T0),
        store.rate_limited("never hit", 1, MINUTE, T0),
    );
}

async fn every_event_is_a_leaf_of_the_log_whose_roots_and_proofs_verify(db: Db) {
    use songda_core::merkle::{self, MemoryTree};
    let store = db.open().await;
    race(&store, 8, |store, task| async move {
        for n in 0..13 {
            let mut e = event(EventType::ContentHandover);
            e.note = Some(format!("{task}:{n}"));
            store.append_event(&e).await.unwrap();
        }
    })
    .await;
    assert_eq!(store.log_size().await.unwrap(), 104);
    // Each leaf is the hash of its event's canonical bytes, in log order.
    let mut tree = MemoryTree::new();
    let mut leaves = vec![];
    for (i, (_, e)) in store.all_events().await.unwrap().iter().enumerate() {
        let (body, leaf) = store.log_leaf(i as u64).await.unwrap();
        assert_eq!(body.as_bytes(), e.canonical_bytes().unwrap());
        assert_eq!(leaf, merkle::leaf_hash(body.as_bytes()));
        tree.push(leaf);
        leaves.push(leaf);
    }
    let check = |store: Store, tree: &MemoryTree, leaves: &[merkle::Hash]| {
        let (tree, leaves) = (tree.clone(), leaves.to_vec());
        async move {
            for n in [1u64, 2, 3, 7, 8, 9, 63, 64, 65, 103, 104] {
                let root = store.log_root(n).await.unwrap();
                assert_eq!(root, merkle::root(&tree, n).unwrap(), "root of {n}");
                for i in [0, n / 2, n - 1] {
                    let proof = store.log_inclusion_proof(i, n).await.unwrap();
                    merkle::verify_inclusion(&leaves[i as usize], i, n, &proof, &root).unwrap();
                }
                for old in [1, n / 3, n - 1].into_iter().filter(|&o| o >= 1) {
                    let old_root = store.log_root(old).await.unwrap();
                    let proof = store.log_consistency_proof(old, n).await.unwrap();
                    merkle::verify_consistency(old, n, &old_root, &root, &proof).unwrap();
                }
            }
        }
    };
    check(store.clone(), &tree, &leaves).await;
    assert!(matches!(
        store.log_root(105).await,
        Err(StoreError::OutOfRange(_))
    ));
    assert!(matches!(
        store.log_inclusion_proof(104, 104).await,
        Err(StoreError::OutOfRange(_))
    ));

    // Events stored before the log existed are sealed at the next start, into the same
    // tree: here the hashes are dropped and the bodies written in another member order.
    let url = match &db.0 {
        Location::SqliteFile(p) => format!("sqlite://{}", p.display()),
        Location::Postgres(u) => u.clone(),
    };
    store.close().await;
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT seq, body FROM evidence")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for (seq, body) in rows {
        let event: Event = serde_json::from_str(&body).unwrap();
        sqlx::query("UPDATE evidence SET body = $1, leaf_hash = NULL WHERE seq = $2")
            .bind(serde_json::to_string(&event).unwrap())
            .bind(seq)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM log_nodes")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = db.open().await;
    assert_eq!(store.log_size().await.unwrap(), 104);
    check(store, &tree, &leaves).await;
}
