//! Singleton start: a program run without a launcher is PE 0 of 1.
use super::Kvs;
use crate::error::Result;
use std::collections::HashMap;

/// The in-process key-value store of a one-PE job.
#[derive(Debug)]
pub struct Singleton {
    map: HashMap<String, String>,
    id: String,
    maxes: (usize, usize),
}

impl Default for Singleton {
    fn default() -> Self {
        Self::new()
    }
}

impl Singleton {
    /// A one-PE job with generous key/value limits.
    pub fn new() -> Self {
        Self::with_maxes(256, 4096)
    }

    /// A one-PE job with the given key and value limits (for tests of chunking).
    pub fn with_maxes(keylen: usize, vallen: usize) -> Self {
        Self {
            map: HashMap::new(),
            id: format!("singleton-{}", std::process::id()),
            maxes: (keylen, vallen),
        }
    }
}

impl Kvs for Singleton {
    fn protocol(&self) -> &'static str {
        "singleton"
    }
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn job_id(&self) -> &str {
        &self.id
    }
    fn maxes(&self) -> (usize, usize) {
        self.maxes
    }
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()> {
        self.map.insert(key.to_string(), value.to_string());
        Ok(())
    }
    fn get_raw(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.map.get(key).cloned())
    }
    fn barrier(&mut self) -> Result<()> {
        Ok(())
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        Some(vec![0])
    }
    fn abort(&mut self, code: i32) -> ! {
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        Ok(())
    }
}
