//! One test suite for the job store, run on both backends: SQLite (a
//! temporary file) and PostgreSQL (a throw-away cluster, tests/pg_cluster).
//! Two stores opened for two server ids on the same database are two
//! servers sharing it.

mod pg_cluster;

use edgesplit::server::store::{self, Inserted, JobStatus, JobStore, NewJob, StoreError};
use std::sync::Arc;
use std::time::Duration;

type Open<'a> = &'a dyn Fn(&str) -> Arc<dyn JobStore>;

fn job<'a>(id: &'a str, owner: &'a str, key: Option<&'a str>) -> NewJob<'a> {
    NewJob {
        id,
        owner,
        idem_key: key,
        kind: "solve",
        method: "tide",
        options: "{}",
        instance_hash: "h1",
        bundle: "{\"instance\": 1}",
        sizes: "{}",
    }
}

fn new_id(i: Inserted) -> String {
    match i {
        Inserted::New(r) => r.id,
        _ => panic!("expected a new job"),
    }
}

fn lifecycle(open: Open) {
    let s = open("a");
    assert_eq!(s.queue_depth().unwrap(), 0);
    let id = new_id(s.insert(&job("j1", "o", None), 10).unwrap());
    let r = s.get(&id).unwrap().unwrap();
    assert_eq!(
        (r.status, r.attempts, r.server),
        (JobStatus::Queued, 0, None)
    );
    assert_eq!(
        s.bundle("h1").unwrap().as_deref(),
        Some("{\"instance\": 1}")
    );
    assert_eq!(s.sizes("h1").unwrap().as_deref(), Some("{}"));
    assert_eq!(s.bundle("nope").unwrap(), None);
    assert_eq!(s.queue_depth().unwrap(), 1);
    let c = s.claim(30.0).unwrap().unwrap();
    assert_eq!(c.id, id);
    assert_eq!((c.status, c.attempts), (JobStatus::Running, 1));
    assert_eq!(c.server.as_deref(), Some("a"));
    assert!(c.started_at.is_some());
    assert!(s.claim(30.0).unwrap().is_none(), "one job, claimed once");
    assert!(s.set_progress(&id, "{\"incumbent\": 3}").unwrap());
    assert_eq!(
        s.get(&id).unwrap().unwrap().progress.as_deref(),
        Some("{\"incumbent\": 3}")
    );
    assert!(s
        .finish(&id, JobStatus::Done, None, Some("{\"r\": 1}"))
        .unwrap());
    let r = s.get(&id).unwrap().unwrap();
    assert_eq!(r.status, JobStatus::Done);
    assert_eq!(r.result.as_deref(), Some("{\"r\": 1}"));
    assert!(r.finished_at.unwrap() >= r.started_at.unwrap());
    assert!(!s.set_progress(&id, "{}").unwrap(), "not running");
    assert!(
        !s.finish(&id, JobStatus::Failed, Some("late"), None)
            .unwrap(),
        "an ended job stays as it ended"
    );
    let counts = s.counts().unwrap();
    assert_eq!(counts.len(), 5);
    assert!(counts.contains(&(JobStatus::Done, 1)));
    assert!(counts.contains(&(JobStatus::Queued, 0)));
}

fn idempotency_and_queue_limit(open: Open) {
    let s = open("a");
    let first = new_id(s.insert(&job("j1", "o", Some("k")), 10).unwrap());
    match s.insert(&job("j2", "o", Some("k")), 10).unwrap() {
        Inserted::Existing(r) => assert_eq!(r.id, first),
        _ => panic!("the same key gives the same job"),
    }
    // Another owner's key is its own.
    new_id(s.insert(&job("j3", "p", Some("k")), 10).unwrap());
    match s.insert(&job("j4", "o", None), 2).unwrap() {
        Inserted::QueueFull(n) => assert_eq!(n, 2),
        _ => panic!("two queued, at most two"),
    }
    assert!(s.get("j4").unwrap().is_none());
    // On another server of the same store the key is known too.
    match open("b").insert(&job("j5", "o", Some("k")), 10).unwrap() {
        Inserted::Existing(r) => assert_eq!(r.id, first),
        _ => panic!("the key is the store's, not the server's"),
    }
}

