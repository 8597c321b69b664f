//! gRPC and gRPC-Web for the Management API methods onboard serves (work in progress).
