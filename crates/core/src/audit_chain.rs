//! Walking the audit hash chain: the one check that a run of stored records links, record by
//! record, to the point before it. The database walk (`sekisho audit verify`), the walk from a
//! checkpoint, the archive written by `sekisho audit archive` and its own verification
//! (`sekisho audit verify --file`) all go through [`ChainWalk`].

use crate::audit::{chain_hash, ChainFields, CHAIN_VERSION, GENESIS_HASH};
use serde::{Deserialize, Serialize};

/// A stored audit record with its chain hash, as read for verification and archiving (and as
/// one line of an archive file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainedRecord {
    /// Event ID.
    pub id: i64,
    /// Time (Unix seconds).
    pub time: i64,
    /// Login concerned.
    pub login_id: Option<String>,
    /// Actor kind.
    pub actor_kind: String,
    /// Actor ID.
    pub actor_id: String,
    /// Event group.
    pub event_group: String,
    /// Event type.
    pub event_type: String,
    /// Description.
    pub description: String,
    /// Error code.
    pub error_code: Option<String>,
    /// Client IP.
    pub client_ip: Option<String>,
    /// User agent.
    pub user_agent: Option<String>,
    /// Version of the hashed encoding (absent on records from before the chain).
    pub chain_version: Option<i64>,
    /// The stored chain hash.
    pub chain_hash: Option<String>,
}

impl ChainedRecord {
    /// The fields its hash covers.
    pub fn fields(&self) -> ChainFields<'_> {
        ChainFields {
            id: self.id,
            time: self.time,
            login_id: self.login_id.as_deref(),
            actor_kind: &self.actor_kind,
            actor_id: &self.actor_id,
            event_group: &self.event_group,
            event_type: &self.event_type,
            description: &self.description,
            error_code: self.error_code.as_deref(),
            client_ip: self.client_ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// A point on the chain: a record's ID and its chain hash, which the record after it links to.
/// A checkpoint is the point of the last verified record; an archive ends at one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPoint {
    /// Event ID.
    pub id: i64,
    /// Its chain hash (lowercase hex).
    pub hash: String,
}

impl ChainPoint {
    /// The point before the first chained record `chain_start`.
    pub fn genesis(chain_start: i64) -> ChainPoint {
        ChainPoint {
            id: chain_start - 1,
            hash: GENESIS_HASH.to_owned(),
        }
    }

    /// `ID:HASH`, the text of a checkpoint file and of the archive's audit record.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.id, self.hash)
    }

    /// Reads `ID:HASH` (surrounding white space ignored).
    pub fn parse(s: &str) -> Option<ChainPoint> {
        let (id, hash) = s.trim().split_once(':')?;
        let ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        Some(ChainPoint {
            id: id.parse().ok()?,
            hash: hash.to_ascii_lowercase(),
        })
        .filter(|_| ok)
    }
}

/// The walk: fed records in ID order, it says whether each links to the one before.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    last: ChainPoint,
    verified: u64,
}

impl ChainWalk {
    /// A walk that expects the record after `start`.
    pub fn from(start: ChainPoint) -> ChainWalk {
        ChainWalk {
            last: start,
            verified: 0,
        }
    }

    /// Checks the next record; `Err` names what is wrong (and the walk stays where it was).
    pub fn step(&mut self, r: &ChainedRecord) -> Result<(), String> {
        let expected = self.last.id + 1;
        if r.id != expected {
            return Err(if r.id > expected {
                format!("record(s) {expected}..{} missing before this one", r.id - 1)
            } else {
                format!("record out of order (expected {expected})")
            });
        }
        let stored = match (&r.chain_version, &r.chain_hash) {
            (Some(v), Some(h)) if *v == CHAIN_VERSION => h,
            _ => return Err("record carries no chain hash".into()),
        };
        let computed = chain_hash(&self.last.hash, &r.fields());
        if &computed != stored {
            return Err("hash does not match: the record was altered".into());
        }
        self.last = ChainPoint {
            id: r.id,
            hash: computed,
        };
        self.verified += 1;
        Ok(())
    }

    /// The last record verified (or the start).
    pub fn last(&self) -> &ChainPoint {
        &self.last
    }

    /// Records verified so far.
    pub fn verified(&self) -> u64 {
        self.verified
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, prev: &str, desc: &str) -> ChainedRecord {
        let mut r = ChainedRecord {
            id,
            time: 1_000 + id,
            login_id: Some("u1".into()),
            actor_kind: "self".into(),
            actor_id: String::new(),
            event_group: "login".into(),
            event_type: "login_failed".into(),
            description: desc.into(),
            error_code: None,
            client_ip: None,
            user_agent: None,
            chain_version: Some(CHAIN_VERSION),
            chain_hash: None,
        };
        r.chain_hash = Some(chain_hash(prev, &r.fields()));
        r
    }

    #[test]
    fn a_walk_links_each_record_and_names_the_first_that_does_not() {
        let a = record(5, GENESIS_HASH, "a");
        let b = record(6, a.chain_hash.as_deref().unwrap_or(""), "b");
        let mut w = ChainWalk::from(ChainPoint::genesis(5));
        assert_eq!(w.step(&a), Ok(()));
        let mut altered = b.clone();
        altered.description = "c".into();
        assert!(w.step(&altered).is_err_and(|e| e.contains("altered")));
        assert_eq!(w.step(&b), Ok(()));
        assert_eq!(w.verified(), 2);
        assert_eq!(w.last().hash, b.chain_hash.clone().unwrap_or_default());
        // From a checkpoint: the walk starts after it; a gap is named.
        let mut w = ChainWalk::from(ChainPoint {
            id: 4,
            hash: GENESIS_HASH.into(),
        });
        assert!(w.step(&b).is_err_and(|e| e.contains("5..5 missing")));
    }

    #[test]
    fn points_read_back_from_their_text() {
        let p = ChainPoint {
            id: 42,
            hash: "ab".repeat(32),
        };
        assert_eq!(ChainPoint::parse(&format!("{}\n", p.to_text())), Some(p));
        assert_eq!(ChainPoint::parse("42:abc"), None);
        assert_eq!(ChainPoint::parse("x:".to_owned().as_str()), None);
    }
}
