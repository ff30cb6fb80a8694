//! Process-level metrics: `switchyard_build_info`, the standard `process_*` gauges that every
//! Prometheus client exports (CPU seconds, resident and virtual memory, open and max file
//! descriptors, start time; read from /proc on Linux at scrape time) and
//! `switchyard_requests_in_flight`.

use std::sync::Mutex;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Gauge, IntGauge, IntGaugeVec, Opts, Registry};

/// The gauges the server itself keeps.
#[derive(Clone)]
pub struct ProcessMetrics {
    /// Client requests being served right now (from the request head to the last byte).
    pub requests_in_flight: IntGauge,
}

impl ProcessMetrics {
    /// Registers build info, the process collector and the in-flight gauge in `r`.
    pub fn register(r: &Registry) -> prometheus::Result<Self> {
        let info = IntGaugeVec::new(
            Opts::new(
                "switchyard_build_info",
                "Always 1; the labels say which build is running.",
            ),
            &["version", "revision", "target_os", "target_arch"],
        )?;
        // The revision is whatever SWITCHYARD_REVISION held at compile time (the Dockerfile
        // passes the git commit); "unknown" otherwise.
        info.with_label_values(&[
            env!("CARGO_PKG_VERSION"),
            option_env!("SWITCHYARD_REVISION").unwrap_or("unknown"),
            std::env::consts::OS,
            std::env::consts::ARCH,
        ])
        .set(1);
        r.register(Box::new(info))?;
        if cfg!(target_os = "linux") {
            r.register(Box::new(ProcCollector::new()?))?;
        }
        let requests_in_flight = IntGauge::new(
            "switchyard_requests_in_flight",
            "Client requests being served right now, streams included.",
        )?;
        r.register(Box::new(requests_in_flight.clone()))?;
        Ok(Self { requests_in_flight })
    }
}

/// Counts one request in flight for as long as it lives.
pub struct InFlight(IntGauge);

impl InFlight {
    /// Enters: the gauge goes up now and down when the guard drops.
    pub fn enter(gauge: &IntGauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `/proc/self/stat` reports CPU time in USER_HZ ticks, which Linux fixes at 100 on every
/// architecture Switchyard builds for (the unsafe-free stand-in for `sysconf(_SC_CLK_TCK)`).
const TICKS_PER_SECOND: f64 = 100.0;

/// The `process_*` family, refreshed from /proc on each scrape.
struct ProcCollector {
    cpu: Counter,
    rss: Gauge,
    vsize: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    start: Gauge,
    descs: Vec<Desc>,
    lock: Mutex<()>,
}

impl ProcCollector {
    fn new() -> prometheus::Result<Self> {
        let cpu = Counter::new(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
        )?;
        let rss = Gauge::new(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
        )?;
        let vsize = Gauge::new(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
        )?;
        let open_fds = Gauge::new("process_open_fds", "Number of open file descriptors.")?;
        let max_fds = Gauge::new(
            "process_max_fds",
            "Maximum number of open file descriptors.",
        )?;
        let start = Gauge::new(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
        )?;
        let descs = [
            &cpu as &dyn Collector,
            &rss,
            &vsize,
            &open_fds,
            &max_fds,
            &start,
        ]
        .iter()
        .flat_map(|c| c.desc().into_iter().cloned())
        .collect();
        Ok(Self {
            cpu,
            rss,
            vsize,
            open_fds,
            max_fds,
            start,
            descs,
            lock: Mutex::new(()),
        })
    }

    fn refresh(&self) {
        if let Some(stat) = read("/proc/self/stat").as_deref().and_then(Stat::parse) {
            let cpu = (stat.utime + stat.stime) as f64 / TICKS_PER_SECOND;
            self.cpu.reset();
            self.cpu.inc_by(cpu);
            self.vsize.set(stat.vsize as f64);
            if let Some(btime) = read("/proc/stat").as_deref().and_then(boot_time) {
                self.start
                    .set(btime as f64 + stat.starttime as f64 / TICKS_PER_SECOND);
            }
        }
        if let Some(kb) = read("/proc/self/status")
            .as_deref()
            .and_then(|s| field(s, "VmRSS:"))
        {
            self.rss.set(kb as f64 * 1024.0);
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            self.open_fds.set(dir.count() as f64);
        }
        if let Some(max) = read("/proc/self/limits")
            .as_deref()
            .and_then(max_open_files)
        {
            self.max_fds.set(max as f64);
        }
    }
}

impl Collector for ProcCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _one_at_a_time = self.lock.lock();
        self.refresh();
        [
            &self.cpu as &dyn Collector,
            &self.rss,
            &self.vsize,
            &self.open_fds,
            &self.max_fds,
            &self.start,
        ]
        .iter()
        .flat_map(|c| c.collect())
        .collect()
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The fields of `/proc/self/stat` used here (proc(5) numbering: 14, 15, 22, 23).
#[derive(Debug, PartialEq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
}

impl Stat {
    /// The command name (field 2) may hold spaces and parentheses: fields are counted after
    /// its last `)`.
    fn parse(text: &str) -> Option<Self> {
        let rest = &text[text.rfind(')')? + 1..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // `rest` starts at field 3 (state).
        let n = |i: usize| f.get(i - 3)?.parse::<u64>().ok();
        Some(Self {
            utime: n(14)?,
            stime: n(15)?,
            starttime: n(22)?,
            vsize: n(23)?,
        })
    }
}

fn field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

fn boot_time(stat: &str) -> Option<u64> {
    field(stat, "btime")
}

fn max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_with_a_tricky_command_name() {
        let text = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 75 0 0 20 0 9 0 123456 987654321 5000 18446744073709551615";
        assert_eq!(
            Stat::parse(text),
            Some(Stat {
                utime: 250,
                stime: 75,
                starttime: 123456,
                vsize: 987654321
            })
        );
    }

    #[test]
    fn parses_status_limits_and_btime() {
        assert_eq!(
            field("Name:\tx\nVmRSS:\t  81234 kB\n", "VmRSS:"),
            Some(81234)
        );
        assert_eq!(boot_time("cpu 1 2\nbtime 1764750000\n"), Some(1764750000));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1048576              1048576              files\n";
        assert_eq!(max_open_files(limits), Some(1048576));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_family_is_exported() {
        let r = Registry::new();
        ProcessMetrics::register(&r).unwrap();
        let names: Vec<_> = r.gather().iter().map(|f| f.name().to_owned()).collect();
        for want in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
            "switchyard_build_info",
            "switchyard_requests_in_flight",
        ] {
            assert!(
                names.iter().any(|n| n == want),
                "missing {want} in {names:?}"
            );
        }
        let rss = r
            .gather()
            .into_iter()
            .find(|f| f.name() == "process_resident_memory_bytes")
            .unwrap();
        assert!(rss.get_metric()[0].get_gauge().get_value() > 1e6);
    }
}
