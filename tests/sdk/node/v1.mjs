// The Management API v1 scenario, run with ZITADEL's own JavaScript clients
// against a running onboard: @zitadel/node (gRPC over HTTP/2) and
// @zitadel/client (gRPC over HTTP/2 with its node transport, gRPC-Web over
// HTTP/1.1 with its web transport). Each client creates, imports, resends to
// a corrected address and reads users, lists the Initial ones, checks a user
// name, removes a user and reads its changes, then meets every error a client of
// ZITADEL handles; each answer is checked for the status code and the
// zitadel.v1.ErrorDetail id the client reports.
//
// Input (environment): ONBOARD_URL, ONBOARD_TOKEN (IAM_OWNER), ONBOARD_ORG
// (its organization), ONBOARD_READER_TOKEN (may read users, not write them).
// Output: one JSON line per client with the ids of the users it made, for
// the test to check against the server's state. Exits non-zero on the first
// check that fails, saying which.

import assert from "node:assert/strict";

import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ConnectError } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { createServerTransport } from "@zitadel/client/node";
import { createManagementServiceClient } from "@zitadel/client/v1";
import { createClientTransport } from "@zitadel/client/web";
import { createAccessTokenInterceptor, createManagementClient } from "@zitadel/node/dist/api/index.js";
import { ErrorDetail } from "@zitadel/node/dist/api/generated/zitadel/message.js";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { ClientError, Metadata } from "nice-grpc";

const URL = process.env.ONBOARD_URL;
const TOKEN = process.env.ONBOARD_TOKEN;
const ORG = process.env.ONBOARD_ORG;
const READER = process.env.ONBOARD_READER_TOKEN;
for (const [name, value] of Object.entries({ URL, TOKEN, ORG, READER })) {
  assert.ok(value, `ONBOARD_${name} must be set`);
}

const USER_STATE_ACTIVE = 1;
const USER_STATE_INITIAL = 6;
const USER_FIELD_NAME_CREATION_DATE = 9;
const DETAIL_TYPE = "type.googleapis.com/zitadel.v1.ErrorDetail";

/** google.rpc.Status from grpc-status-details-bin: @zitadel/node does not decode it itself. */
function errorDetail(bin) {
  if (!bin) return undefined;
  const status = new BinaryReader(bin);
  while (status.pos < status.len) {
    const [field, wire] = status.tag();
    if (field !== 3) {
      status.skip(wire);
      continue;
    }
    const any = new BinaryReader(status.bytes());
    let type;
    let value;
    while (any.pos < any.len) {
      const [f, w] = any.tag();
      if (f === 1) type = any.string();
      else if (f === 2) value = any.bytes();
      else any.skip(w);
    }
    if (type === DETAIL_TYPE) return ErrorDetail.decode(value);
  }
  return undefined;
}

/** @zitadel/node: one client per token (its interceptor adds the token). */
function nodeSdk() {
  const clients = new Map();
  const client = (token) => {
    if (!clients.has(token)) {
      clients.set(token, token ? createManagementClient(URL, createAccessTokenInterceptor(token)) : createManagementClient(URL));
    }
    return clients.get(token);
  };
  return {
    name: "@zitadel/node (gRPC)",
    async call(method, request, { token = TOKEN, org } = {}) {
      let trailer;
      const options = { onTrailer: (t) => (trailer = t), signal: AbortSignal.timeout(10_000) };
      if (org) options.metadata = Metadata({ "x-zitadel-orgid": org });
      try {
        return { ok: await client(token)[method](request, options) };
      } catch (e) {
        if (!(e instanceof ClientError)) throw e;
        const detail = errorDetail(trailer?.get("grpc-status-details-bin"));
        return { code: e.code, message: e.details, id: detail?.id };
      }
    },
    human: (user) => user.human,
    // ts-proto: a oneof's fields sit on the message itself.
    stateQuery: (state) => ({ stateQuery: { state } }),
  };
}

/** @zitadel/client over one of its transports. */
function zitadelClient(name, withToken, bare) {
  const clients = new Map();
  const client = (token) => {
    if (!clients.has(token)) {
      const transport = token ? withToken(token, { baseUrl: URL }) : bare({ baseUrl: URL });
      clients.set(token, createManagementServiceClient(transport));
    }
    return clients.get(token);
  };
  return {
    name,
    async call(method, request, { token = TOKEN, org } = {}) {
      const options = { timeoutMs: 10_000 };
      if (org) options.headers = { "x-zitadel-orgid": org };
      try {
        return { ok: await client(token)[method](request, options) };
      } catch (e) {
        if (!(e instanceof ConnectError)) throw e;
        const [detail] = e.findDetails(ErrorDetailSchema);
        return { code: e.code, message: e.rawMessage, id: detail?.id };
      }
    },
    human: (user) => (user.type?.case === "human" ? user.type.value : undefined),
    // protobuf-es: a oneof is a case and its value.
    stateQuery: (state) => ({ query: { case: "stateQuery", value: { state } } }),
  };
}

