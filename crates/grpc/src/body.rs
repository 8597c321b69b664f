//! The bridge from tonic's response body to poem's.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use sync_wrapper::SyncWrapper;

/// tonic's body is `Send` but not `Sync`, while poem's body must be both.
/// Polling needs `&mut`, so wrapping it in a [`SyncWrapper`] is sound and
/// keeps every frame, trailers included (gRPC's status travels in them).
///
/// It also passes on whether the body has ended before it is polled: a
/// trailers-only answer (every error) is an empty body, and only when the
/// server knows that up front does it send the status in one HEADERS frame
/// that ends the stream, which strict clients (grpc-js) require; otherwise
/// an empty DATA frame ends the stream later, and they see no status.
pub(crate) struct SyncBody {
    inner: SyncWrapper<tonic::body::Body>,
    end_stream: bool,
    size_hint: SizeHint,
}

impl SyncBody {
    pub(crate) fn new(body: tonic::body::Body) -> Self {
        use http_body::Body as _;
        let (end_stream, size_hint) = (body.is_end_stream(), body.size_hint());
        Self { inner: SyncWrapper::new(body), end_stream, size_hint }
    }
}

impl http_body::Body for SyncBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(this.inner.get_mut()).poll_frame(cx).map_err(io::Error::other);
        if let Poll::Ready(None) = &frame {
            this.end_stream = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.end_stream
    }

    fn size_hint(&self) -> SizeHint {
        self.size_hint
    }
}
