//! Where a build's time goes (`build --timings`), as cargo's `--timings`
//! tells it for a compilation: the wall and CPU time of each stage, per
//! track, and how long each worker thread sat idle.
//!
//! Two kinds of measurement, both off unless [`enable`] was called (then
//! a span costs two clock reads and one uncontended lock; off, one atomic
//! load):
//! - **Phases** ([`phase`]): the build's steps that follow one another
//!   (plan and hash the sources, decode-measure-render, segues, bundles,
//!   CD, analog, report...). They do not overlap, so their wall times add
//!   up to the build's, and the CPU the process spent in each (all threads,
//!   `getrusage`) against wall x threads is the idle time of the cores.
//! - **Stages** ([`span`]): the work inside a phase, timed where it runs
//!   (decoding a block, the chain, the meter, each output's writer), with
//!   the thread's own CPU clock, so the stages of tracks rendered at once
//!   on several threads are each charged what they used. Spans never nest
//!   (each wraps one call that does not open another), so the stages of a
//!   phase add up to its busy time.
//!
//! Timings are wall-clock readings: they go into report.json only when
//! asked for, since every other byte of a build is the same from run to
//! run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

static ENABLED: AtomicBool = AtomicBool::new(false);
static STATE: Mutex<Option<State>> = Mutex::new(None);

#[derive(Default)]
struct State {
    start: Option<Instant>,
    phases: Vec<PhaseTiming>,
    /// (stage, track) -> (wall, cpu, calls)
    stages: BTreeMap<(&'static str, Option<u32>), (Duration, Duration, u64)>,
    /// Busy CPU per thread, in order of first appearance.
    threads: Vec<(std::thread::ThreadId, String, Duration)>,
}

/// Turns timing on and starts the clock (the build's wall time counts
/// from here).
pub fn enable() {
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    *s = Some(State {
        start: Some(Instant::now()),
        ..State::default()
    });
    ENABLED.store(true, Ordering::Release);
}

/// Whether timings are being taken.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a
    // constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn process_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A stage being timed on this thread; recorded when dropped.
#[must_use = "the span records when it is dropped"]
pub struct Span {
    stage: &'static str,
    track: Option<u32>,
    wall: Instant,
    cpu: Duration,
}

/// Times `stage` (of `track`, when it is one track's) until the returned
/// guard drops; `None`, and nothing measured, when timings are off.
pub fn span(stage: &'static str, track: Option<u32>) -> Option<Span> {
    enabled().then(|| Span {
        stage,
        track,
        wall: Instant::now(),
        cpu: thread_cpu(),
    })
}

/// Runs `f` as a span of `stage`.
pub fn time<T>(stage: &'static str, track: Option<u32>, f: impl FnOnce() -> T) -> T {
    let _s = span(stage, track);
    f()
}

impl Drop for Span {
    fn drop(&mut self) {
        let wall = self.wall.elapsed();
        let cpu = thread_cpu().saturating_sub(self.cpu);
        let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = g.as_mut() else { return };
        let e =
            s.stages
                .entry((self.stage, self.track))
                .or_insert((Duration::ZERO, Duration::ZERO, 0));
        e.0 += wall;
        e.1 += cpu;
        e.2 += 1;
        let me = std::thread::current();
        match s.threads.iter_mut().find(|t| t.0 == me.id()) {
            Some(t) => t.2 += cpu,
            None => {
                let name = me
                    .name()
                    .map_or_else(|| format!("worker {}", s.threads.len() + 1), str::to_owned);
                s.threads.push((me.id(), name, cpu));
            }
        }
    }
}

/// A phase of the build being timed; recorded when dropped.
#[must_use = "the phase records when it is dropped"]
pub struct Phase {
    name: &'static str,
    wall: Instant,
    cpu: Duration,
}

/// Times the build's phase `name` until the guard drops (phases follow
/// one another; start the next after this one dropped).
pub fn phase(name: &'static str) -> Option<Phase> {
    enabled().then(|| Phase {
        name,
        wall: Instant::now(),
        cpu: process_cpu(),
    })
}

impl Drop for Phase {
    fn drop(&mut self) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = process_cpu().saturating_sub(self.cpu).as_secs_f64();
        let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = g.as_mut() {
            s.phases.push(PhaseTiming {
                phase: self.name.to_owned(),
                wall_s: wall,
                cpu_s: cpu,
            });
        }
    }
}

/// One phase of the build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseTiming {
    pub phase: String,
    pub wall_s: f64,
    /// CPU of the whole process (every thread) during the phase.
    pub cpu_s: f64,
}

