//! Scheduled jobs (services.md §1, §4): `every` and `cron` blocks run by `flin dev` and
//! `flin start`. One scheduler thread per build knows when each job is next due; a due
//! run is claimed in the database (its run record: one claim wins, so a run happens
//! once even when several servers share the database), then runs on a VM worker as a
//! unit of work with the request's step budget and `jobs.timeout`. A job whose last run
//! is still going skips the due run (logged and recorded); missed runs are not replayed;
//! a failure is logged with its FLIN line and waits for the next due time.
//!
//! `flin dev` makes a new scheduler with each build; a run in progress finishes on the
//! worker (and the code) it started on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flin_runtime::Store;
use flin_vm::{Limits, Program, ProgramCode, RuntimeError, Schedule, Vm};

use crate::unit::{RequestData, Site};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// When a job is due.
#[derive(Clone, Debug)]
pub enum When {
    /// Every interval from the server's start (no drift).
    Every {
        start: i64,
        interval: i64,
    },
    /// Every `days` days at a UTC time of day (minutes after midnight).
    Daily {
        days: i64,
        minute: i64,
        start: i64,
    },
    Cron(Box<croner::Cron>),
}

impl When {
    /// The first due time after `now` (µs since the epoch).
    pub fn next_after(&self, now: i64) -> Option<i64> {
        match self {
            When::Every { start, interval } => {
                if *interval <= 0 {
                    return None;
                }
                let k = (now - start).max(0) / interval + 1;
                start.checked_add(k.checked_mul(*interval)?)
            }
            When::Daily {
                days,
                minute,
                start,
            } => {
                // The first such time after the start, then every `days` days.
                let midnight = start - start.rem_euclid(MICROS_PER_DAY);
                let mut first = midnight + minute * 60_000_000;
                if first <= *start {
                    first += MICROS_PER_DAY;
                }
                let period = days * MICROS_PER_DAY;
                if now < first {
                    return Some(first);
                }
                let k = (now - first) / period + 1;
                first.checked_add(k.checked_mul(period)?)
            }
            When::Cron(cron) => {
                let secs = now.div_euclid(1_000_000);
                let at = chrono::DateTime::<chrono::Utc>::from_timestamp(secs, 0)?;
                let next = cron.find_next_occurrence(&at, false).ok()?;
                next.timestamp().checked_mul(1_000_000)
            }
        }
    }

    /// Takes the start the servers on the database share for this job (`Every` and
    /// `Daily`; a cron schedule is the same everywhere).
    fn share_start(&mut self, store: &Store, job: &str) {
        let (start, period) = match self {
            When::Every { start, interval } => (start, *interval),
            When::Daily { start, days, .. } => (start, *days * MICROS_PER_DAY),
            When::Cron(_) => return,
        };
        let stale_before = start.saturating_sub(period.saturating_mul(2));
        if let Ok(shared) = store.job_anchor(job, *start, stale_before) {
            *start = shared;
        }
    }

    /// How the schedule reads (`flin jobs`).
    pub fn describe(&self) -> String {
        match self {
            When::Every { interval, .. } => format!("every {}", human(*interval)),
            When::Daily { days, minute, .. } => {
                let at = format!("{:02}:{:02} UTC", minute / 60, minute % 60);
                match days {
                    1 => format!("every day at {at}"),
                    n => format!("every {n} days at {at}"),
                }
            }
            When::Cron(cron) => format!("cron \"{}\" (UTC)", cron.pattern),
        }
    }
}

fn human(micros: i64) -> String {
    let secs = micros / 1_000_000;
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{} hour(s)", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{} minute(s)", s / 60),
        s if s > 0 => format!("{s} second(s)"),
        _ => format!("{} ms", micros / 1_000),
    }
}

/// One job of the program, with its schedule made concrete.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// Its index in [`ProgramCode::jobs`].
    pub index: usize,
    pub name: String,
    pub when: When,
}

/// The jobs of a program, their schedules read (an `every` interval is the value of its
/// expression). `start` is when the server started (µs).
pub fn specs(code: &Arc<ProgramCode>, start: i64) -> Result<Vec<JobSpec>, String> {
    let mut specs = Vec::new();
    let mut program: Option<std::rc::Rc<Program>> = None;
    for (index, job) in code.jobs.iter().enumerate() {
        let when = match &job.schedule {
            Schedule::Cron(text) => {
                When::Cron(Box::new(text.parse::<croner::Cron>().map_err(|err| {
                    format!("job {}: invalid cron schedule: {err}", job.name)
                })?))
            }
            Schedule::Every { interval, at } => {
                let program = program
                    .get_or_insert_with(|| std::rc::Rc::new(Program::load(code.clone())))
                    .clone();
                let mut host = flin_vm::CaptureHost::default();
                let mut vm = Vm::new(program, &mut host);
                let micros = match vm.run_function(*interval, &[]) {
                    Ok(flin_vm::Value::Duration(micros)) => micros,
                    Ok(_) | Err(_) => {
                        return Err(format!(
                            "job {}: its interval cannot be computed before the server runs: write it as a duration, like `every 1.hours`",
                            job.name
                        ));
                    }
                };
                if micros <= 0 {
                    return Err(format!("job {}: its interval must be above zero", job.name));
                }
                match at {
                    None => When::Every {
                        start,
                        interval: micros,
                    },
                    Some(at) => {
                        let (h, m) = at
                            .split_once(':')
                            .and_then(|(h, m)| {
                                Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?))
                            })
                            .ok_or_else(|| format!("job {}: \"{at}\" is not HH:MM", job.name))?;
                        When::Daily {
                            days: (micros / MICROS_PER_DAY).max(1),
                            minute: h * 60 + m,
                            start,
                        }
                    }
                }
            }
        };
        specs.push(JobSpec {
            index,
            name: job.name.clone(),
            when,
        });
    }
    Ok(specs)
}

