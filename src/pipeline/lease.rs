//! Names for the leases a process takes on the sources it polls, and whether the process a
//! lease names still runs, so that the sources of a killed process are taken over at once
//! instead of when its lease runs out.

/// "`host` pid `1234` (`9f3a…`)": the machine, the process, and a random part so that a
/// recycled pid is not taken for the process that held it before.
/// One name per process, kept across configuration reloads: the worker `figwatch status` lists.
/// `$FIGWATCH_WORKER_NAME` replaces the host name (say, one per systemd instance); the leases
/// of a worker named so are never taken for this machine's, so they run out when it dies.
pub fn owner_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let name = std::env::var("FIGWATCH_WORKER_NAME")
            .ok()
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join("-"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(hostname);
        format!(
            "{name} pid {} ({:08x})",
            std::process::id(),
            fastrand::u32(..)
        )
    })
    .clone()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))
        .unwrap_or_else(|| "localhost".into())
}

/// True when `owner` names a process of this machine that has ended. A lease of another
/// machine, or one whose name does not parse, is left to run out.
pub fn is_dead_local(owner: &str) -> bool {
    let mut parts = owner.split_whitespace();
    let (Some(host), Some("pid"), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<i32>() else {
        return false;
    };
    if host != hostname() || pid <= 0 || pid as u32 == std::process::id() {
        return false;
    }
    // Signal 0 checks that the process exists without touching it.
    // SAFETY: kill with signal 0 sends nothing.
    let alive = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    !alive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_process_is_alive_and_an_ended_one_is_not() {
        let me = owner_name();
        assert!(!is_dead_local(&me), "this process");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let ended = format!("{} pid {pid} (00000000)", hostname());
        assert!(is_dead_local(&ended));
        assert!(
            !is_dead_local(&format!("elsewhere pid {pid} (0)")),
            "another machine"
        );
        assert!(!is_dead_local("garbage"));
    }
}
