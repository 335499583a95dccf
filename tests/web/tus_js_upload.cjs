// Uploads one file with tus-js-client in node: `node tus_js_upload.cjs <endpoint> <file>
// [parallel=<n>] [chunk=<bytes>] [checksum]`; prints the upload's URL, exits 1 on an error.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const tus = require("tus-js-client");

const [endpoint, file, ...flags] = process.argv.slice(2);
const options = Object.fromEntries(flags.map((f) => f.split("=")));
const data = fs.readFileSync(file);
const chunkSize = options.chunk ? Number(options.chunk) : Infinity;

const upload = new tus.Upload(data, {
  endpoint,
  chunkSize,
  parallelUploads: options.parallel ? Number(options.parallel) : 1,
  retryDelays: null,
  metadata: { filename: path.basename(file), filetype: "application/octet-stream" },
  // tus-js-client sends no Upload-Checksum of its own: the bytes of a PATCH are the file's
  // from its Upload-Offset, so their SHA-256 can be added here.
  onBeforeRequest(req) {
    if ("checksum" in options && req.getMethod() === "PATCH") {
      const offset = Number(req.getHeader("Upload-Offset"));
      const body = data.subarray(offset, Math.min(offset + chunkSize, data.length));
      const digest = crypto.createHash("sha256").update(body).digest("base64");
      req.setHeader("Upload-Checksum", `sha256 ${digest}`);
    }
  },
  onError(error) {
    process.stderr.write(`${error}\n`);
    process.exit(1);
  },
  onSuccess() {
    process.stdout.write(`${upload.url}\n`);
  },
});
upload.start();
