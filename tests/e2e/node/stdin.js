"use strict";
// The whole of stdin as text: the JSON spec the Python tests hand to run.js and lifecycle.js.
module.exports = function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (c) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
};