/// A due run handed to a worker.
pub struct ScheduledRun {
    pub job: usize,
    pub name: String,
    /// Its run record.
    pub record: i64,
    pub due: i64,
    pub store: Arc<Store>,
    /// Cleared when the run ends (the next due run may start).
    pub running: Arc<AtomicBool>,
}

/// Starts the scheduler of one build; it stops when `stop`'s sender is dropped.
pub fn start(
    code: Arc<ProgramCode>,
    runs: crossbeam_channel::Sender<Box<ScheduledRun>>,
    store: Arc<Store>,
    dev: bool,
    stop: crossbeam_channel::Receiver<()>,
) {
    if code.jobs.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("flin-jobs".into())
        .spawn(move || {
            let start = now_micros();
            let mut specs = match specs(&code, start) {
                Ok(specs) => specs,
                Err(message) => {
                    crate::logs::line(dev, "error", &message, None);
                    return;
                }
            };
            // Servers sharing PostgreSQL count each schedule from one start.
            for spec in &mut specs {
                spec.when.share_start(&store, &spec.name);
            }
            if let Ok(n) = store.interrupt_job_runs() {
                if n > 0 {
                    crate::logs::line(
                        dev,
                        "warn",
                        &format!("jobs: {n} run(s) were stopped with the server before; recorded as interrupted"),
                        None,
                    );
                }
            }
            let running: Vec<Arc<AtomicBool>> =
                specs.iter().map(|_| Arc::new(AtomicBool::new(false))).collect();
            let mut next: Vec<Option<i64>> = specs.iter().map(|s| s.when.next_after(start)).collect();
            for spec in &specs {
                crate::logs::line(
                    dev,
                    "info",
                    &format!("job {}: {}", spec.name, spec.when.describe()),
                    None,
                );
            }
            loop {
                let now = now_micros();
                let soonest = next.iter().flatten().min().copied();
                let wait = soonest.map_or(Duration::from_secs(3600), |due| {
                    Duration::from_micros(u64::try_from(due - now).unwrap_or(0))
                });
                match stop.recv_timeout(wait.min(Duration::from_secs(3600))) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    // The build was replaced, or the server is stopping.
                    _ => return,
                }
                let now = now_micros();
                for (i, spec) in specs.iter().enumerate() {
                    let Some(Some(due)) = next.get(i).copied() else {
                        continue;
                    };
                    if due > now {
                        continue;
                    }
                    // Missed runs are not replayed: the next is the first after now.
                    if let Some(slot) = next.get_mut(i) {
                        *slot = spec.when.next_after(now.max(due));
                    }
                    let Some(flag) = running.get(i) else { continue };
                    if flag.load(Ordering::Acquire) {
                        crate::logs::line(
                            dev,
                            "warn",
                            &format!("job {}: the run due now was skipped: the one before is still running", spec.name),
                            None,
                        );
                        let _ = store.skip_job_run(&spec.name, due, now);
                        continue;
                    }
                    let record = match store.claim_job_run(&spec.name, due, now) {
                        Ok(Some(record)) => record,
                        // Claimed by another server.
                        Ok(None) => continue,
                        Err(err) => {
                            crate::logs::line(dev, "error", &format!("job {}: cannot record its run: {err}", spec.name), None);
                            continue;
                        }
                    };
                    flag.store(true, Ordering::Release);
                    let run = ScheduledRun {
                        job: spec.index,
                        name: spec.name.clone(),
                        record,
                        due,
                        store: store.clone(),
                        running: flag.clone(),
                    };
                    if runs.send(Box::new(run)).is_err() {
                        flag.store(false, Ordering::Release);
                    }
                }
            }
        });
    if let Err(err) = spawned {
        crate::logs::line(
            dev,
            "error",
            &format!("cannot start the job scheduler: {err}"),
            None,
        );
    }
}

