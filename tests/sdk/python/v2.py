"""ZITADEL's Python SDK (zitadel-client, over Connect with JSON) against
onboard: the v2 invitation, returned and mailed, as an integrator writes it.

Environment: ONBOARD_URL, ONBOARD_TOKEN, ONBOARD_ORG, ONBOARD_MAIL_DIR (where
the server writes its emails), and ONBOARD_SHORT_URL / ONBOARD_SHORT_TOKEN /
ONBOARD_SHORT_ORG: a server whose codes live one second. Prints one JSON line
for the Rust side to check against the server.
"""

import base64
import email
import email.policy
import json
import os
import pathlib
import sys
import time
import uuid

import zitadel_client
from zitadel_client import ApiError, Zitadel
from zitadel_client.models import (
    UserServiceAddHumanUserRequest,
    UserServiceCreateInviteCodeRequest,
    UserServiceDeleteUserRequest,
    UserServiceInUserIDQuery,
    UserServiceListQuery,
    UserServiceListUsersRequest,
    UserServiceSearchQuery,
    UserServiceStateQuery,
    UserServiceGetUserByIDRequest,
    UserServiceOrganization,
    UserServicePassword,
    UserServiceResendInviteCodeRequest,
    UserServiceSendEmailVerificationCode,
    UserServiceSendInviteCode,
    UserServiceSetHumanEmail,
    UserServiceSetHumanProfile,
    UserServiceSetPasswordRequest,
    UserServiceUserState,
    UserServiceVerifyInviteCodeRequest,
)

TEMPLATE = "https://app.example.com/invite?user={{.UserID}}&code={{.Code}}&org={{.OrgID}}"


def fail(what):
    print(f"FAILED: {what}", file=sys.stderr)
    sys.exit(1)


def check(condition, what):
    if not condition:
        fail(what)


def read_string(data, at):
    """A protobuf varint length and the UTF-8 string after it."""
    length, shift = 0, 0
    while True:
        b = data[at]
        at += 1
        length |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            break
    return data[at : at + length].decode(), at + length


def error_detail(value):
    """zitadel.v1.ErrorDetail {id = 1, message = 2} from its binary form."""
    data, at, fields = base64.b64decode(value + "=" * (-len(value) % 4)), 0, {}
    while at < len(data):
        tag = data[at]
        text, at = read_string(data, at + 1)
        fields[tag >> 3] = text
    return fields.get(1, ""), fields.get(2, "")


def expect_error(call, status, code, error_id):
    """Runs `call`, which must fail with Connect's error body as the SDK hands it over."""
    try:
        call()
    except ApiError as e:
        body = e.response_body
        check(e.code == status, f"{error_id}: HTTP {e.code} {body}")
        check(isinstance(body, dict) and body.get("code") == code, f"{error_id}: {body}")
        detail = body["details"][0]
        check(detail["type"] == "zitadel.v1.ErrorDetail", f"{error_id}: {detail}")
        got_id, text = error_detail(detail["value"])
        check(got_id == error_id, f"expected {error_id}, got {got_id}: {body}")
        check(body["message"] == f"{text} ({error_id})", f"{error_id}: {body}")
        return
    fail(f"expected {error_id}, the call succeeded")


def mails_to(address, count):
    """The emails written to `address` (oldest first), waiting up to 15 s for `count` of them."""
    folder = pathlib.Path(os.environ["ONBOARD_MAIL_DIR"])
    for _ in range(300):
        found = []
        for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address in str(message["To"]):
                found.append(message.get_body(preferencelist=("plain",)).get_content())
        if len(found) >= count:
            return found
        time.sleep(0.05)
    fail(f"no {count} emails to {address}")


def link_in(text):
    return next(line.strip() for line in text.splitlines() if line.strip().startswith("https://app.example.com/"))


def code_in(link):
    return link.split("code=")[1].split("&")[0]


def new_user(org, address, **email_kwargs):
    return UserServiceAddHumanUserRequest(
        organization=UserServiceOrganization(org_id=org),
        profile=UserServiceSetHumanProfile(given_name="Py", family_name="Thon"),
        email=UserServiceSetHumanEmail(email=address, **email_kwargs),
    )


