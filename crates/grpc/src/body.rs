//! The bridge from tonic's response body to poem's.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use sync_wrapper::SyncWrapper;

/// tonic's body is `Send` but not `Sync`, while poem's body must be both.
/// Polling needs `&mut`, so wrapping it in a [`SyncWrapper`] is sound and
/// keeps every frame, trailers included (gRPC's status travels in them).
pub(crate) struct SyncBody(SyncWrapper<tonic::body::Body>);

impl SyncBody {
    pub(crate) fn new(body: tonic::body::Body) -> Self {
        Self(SyncWrapper::new(body))
    }
}

impl http_body::Body for SyncBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(self.get_mut().0.get_mut()).poll_frame(cx).map_err(io::Error::other)
    }
}
