//! Idempotency keys' contents: the answer kept for replay, and what a
//! request finds under its key.

/// An answer kept for replay under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a request with an idempotency key finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// No answer and no request in flight: the key is now held for the caller
    /// (until it completes, releases, or the hold runs out).
    Fresh,
    /// The answer to an earlier request with the same fingerprint.
    Replay(StoredAnswer),
    /// A request with the same fingerprint holds the key and has not answered.
    InFlight,
    /// The key was used (or is held) for a request with another fingerprint.
    Mismatch,
}
