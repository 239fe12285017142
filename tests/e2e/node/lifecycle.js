#!/usr/bin/env node
// The whole life of a disk on an instance with the official Node SDK (tencentcloud-sdk-nodejs:
// cvm.v20170312.Client and cbs.v20170312.Client), for tests/e2e/test_node_lifecycle.py.
//
// stdin: {"endpoint": "127.0.0.1:PORT", "secretId", "secretKey", "region", "zone", "otherZone",
//         "imageId", "instanceType", "runId", "pollMs", "timeoutMs"}
// stdout: one JSON summary of what the calls returned (see `summary` below); the states a poll
// saw are listed in order, without repeats. Exit 0 when the flow ran to its end, else 1 with
// {"failed": "<stack>", "summary": <what was gathered so far>}.
//
// RunInstances → poll DescribeInstances until RUNNING; CreateDisks (two zones) → poll DescribeDisks
// until listed; AttachDisks (plus error cases: ZoneNotMatch, InvalidInstanceId.NotFound,
// InvalidDisk.Attached) → poll until ATTACHED; DescribeInstancesDiskNum; DetachDisks → poll until
// UNATTACHED; ModifyDiskAttributes; ResizeDisk → poll until the size shows; TerminateDisks;
// TerminateInstances → poll until the instance is gone.
"use strict";

const tencentcloud = require("tencentcloud-sdk-nodejs");

const readStdin = require("./stdin");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function clients(spec) {
  const config = {
    credential: { secretId: spec.secretId, secretKey: spec.secretKey },
    region: spec.region,
    profile: { httpProfile: { endpoint: spec.endpoint, protocol: "http://", reqTimeout: 30 } },
  };
  return {
    cbs: new tencentcloud.cbs.v20170312.Client(config),
    cvm: new tencentcloud.cvm.v20170312.Client(config),
  };
}

