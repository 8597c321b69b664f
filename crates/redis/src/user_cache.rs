//! Users as this node last read or wrote them, encoded, for the writes that
//! follow ([`UserRepository::get_for_write`]). A cached user may be older
//! than the stored one (another node changed it); the write's expected
//! sequence then fails and the write is retried on a fresh read, so a stale
//! entry costs a round trip, never a wrong write. Nothing else reads it.
//!
//! The whole cache is dropped whenever a Redis command failed since it was
//! last looked at: a failover may have lost writes an entry reflects, and
//! a later write could then bring the stored sequence back to an entry's.
//!
//! [`UserRepository::get_for_write`]: onboard_domain::ports::UserRepository::get_for_write

use std::collections::HashMap;
use std::sync::Mutex;

use onboard_domain::ports::Unavailable;
use onboard_domain::{User, UserId};

use crate::codec::{decode, encode};

pub(crate) struct UserCache {
    most: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, Vec<u8>>,
    /// The connection's failure count the entries were made under.
    failures: u64,
}

impl UserCache {
    /// A cache of at most `most` users (0: none).
    pub fn new(most: usize) -> Self {
        Self { most, state: Mutex::default() }
    }

    fn lock(&self, failures: u64) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.failures != failures {
            state.users.clear();
            state.failures = failures;
        }
        state
    }

    /// The cached user, if any; `failures` is the connection's failure count now.
    pub fn get(&self, id: &UserId, failures: u64) -> Option<Result<User, Unavailable>> {
        if self.most == 0 {
            return None;
        }
        let bytes = self.lock(failures).users.get(id).cloned()?;
        Some(decode(&bytes))
    }

    /// Keeps `user` as the stored one now.
    pub fn put(&self, user: &User, failures: u64) {
        if self.most == 0 {
            return;
        }
        // The encoded form leaves out a code's own delivery (a link template,
        // a returned code): such a user is read from Redis every time.
        if !user.snapshot_safe() {
            self.forget(&user.id);
            return;
        }
        let bytes = encode(user);
        let mut state = self.lock(failures);
        if state.users.len() >= self.most && !state.users.contains_key(&user.id) {
            // Any one goes: the map's order is as good as random, and unlike
            // least-recently-used it keeps hitting when users are walked
            // through in a cycle longer than the cache.
            if let Some(victim) = state.users.keys().next().cloned() {
                state.users.remove(&victim);
            }
        }
        state.users.insert(user.id.clone(), bytes);
    }

    /// Forgets `id`: its stored state is not known (a failed or conflicting write).
    pub fn forget(&self, id: &UserId) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).users.remove(id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().unwrap().users.len()
    }
}

#[cfg(test)]
mod tests {
    use onboard_domain::OrgId;
    use onboard_domain::testkit::new_user;

    use super::*;

    #[test]
    fn keeps_users_up_to_its_size_and_drops_all_after_a_failure() {
        let cache = UserCache::new(2);
        let users: Vec<User> = (0..3).map(|i| new_user(&OrgId::generate(), &format!("c{i}")).0).collect();
        cache.put(&users[0], 0);
        assert_eq!(cache.get(&users[0].id, 0).unwrap().unwrap(), users[0]);
        cache.put(&users[1], 0);
        cache.put(&users[2], 0);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&users[2].id, 0).unwrap().unwrap(), users[2]);
        cache.forget(&users[2].id);
        assert!(cache.get(&users[2].id, 0).is_none());
        let kept = users.iter().find(|u| cache.get(&u.id, 0).is_some()).unwrap();
        // A failure since: nothing cached is trusted any more.
        assert!(cache.get(&kept.id, 1).is_none());
        assert_eq!(cache.len(), 0);
        let off = UserCache::new(0);
        off.put(&users[0], 0);
        assert!(off.get(&users[0].id, 0).is_none());
    }

    #[test]
    fn a_user_whose_code_has_a_delivery_of_its_own_is_not_kept() {
        let cache = UserCache::new(2);
        let (mut user, _) = new_user(&OrgId::generate(), "templated");
        cache.put(&user, 0);
        assert!(cache.get(&user.id, 0).is_some());
        user.init_code.as_mut().unwrap().delivery = onboard_domain::CodeDelivery::Returned;
        cache.put(&user, 0);
        assert!(cache.get(&user.id, 0).is_none(), "neither the new state nor the one before it");
    }
}
