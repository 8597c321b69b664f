// Prints the file descriptors that @zitadel/proto embeds for the .proto
// files named on the command line (as ZITADEL names them, e.g.
// zitadel/management.proto), as one JSON line {"set": <base64 of a
// google.protobuf.FileDescriptorSet>}, for the test to compare with onboard's.

import { create, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const files = [];
for (const name of process.argv.slice(2)) {
  const module = await import(`@zitadel/proto/${name.replace(/\.proto$/, "_pb.js")}`);
  const file = Object.values(module).find((value) => value?.kind === "file");
  if (!file) throw new Error(`@zitadel/proto has no descriptor of ${name}`);
  files.push(file.proto);
}
const set = toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files }));
console.log(JSON.stringify({ set: Buffer.from(set).toString("base64") }));