// Call `fetch` until `done(value)`; returns {value, seen: [observe(value), ...] (no repeats), polls}.
async function poll(spec, what, fetch, observe, done) {
  const deadline = Date.now() + spec.timeoutMs;
  const seen = [];
  let polls = 0;
  for (;;) {
    const value = await fetch();
    polls += 1;
    const observed = observe(value);
    if (seen.length === 0 || JSON.stringify(seen[seen.length - 1]) !== JSON.stringify(observed)) {
      seen.push(observed);
    }
    if (done(value)) return { value, seen, polls };
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; saw ${JSON.stringify(seen)}`);
    }
    await sleep(spec.pollMs);
  }
}

// The API error a call fails with: {code, message, requestId, name}, or {unexpected: result}.
async function failure(promise) {
  try {
    return { unexpected: await promise };
  } catch (e) {
    return {
      name: e && e.constructor ? e.constructor.name : typeof e,
      code: e.code === undefined ? null : e.code,
      message: e.message === undefined ? String(e) : e.message,
      requestId: e.requestId === undefined ? null : e.requestId,
    };
  }
}

function diskView(d) {
  if (!d) return null;
  return {
    DiskId: d.DiskId, DiskName: d.DiskName, DiskSize: d.DiskSize, DiskState: d.DiskState,
    DiskType: d.DiskType, Zone: d.Placement && d.Placement.Zone, Attached: d.Attached,
    InstanceId: d.InstanceId, InstanceIdList: d.InstanceIdList, LastAttachInsId: d.LastAttachInsId,
  };
}

async function flow(spec, summary) {
  const { cbs, cvm } = clients(spec);
  const describeDisk = async (diskId) => (await cbs.DescribeDisks({ DiskIds: [diskId] })).DiskSet[0];
  const describeInstance = async (instanceId) =>
    (await cvm.DescribeInstances({ InstanceIds: [instanceId] })).InstanceSet[0];
  const diskParams = (zone, name) => ({
    Placement: { Zone: zone }, DiskChargeType: "POSTPAID_BY_HOUR", DiskType: "CLOUD_PREMIUM",
    DiskSize: 50, DiskName: name,
  });
  const started = Date.now();

  // --- an instance and two disks, all at once -------------------------------------------------
  const [run, created, createdOther] = await Promise.all([
    cvm.RunInstances({
      Placement: { Zone: spec.zone }, ImageId: spec.imageId, InstanceType: spec.instanceType,
      InstanceName: `node-life-${spec.runId}`,
    }),
    cbs.CreateDisks(diskParams(spec.zone, `node-life-${spec.runId}`)),
    cbs.CreateDisks(diskParams(spec.otherZone, `node-life-other-${spec.runId}`)),
  ]);
  summary.requestIds = [run.RequestId, created.RequestId, createdOther.RequestId];
  summary.instanceIds = run.InstanceIdSet;
  summary.diskIds = created.DiskIdSet;
  summary.otherDiskIds = createdOther.DiskIdSet;
  const instanceId = run.InstanceIdSet[0];
  const diskId = created.DiskIdSet[0];
  const otherId = createdOther.DiskIdSet[0];

  const [running, listed, otherListed] = await Promise.all([
    poll(spec, "RUNNING", () => describeInstance(instanceId), (i) => i && i.InstanceState,
      (i) => i && i.InstanceState === "RUNNING"),
    poll(spec, "the disk listed", () => describeDisk(diskId), (d) => (d ? d.DiskState : null),
      (d) => Boolean(d)),
    poll(spec, "the other disk listed", () => describeDisk(otherId), (d) => (d ? d.DiskState : null),
      (d) => Boolean(d)),
  ]);
  const instance = running.value;
  summary.launch = {
    seen: running.seen, InstanceState: instance.InstanceState, InstanceType: instance.InstanceType,
    ImageId: instance.ImageId, Zone: instance.Placement.Zone, InstanceName: instance.InstanceName,
    SystemDiskId: instance.SystemDisk && instance.SystemDisk.DiskId,
    DataDisks: (instance.DataDisks || []).map((d) => d.DiskId),
  };
  summary.created = { seen: listed.seen, disk: diskView(listed.value) };
  summary.createdOther = { seen: otherListed.seen, disk: diskView(otherListed.value) };

  // --- attach -------------------------------------------------------------------------------------
  const [zoneMismatch, noInstance] = await Promise.all([
    failure(cbs.AttachDisks({ DiskIds: [otherId], InstanceId: instanceId })),
    failure(cbs.AttachDisks({ DiskIds: [diskId], InstanceId: "ins-00000000" })),
  ]);
  summary.errors = { zoneMismatch, noInstance };

  await cbs.AttachDisks({ DiskIds: [diskId], InstanceId: instanceId });
  const rightAfterAttach = await describeDisk(diskId);
  const attached = await poll(spec, "ATTACHED", () => describeDisk(diskId), (d) => d.DiskState,
    (d) => d.DiskState === "ATTACHED");
  summary.attach = {
    stateRightAfter: rightAfterAttach.DiskState, seen: [rightAfterAttach.DiskState, ...attached.seen]
      .filter((s, i, all) => i === 0 || all[i - 1] !== s),
    disk: diskView(attached.value),
  };

  const [diskNum, onInstance, again, other] = await Promise.all([
    cbs.DescribeInstancesDiskNum({ InstanceIds: [instanceId] }),
    describeInstance(instanceId),
    failure(cbs.AttachDisks({ DiskIds: [diskId], InstanceId: instanceId })),
    describeDisk(otherId),
  ]);
  summary.attach.attachDetail = diskNum.AttachDetail;
  summary.attach.instanceDataDisks = (onInstance.DataDisks || []).map((d) => d.DiskId);
  summary.attach.otherDisk = diskView(other);
  summary.errors.alreadyAttached = again;

  // --- detach, rename, grow -------------------------------------------------------------------------
  await cbs.DetachDisks({ DiskIds: [diskId], InstanceId: instanceId });
  const rightAfterDetach = await describeDisk(diskId);
  const detached = await poll(spec, "UNATTACHED", () => describeDisk(diskId), (d) => d.DiskState,
    (d) => d.DiskState === "UNATTACHED");
  const diskNumAfter = await cbs.DescribeInstancesDiskNum({ InstanceIds: [instanceId] });
  summary.detach = {
    stateRightAfter: rightAfterDetach.DiskState, disk: diskView(detached.value),
    attachDetail: diskNumAfter.AttachDetail,
  };

  await cbs.ModifyDiskAttributes({ DiskIds: [diskId], DiskName: `node-life-renamed-${spec.runId}` });
  await cbs.ResizeDisk({ DiskId: diskId, DiskSize: 100 });
  const resized = await poll(spec, "the new size", () => describeDisk(diskId),
    (d) => [d.DiskState, d.DiskSize], (d) => d.DiskSize === 100 && d.DiskState !== "EXPANDING");
  summary.resize = { seen: resized.seen, disk: diskView(resized.value) };

  // --- the end ------------------------------------------------------------------------------------
  await cbs.TerminateDisks({ DiskIds: [diskId, otherId] });
  const [remainingDisks] = await Promise.all([
    cbs.DescribeDisks({ DiskIds: [diskId, otherId] }),
    cvm.TerminateInstances({ InstanceIds: [instanceId] }),
  ]);
  const gone = await poll(spec, "the instance gone",
    () => cvm.DescribeInstances({ InstanceIds: [instanceId] }),
    (r) => (r.InstanceSet[0] ? r.InstanceSet[0].InstanceState : null), (r) => r.TotalCount === 0);
  const systemDisk = await cbs.DescribeDisks({ DiskIds: [summary.launch.SystemDiskId] });
  summary.end = {
    remainingDisks: remainingDisks.TotalCount, instanceSeen: gone.seen,
    remainingInstances: gone.value.TotalCount, remainingSystemDisks: systemDisk.TotalCount,
  };
  summary.elapsedMs = Date.now() - started;
}

async function main() {
  const spec = JSON.parse(await readStdin());
  const summary = {};
  try {
    await flow(spec, summary);
  } catch (e) {
    process.stdout.write(JSON.stringify({ failed: String((e && e.stack) || e), summary }) + "\n");
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(summary) + "\n");
}

main().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + "\n");
  process.exit(2);
});
