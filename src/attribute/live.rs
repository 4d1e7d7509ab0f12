//! Live inodes reached from the root, and their owners, kept compact: a
//! bit per inode of each inode group that holds one, and the owner of each
//! run of live inodes (in inode order) that share one. Inode `n` is bit
//! `(n - 1) % s_inodes_per_group` of group `(n - 1) / s_inodes_per_group`.
//! An entry per inode (12 bytes) was 60 MB for 5M live files; files of one
//! directory sit in one inode group (Orlov), so runs are long.

use super::owners::OwnerId;

/// (first inode of the run, owner, index of the rule-1 reason).
type Run = (u32, OwnerId, u32);

pub struct LiveOwners {
    ipg: u32,
    /// One slot per inode group; bits only for groups with a live inode.
    bits: Vec<Option<Box<[u64]>>>,
    runs: Vec<Run>,
    len: usize,
}

impl LiveOwners {
    /// An empty set for `groups` inode groups of `ipg` inodes.
    pub fn new(groups: u64, ipg: u32) -> LiveOwners {
        // The group table is already in memory, one descriptor per group:
        // a slot each costs no more.
        LiveOwners {
            ipg: ipg.max(1),
            bits: (0..groups).map(|_| None).collect(),
            runs: Vec::new(),
            len: 0,
        }
    }

    fn slot(&self, ino: u32) -> Option<(usize, usize)> {
        let i = ino.checked_sub(1)?;
        let g = (i / self.ipg) as usize;
        let b = (i % self.ipg) as usize;
        (g < self.bits.len()).then_some((g, b))
    }

    /// Mark `ino` live. False when it already was, or lies past the last
    /// inode group (a lying directory entry).
    pub fn insert(&mut self, ino: u32) -> bool {
        let Some((g, b)) = self.slot(ino) else {
            return false;
        };
        let words = (self.ipg as usize).div_ceil(64);
        let Some(slot) = self.bits.get_mut(g) else {
            return false;
        };
        let w = slot.get_or_insert_with(|| vec![0u64; words].into_boxed_slice());
        let Some(word) = w.get_mut(b / 64) else {
            return false;
        };
        let m = 1u64 << (b % 64);
        if *word & m != 0 {
            return false;
        }
        *word |= m;
        self.len += 1;
        true
    }

    pub fn contains(&self, ino: u32) -> bool {
        let Some((g, b)) = self.slot(ino) else {
            return false;
        };
        self.bits
            .get(g)
            .and_then(|w| w.as_ref())
            .and_then(|w| w.get(b / 64))
            .is_some_and(|x| x & (1 << (b % 64)) != 0)
    }

    /// Set the owners from (inode, owner, reason) sorted by inode, one per
    /// live inode.
    pub fn set_owners(&mut self, sorted: impl Iterator<Item = Run>) {
        self.runs.clear();
        for (ino, o, why) in sorted {
            if self
                .runs
                .last()
                .is_none_or(|&(_, lo, lw)| (lo, lw) != (o, why))
            {
                self.runs.push((ino, o, why));
            }
        }
        self.runs.shrink_to_fit();
    }

    /// Number of live inodes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The owner and rule-1 reason of a live inode.
    pub fn get(&self, ino: u32) -> Option<(OwnerId, u32)> {
        if !self.contains(ino) {
            return None;
        }
        let k = self.runs.partition_point(|r| r.0 <= ino);
        let &(_, o, w) = self.runs.get(k.checked_sub(1)?)?;
        Some((o, w))
    }

    pub fn groups(&self) -> u64 {
        self.bits.len() as u64
    }

