//! The messages of ZITADEL's API that onboard serves, generated from
//! `proto/` at build time with their descriptors. Modules follow the proto
//! packages.

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

/// Every message and enum of `proto/` (and the well-known types they use),
/// serialized as protoc wrote it: for gRPC reflection and descriptor checks.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

/// The descriptors of [`FILE_DESCRIPTOR_SET`], which the JSON mapping and the
/// OpenAPI schemas read.
pub static DESCRIPTOR_POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("the build script wrote a valid descriptor set")
});

// Generated code: prost's output is not held to the workspace's lints.
#[allow(clippy::all)]
pub mod google {
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
    }
}

#[allow(clippy::all)]
pub mod zitadel {
    /// `zitadel/object.proto` and `zitadel/message.proto`.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/zitadel.v1.rs"));
    }

    pub mod change {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.change.v1.rs"));
        }
    }

    pub mod object {
        pub mod v2 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.object.v2.rs"));
        }
    }

    pub mod user {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.user.v1.rs"));
        }

        pub mod v2 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.user.v2.rs"));
        }
    }

    pub mod management {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/zitadel.management.v1.rs"));
        }
    }
}