def main():
    org = os.environ["ONBOARD_ORG"]
    client = Zitadel.with_access_token(os.environ["ONBOARD_URL"], os.environ["ONBOARD_TOKEN"])
    users = client.users
    run = uuid.uuid4().hex[:8]

    # 1. Returned codes: create, invite code, verify, password, Active.
    returned = f"py-returned-{run}@example.com"
    created = users.add_human_user(new_user(org, returned, return_code={}))
    check(created.user_id and created.email_code, f"returnCode answers the code: {created}")
    user_id = created.user_id
    got = users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
    check(got.user.state == UserServiceUserState.USER_STATE_INITIAL, f"Initial first: {got.user.state}")
    check(got.user.username == returned, "the user name defaults to the address")
    invite = users.create_invite_code(UserServiceCreateInviteCodeRequest(user_id=user_id, return_code={}))
    code = invite.invite_code
    check(code, f"returnCode returns the invite code: {invite}")
    expect_error(
        lambda: users.resend_invite_code(UserServiceResendInviteCodeRequest(user_id=user_id)),
        400,
        "failed_precondition",
        "COMMAND-Wr3gq",
    )
    verify = lambda c: users.verify_invite_code(UserServiceVerifyInviteCodeRequest(user_id=user_id, verification_code=c))
    expect_error(lambda: verify("WRONG1"), 400, "invalid_argument", "COMMAND-Wgn4q")
    verify(code)
    expect_error(lambda: verify(code), 400, "failed_precondition", "ONBOARD-INVITE-CODE-USED")
    users.set_password(
        UserServiceSetPasswordRequest(
            user_id=user_id, new_password=UserServicePassword(password="Secret-passw0rd!", change_required=False)
        )
    )
    got = users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id))
    check(got.user.state == UserServiceUserState.USER_STATE_ACTIVE, f"Active at the end: {got.user.state}")
    check(got.user.human.email.is_verified, "the invite code verified the email")

    # 2. Mailed with the integrator's link template: the link from the email, a resend keeps it.
    templated = f"py-templated-{run}@example.com"
    created = users.add_human_user(
        new_user(org, templated, send_code=UserServiceSendEmailVerificationCode(url_template=TEMPLATE))
    )
    templated_id = created.user_id
    check(created.email_code is None, "a mailed code is not returned")
    first = link_in(mails_to(templated, 1)[0])
    check(first == f"https://app.example.com/invite?user={templated_id}&code={code_in(first)}&org={org}", first)
    users.create_invite_code(
        UserServiceCreateInviteCodeRequest(
            user_id=templated_id,
            send_code=UserServiceSendInviteCode(url_template=TEMPLATE, application_name="Py Shop"),
        )
    )
    second = link_in(mails_to(templated, 2)[1])
    users.resend_invite_code(UserServiceResendInviteCodeRequest(user_id=templated_id))
    third = link_in(mails_to(templated, 3)[2])
    check(third.startswith("https://app.example.com/invite?user="), f"the resend keeps the template: {third}")
    check(code_in(third) != code_in(second), "a resend mails a new code")
    verify_t = lambda c: users.verify_invite_code(
        UserServiceVerifyInviteCodeRequest(user_id=templated_id, verification_code=c)
    )
    expect_error(lambda: verify_t(code_in(second)), 400, "invalid_argument", "COMMAND-Wgn4q")
    verify_t(code_in(third))
    users.set_password(
        UserServiceSetPasswordRequest(user_id=templated_id, new_password=UserServicePassword(password="Secret-passw0rd!"))
    )

    # 3. Errors with their ids.
    expect_error(
        lambda: users.get_user_by_id(UserServiceGetUserByIDRequest(user_id="404404404")), 404, "not_found", "QUERY-Dfbg2"
    )
    expect_error(
        lambda: users.create_invite_code(UserServiceCreateInviteCodeRequest(user_id="404404404", return_code={})),
        400,
        "failed_precondition",
        "COMMAND-Wgvn4",
    )
    expect_error(
        lambda: users.create_invite_code(UserServiceCreateInviteCodeRequest(user_id=user_id, return_code={})),
        400,
        "failed_precondition",
        "COMMAND-EF34g",
    )
    bad_token = Zitadel.with_access_token(os.environ["ONBOARD_URL"], "onb_not-a-token")
    expect_error(
        lambda: bad_token.users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=user_id)),
        401,
        "unauthenticated",
        "AUTH-7fs1e",
    )

    # 4. An expired code, on the server whose codes live a second.
    short = Zitadel.with_access_token(os.environ["ONBOARD_SHORT_URL"], os.environ["ONBOARD_SHORT_TOKEN"])
    expiring = short.users.add_human_user(
        new_user(os.environ["ONBOARD_SHORT_ORG"], f"py-expiring-{run}@example.com", return_code={})
    )
    time.sleep(1.3)
    expect_error(
        lambda: short.users.verify_invite_code(
            UserServiceVerifyInviteCodeRequest(user_id=expiring.user_id, verification_code=expiring.email_code)
        ),
        400,
        "failed_precondition",
        "CODE-QvUQ4P",
    )

    # 5. The Initial users among some, and a deletion.
    waiting = [
        users.add_human_user(new_user(org, f"py-list-{i}-{run}@example.com", return_code={})).user_id for i in range(2)
    ]

    def initial_among(ids):
        listed = users.list_users(
            UserServiceListUsersRequest(
                query=UserServiceListQuery(asc=True),
                queries=[
                    UserServiceSearchQuery(state_query=UserServiceStateQuery(state=UserServiceUserState.USER_STATE_INITIAL)),
                    UserServiceSearchQuery(in_user_ids_query=UserServiceInUserIDQuery(user_ids=ids)),
                ],
            )
        )
        return [u.user_id for u in listed.result or []]

    check(initial_among(waiting + [user_id]) == waiting, "the Initial users, oldest first")
    users.delete_user(UserServiceDeleteUserRequest(user_id=waiting[0]))
    check(initial_among(waiting + [user_id]) == waiting[1:], "a deleted user is not listed")
    expect_error(
        lambda: users.get_user_by_id(UserServiceGetUserByIDRequest(user_id=waiting[0])), 404, "not_found", "QUERY-Dfbg2"
    )
    expect_error(
        lambda: users.delete_user(UserServiceDeleteUserRequest(user_id=waiting[0])),
        404,
        "not_found",
        "COMMAND-bd4ir1mblj",
    )

    print(
        json.dumps(
            {
                "sdk": f"zitadel-client {zitadel_client.__version__}" if hasattr(zitadel_client, "__version__") else "zitadel-client",
                "returned": user_id,
                "returned_email": returned,
                "templated": templated_id,
                "expiring": expiring.user_id,
                "deleted": waiting[0],
                "waiting": waiting[1],
            }
        )
    )


if __name__ == "__main__":
    main()
