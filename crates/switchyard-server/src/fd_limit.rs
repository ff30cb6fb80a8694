//! The open-file limit. Every client and upstream connection is a file descriptor, and the
//! soft limit a process inherits is often 1024, far below `server.max_connections`: past it
//! `accept()` fails, pingora retries once a second, and new clients wait unanswered. So at
//! start the soft limit is raised to the hard one (as Go's runtime and most servers do), and
//! the connection cap is kept below the limit with room for the upstream side, the admin
//! listener and the files the gateway opens, so a flood of clients is refused, counted and
//! logged by the cap before descriptors run out.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept out of the client connection cap: a quarter of the limit, at least this.
const MIN_RESERVE: u64 = 32;

/// Raises the soft open-file limit to the hard limit; returns the soft limit in force
/// afterwards (`None`: unlimited).
pub fn raise() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::info!(from = ?limit.current, to = ?limit.maximum, "open-file limit raised to its hard limit");
                return limit.maximum;
            }
            Err(e) => {
                tracing::warn!(limit = ?limit.current, error = %e, "cannot raise the open-file limit");
            }
        }
    }
    limit.current
}

/// The soft open-file limit now (`None`: unlimited).
pub fn current() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// How many client connections may be open at once: `max_connections`, but no more than
/// the open-file limit `nofile` less a reserve of a quarter of it (at least 32).
pub fn connection_cap(max_connections: usize, nofile: Option<u64>) -> usize {
    let Some(nofile) = nofile else {
        return max_connections;
    };
    let reserve = (nofile / 4).max(MIN_RESERVE);
    let room = usize::try_from(nofile.saturating_sub(reserve)).unwrap_or(usize::MAX);
    max_connections.min(room.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_quarter_of_the_limit_for_everything_else() {
        assert_eq!(connection_cap(4096, Some(1024)), 768);
        assert_eq!(connection_cap(4096, Some(65536)), 4096);
        assert_eq!(connection_cap(4096, None), 4096);
        // Small limits keep at least 32 descriptors back, and never a cap of 0.
        assert_eq!(connection_cap(4096, Some(64)), 32);
        assert_eq!(connection_cap(4096, Some(20)), 1);
    }

    #[test]
    fn raising_leaves_the_soft_limit_at_the_hard_one() {
        let after = raise();
        let now = getrlimit(Resource::Nofile);
        assert_eq!(after, now.current);
        assert_eq!(now.current, now.maximum);
    }
}
