//! A bounded cache of decoded blocks (EWF chunks, qcow2 clusters, VMDK
//! grains), shared by the container readers.
//!
//! Containers that compress store each block as one independent stream, so
//! reading one byte costs decoding a whole block; the cache keeps the most
//! recently used ones. It is bounded in bytes, not entries: a block is
//! evicted (least recently used first) before the total passes the budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Budget of every container reader's cache: 32 MiB of decoded data
/// (1024 EWF chunks of 32 KiB, 512 qcow2 clusters of 64 KiB).
pub const CACHE_BYTES: usize = 32 << 20;

struct Inner {
    map: HashMap<u64, (Arc<Vec<u8>>, u64)>,
    bytes: usize,
    tick: u64,
}

pub struct BlockCache {
    inner: Mutex<Inner>,
    budget: usize,
}

impl BlockCache {
    pub fn new(budget: usize) -> Self {
        BlockCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                tick: 0,
            }),
            budget,
        }
    }

    pub fn get(&self, key: u64) -> Option<Arc<Vec<u8>>> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.tick += 1;
        let t = g.tick;
        let e = g.map.get_mut(&key)?;
        e.1 = t;
        Some(e.0.clone())
    }

    pub fn put(&self, key: u64, block: Arc<Vec<u8>>) {
        let len = block.len();
        if len > self.budget {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.tick += 1;
        let t = g.tick;
        if let Some(old) = g.map.insert(key, (block, t)) {
            g.bytes -= old.0.len();
        }
        g.bytes += len;
        while g.bytes > self.budget {
            // Linear scan for the oldest entry: the cache holds at most a
            // few thousand blocks, and eviction follows a decode anyway.
            let Some((&k, _)) = g.map.iter().min_by_key(|(_, v)| v.1) else {
                break;
            };
            if let Some(old) = g.map.remove(&k) {
                g.bytes -= old.0.len();
            }
        }
    }

    /// Bytes held now (tests).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let c = BlockCache::new(3 * 10);
        for k in 0..3 {
            c.put(k, Arc::new(vec![k as u8; 10]));
        }
        assert!(c.get(0).is_some()); // 1 is now the oldest
        c.put(3, Arc::new(vec![3; 10]));
        assert!(c.get(1).is_none());
        assert_eq!(c.get(0).unwrap()[0], 0);
        assert_eq!(c.get(3).unwrap()[0], 3);
        assert_eq!(c.held(), 30);
        c.put(9, Arc::new(vec![0; 31])); // larger than the budget: not kept
        assert!(c.get(9).is_none());
    }
}
