//! Compiles the `.proto` files under `proto/` with the protoc that the
//! `protoc-bin-vendored` crate ships, so a fresh machine needs nothing installed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/google/rpc/status.proto",
        "proto/zitadel/v1/object.proto",
        "proto/zitadel/user/v1/user.proto",
        "proto/zitadel/management/v1/management.proto",
    ];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // google/protobuf/{any,timestamp}.proto come with the vendored protoc.
    let includes = ["proto".into(), protoc_bin_vendored::include_path()?];
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        // No `connect(uri)` helper: that would need tonic's transport in the library.
        .build_transport(false)
        .compile_protos_with_config(config, &files, &includes)?;
    Ok(())
}
