#!/usr/bin/env node
// Drives cbslocal with the official Node SDK (tencentcloud-sdk-nodejs), for tests/e2e/test_node_sdk.py.
//
// stdin: one JSON spec, either a single call or {"defaults": {...}, "calls": [{...}, ...]}.
// A call (each key falls back to `defaults`):
//   endpoint     "127.0.0.1:PORT" (httpProfile.endpoint);  protocol  default "http://"
//   secretId, secretKey, token    the credential
//   region, language              client region, profile.language (omitted when absent)
//   reqMethod    "POST" | "GET"   signMethod  "TC3-HMAC-SHA256" | "HmacSHA1" | "HmacSHA256"
//   action, params                the API call
//   via          "method" (client.Action(params), the default when the client has that method)
//                | "request" (client.request(action, params))
//   version      if set, the call goes through the SDK's CommonClient with this API version
// A string param "$ref:N.a.b.0" is replaced by that path of call N's result (calls run in order).
// stdout: a JSON array, one entry per call:
//   {"ok": true, "result": <data.Response>} or
//   {"ok": false, "code", "message", "requestId", "traceId", "httpCode", "name"}.
"use strict";

const tencentcloud = require("tencentcloud-sdk-nodejs");
const { CommonClient } = require("tencentcloud-sdk-nodejs/tencentcloud/common");

const readStdin = require("./stdin");

function makeClient(call) {
  const profile = {
    httpProfile: {
      endpoint: call.endpoint,
      protocol: call.protocol || "http://",
      reqMethod: call.reqMethod || "POST",
      reqTimeout: 30,
    },
  };
  if (call.signMethod) profile.signMethod = call.signMethod;
  if (call.language) profile.language = call.language;
  const credential = { secretId: call.secretId, secretKey: call.secretKey };
  if (call.token !== undefined && call.token !== null) credential.token = call.token;
  const config = { credential, region: call.region, profile };
  if (call.version) return new CommonClient("cbs.tencentcloudapi.com", call.version, config);
  return new tencentcloud.cbs.v20170312.Client(config);
}

function resolveRefs(value, results) {
  if (typeof value === "string" && value.startsWith("$ref:")) {
    const [index, ...path] = value.slice(5).split(".");
    let current = results[Number(index)];
    if (!current || !current.ok) throw new Error(`reference ${value}: call ${index} failed`);
    current = current.result;
    for (const key of path) current = current[key];
    return current;
  }
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, results));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveRefs(v, results);
    return out;
  }
  return value;
}

async function runOne(call, results) {
  const params = resolveRefs(call.params === undefined ? {} : call.params, results);
  try {
    const client = makeClient(call);
    const useMethod = call.via ? call.via === "method"
      : !call.version && typeof client[call.action] === "function";
    const result = useMethod
      ? await client[call.action](params)
      : await client.request(call.action, params);
    return { ok: true, result };
  } catch (e) {
    return {
      ok: false,
      name: e && e.constructor ? e.constructor.name : typeof e,
      code: e.code === undefined ? null : e.code,
      message: e.message === undefined ? String(e) : e.message,
      requestId: e.requestId === undefined ? null : e.requestId,
      traceId: e.traceId === undefined ? null : e.traceId,
      httpCode: e.httpCode === undefined ? null : e.httpCode,
    };
  }
}

async function main() {
  const spec = JSON.parse(await readStdin());
  const defaults = spec.defaults || {};
  const calls = spec.calls || [spec];
  const results = [];
  for (const call of calls) results.push(await runOne({ ...defaults, ...call }, results));
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + "\n");
  process.exit(1);
});
