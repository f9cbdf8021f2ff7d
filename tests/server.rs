//! The server test suite (tests/server_suite) on a SQLite job store.

mod server_suite;

/// Which store the suite runs on.
const STORE: &str = "sqlite";

/// The job store of a server whose folder is `dir`.
fn store_db(dir: &std::path::Path) -> String {
    dir.join("jobs.db").display().to_string()
}

/// An instance with several DNNs (`instances/multi-dnn.yaml`, one DNN
/// from a file and one inline) is validated and solved by the server to
/// the optimum the library finds; without its DNN file in `files`, the
/// server names `dnns[0].file`; a task without `dnn` comes back at
/// `tasks[0].dnn`.
#[test]
fn an_instance_with_several_dnns_is_solved_by_the_server() {
    let dir = tmp();
    let s = start(dir.path(), &[], &[]);
    let path = root().join("instances/multi-dnn.yaml");
    let files = edgesplit::server::referenced_files(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let body = json!({"instance": text, "files": files});
    let r = s.post("/v1/validate", &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["valid"], true, "{}", r.body);
    let mut job = body.clone();
    job["method"] = json!("highs");
    job["options"] = json!({"time_limit_s": 120});
    let id = s.submit(&job);
    let v = s.wait(&id);
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["result_status"], "optimal", "{v}");
    let inst = edgesplit::load(&path).unwrap();
    let local = edgesplit::solve::solve_instance(
        &inst,
        edgesplit::solve::BackendKind::Highs,
        &Default::default(),
    );
    let (obj, want) = (
        v["report"]["evaluated_objective"].as_f64().unwrap(),
        local.evaluated_objective.unwrap(),
    );
    assert!((obj - want).abs() <= 1e-6 * want.abs(), "{obj} vs {want}");

    let p = problems(&s, &json!({"instance": text, "files": {}}));
    assert_eq!(p[0]["field"], "dnns[0].file", "{p:?}");
    let unnamed = text.replacen("    dnn: tiny-cnn  ", "   ", 1);
    assert_ne!(unnamed, text);
    let p = problems(&s, &json!({"instance": unnamed, "files": files}));
    assert_eq!(p[0]["field"], "tasks[0].dnn", "{p:?}");
}
