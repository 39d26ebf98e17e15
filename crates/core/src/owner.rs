//! Who owns a batch: the process that writes its results into the project.
//!
//! An owner is `host:pid:instance`, where the instance starts with the
//! process's start time, so that a process id reused after a restart is not
//! taken for the owner. Another process may take a batch over when the
//! owner's lease in Redis has expired, or at once when the lease names a
//! process of this host that no longer exists (it was killed).

use std::fmt;

/// The identity of this process as the owner of batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// The process's start time (clock ticks after boot), then a random part
    /// that tells apart two owners in one process (tests run several).
    pub instance: String,
}

impl Owner {
    pub fn this_process() -> Owner {
        let pid = std::process::id();
        let random = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let instance = format!("{}.{random}", process_start(pid).unwrap_or(0));
        Owner { host: this_host(), pid, instance }
    }

    pub fn parse(text: &str) -> Option<Owner> {
        let mut parts = text.rsplitn(3, ':');
        let instance = parts.next()?.to_string();
        let pid = parts.next()?.parse().ok()?;
        let host = parts.next()?.to_string();
        Some(Owner { host, pid, instance })
    }

    /// Whether the owner named by a lease may still be working. Only a
    /// process of this host can be known dead; others are trusted until
    /// their lease expires.
    pub fn is_alive_reading(lease: &str) -> bool {
        match Owner::parse(lease) {
            Some(owner) if owner.host == this_host() => {
                let started = owner.instance.split('.').next().and_then(|t| t.parse::<u64>().ok());
                match (process_exists(owner.pid), started) {
                    (false, _) => false,
                    (true, Some(started)) if started > 0 => {
                        process_start(owner.pid).is_none_or(|now| now == started)
                    }
                    (true, _) => true,
                }
            }
            _ => true,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.host, self.pid, self.instance)
    }
}

pub fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// When a process started, in clock ticks after boot (Linux `/proc`).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after its ')'.
    let fields = stat.rsplit_once(')')?.1;
    fields.split_whitespace().nth(19)?.parse().ok()
}

/// Whether a process with this id runs on this host (Linux `/proc`).
pub fn process_exists(pid: u32) -> bool {
    let status = std::path::Path::new("/proc").join(pid.to_string()).join("status");
    match std::fs::read_to_string(status) {
        // A zombie has exited: it only waits for its parent to notice.
        Ok(text) => !text.lines().any(|line| line.starts_with("State:") && line.contains('Z')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_round_trips_through_its_lease_text() {
        let owner = Owner::this_process();
        assert_eq!(Owner::parse(&owner.to_string()), Some(owner.clone()));
        assert!(Owner::is_alive_reading(&owner.to_string()));
    }

    #[test]
    fn a_dead_local_process_is_not_alive_but_a_remote_one_is_trusted() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Owner { host: this_host(), pid, instance: "x".into() };
        assert!(!Owner::is_alive_reading(&dead.to_string()));
        let remote = Owner { host: "elsewhere".into(), pid, instance: "x".into() };
        assert!(Owner::is_alive_reading(&remote.to_string()));
    }

    /// Regression: after a restart, a live process that happened to get the
    /// dead owner's id kept its batch from being resumed for good.
    #[test]
    fn a_reused_process_id_is_not_the_owner() {
        let me = Owner::this_process();
        let reused = Owner { instance: "12345.abcdefgh".into(), ..me.clone() };
        assert!(!Owner::is_alive_reading(&reused.to_string()));
        assert!(Owner::is_alive_reading(&me.to_string()));
    }
}
