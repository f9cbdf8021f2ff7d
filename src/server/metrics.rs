//! `GET /metrics` in the Prometheus text format: jobs by status and queue
//! depth (from the store), the solve-time histogram and request counts
//! (since this process started).

use super::store::JobStatus;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds of the solve-time histogram, seconds.
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0];

#[derive(Default)]
struct Inner {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
    submitted: u64,
    rejected: u64,
}

/// Counters kept in memory.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records the solve time of a job that finished.
    pub fn observe_solve(&self, secs: f64) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                m.counts[i] += 1;
            }
        }
        m.count += 1;
        m.sum += secs;
    }

    /// Counts an accepted submission.
    pub fn submitted(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .submitted += 1;
    }

    /// Counts a submission refused for a full queue.
    pub fn rejected(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rejected += 1;
    }

    /// The exposition text.
    pub fn render(
        &self,
        by_status: &[(JobStatus, i64)],
        queue_depth: i64,
        workers: usize,
    ) -> String {
        let m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = String::new();
        let _ = writeln!(s, "# HELP edgesplit_jobs Jobs in the store by status.");
        let _ = writeln!(s, "# TYPE edgesplit_jobs gauge");
        for (st, n) in by_status {
            let _ = writeln!(s, "edgesplit_jobs{{status=\"{}\"}} {n}", st.name());
        }
        let _ = writeln!(s, "# HELP edgesplit_queue_depth Jobs waiting for a worker.");
        let _ = writeln!(s, "# TYPE edgesplit_queue_depth gauge");
        let _ = writeln!(s, "edgesplit_queue_depth {queue_depth}");
        let _ = writeln!(s, "# HELP edgesplit_workers Worker slots.");
        let _ = writeln!(s, "# TYPE edgesplit_workers gauge");
        let _ = writeln!(s, "edgesplit_workers {workers}");
        let _ = writeln!(
            s,
            "# HELP edgesplit_jobs_submitted_total Jobs accepted since start."
        );
        let _ = writeln!(s, "# TYPE edgesplit_jobs_submitted_total counter");
        let _ = writeln!(s, "edgesplit_jobs_submitted_total {}", m.submitted);
        let _ = writeln!(
            s,
            "# HELP edgesplit_jobs_rejected_total Submissions refused with 429 since start."
        );
        let _ = writeln!(s, "# TYPE edgesplit_jobs_rejected_total counter");
        let _ = writeln!(s, "edgesplit_jobs_rejected_total {}", m.rejected);
        let _ = writeln!(
            s,
            "# HELP edgesplit_solve_seconds Solve time reported by workers of jobs done since start."
        );
        let _ = writeln!(s, "# TYPE edgesplit_solve_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                s,
                "edgesplit_solve_seconds_bucket{{le=\"{b}\"}} {}",
                m.counts[i]
            );
        }
        let _ = writeln!(
            s,
            "edgesplit_solve_seconds_bucket{{le=\"+Inf\"}} {}",
            m.count
        );
        let _ = writeln!(s, "edgesplit_solve_seconds_sum {}", m.sum);
        let _ = writeln!(s, "edgesplit_solve_seconds_count {}", m.count);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe_solve(0.003);
        m.observe_solve(0.2);
        let t = m.render(&[(JobStatus::Done, 2)], 0, 1);
        assert!(
            t.contains("edgesplit_solve_seconds_bucket{le=\"0.005\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("edgesplit_solve_seconds_bucket{le=\"0.5\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("edgesplit_solve_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{t}"
        );
        assert!(t.contains("edgesplit_jobs{status=\"done\"} 2\n"), "{t}");
    }
}