const clients = [
  nodeSdk(),
  zitadelClient("@zitadel/client node transport (gRPC)", createServerTransport, (o) => createGrpcTransport(o)),
  zitadelClient("@zitadel/client web transport (gRPC-Web over HTTP/1.1)", createClientTransport, (o) =>
    createGrpcWebTransport(o),
  ),
];

/** JSON that also shows 64-bit integers (bigint in @zitadel/client). */
const show = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));

function ok(client, what, answer) {
  assert.ok("ok" in answer, `${client.name}: ${what} failed: ${show(answer)}`);
  return answer.ok;
}

function refused(client, what, answer, code, id) {
  assert.ok(!("ok" in answer), `${client.name}: ${what} succeeded, expected code ${code}`);
  assert.equal(answer.code, code, `${client.name}: ${what}: code (${answer.message})`);
  assert.equal(answer.id, id, `${client.name}: ${what}: ErrorDetail id (${answer.message})`);
  if (id) assert.ok(answer.message.endsWith(`(${id})`), `${client.name}: ${what}: message ${answer.message}`);
}

let run = 0;
for (const client of clients) {
  const p = `sdk${process.pid}x${run++}`;

  // Create with a typo in the address: Initial, email due.
  const added = ok(client, "AddHumanUser", await client.call("addHumanUser", {
    userName: `${p}-jane`,
    profile: { firstName: "Jane", lastName: "Doe", preferredLanguage: "de", gender: 1 },
    email: { email: `${p}-jane@exmaple.com` },
  }));
  assert.match(added.userId, /^\d+$/, `${client.name}: userId`);
  assert.equal(String(added.details.sequence), "2", `${client.name}: AddHumanUser sequence`);
  assert.equal(added.details.resourceOwner, ORG, `${client.name}: resourceOwner`);

  // Import with a password and a verified address: Active at once.
  const imported = ok(client, "ImportHumanUser", await client.call("importHumanUser", {
    userName: `${p}-max`,
    profile: { firstName: "Max", lastName: "Muster" },
    email: { email: `${p}-max@example.com`, isEmailVerified: true },
    password: "a-Good-passw0rd",
    passwordChangeRequired: true,
  }));
  assert.notEqual(imported.userId, added.userId);

  // Resend to the corrected address: the address changes, a new code is made.
  const resent = ok(client, "ResendHumanInitialization", await client.call("resendHumanInitialization", {
    userId: added.userId,
    email: `${p}-jane@example.com`,
  }));
  // The email of the first code may have been sent in between (an event of its own).
  assert.ok(BigInt(String(resent.details.sequence)) >= 4n, `${client.name}: resend sequence ${resent.details.sequence}`);

  const got = ok(client, "GetUserByID", await client.call("getUserByID", { id: added.userId })).user;
  assert.equal(got.id, added.userId);
  assert.equal(got.state, USER_STATE_INITIAL, `${client.name}: state`);
  assert.equal(got.userName, `${p}-jane`);
  assert.deepEqual([...got.loginNames], [`${p}-jane`]);
  const human = client.human(got);
  assert.ok(human, `${client.name}: a human user`);
  assert.equal(human.profile.firstName, "Jane");
  assert.equal(human.profile.preferredLanguage, "de");
  assert.equal(human.profile.gender, 1);
  assert.equal(human.email.email, `${p}-jane@example.com`);
  assert.equal(human.email.isEmailVerified, false);
  const active = ok(client, "GetUserByID (imported)", await client.call("getUserByID", { id: imported.userId })).user;
  assert.equal(active.state, USER_STATE_ACTIVE, `${client.name}: imported state`);

  // The back office's other calls: who is still Initial, is a name free,
  // withdraw an invitation, what happened to it.
  const gone = ok(client, "AddHumanUser (to remove)", await client.call("addHumanUser", {
    userName: `${p}-gone`,
    profile: { firstName: "Gone", lastName: "Soon" },
    email: { email: `${p}-gone@example.com` },
  }));
  const initial = {
    query: { limit: 1000, asc: true },
    sortingColumn: USER_FIELD_NAME_CREATION_DATE,
    queries: [client.stateQuery(USER_STATE_INITIAL)],
  };
  const listed = ok(client, "ListUsers (Initial)", await client.call("listUsers", initial));
  const listedIds = listed.result.map((u) => u.id);
  assert.ok(listedIds.includes(added.userId) && listedIds.includes(gone.userId), `${client.name}: Initial users listed`);
  assert.ok(!listedIds.includes(imported.userId), `${client.name}: the Active user is not Initial`);
  assert.ok(listed.result.every((u) => u.state === USER_STATE_INITIAL), `${client.name}: only Initial users`);
  assert.ok(listedIds.indexOf(added.userId) < listedIds.indexOf(gone.userId), `${client.name}: by creation`);
  assert.equal(String(listed.details.totalResult), String(listed.result.length), `${client.name}: totalResult`);
  assert.equal(listed.sortingColumn, USER_FIELD_NAME_CREATION_DATE, `${client.name}: sortingColumn`);
  const taken = ok(client, "IsUserUnique (taken)", await client.call("isUserUnique", { userName: `${p}-jane` }));
  assert.equal(taken.isUnique, false, `${client.name}: a taken name`);
  const free = ok(client, "IsUserUnique (free)", await client.call("isUserUnique", { userName: `${p}-nobody` }));
  assert.equal(free.isUnique, true, `${client.name}: a free name`);
  const removed = ok(client, "RemoveUser", await client.call("removeUser", { id: gone.userId }));
  assert.equal(removed.details.resourceOwner, ORG, `${client.name}: RemoveUser resourceOwner`);
  refused(client, "GetUserByID of a removed user", await client.call("getUserByID", { id: gone.userId }), 5, "QUERY-Dfbg2");
  refused(client, "RemoveUser again", await client.call("removeUser", { id: gone.userId }), 5, "COMMAND-m9od");
  const again = ok(client, "ListUsers (Initial) after removal", await client.call("listUsers", initial));
  assert.ok(!again.result.some((u) => u.id === gone.userId), `${client.name}: a removed user is not listed`);
  const changes = ok(client, "ListUserChanges", await client.call("listUserChanges", { userId: gone.userId, query: { asc: true } }));
  const keys = changes.result.map((c) => c.eventType.key);
  assert.equal(keys[0], "EventTypes.user.human.added", `${client.name}: first change ${show(keys)}`);
  assert.equal(keys.at(-1), "EventTypes.user.removed", `${client.name}: last change ${show(keys)}`);
  assert.ok(keys.includes("EventTypes.user.human.initialization.code.added"), `${client.name}: ${show(keys)}`);
  assert.ok(changes.result.every((c) => c.resourceOwnerId === ORG && c.editorId), `${client.name}: owners and editors`);
  const free_again = ok(client, "IsUserUnique (after removal)", await client.call("isUserUnique", { userName: `${p}-gone` }));
  assert.equal(free_again.isUnique, true, `${client.name}: a removed user's name is free`);

  // Every error a client of ZITADEL meets, with ZITADEL's code and id.
  refused(client, "GetUserByID of an unknown user", await client.call("getUserByID", { id: "404404" }), 5, "QUERY-Dfbg2");
  refused(client, "resend to an unknown user", await client.call("resendHumanInitialization", { userId: "404404" }), 5, "COMMAND-2M9df");
  refused(client, "resend to an active user", await client.call("resendHumanInitialization", { userId: imported.userId }), 9, "COMMAND-2M9sd");
  refused(client, "no token", await client.call("getUserByID", { id: added.userId }, { token: "" }), 16, "ONBOARD-TOKEN-MISSING");
  refused(client, "a bad token", await client.call("getUserByID", { id: added.userId }, { token: "not-a-token" }), 16, "AUTH-7fs1e");
  refused(client, "no permission", await client.call("addHumanUser", {
    userName: `${p}-nope`, profile: { firstName: "N", lastName: "O" }, email: { email: "n@example.com" },
  }, { token: READER }), 7, "AUTH-5mWD2");
  refused(client, "an unknown organization", await client.call("getUserByID", { id: added.userId }, { org: "999999999" }), 7, "AUTH-Bs7Ds");
  refused(client, "a page over 1000", await client.call("listUsers", { query: { limit: 1001 } }), 3, "QUERY-4M0fs");
  refused(client, "no permission to remove", await client.call("removeUser", { id: added.userId }, { token: READER }), 7, "AUTH-5mWD2");
  refused(client, "an invalid address", await client.call("addHumanUser", {
    userName: `${p}-bad`, profile: { firstName: "B", lastName: "A" }, email: { email: "not-an-address" },
  }), 3, "EMAIL-599BI");
  refused(client, "a taken user name", await client.call("addHumanUser", {
    userName: `${p}-jane`, profile: { firstName: "J", lastName: "D" }, email: { email: "j@example.com" },
  }), 6, "V3-DKcYh");

  // A message over the size limit is refused before it is read in full; the
  // client still sees the status (no reset of the stream instead).
  refused(client, "a message over 64 KiB", await client.call("addHumanUser", {
    userName: `${p}-big`, profile: { firstName: "B", lastName: "I", nickName: "x".repeat(70 * 1024) }, email: { email: "b@example.com" },
  }), 8, "ONBOARD-BODY-TOO-LARGE");

  console.log(JSON.stringify({ client: client.name, added: added.userId, imported: imported.userId, email: `${p}-jane@example.com` }));
}
