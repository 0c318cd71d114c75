//! The in-memory object store.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Objects by key, kept sorted so listing is cheap and deterministic.
#[derive(Debug, Default)]
pub struct Store {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panic elsewhere cannot leave the map half-updated (every
        // operation is a single call), so a poisoned lock is still usable.
        self.objects.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value` under `key`; returns `true` if the key is new.
    pub fn put(&self, key: &str, value: Vec<u8>) -> bool {
        self.lock().insert(key.to_owned(), value).is_none()
    }

    /// A copy of the value stored under `key`.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).cloned()
    }

    /// Removes `key`; returns `true` if it was present.
    pub fn delete(&self, key: &str) -> bool {
        self.lock().remove(key).is_some()
    }

    /// All keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Store;

    #[test]
    fn put_get_replace_delete() {
        let store = Store::new();
        assert_eq!(store.get("a"), None);
        assert!(store.put("a", b"one".to_vec()));
        assert_eq!(store.get("a").as_deref(), Some(&b"one"[..]));
        assert!(!store.put("a", b"two".to_vec()), "second put replaces");
        assert_eq!(store.get("a").as_deref(), Some(&b"two"[..]));
        assert!(store.delete("a"));
        assert!(!store.delete("a"));
        assert_eq!(store.get("a"), None);
    }

    #[test]
    fn keys_are_sorted() {
        let store = Store::new();
        for key in ["b", "a/2", "a", "a/10"] {
            store.put(key, Vec::new());
        }
        assert_eq!(store.keys(), ["a", "a/10", "a/2", "b"]);
    }
}
