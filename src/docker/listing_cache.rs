//! Merged listings shared between the views of containers of one image
//! (see [`ListingCache`]).

use super::overlay::{Decided, Parts};
use crate::ext4::Inode;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// One cached merged entry, with the inode its row needs.
pub(super) struct CachedEntry {
    pub(super) name: Vec<u8>,
    pub(super) dec: Decided,
    pub(super) inode: Option<Inode>,
}

/// Merged listings of directories made only of image layers, shared by
/// the views of containers of the same image: below their own r/w and
/// init layers, those containers see the same trees, so each directory is
/// merged (dirents, whiteout and opaque checks, inodes) once, not once per
/// container. Keyed by the parts (layer index, directory inode): a
/// directory inode belongs to one layer, so equal keys mean equal inputs.
///
/// Bounded by `cap` entries. Each listing is tagged with the group (the
/// caller's choice: scan uses the image) of the view that last used it.
/// When full, listings of groups no view is using are dropped; if every
/// listing still belongs to a group in use, new ones are not kept. A tree
/// larger than the cap thus keeps its first `cap` entries for every later
/// view of the group, instead of being emptied and refilled with no hits.
pub struct ListingCache {
    inner: Mutex<CacheInner>,
    cap: usize,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<Parts, (Arc<Vec<CachedEntry>>, usize)>,
    entries: usize,
    /// Group -> (views using it, entries tagged with it).
    groups: HashMap<usize, (usize, usize)>,
}

/// A view's registration with a [`ListingCache`] group; ends on drop.
pub(super) struct CacheUse<'a> {
    pub(super) cache: &'a ListingCache,
    pub(super) group: usize,
}

impl Drop for CacheUse<'_> {
    fn drop(&mut self) {
        if let Ok(mut g) = self.cache.inner.lock() {
            if let Some(u) = g.groups.get_mut(&self.group) {
                u.0 = u.0.saturating_sub(1);
            }
        }
    }
}

impl ListingCache {
    pub fn new(cap_entries: usize) -> ListingCache {
        ListingCache {
            inner: Mutex::new(CacheInner::default()),
            cap: cap_entries,
        }
    }
    /// Entries held now.
    pub fn entries(&self) -> usize {
        self.inner.lock().map(|g| g.entries).unwrap_or(0)
    }
    pub(super) fn enter(&self, group: usize) -> CacheUse<'_> {
        if let Ok(mut g) = self.inner.lock() {
            g.groups.entry(group).or_default().0 += 1;
        }
        CacheUse { cache: self, group }
    }
    pub(super) fn get(&self, k: &[(usize, u32)], group: usize) -> Option<Arc<Vec<CachedEntry>>> {
        let mut g = self.inner.lock().ok()?;
        let g = &mut *g;
        let (v, tag) = g.map.get_mut(k)?;
        if *tag != group {
            // Re-tag: the listing now serves this group.
            let n = v.len();
            if let Some(t) = g.groups.get_mut(tag) {
                t.1 = t.1.saturating_sub(n);
            }
            g.groups.entry(group).or_default().1 += n;
            *tag = group;
        }
        Some(v.clone())
    }
    pub(super) fn put(&self, k: Vec<(usize, u32)>, v: Arc<Vec<CachedEntry>>, group: usize) {
        let Ok(mut g) = self.inner.lock() else { return };
        let g = &mut *g;
        let n = v.len();
        if g.entries + n > self.cap {
            let idle: HashSet<usize> = g
                .groups
                .iter()
                .filter(|(_, &(users, held))| users == 0 && held > 0)
                .map(|(&t, _)| t)
                .collect();
            if !idle.is_empty() {
                g.map.retain(|_, (_, t)| !idle.contains(t));
                for t in &idle {
                    if let Some(x) = g.groups.get_mut(t) {
                        x.1 = 0;
                    }
                }
                g.groups.retain(|_, x| x.0 > 0 || x.1 > 0);
                g.entries = g.map.values().map(|(v, _)| v.len()).sum();
            }
        }
        if g.entries + n > self.cap {
            return;
        }
        if let Some((old, t)) = g.map.insert(k, (v, group)) {
            g.entries -= old.len();
            if let Some(x) = g.groups.get_mut(&t) {
                x.1 = x.1.saturating_sub(old.len());
            }
        }
        g.entries += n;
        g.groups.entry(group).or_default().1 += n;
    }
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn listing(n: usize) -> Arc<Vec<CachedEntry>> {
        let e = |i: usize| CachedEntry {
            name: vec![b'a'; i + 1],
            dec: Decided::Whiteout {
                layer: 0,
                ino: 1,
                kind: "whiteout",
                hidden: Vec::new(),
            },
            inode: None,
        };
        Arc::new((0..n).map(e).collect())
    }

    #[test]
    fn full_cache_keeps_groups_in_use_and_drops_idle_ones() {
        let c = ListingCache::new(10);
        let a = c.enter(1);
        c.put(vec![(0, 1)], listing(6), 1);
        // Full, and group 1 is in use: the new listing is not kept.
        c.put(vec![(0, 2)], listing(6), 1);
        assert_eq!(c.entries(), 6);
        assert!(c.get(&[(0, 2)], 1).is_none());
        assert!(c.get(&[(0, 1)], 1).is_some());
        let b = c.enter(2);
        c.put(vec![(0, 3)], listing(5), 2);
        assert!(c.get(&[(0, 3)], 2).is_none(), "group 1 still in use");
        drop(a);
        // Group 1 is idle now: its listings make room.
        c.put(vec![(0, 3)], listing(5), 2);
        assert_eq!(c.entries(), 5);
        assert!(c.get(&[(0, 1)], 2).is_none());
        // A hit re-tags: group 2's listing, used by group 3, outlives 2.
        let d = c.enter(3);
        assert!(c.get(&[(0, 3)], 3).is_some());
        drop(b);
        c.put(vec![(0, 4)], listing(6), 3);
        assert!(c.get(&[(0, 3)], 3).is_some());
        assert!(c.get(&[(0, 4)], 3).is_none());
        assert_eq!(c.entries(), 5);
        drop(d);
        // Replacing a key keeps the count exact.
        c.put(vec![(0, 3)], listing(2), 4);
        assert_eq!(c.entries(), 2);
    }
}