fn list_pages_by_owner_and_status(open: Open) {
    let s = open("a");
    for i in 0..5 {
        let owner = if i % 2 == 0 { "o" } else { "p" };
        new_id(s.insert(&job(&format!("j{i}"), owner, None), 10).unwrap());
    }
    let all = s.list("o", None, 0, 100).unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["j0", "j2", "j4"]);
    let page = s.list("o", None, 0, 2).unwrap();
    assert_eq!(page.len(), 2);
    let rest = s.list("o", None, page[1].seq, 2).unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, "j4");
    let claimed = s.claim(30.0).unwrap().unwrap();
    assert_eq!(claimed.id, "j0", "oldest first");
    let running = s.list("o", Some(JobStatus::Running), 0, 100).unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(s.list("o", Some(JobStatus::Done), 0, 100).unwrap().len(), 0);
}

fn cancel_queued_and_running(open: Open) {
    let a = open("a");
    let b = open("b");
    new_id(a.insert(&job("q", "o", None), 10).unwrap());
    new_id(a.insert(&job("r", "o", None), 10).unwrap());
    assert!(b.cancel_queued("q").unwrap());
    assert_eq!(a.get("q").unwrap().unwrap().status, JobStatus::Cancelled);
    assert!(!b.request_cancel("q").unwrap(), "not running");
    let r = a.claim(30.0).unwrap().unwrap();
    assert_eq!(r.id, "r");
    assert!(!b.cancel_queued("r").unwrap(), "running, not queued");
    assert_eq!(
        a.heartbeat(30.0).unwrap(),
        vec![store::Held {
            id: "r".into(),
            cancel_requested: false
        }]
    );
    // Server b asks; server a's next heartbeat sees it.
    assert!(b.request_cancel("r").unwrap());
    assert!(a.heartbeat(30.0).unwrap()[0].cancel_requested);
    assert!(b.heartbeat(30.0).unwrap().is_empty(), "b holds nothing");
    // Only the holder of the lease records the end.
    assert!(!b.finish("r", JobStatus::Done, None, None).unwrap());
    assert!(a
        .finish("r", JobStatus::Cancelled, Some("cancelled"), None)
        .unwrap());
    assert_eq!(a.get("r").unwrap().unwrap().status, JobStatus::Cancelled);
}

fn an_expired_lease_is_taken_back_up_to_the_attempt_limit(open: Open) {
    let a = open("a");
    let b = open("b");
    new_id(a.insert(&job("j", "o", None), 10).unwrap());
    assert_eq!(a.claim(0.5).unwrap().unwrap().attempts, 1);
    // Renewed: not expired.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(a.heartbeat(0.5).unwrap().len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(b.requeue_expired().unwrap(), (0, 0));
    // Server a stops renewing: b takes the job back and runs it.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(b.requeue_expired().unwrap(), (1, 0));
    assert_eq!(b.requeue_expired().unwrap(), (0, 0), "once");
    let again = b.claim(0.5).unwrap().unwrap();
    assert_eq!((again.attempts, again.server.as_deref()), (2, Some("b")));
    assert!(a.heartbeat(0.5).unwrap().is_empty(), "a lost it");
    assert!(
        !a.finish("j", JobStatus::Done, None, None).unwrap(),
        "a's late end is not recorded"
    );
    // Lost again after the last allowed start: failed, with the reason.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(a.requeue_expired().unwrap(), (0, 1));
    let r = a.get("j").unwrap().unwrap();
    assert_eq!(r.status, JobStatus::Failed);
    let e = r.error.unwrap();
    assert!(e.contains("lease ran out") && e.contains("2 times"), "{e}");
}

