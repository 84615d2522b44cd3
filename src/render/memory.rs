//! The memory of a process and all its descendants, as Linux reports it under `/proc`:
//! Chromium is a tree of processes (browser, zygotes, a renderer per tab, utilities), and its
//! cost is the tree's.

use std::collections::HashMap;

/// `pid` and every process descending from it.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(parent) = parent_of(p) {
                children.entry(parent).or_default().push(p);
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        for &c in children.get(&out[i]).map(Vec::as_slice).unwrap_or_default() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        i += 1;
    }
    out
}

/// The fields of `/proc/PID/stat` after the command (read after its closing parenthesis: a
/// command name may hold spaces and parentheses): the state, then the parent, ….
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    Some(
        after
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect(),
    )
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// Whether `pid` exists and is neither a zombie (Z) nor dead (X).
pub fn is_running(pid: u32) -> bool {
    stat_fields(pid)
        .and_then(|f| f.first().cloned())
        .is_some_and(|state| state != "Z" && state != "X")
}

/// The memory of the tree under `pid`, in bytes: both the proportional set size (each shared
/// page divided among the processes that map it; what the tree costs the machine) and the sum
/// of resident set sizes (which counts shared pages once per process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeMemory {
    /// Proportional set size of the tree.
    pub pss: u64,
    /// Resident set sizes, summed.
    pub rss: u64,
    /// Processes in the tree.
    pub processes: usize,
}

/// What the processes under `pid` (itself included) hold now.
pub fn tree_memory(pid: u32) -> TreeMemory {
    let mut total = TreeMemory::default();
    for p in tree(pid) {
        let Some((pss, rss)) = process_memory(p) else {
            continue;
        };
        total.pss += pss;
        total.rss += rss;
        total.processes += 1;
    }
    total
}

/// A process's PSS and RSS in bytes, from `smaps_rollup` (PSS falls back to RSS where the
/// kernel has no rollup).
fn process_memory(pid: u32) -> Option<(u64, u64)> {
    let kb = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| {
                l[key.len()..]
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|k| k * 1024)
    };
    if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
        if let (Some(pss), Some(rss)) = (kb(&rollup, "Pss:"), kb(&rollup, "Rss:")) {
            return Some((pss, rss));
        }
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = kb(&status, "VmRSS:")?;
    Some((rss, rss))
}

/// Kills `pid` and every process under it (SIGKILL), children first found, so that no
/// renderer outlives its browser.
pub fn kill_tree(pid: u32) {
    for p in tree(pid).into_iter().rev() {
        // SAFETY: kill(2) with a pid read from /proc and a valid signal has no memory effects.
        unsafe {
            libc::kill(p as libc::pid_t, libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_holds_its_children_and_their_memory() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id();
        let pids = tree(me);
        assert_eq!(pids[0], me);
        assert!(pids.contains(&child.id()), "{pids:?}");
        let mem = tree_memory(me);
        assert!(mem.processes >= 2, "{mem:?}");
        assert!(mem.pss > 0 && mem.rss >= mem.pss, "{mem:?}");
        assert!(is_running(child.id()));
        kill_tree(child.id());
        let status = child.wait().unwrap();
        assert!(!is_running(child.id()), "reaped");
        assert!(!status.success(), "killed, not finished: {status}");
    }
}