    /// Live inodes of inode group `g`, ascending, with their owners.
    pub fn group(&self, g: u64) -> impl Iterator<Item = (u32, OwnerId)> + '_ {
        let first = (g as u32).saturating_mul(self.ipg).saturating_add(1);
        let mut k = self.runs.partition_point(|r| r.0 <= first);
        self.group_bits(g, 0, true).filter_map(move |ino| {
            while self.runs.get(k).is_some_and(|r| r.0 <= ino) {
                k += 1;
            }
            let &(_, o, _) = self.runs.get(k.checked_sub(1)?)?;
            Some((ino, o))
        })
    }

    /// Every live inode, ascending, with its owner.
    pub fn iter(&self) -> impl Iterator<Item = (u32, OwnerId)> + '_ {
        (0..self.groups()).flat_map(move |g| self.group(g))
    }

    /// Live inodes of `ino`'s group below it (descending) or above it
    /// (ascending), with their owners.
    pub fn near(&self, ino: u32, above: bool) -> impl Iterator<Item = (u32, OwnerId)> + '_ {
        let (g, b) = self.slot(ino).unwrap_or((usize::MAX, 0));
        let from = if above { b + 1 } else { b };
        self.group_bits(g as u64, from, above)
            .filter_map(move |n| self.get(n).map(|(o, _)| (n, o)))
    }

    /// Inode numbers of group `g`'s set bits: ascending from bit `from`, or
    /// descending from bit `from - 1`.
    fn group_bits(&self, g: u64, from: usize, asc: bool) -> impl Iterator<Item = u32> + '_ {
        let words: &[u64] = usize::try_from(g)
            .ok()
            .and_then(|g| self.bits.get(g))
            .and_then(|w| w.as_deref())
            .unwrap_or(&[]);
        let base = (g as u32).saturating_mul(self.ipg).saturating_add(1);
        let nbits = (self.ipg as usize).min(words.len() * 64);
        let mut pos = if asc { from } else { from.min(nbits) };
        std::iter::from_fn(move || {
            if asc {
                while pos < nbits {
                    let w = words.get(pos / 64).copied().unwrap_or(0) >> (pos % 64);
                    if w == 0 {
                        pos = (pos / 64 + 1) * 64;
                        continue;
                    }
                    pos += w.trailing_zeros() as usize;
                    if pos >= nbits {
                        break;
                    }
                    let out = base.saturating_add(pos as u32);
                    pos += 1;
                    return Some(out);
                }
                None
            } else {
                while pos > 0 {
                    let top = pos - 1;
                    let w =
                        words.get(top / 64).copied().unwrap_or(0) & (u64::MAX >> (63 - top % 64));
                    if w == 0 {
                        pos = top / 64 * 64;
                        continue;
                    }
                    pos = top / 64 * 64 + (63 - w.leading_zeros() as usize);
                    let out = base.saturating_add(pos as u32);
                    return Some(out);
                }
                None
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_runs_and_neighbours() {
        let mut l = LiveOwners::new(4, 100);
        for i in [2, 5, 64, 65, 100, 101, 150, 300, 301] {
            assert!(l.insert(i));
        }
        assert!(!l.insert(5), "already live");
        assert!(!l.insert(0) && !l.insert(401), "no group");
        assert_eq!(l.len(), 9);
        l.set_owners(
            [
                (2, 1, 0),
                (5, 1, 0),
                (64, 2, 7),
                (65, 2, 7),
                (100, 2, 7),
                (101, 3, 1),
                (150, 3, 1),
                (300, 1, 0),
                (301, 1, 0),
            ]
            .into_iter(),
        );
        assert_eq!(l.runs.len(), 4);
        assert_eq!(l.get(65), Some((2, 7)));
        assert_eq!(l.get(66), None);
        assert_eq!(l.get(150), Some((3, 1)));
        let all: Vec<u32> = l.iter().map(|x| x.0).collect();
        assert_eq!(all, vec![2, 5, 64, 65, 100, 101, 150, 300, 301]);
        let owners: Vec<OwnerId> = l.iter().map(|x| x.1).collect();
        assert_eq!(owners, vec![1, 1, 2, 2, 2, 3, 3, 1, 1]);
        let below: Vec<u32> = l.near(65, false).map(|x| x.0).collect();
        assert_eq!(below, vec![64, 5, 2]);
        let above: Vec<u32> = l.near(65, true).map(|x| x.0).collect();
        assert_eq!(above, vec![100], "group 0 is inodes 1-100");
        let below: Vec<u32> = l.near(101, false).map(|x| x.0).collect();
        assert!(below.is_empty());
        let above: Vec<u32> = l.near(3, true).map(|x| x.0).collect();
        assert_eq!(above, vec![5, 64, 65, 100]);
        assert_eq!(l.near(99_999, true).count(), 0);
    }
}