/// Runs a due job on this worker and records how it ended.
pub fn run(site: &Site, run: &ScheduledRun) {
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| execute(site, run.job)))
        .unwrap_or_else(|_| Err(RuntimeError::runtime("internal panic")));
    let micros = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    let (outcome, error) = match &outcome {
        Ok(()) => ("ok", None),
        Err(err) => {
            let at = crate::unit::location_of(site, err);
            let text = if at.is_empty() {
                format!("{} error: {}", err.kind, err.message)
            } else {
                format!("{} error: {} at {at}", err.kind, err.message)
            };
            crate::logs::line(
                site.dev,
                "error",
                &format!("job {}: {text}", run.name),
                None,
            );
            ("failed", Some(text))
        }
    };
    if let Err(err) = run
        .store
        .finish_job_run(run.record, micros, outcome, error.as_deref())
    {
        crate::logs::line(
            site.dev,
            "error",
            &format!("job {}: cannot record its run: {err}", run.name),
            None,
        );
    }
    run.running.store(false, Ordering::Release);
    let _ = run.due;
    flin_vm::cycles::collect_young();
}

/// The job's file sets its variables, then its block runs: one unit of work.
fn execute(site: &Site, job: usize) -> Result<(), RuntimeError> {
    let code = site.program.code.clone();
    let Some(job) = code.jobs.get(job) else {
        return Err(RuntimeError::runtime("internal: the job is gone"));
    };
    let source = site
        .sources
        .get(job.file)
        .map_or_else(String::new, |s| s.path.clone());
    let request = RequestData {
        request_id: format!("job-{}", job.name),
        ..RequestData::default()
    };
    let mut host = crate::host::WebHost::new(
        site,
        source,
        request,
        serde_json::Value::Null,
        crate::render::PageRender::new(false),
    );
    let limits = Limits {
        time_limit: Some(site.job_timeout),
        max_memory: Some(site.request_memory),
        ..Limits::default()
    };
    let main = code
        .entries
        .iter()
        .find(|(file, _)| *file == job.file)
        .map(|(_, main)| *main);
    // A job that cannot write runs on a reader: it never holds the writer (which every
    // save of the app, and the scheduler's claims, wait for) while it runs.
    let write =
        main.is_some_and(|m| site.program.may_write(m)) || site.program.may_write(job.function);
    let result = crate::unit::with_unit(site, &mut host, write, |host| {
        let mut vm = Vm::new(site.program.clone(), host);
        vm.limits = limits;
        vm.start_unit();
        if let Some(main) = main {
            vm.run_function(main, &[])?;
        }
        vm.run_function(job.function, &[])?;
        Ok(())
    });
    for (level, line) in &host.log_lines {
        crate::logs::line(site.dev, level, line, Some(&format!("job-{}", job.name)));
    }
    result
}

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SEC: i64 = 1_000_000;

    #[test]
    fn every_runs_one_interval_after_the_start_then_without_drift() {
        let when = When::Every {
            start: 1_000 * SEC,
            interval: 60 * SEC,
        };
        assert_eq!(when.next_after(1_000 * SEC), Some(1_060 * SEC));
        assert_eq!(when.next_after(1_059 * SEC), Some(1_060 * SEC));
        assert_eq!(when.next_after(1_060 * SEC), Some(1_120 * SEC));
        // Late by 35 s: the next is still on the grid.
        assert_eq!(when.next_after(1_095 * SEC), Some(1_120 * SEC));
    }

    #[test]
    fn daily_runs_at_the_utc_time_each_n_days() {
        // Started on day 10 at 12:00; the job runs at 03:30.
        let day = 86_400 * SEC;
        let start = 10 * day + 12 * 3_600 * SEC;
        let when = When::Daily {
            days: 1,
            minute: 3 * 60 + 30,
            start,
        };
        let first = 11 * day + (3 * 3_600 + 30 * 60) * SEC;
        assert_eq!(when.next_after(start), Some(first));
        assert_eq!(when.next_after(first), Some(first + day));
        let every_two = When::Daily {
            days: 2,
            minute: 3 * 60 + 30,
            start,
        };
        assert_eq!(every_two.next_after(first), Some(first + 2 * day));
        // Started before 03:30: today's.
        let early = 10 * day + 3_600 * SEC;
        let when = When::Daily {
            days: 1,
            minute: 3 * 60 + 30,
            start: early,
        };
        assert_eq!(
            when.next_after(early),
            Some(10 * day + (3 * 3_600 + 30 * 60) * SEC)
        );
    }

    #[test]
    fn cron_follows_the_five_fields_in_utc() {
        let cron: croner::Cron = "*/15 9-17 * * MON-FRI".parse().unwrap();
        let when = When::Cron(Box::new(cron));
        // Monday 2026-12-07 08:50 UTC → 09:00.
        let monday = chrono::DateTime::parse_from_rfc3339("2026-12-07T08:50:00Z").unwrap();
        let next = when.next_after(monday.timestamp() * SEC).unwrap();
        let expected = chrono::DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z").unwrap();
        assert_eq!(next, expected.timestamp() * SEC);
        // Friday 17:50 → Monday 09:00.
        let friday = chrono::DateTime::parse_from_rfc3339("2026-12-11T17:50:00Z").unwrap();
        let next = when.next_after(friday.timestamp() * SEC).unwrap();
        let expected = chrono::DateTime::parse_from_rfc3339("2026-12-14T09:00:00Z").unwrap();
        assert_eq!(next, expected.timestamp() * SEC);
    }
}
