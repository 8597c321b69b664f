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

#[test]
fn checked_in_v2_document_matches_the_generated_one() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/user_service_v2.yaml");
    let generated = onboard_api::openapi_v2_yaml();
    if std::env::var_os("UPDATE").is_some() {
        std::fs::write(&path, &generated).expect("write openapi/user_service_v2.yaml");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi/user_service_v2.yaml is out of date; regenerate it with `UPDATE=1 cargo test -p onboard-api --test api openapi_drift` and commit it"
    );
}

#[test]
fn v2_document_names_the_rest_mapping_and_only_v2() {
    let doc = onboard_api::openapi_v2_yaml();
    for needle in [
        "/v2/users/human:",
        "/v2/users/{user_id}:",
        "/v2/users/{user_id}/invite_code:",
        "/v2/users/{user_id}/invite_code/resend:",
        "/v2/users/{user_id}/invite_code/verify:",
        "/v2/users/{user_id}/password:",
        "operationId: UserService_AddHumanUser",
        "operationId: UserService_CreateInviteCode",
        "operationId: UserService_ListUsers",
        "operationId: UserService_DeleteUser",
        "/v2/users:",
        "'201':",
        "USER_STATE_INITIAL",
        "sendCode",
        "returnCode",
    ] {
        assert!(doc.contains(needle), "missing {needle:?}");
    }
    assert!(!doc.contains("/management/v1"), "the v2 document holds only v2 routes");
    assert!(!onboard_api::openapi_yaml().contains("/v2/users"), "the v1 document holds no v2 routes");
}
