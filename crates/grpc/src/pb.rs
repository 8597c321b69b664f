//! The protobuf messages and the service, generated from `proto/` at build
//! time. Modules follow the proto packages.

pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

pub mod zitadel {
    pub mod v1 {
        tonic::include_proto!("zitadel.v1");
    }

    pub mod user {
        pub mod v1 {
            tonic::include_proto!("zitadel.user.v1");
        }
    }

    pub mod management {
        pub mod v1 {
            tonic::include_proto!("zitadel.management.v1");
        }
    }
}
