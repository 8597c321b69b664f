//! The contract's messages under their proto packages, with the service
//! code generated here beside them.

pub use onboard_contract::pb::google;

pub mod zitadel {
    pub use onboard_contract::pb::zitadel::{change, object, v1};

    pub mod user {
        pub use onboard_contract::pb::zitadel::user::v1;

        pub mod v2 {
            pub use onboard_contract::pb::zitadel::user::v2::*;

            include!(concat!(env!("OUT_DIR"), "/zitadel.user.v2.rs"));
        }
    }

    pub mod management {
        pub mod v1 {
            pub use onboard_contract::pb::zitadel::management::v1::*;

            include!(concat!(env!("OUT_DIR"), "/zitadel.management.v1.rs"));
        }
    }
}
