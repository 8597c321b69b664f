// The v2 User Service scenario, run with ZITADEL's @zitadel/client against a
// running onboard over both of its transports: gRPC over HTTP/2
// (createServerTransport from @zitadel/client/node) and gRPC-Web over
// HTTP/1.1 (createClientTransport from @zitadel/client/web). Each client
// runs a returned invitation to an Active user, a mailed one with the
// integrator's link template (its link read from the delivered email) and a
// resend, a wrong, an expired and a used code, a listing of Initial users
// and a deletion, and the errors with the
// zitadel.v1.ErrorDetail id the client reports.
//
// Input (environment): ONBOARD_URL, ONBOARD_TOKEN (IAM_OWNER), ONBOARD_ORG,
// ONBOARD_MAIL_DIR (where the server writes its emails), and
// ONBOARD_SHORT_URL / ONBOARD_SHORT_TOKEN / ONBOARD_SHORT_ORG: a server whose
// codes live one second. Output: one JSON line per client with the ids of the
// users it made. Exits non-zero on the first check that fails, saying which.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { ConnectError } from "@connectrpc/connect";
import { createServerTransport } from "@zitadel/client/node";
import { createUserServiceClient } from "@zitadel/client/v2";
import { createClientTransport } from "@zitadel/client/web";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { UserState } from "@zitadel/proto/zitadel/user/v2/user_pb.js";

