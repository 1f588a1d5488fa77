//! Readings from `/proc`: the server's resident memory, the kernel's TCP socket
//! memory, and CPU time of the server (each node and their sum), PostgreSQL, the
//! NATS server and the harness itself (so every report says which of them used
//! the two cores).

use serde::Serialize;

const PAGE: u64 = 4096;

/// Raises RLIMIT_NOFILE (soft, and hard when permitted) to at least `want`.
pub fn raise_nofile(want: u64) {
    let Ok((soft, hard)) = rlimit::Resource::NOFILE.get() else {
        return;
    };
    if soft >= want {
        return;
    }
    let new_hard = hard.max(want);
    if rlimit::Resource::NOFILE.set(want, new_hard).is_err() {
        let _ = rlimit::Resource::NOFILE.set(hard, hard);
        eprintln!("note: RLIMIT_NOFILE is {hard}; wanted {want} (run as root to raise it)");
    }
}

/// A `kB` field of a `/proc/<pid>/status` text (`VmRSS`, `VmHWM`), in bytes.
pub fn status_field_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let mut words = line.split_whitespace().skip(1);
    let kb: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kb * 1024)
}

/// A `kB` field of a process's `/proc/<pid>/status`, in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_bytes(&status, field)
}

/// `VmRSS` of a process in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS")
}

/// Resets a process's peak resident set (`VmHWM`) to its current one
/// (`/proc/<pid>/clear_refs` = 5), so a later `VmHWM` is the peak since now.
pub fn reset_peak_rss(pid: u32) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// Kernel memory of all TCP sockets (`/proc/net/sockstat` "TCP: ... mem" pages).
pub fn tcp_mem_bytes() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("TCP:"))?;
    let mut it = line.split_whitespace();
    while let Some(word) = it.next() {
        if word == "mem" {
            return it.next()?.parse::<u64>().ok().map(|p| p * PAGE);
        }
    }
    None
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: &str) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // After the comm: state is field 3 of the man page, utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// Busy ticks of the whole machine (all CPUs) from `/proc/stat`.
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return 0;
    };
    // The leading "cpu" label does not parse as a number and drops out.
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: busy = all but idle, iowait.
    v.iter()
        .sum::<u64>()
        .saturating_sub(v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0))
}

/// CPU ticks at one moment: each server node, all `postgres` processes, all
/// `nats-server` processes, this harness, and the whole machine (whatever else
/// runs shows up as `other`).
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    server: Vec<u64>,
    postgres: u64,
    nats: u64,
    harness: u64,
    machine: u64,
    at: Option<std::time::Instant>,
}

impl CpuSample {
    /// `server_pids`: one per node (none when the server's PID is unknown).
    pub fn take(server_pids: &[u32]) -> Self {
        let server = server_pids
            .iter()
            .map(|p| cpu_ticks(&p.to_string()).map_or(0, |(_, t)| t))
            .collect();
        let harness = cpu_ticks("self").map_or(0, |(_, t)| t);
        let (mut postgres, mut nats) = (0, 0);
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.bytes().all(|b| b.is_ascii_digit())
                    && let Some((comm, t)) = cpu_ticks(&name)
                {
                    match comm.as_str() {
                        "postgres" => postgres += t,
                        "nats-server" => nats += t,
                        _ => {}
                    }
                }
            }
        }
        Self {
            server,
            postgres,
            nats,
            harness,
            machine: machine_busy_ticks(),
            at: Some(std::time::Instant::now()),
        }
    }
}

/// CPU seconds used between two samples, and the wall time (100 ticks per second).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuSplit {
    pub wall_s: f64,
    /// All server nodes together.
    pub server_s: f64,
    pub postgres_s: f64,
    pub harness_s: f64,
    /// Everything else that kept the CPUs busy meanwhile (kernel threads, other jobs).
    pub other_s: f64,
    /// Each server node, node 0 first (their sum is `server_s`).
    pub server_per_node_s: Vec<f64>,
    /// The NATS server (0 with one node: nothing publishes).
    pub nats_s: f64,
}

impl CpuSplit {
    pub fn between(a: &CpuSample, b: &CpuSample) -> Self {
        let secs = |x: u64, y: u64| y.saturating_sub(x) as f64 / 100.0;
        let wall = match (a.at, b.at) {
            (Some(x), Some(y)) => y.duration_since(x).as_secs_f64(),
            _ => 0.0,
        };
        let server_per_node_s: Vec<f64> = a
            .server
            .iter()
            .zip(&b.server)
            .map(|(&x, &y)| secs(x, y))
            .collect();
        let server_s = server_per_node_s.iter().sum();
        let (postgres_s, harness_s, nats_s) = (
            secs(a.postgres, b.postgres),
            secs(a.harness, b.harness),
            secs(a.nats, b.nats),
        );
        let known = server_s + postgres_s + harness_s + nats_s;
        Self {
            wall_s: wall,
            server_s,
            postgres_s,
            harness_s,
            other_s: (secs(a.machine, b.machine) - known).max(0.0),
            server_per_node_s,
            nats_s,
        }
    }
}

/// Memory at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemSample {
    /// All server nodes together.
    pub server_rss: Option<u64>,
    pub tcp_mem: Option<u64>,
    /// Each server node, node 0 first (`null` where unreadable).
    pub server_rss_per_node: Vec<Option<u64>>,
}

impl MemSample {
    pub fn take(server_pids: &[u32]) -> Self {
        let per_node: Vec<Option<u64>> = server_pids.iter().map(|&p| rss_bytes(p)).collect();
        Self {
            server_rss: per_node.iter().flatten().copied().reduce(|a, b| a + b),
            tcp_mem: tcp_mem_bytes(),
            server_rss_per_node: per_node,
        }
    }
}

/// `VmRSS` of all server nodes together; `None` when none could be read.
pub fn server_rss_sum(server_pids: &[u32]) -> Option<u64> {
    server_pids
        .iter()
        .filter_map(|&p| rss_bytes(p))
        .reduce(|a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tandon\nVmPeak:\t 1200000 kB\nVmHWM:\t  150000 kB\n\
                          VmRSS:\t   98304 kB\nRssAnon:\t   90000 kB\nThreads:\t9\n";

    #[test]
    fn status_fields_are_read_in_bytes() {
        assert_eq!(status_field_bytes(STATUS, "VmRSS"), Some(98_304 * 1024));
        assert_eq!(status_field_bytes(STATUS, "VmHWM"), Some(150_000 * 1024));
    }

    #[test]
    fn a_field_is_matched_whole_and_must_be_in_kb() {
        // `Vm` is no field; `RssAnon` is not `Rss`; `Threads` has no unit.
        assert_eq!(status_field_bytes(STATUS, "Vm"), None);
        assert_eq!(status_field_bytes(STATUS, "Rss"), None);
        assert_eq!(status_field_bytes(STATUS, "Threads"), None);
        assert_eq!(status_field_bytes(STATUS, "VmSwap"), None);
    }

    #[test]
    fn this_process_has_a_resident_set() {
        let rss = rss_bytes(std::process::id()).unwrap();
        assert!(rss > 0);
        assert!(status_bytes(std::process::id(), "VmHWM").unwrap() >= rss);
    }
}
