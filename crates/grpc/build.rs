//! Generates the gRPC service code for the methods onboard serves. The
//! messages are the wire contract's (`onboard_contract::pb`): only the
//! service traits are made here, from the contract's `.proto` files, with
//! the protoc that the `protoc-bin-vendored` crate ships.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["../contract/proto/zitadel/management.proto", "../contract/proto/zitadel/user/v2/user_service.proto"];
    println!("cargo:rerun-if-changed=../contract/proto");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let includes = ["../contract/proto".into(), protoc_bin_vendored::include_path()?];
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        // No `connect(uri)` helper: that would need tonic's transport in the library.
        .build_transport(false)
        .extern_path(".zitadel", "::onboard_contract::pb::zitadel")
        .extern_path(".google.rpc", "::onboard_contract::pb::google::rpc")
        .compile_protos_with_config(config, &files, &includes)?;
    Ok(())
}