const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} must be set`);
  return value;
};
const BASE = env("ONBOARD_URL");
const TOKEN = env("ONBOARD_TOKEN");
const ORG = env("ONBOARD_ORG");
const MAIL_DIR = env("ONBOARD_MAIL_DIR");
const TEMPLATE = "https://app.example.com/invite?user={{.UserID}}&code={{.Code}}&org={{.OrgID}}";
const PASSWORD = "Secret-passw0rd!";

// Connect's codes, as @connectrpc reports them.
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const UNAUTHENTICATED = 16;

const transports = [
  ["@zitadel/client node transport (gRPC)", createServerTransport],
  ["@zitadel/client web transport (gRPC-Web over HTTP/1.1)", createClientTransport],
];

/** Runs a call; its answer, or the code and ErrorDetail id it failed with. */
async function attempt(promise) {
  try {
    return { ok: await promise };
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    const [detail] = e.findDetails(ErrorDetailSchema);
    return { code: e.code, message: e.rawMessage, id: detail?.id };
  }
}

async function refused(name, what, promise, code, id) {
  const answer = await attempt(promise);
  assert.ok(!("ok" in answer), `${name}: ${what} succeeded, expected ${id}`);
  assert.equal(answer.code, code, `${name}: ${what}: code (${answer.message})`);
  assert.equal(answer.id, id, `${name}: ${what}: ErrorDetail id (${answer.message})`);
  assert.ok(answer.message.endsWith(`(${id})`), `${name}: ${what}: message ${answer.message}`);
}

/** The text of an .eml file: quoted-printable undone. */
function plainText(raw) {
  return raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** The template links mailed to `address`, oldest first, waiting up to 15 s for `count`. */
async function linksTo(address, count) {
  for (let i = 0; i < 300; i++) {
    let files = [];
    try {
      files = readdirSync(MAIL_DIR).filter((f) => f.endsWith(".eml")).sort();
    } catch {}
    const links = [];
    for (const file of files) {
      const text = plainText(readFileSync(join(MAIL_DIR, file), "utf8"));
      if (!text.includes(address)) continue;
      const link = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.startsWith("https://app.example.com/"));
      if (link) links.push(link);
    }
    if (links.length >= count) return links;
    await sleep(50);
  }
  assert.fail(`no ${count} template links mailed to ${address}`);
}

const codeIn = (link) => new URL(link).searchParams.get("code");

function newUser(org, email, verification) {
  return {
    organization: { org: { case: "orgId", value: org } },
    profile: { givenName: "Type", familyName: "Script" },
    email: { email, verification },
  };
}

let run = 0;
for (const [name, transport] of transports) {
  const users = createUserServiceClient(transport(TOKEN, { baseUrl: BASE }));
  const p = `ts${process.pid}x${run++}`;

  // Returned codes: create, invite code, verify, password, Active.
  const returned = `${p}-returned@example.com`;
  const created = await users.addHumanUser(newUser(ORG, returned, { case: "returnCode", value: {} }));
  assert.match(created.userId, /^\d+$/, `${name}: userId`);
  assert.ok(created.emailCode, `${name}: returnCode returns the code`);
  const id = created.userId;
  let user = (await users.getUserByID({ userId: id })).user;
  assert.equal(user.state, UserState.INITIAL, `${name}: Initial first`);
  assert.equal(UserState.INITIAL, 5, "v2's number for Initial");
  assert.equal(user.username, returned, `${name}: the user name defaults to the address`);
  const invite = await users.createInviteCode({ userId: id, verification: { case: "returnCode", value: {} } });
  assert.ok(invite.inviteCode, `${name}: the invite code is returned`);
  await refused(name, "resend of a returned code", users.resendInviteCode({ userId: id }), FAILED_PRECONDITION, "COMMAND-Wr3gq");
  const verify = (userId, verificationCode) => users.verifyInviteCode({ userId, verificationCode });
  await refused(name, "a wrong code", verify(id, "WRONG1"), INVALID_ARGUMENT, "COMMAND-Wgn4q");
  await verify(id, invite.inviteCode);
  await refused(name, "a used code", verify(id, invite.inviteCode), FAILED_PRECONDITION, "ONBOARD-INVITE-CODE-USED");
  await users.setPassword({ userId: id, newPassword: { password: PASSWORD, changeRequired: false } });
  user = (await users.getUserByID({ userId: id })).user;
  assert.equal(user.state, UserState.ACTIVE, `${name}: Active at the end`);
  assert.equal(user.type.case, "human");
  assert.equal(user.type.value.email.isVerified, true, `${name}: the invite code verified the email`);

  // Mailed with a link template: the link from the email; the resend keeps it.
  const templated = `${p}-templated@example.com`;
  const mailed = await users.addHumanUser(newUser(ORG, templated, { case: "sendCode", value: { urlTemplate: TEMPLATE } }));
  assert.equal(mailed.emailCode, undefined, `${name}: a mailed code is not returned`);
  const [first] = await linksTo(templated, 1);
  assert.equal(first, `https://app.example.com/invite?user=${mailed.userId}&code=${codeIn(first)}&org=${ORG}`);
  await users.createInviteCode({
    userId: mailed.userId,
    verification: { case: "sendCode", value: { urlTemplate: TEMPLATE, applicationName: "TS Shop" } },
  });
  const second = (await linksTo(templated, 2))[1];
  await users.resendInviteCode({ userId: mailed.userId });
  const third = (await linksTo(templated, 3))[2];
  assert.notEqual(codeIn(third), codeIn(second), `${name}: a resend mails a new code`);
  await refused(name, "a replaced code", verify(mailed.userId, codeIn(second)), INVALID_ARGUMENT, "COMMAND-Wgn4q");
  await verify(mailed.userId, codeIn(third));
  await users.setPassword({ userId: mailed.userId, newPassword: { password: PASSWORD } });
  user = (await users.getUserByID({ userId: mailed.userId })).user;
  assert.equal(user.state, UserState.ACTIVE, `${name}: the templated user is Active`);

  // Errors with their ids.
  await refused(name, "an unknown user", users.getUserByID({ userId: "404404404" }), NOT_FOUND, "QUERY-Dfbg2");
  await refused(
    name,
    "an invite code for an unknown user",
    users.createInviteCode({ userId: "404404404", verification: { case: "returnCode", value: {} } }),
    FAILED_PRECONDITION,
    "COMMAND-Wgvn4",
  );
  await refused(
    name,
    "an invite code for an active user",
    users.createInviteCode({ userId: id, verification: { case: "returnCode", value: {} } }),
    FAILED_PRECONDITION,
    "COMMAND-EF34g",
  );
  await refused(
    name,
    "a template that is not a link",
    users.createInviteCode({ userId: mailed.userId, verification: { case: "sendCode", value: { urlTemplate: "/x?c={{.Code}}" } } }),
    INVALID_ARGUMENT,
    "DOMAIN-oGh5e",
  );
  const stranger = createUserServiceClient(transport("onb_not-a-token", { baseUrl: BASE }));
  await refused(name, "a bad token", stranger.getUserByID({ userId: id }), UNAUTHENTICATED, "AUTH-7fs1e");

  // An expired code, on the server whose codes live a second.
  const short = createUserServiceClient(transport(env("ONBOARD_SHORT_TOKEN"), { baseUrl: env("ONBOARD_SHORT_URL") }));
  const expiring = await short.addHumanUser(
    newUser(env("ONBOARD_SHORT_ORG"), `${p}-expiring@example.com`, { case: "returnCode", value: {} }),
  );
  await sleep(1300);
  await refused(
    name,
    "an expired code",
    short.verifyInviteCode({ userId: expiring.userId, verificationCode: expiring.emailCode }),
    FAILED_PRECONDITION,
    "CODE-QvUQ4P",
  );

  // The Initial users among some, and a deletion.
  const waiting = [];
  for (const i of [0, 1]) {
    waiting.push((await users.addHumanUser(newUser(ORG, `${p}-list${i}@example.com`, { case: "returnCode", value: {} }))).userId);
  }
  const initialAmong = async (ids) => {
    const listed = await users.listUsers({
      query: { asc: true },
      queries: [
        { query: { case: "stateQuery", value: { state: UserState.INITIAL } } },
        { query: { case: "inUserIdsQuery", value: { userIds: ids } } },
      ],
    });
    return listed.result.map((u) => u.userId);
  };
  assert.deepEqual(await initialAmong([...waiting, id]), waiting, `${name}: the Initial users, oldest first`);
  await users.deleteUser({ userId: waiting[0] });
  assert.deepEqual(await initialAmong([...waiting, id]), waiting.slice(1), `${name}: a deleted user is not listed`);
  await refused(name, "a deleted user", users.getUserByID({ userId: waiting[0] }), NOT_FOUND, "QUERY-Dfbg2");
  await refused(name, "a second deletion", users.deleteUser({ userId: waiting[0] }), NOT_FOUND, "COMMAND-bd4ir1mblj");

  console.log(
    JSON.stringify({ client: name, returned: id, returned_email: returned, templated: mailed.userId, deleted: waiting[0] }),
  );
}