/// One stage, summed over its spans (per track when `track` is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<u32>,
    /// Wall time inside the stage's spans, summed over threads.
    pub wall_s: f64,
    /// The CPU the stage's threads spent in it.
    pub cpu_s: f64,
    pub calls: u64,
}

/// One thread's busy time (CPU inside spans) against the build's wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadTiming {
    pub thread: String,
    pub busy_s: f64,
    pub idle_s: f64,
}

/// report.json's `timings`: what `build --timings` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// From [`enable`] to [`report`].
    pub wall_s: f64,
    /// CPU threads the machine offers.
    pub cores: usize,
    pub phases: Vec<PhaseTiming>,
    /// Each stage over all tracks, then per track.
    pub stages: Vec<StageTiming>,
    pub threads: Vec<ThreadTiming>,
}

/// The timings so far (wall time up to now); `None` when off.
pub fn report() -> Option<Timings> {
    if !enabled() {
        return None;
    }
    let g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let s = g.as_ref()?;
    let wall = s.start.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let mut totals: BTreeMap<&'static str, (Duration, Duration, u64)> = BTreeMap::new();
    for ((stage, _), v) in &s.stages {
        let e = totals
            .entry(stage)
            .or_insert((Duration::ZERO, Duration::ZERO, 0));
        e.0 += v.0;
        e.1 += v.1;
        e.2 += v.2;
    }
    let row = |stage: &str, track: Option<u32>, v: &(Duration, Duration, u64)| StageTiming {
        stage: stage.to_owned(),
        track,
        wall_s: v.0.as_secs_f64(),
        cpu_s: v.1.as_secs_f64(),
        calls: v.2,
    };
    let mut stages: Vec<StageTiming> = totals.iter().map(|(k, v)| row(k, None, v)).collect();
    stages.sort_by(|a, b| b.cpu_s.total_cmp(&a.cpu_s));
    stages.extend(
        s.stages
            .iter()
            .filter(|((_, t), _)| t.is_some())
            .map(|((k, t), v)| row(k, *t, v)),
    );
    Some(Timings {
        wall_s: wall,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        phases: s.phases.clone(),
        stages,
        threads: s
            .threads
            .iter()
            .map(|(_, name, busy)| ThreadTiming {
                thread: name.clone(),
                busy_s: busy.as_secs_f64(),
                idle_s: (wall - busy.as_secs_f64()).max(0.0),
            })
            .collect(),
    })
}

impl Timings {
    /// The stage table as `build --timings` prints it.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut t = String::new();
        let pct = |x: f64| 100.0 * x / self.wall_s.max(1e-9);
        let _ = writeln!(
            t,
            "{:<42} {:>9} {:>6} {:>9} {:>7}",
            "phase", "wall s", "%", "cpu s", "idle %"
        );
        let mut sum = 0.0;
        for p in &self.phases {
            sum += p.wall_s;
            let idle = 100.0 * (1.0 - p.cpu_s / (p.wall_s * self.cores as f64).max(1e-9));
            let _ = writeln!(
                t,
                "{:<42} {:>9.2} {:>5.1}% {:>9.2} {:>6.1}%",
                p.phase,
                p.wall_s,
                pct(p.wall_s),
                p.cpu_s,
                idle.max(0.0)
            );
        }
        let _ = writeln!(
            t,
            "{:<42} {:>9.2} {:>5.1}%   (wall {:.2} s, {} cores)",
            "phases together",
            sum,
            pct(sum),
            self.wall_s,
            self.cores
        );
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "{:<42} {:>9} {:>9} {:>9}",
            "stage (all tracks)", "cpu s", "wall s", "calls"
        );
        for s in self.stages.iter().filter(|s| s.track.is_none()) {
            let _ = writeln!(
                t,
                "{:<42} {:>9.2} {:>9.2} {:>9}",
                s.stage, s.cpu_s, s.wall_s, s.calls
            );
        }
        let _ = writeln!(t);
        let mut by_track: BTreeMap<u32, f64> = BTreeMap::new();
        for s in self.stages.iter() {
            if let Some(n) = s.track {
                *by_track.entry(n).or_default() += s.cpu_s;
            }
        }
        let _ = writeln!(t, "{:<42} {:>9}", "track", "cpu s");
        for (n, cpu) in by_track {
            let _ = writeln!(t, "{:<42} {:>9.2}", format!("track {n}"), cpu);
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "{:<42} {:>9} {:>9}", "thread", "busy s", "idle s");
        for th in &self.threads {
            let _ = writeln!(t, "{:<42} {:>9.2} {:>9.2}", th.thread, th.busy_s, th.idle_s);
        }
        t
    }
}
