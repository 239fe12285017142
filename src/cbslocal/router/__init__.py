"""The router: from a verified call to its handler (dispatch), with what a process keeps between
calls (runtime), the service tables, fault injection, request rates and ClientToken idempotency.
Above the domain; the gateway hands it calls, the app wires the two."""
