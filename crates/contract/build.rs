//! Compiles ZITADEL's `.proto` files under `proto/` with the protoc that the
//! `protoc-bin-vendored` crate ships (a fresh machine needs nothing
//! installed) into prost messages that also carry their descriptors, so the
//! JSON mapping and the OpenAPI schemas come from the same description.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/google/rpc/status.proto",
        "proto/zitadel/message.proto",
        "proto/zitadel/management.proto",
        "proto/zitadel/user/v2/user_service.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // google/protobuf/{any,timestamp}.proto come with the vendored protoc.
    let includes = ["proto".into(), protoc_bin_vendored::include_path()?];
    prost_reflect_build::Builder::new()
        .descriptor_pool("crate::pb::DESCRIPTOR_POOL")
        .compile_protos_with_config(config, &files, &includes)?;
    Ok(())
}
