//! Who owns a batch: the process that writes its results into the project.
//!
//! An owner is `host:pid:instance`. Another process may take a batch over
//! when the owner's lease in Redis has expired, or at once when the lease
//! names a process of this host that no longer exists (it was killed).

use std::fmt;

/// The identity of this process as the owner of batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    /// Tells apart two owners in one process (tests run several).
    pub instance: String,
}

impl Owner {
    pub fn this_process() -> Owner {
        let instance = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        Owner { host: this_host(), pid: std::process::id(), instance }
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
            Some(owner) if owner.host == this_host() => process_exists(owner.pid),
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
}