fn recover_takes_back_this_servers_jobs(open: Open) {
    let a = open("a");
    new_id(a.insert(&job("j", "o", None), 10).unwrap());
    a.claim(30.0).unwrap().unwrap();
    drop(a);
    // The same server, restarted: its job is queued again at once.
    let a = open("a");
    assert_eq!(a.recover().unwrap(), (1, 0));
    assert_eq!(a.get("j").unwrap().unwrap().status, JobStatus::Queued);
    assert_eq!(a.claim(30.0).unwrap().unwrap().attempts, 2);
    assert_eq!(
        open("a").recover().unwrap(),
        (0, 1),
        "the second stop fails it"
    );
    let e = a.get("j").unwrap().unwrap().error.unwrap();
    assert!(e.contains("server stopped"), "{e}");
}

fn concurrent_claims_take_each_job_once(open: Open) {
    let s = open("a");
    for i in 0..60 {
        new_id(s.insert(&job(&format!("j{i:02}"), "o", None), 100).unwrap());
    }
    let servers: Vec<Arc<dyn JobStore>> = (0..3).map(|i| open(&format!("s{i}"))).collect();
    let claimed: Vec<Vec<String>> = std::thread::scope(|sc| {
        let hs: Vec<_> = servers
            .iter()
            .map(|st| {
                sc.spawn(move || {
                    let mut got = Vec::new();
                    while let Some(r) = st.claim(30.0).unwrap() {
                        assert!(st.finish(&r.id, JobStatus::Done, None, None).unwrap());
                        got.push(r.id);
                    }
                    got
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<String> = claimed.concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 60, "every job claimed exactly once");
    assert_eq!(claimed.iter().map(Vec::len).sum::<usize>(), 60);
    assert!(s.counts().unwrap().contains(&(JobStatus::Done, 60)));
}

/// Marks the schema of `db` as version 99, newer than any this binary has.
fn from_the_future(db: &str) {
    let q = "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (99, 'future', '2099-01-01T00:00:00Z', '0')";
    if store::is_postgres_url(db) {
        let mut c = ::postgres::Client::connect(db, ::postgres::NoTls).unwrap();
        c.execute(q, &[]).unwrap();
    } else {
        rusqlite::Connection::open(db)
            .unwrap()
            .execute(q, [])
            .unwrap();
    }
}

fn a_newer_schema_is_refused(db: &str) {
    store::open(db, "a", None, 4).unwrap();
    from_the_future(db);
    let e = match store::open(db, "a", None, 4) {
        Err(StoreError::TooNew(e)) => e,
        Err(e) => panic!("expected a refusal for a newer schema, got {e}"),
        Ok(_) => panic!("a store with a newer schema was opened"),
    };
    assert!(e.contains("version 99"), "{e}");
    let known = if store::is_postgres_url(db) { 1 } else { 2 };
    assert!(e.contains(&format!("version {known}")), "{e}");
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                let d = tempfile::tempdir().unwrap();
                let path = d.path().join("jobs.db").display().to_string();
                super::$name(&|server| store::open(&path, server, None, 4).unwrap());
            })*

            #[test]
            fn a_newer_schema_is_refused() {
                let d = tempfile::tempdir().unwrap();
                super::a_newer_schema_is_refused(&d.path().join("jobs.db").display().to_string());
            }
            use super::store;
        }
        mod postgres {
            $(#[test]
            fn $name() {
                let Some(c) = super::pg_cluster::cluster() else { return };
                let url = c.create_db();
                super::$name(&|server| store::open(&url, server, None, 4).unwrap());
            })*

            #[test]
            fn a_newer_schema_is_refused() {
                let Some(c) = super::pg_cluster::cluster() else { return };
                super::a_newer_schema_is_refused(&c.create_db());
            }
            use super::store;
        }
    };
}

on_both!(
    lifecycle,
    idempotency_and_queue_limit,
    list_pages_by_owner_and_status,
    cancel_queued_and_running,
    an_expired_lease_is_taken_back_up_to_the_attempt_limit,
    recover_takes_back_this_servers_jobs,
    concurrent_claims_take_each_job_once,
);
