//! The checked-in OpenAPI document must be what the code generates.
//! Regenerate with `UPDATE=1 cargo test -p onboard-api --test api openapi_drift`.

use std::path::PathBuf;

#[test]
fn checked_in_document_matches_the_generated_one() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.yaml");
    let generated = onboard_api::openapi_yaml();
    if std::env::var_os("UPDATE").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/openapi.yaml");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/openapi.yaml is out of date; regenerate it with `UPDATE=1 cargo test -p onboard-api --test api openapi_drift` and commit it"
    );
}

#[test]
fn document_names_the_contract_operations_and_error_shape() {
    let doc = onboard_api::openapi_yaml();
    for needle in [
        "/management/v1/users/{userId}/_resend_initialization:",
        "/management/v1/users/human:",
        "/management/v1/users/human/_import:",
        "/management/v1/users/{id}:",
        "operationId: ManagementService_ResendHumanInitialization",
        "operationId: ManagementService_AddHumanUser",
        "operationId: ManagementService_ImportHumanUser",
        "operationId: ManagementService_GetUserByID",
        "summary: Resend User Initialization Email",
        "name: x-zitadel-orgid",
        "description: An unexpected error response.",
        "$ref: '#/components/schemas/rpcStatus'",
        "format: uint64",
    ] {
        assert!(doc.contains(needle), "missing {needle:?}");
    }
}
