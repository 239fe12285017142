"""`cbslocal serve` and `cbslocal admin …` (the admin commands talk to a running server's
control plane, one subcommand per endpoint, and print JSON)."""

from __future__ import annotations

import gc
import json
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import click

from cbslocal import __version__

DEFAULT_PORT = 4599


@click.group()
@click.version_option(__version__, prog_name="cbslocal")
def main() -> None:
    """A local emulator of Tencent Cloud Block Storage (CBS 2017-03-12)."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="CBSLOCAL_HOST")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, envvar="CBSLOCAL_PORT",
              help="0 picks a free port (the chosen one is printed).")
@click.option("--data-dir", default="./cbslocal-data", show_default=True, envvar="CBSLOCAL_DATA_DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Where the embedded SQLite database lives; created on first start.")
@click.option("--database-url", default=None, envvar="CBSLOCAL_DATABASE_URL",
              help="Use this database instead, e.g. postgresql://user@127.0.0.1:5432/cbslocal.")
@click.option("--timing", default="realistic", show_default=True, envvar="CBSLOCAL_TIMING",
              type=click.Choice(["instant", "realistic"]),
              help="How long asynchronous moves take on the emulator's clock.")
@click.option("--log-level", default="INFO", show_default=True, envvar="CBSLOCAL_LOG_LEVEL",
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("--config", "config_file", default=None, envvar="CBSLOCAL_CONFIG",
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A TOML file laid over the defaults (zones, disk types, limits, stock…).")
@click.option("--workers", default=1, show_default=True, type=int, envvar="CBSLOCAL_WORKERS",
              help="Server processes sharing the port (PostgreSQL only: --database-url).")
@click.option("--admin-token", default=None, envvar="CBSLOCAL_ADMIN_TOKEN",
              callback=lambda _ctx, _param, value: _admin_token(value),
              help="The control plane's token, replacing the one in force (default: generated at "
                   "the first start, printed once and saved in DATA_DIR/admin-token).")
@click.option("--admin-host", "admin_hosts", multiple=True, envvar="CBSLOCAL_ADMIN_HOSTS",
              metavar="NAME", callback=lambda _ctx, _param, values: _admin_hosts(values),
              help="Another name this server is called by, besides 127.0.0.1, localhost and [::1] "
                   "(repeatable; CBSLOCAL_ADMIN_HOSTS: comma-separated).")
def serve(host: str, port: int, data_dir: Path, database_url: str | None, timing: str,
          log_level: str, config_file: Path | None, workers: int, admin_token: str | None,
          admin_hosts: tuple[str, ...]) -> None:
    """Start the emulator."""
    # Start-up allocates much and frees little: the cyclic collector, walking the growing heap
    # again and again while the modules load, took a tenth of the time to the first answer. The
    # server turns it back on once it is up (App, lifespan startup).
    gc.disable()
    from cbslocal.app import CannotListen, make_server
    from cbslocal.config import Settings, topology_from_file
    from cbslocal.observe import configure_logging
    from cbslocal.store.db import DataDirInUse
    from cbslocal.workers import WorkersRefused, check_workers, serve_workers

    configure_logging(log_level)
    settings = Settings(host=host, port=port, data_dir=data_dir, database_url=database_url,
                        timing=timing, admin_token=admin_token, admin_hosts=admin_hosts)
    if config_file is not None:
        try:
            settings.topology = topology_from_file(config_file)
        except ValueError as failure:
            raise click.ClickException(str(failure)) from None
    try:
        check_workers(settings, workers)
        if workers > 1:
            gc.enable()  # the supervisor lives on; its forked workers have little left to load
            sys.exit(serve_workers(settings, workers, lambda bound: _ready(settings, bound, workers)))
        server, sock = make_server(settings)
    except (DataDirInUse, CannotListen, WorkersRefused) as failure:
        hint = "; stop it or choose another --data-dir" if isinstance(failure, DataDirInUse) else ""
        raise click.ClickException(f"{failure}{hint}") from None
    _ready(settings, sock.getsockname()[1], workers)
    server.run(sockets=[sock])


def _admin_token(value: str | None) -> str | None:
    from cbslocal.control.auth import check_token_shape

    try:
        return None if value is None else check_token_shape(value)
    except ValueError as failure:
        raise click.BadParameter(str(failure), param_hint="--admin-token") from None


def _admin_hosts(values: tuple[str, ...]) -> tuple[str, ...]:
    from cbslocal.control.auth import host_name

    try:
        return tuple(host_name(name) for value in values for name in value.split(",") if name.strip())
    except ValueError as failure:
        raise click.BadParameter(str(failure), param_hint="--admin-host") from None


def _ready(settings, bound_port: int, workers: int) -> None:
    """The one JSON line that says the server is listening (tests and scripts wait for it)."""
    from cbslocal.iam.accounts import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    from cbslocal.control.auth import is_loopback, token_file

    where = settings.database_url or str(settings.data_dir.resolve() / "cbslocal.db")
    ready = {
        "event": "ready", "version": __version__,
        "endpoint": f"http://{settings.host}:{bound_port}", "port": bound_port,
        "database": _redact(where), "timing": settings.timing, "workers": workers,
        "default_credentials": {"SecretId": DEFAULT_SECRET_ID, "SecretKey": DEFAULT_SECRET_KEY},
    }
    if not is_loopback(settings.host):
        click.echo(f"cbslocal: warning: listening on {settings.host}, beyond loopback: the control "
                   "plane (/_cbslocal/) answers only requests with the admin token (GET /health "
                   "excepted); the API takes the default account's published key from anyone who "
                   "reaches it", err=True)
    token = settings.generated_admin_token
    if token is not None:  # printed this once: later starts keep it and print nothing
        ready["admin_token"] = token
        click.echo(f"cbslocal: the control plane's admin token, generated now and saved in "
                   f"{token_file(settings.data_dir.resolve())} (`cbslocal admin` reads it "
                   f"there): {token}", err=True)
    click.echo(json.dumps(ready), err=True)


def _redact(url: str) -> str:
    """Never print a database password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


# --- admin ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdminTarget:
    """The running cbslocal the admin commands talk to, and the admin token they send."""
    endpoint: str
    token: str | None


@main.group()
@click.option("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True,
              envvar="CBSLOCAL_ENDPOINT", help="The running cbslocal to administer.")
@click.option("--token", default=None, envvar="CBSLOCAL_ADMIN_TOKEN",
              help="The control plane's admin token (default: read from DATA_DIR/admin-token).")
@click.option("--data-dir", default="./cbslocal-data", show_default=True, envvar="CBSLOCAL_DATA_DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="The server's data dir, where its generated admin token is saved.")
@click.pass_context
def admin(ctx: click.Context, endpoint: str, token: str | None, data_dir: Path) -> None:
    """Administer a running cbslocal through its control plane (/_cbslocal/)."""
    from click.core import ParameterSource

    from cbslocal.control.auth import is_loopback, read_token_file, token_file

    endpoint = endpoint.rstrip("/")
    if token is None:
        # A local data dir's token goes to a local server only, unless the data dir is named.
        named = ctx.get_parameter_source("data_dir") != ParameterSource.DEFAULT
        host = urllib.parse.urlsplit(endpoint).hostname or ""
        if named or is_loopback(host):
            token = read_token_file(token_file(data_dir))
    ctx.obj = AdminTarget(endpoint, token)


@admin.group()
def account() -> None:
    """Accounts and their API keys."""


@account.command("create")
@click.option("--name", default="", help="A label for the account.")
@click.pass_obj
def account_create(target: AdminTarget, name: str) -> None:
    """Create an account with one API key; prints its credentials."""
    _call(target, "POST", "/accounts", {"name": name} if name else {})


@account.command("list")
@click.pass_obj
def account_list(target: AdminTarget) -> None:
    """List the accounts."""
    _call(target, "GET", "/accounts")


@account.command("create-key")
@click.argument("account_id")
@click.option("--ttl", type=float, default=None,
              help="Make temporary credentials (with a token) valid for this many seconds.")
@click.option("--no-payment", is_flag=True,
              help="Calls the key signs may not pay (UnauthorizedOperation on a purchase).")
@click.pass_obj
def account_create_key(target: AdminTarget, account_id: str, ttl: float | None,
                       no_payment: bool) -> None:
    """Create another API key (or temporary credentials) for ACCOUNT_ID."""
    body: dict = {"ttl": ttl} if ttl is not None else {}
    if no_payment:
        body["payment_allowed"] = False
    _call(target, "POST", f"/accounts/{account_id}/keys", body)


@account.command("billing")
@click.argument("account_id")
@click.option("--balance", default=None, help="Set the balance (CNY, e.g. 100 or -5.50).")
@click.option("--top-up", default=None, help="Add this much (CNY) to the balance.")
@click.option("--payment/--no-payment", "payment_allowed", default=None,
              help="Allow or refuse the account payment.")
@click.option("--note", default=None, help="What the ledger says of the change.")
@click.pass_obj
def account_billing(target: AdminTarget, account_id: str, balance: str | None,
                    top_up: str | None, payment_allowed: bool | None, note: str | None) -> None:
    """Show ACCOUNT_ID's balance and payment permission, changing them first if asked."""
    change = {name: value for name, value in (("balance", balance), ("top_up", top_up),
                                              ("payment_allowed", payment_allowed),
                                              ("note", note)) if value is not None}
    path = f"/accounts/{account_id}/billing"
    _call(target, "POST" if change else "GET", path, change or None)


@account.command("ledger")
@click.argument("account_id")
@click.option("--after", type=int, default=0, show_default=True,
              help="Only the entries after the one with this Id.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_obj
def account_ledger(target: AdminTarget, account_id: str, after: int, limit: int) -> None:
    """ACCOUNT_ID's ledger: every change of its balance, oldest first."""
    _call(target, "GET", f"/accounts/{account_id}/ledger?after={after}&limit={limit}")


@admin.command()
@click.pass_obj
def check(target: AdminTarget) -> None:
    """Verify every invariant of the store: attachments against disk states, snapshot counts
    and sizes, censuses, pending moves, owners, quotas. Prints each violation; exits 1 if any."""
    if _call(target, "GET", "/check")["violations"]:
        sys.exit(1)


@admin.command()
@click.pass_obj
def health(target: AdminTarget) -> None:
    """Is the server up, and which version is it?"""
    _call(target, "GET", "/health")


@admin.command()
@click.pass_obj
def settle(target: AdminTarget) -> None:
    """Apply every pending transition that is due now."""
    _call(target, "POST", "/settle", {})


@admin.command()
@click.option("--account", default=None, help="only this account's resources")
@click.option("--region", default=None, help="only this region's resources")
@click.pass_obj
def reset(target: AdminTarget, account: str | None, region: str | None) -> None:
    """Back to a fresh data dir — or remove only one account's or one region's resources."""
    body = {k: v for k, v in (("account", account), ("region", region)) if v is not None}
    _call(target, "POST", "/reset", body)


@admin.group()
def clock() -> None:
    """The emulator's clock (API times, transitions, expiry; not signature checks)."""


@clock.command("show")
@click.pass_obj
def clock_show(target: AdminTarget) -> None:
    """What time it is for the emulator, and how its clock runs."""
    _call(target, "GET", "/clock")


@clock.command("advance")
@click.argument("duration")
@click.pass_obj
def clock_advance(target: AdminTarget, duration: str) -> None:
    """Move the clock forward by DURATION (seconds, or e.g. 90s, 10m, 2h, 3d, 1w, 1d12h)."""
    _call(target, "POST", "/clock", {"advance": duration})


@clock.command("set")
@click.argument("when")
@click.pass_obj
def clock_set(target: AdminTarget, when: str) -> None:
    """Move the clock forward to WHEN ('YYYY-MM-DD HH:MM:SS' China time, or ISO 8601)."""
    _call(target, "POST", "/clock", {"set": when})


@clock.command("mode")
@click.argument("mode", type=click.Choice(["real", "running", "frozen", "scaled"]))
@click.option("--rate", type=float, default=None, help="Virtual seconds per real second (scaled).")
@click.pass_obj
def clock_mode(target: AdminTarget, mode: str, rate: float | None) -> None:
    """Run the clock in real time, on from where it is, frozen, or scaled (--rate)."""
    _call(target, "POST", "/clock", {"mode": mode, **({"rate": rate} if rate is not None else {})})


@admin.group()
def state() -> None:
    """Export the whole state (or one account's) as JSON, or import it into an empty cbslocal."""


@state.command("export")
@click.option("--account", default=None, help="only this account's resources and keys")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file instead of standard output")
@click.pass_obj
def state_export(target: AdminTarget, account: str | None, output: Path | None) -> None:
    """The state as a versioned JSON document."""
    path = "/state" + (f"?account={account}" if account else "")
    _call(target, "GET", path, output=output)


@state.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def state_import(target: AdminTarget, file: Path) -> None:
    """Load FILE (from `state export`) into this cbslocal, which must hold no resources."""
    try:
        document = json.loads(file.read_text("utf-8"))
    except ValueError as failure:
        raise click.BadParameter(f"{file}: {failure}", param_hint="FILE")
    _call(target, "POST", "/state", document)


@admin.group()
def config() -> None:
    """The configuration in force: zones, disk types sold, sizes, limits, stock, instance types."""


@config.command("show")
@click.pass_obj
def config_show(target: AdminTarget) -> None:
    """The whole configuration, as the server uses it now."""
    _call(target, "GET", "/config")


@config.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def config_set(target: AdminTarget, file: Path) -> None:
    """Lay FILE (TOML, or JSON if it ends in .json) over the configuration in force."""
    import tomllib

    text = file.read_text("utf-8")
    try:
        body = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as failure:
        raise click.BadParameter(f"{file}: {failure}", param_hint="FILE")
    _call(target, "POST", "/config", body)


@admin.group()
def timing() -> None:
    """How long asynchronous moves take."""


@timing.command("show")
@click.pass_obj
def timing_show(target: AdminTarget) -> None:
    """The current profile and every transition's duration."""
    _call(target, "GET", "/timing")


@timing.command("set")
@click.option("--profile", type=click.Choice(["instant", "realistic"]), default=None)
@click.option("--duration", "durations", multiple=True, metavar="KIND=SECONDS",
              help="e.g. --duration disk.attach=5 (repeatable)")
@click.pass_obj
def timing_set(target: AdminTarget, profile: str | None, durations: tuple[str, ...]) -> None:
    """Switch the profile and/or set single transitions' durations."""
    body: dict = {"profile": profile} if profile else {}
    if durations:
        body["durations"] = {}
        for item in durations:
            kind, _, seconds = item.partition("=")
            try:
                body["durations"][kind] = float(seconds)
            except ValueError:
                raise click.BadParameter(f"{item!r} is not KIND=SECONDS", param_hint="--duration")
    _call(target, "POST", "/timing", body)


@admin.command()
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def calls(target: AdminTarget, limit: int) -> None:
    """The last API calls: time, action, account, region, code, latency, RequestId."""
    _call(target, "GET", f"/calls?limit={limit}")


@admin.group()
def fault() -> None:
    """Fault injection: answer matching API calls with an error, a delay or a closed connection."""


@fault.command("add")
@click.option("--service", default=None, help="cbs or cvm (default: any)")
@click.option("--action", default=None, help="e.g. AttachDisks (default: any)")
@click.option("--account", default=None, help="account ID (default: any)")
@click.option("--region", default=None, help="e.g. ap-guangzhou (default: any)")
@click.option("--code", default=None, help="the error code to answer with, e.g. InternalError")
@click.option("--message", default=None, help="the error message (default: the catalog's)")
@click.option("--latency", type=float, default=None, help="seconds to wait first")
@click.option("--close", is_flag=True, default=False, help="close the connection, no answer")
@click.option("--times", type=int, default=None, help="only the next N matching calls")
@click.option("--probability", type=float, default=None, help="fire with this probability")
@click.option("--seed", type=int, default=None, help="seed of the probability draws")
@click.pass_obj
def fault_add(target: AdminTarget, **options) -> None:
    """Add a rule; prints it with its id."""
    body = {k: v for k, v in options.items() if v is not None and v is not False}
    _call(target, "POST", "/faults", body)


@fault.command("list")
@click.pass_obj
def fault_list(target: AdminTarget) -> None:
    """The rules, with how often each has fired."""
    _call(target, "GET", "/faults")


@fault.command("delete")
@click.argument("rule_id", required=False)
@click.option("--all", "everything", is_flag=True, help="delete every rule")
@click.pass_obj
def fault_delete(target: AdminTarget, rule_id: str | None, everything: bool) -> None:
    """Delete rule RULE_ID, or --all."""
    if (rule_id is None) == (not everything):
        raise click.UsageError("give a RULE_ID or --all")
    _call(target, "DELETE", "/faults" if everything else f"/faults/{rule_id}")


@fault.command("firings")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def fault_firings(target: AdminTarget, limit: int) -> None:
    """The last times a rule fired: which rule, when, on which call."""
    _call(target, "GET", f"/faults/firings?limit={limit}")


@admin.command()
@click.argument("instance_id")
@click.option("--state", default=None,
              help="LAUNCH_FAILED, RUNNING, STOPPED or SHUTDOWN (states of an operation in "
                   "progress come with the operation).")
@click.option("--supports-cbs/--no-supports-cbs", default=None)
@click.option("--online-resize/--no-online-resize", default=None)
@click.option("--max-attach-count", type=int, default=None)
@click.pass_obj
def instance(target: AdminTarget, instance_id: str, state, supports_cbs, online_resize,
             max_attach_count) -> None:
    """Set what no API call can on an instance: its state, its flags."""
    body = {k: v for k, v in (("state", state), ("supports_cbs", supports_cbs),
                              ("online_resize", online_resize),
                              ("max_attach_count", max_attach_count)) if v is not None}
    _call(target, "POST", f"/instances/{instance_id}", body)


@admin.command()
@click.argument("disk_id")
@click.option("--dumping/--no-dumping", default=None, help="Put the disk into DUMPING, or end it.")
@click.option("--returnable/--no-returnable", default=None)
@click.option("--snapshot-ability/--no-snapshot-ability", default=None)
@click.pass_obj
def disk(target: AdminTarget, disk_id: str, dumping, returnable, snapshot_ability) -> None:
    """Set what no API call can on a disk: DUMPING, non-returnable, no snapshot ability."""
    body = {k: v for k, v in (("dumping", dumping), ("returnable", returnable),
                              ("snapshot_ability", snapshot_ability)) if v is not None}
    _call(target, "POST", f"/disks/{disk_id}", body)


@admin.command()
@click.argument("policy_id")
@click.option("--state", type=click.Choice(["ISOLATED", "NORMAL"]), default=None,
              help="Isolate the automatic snapshot policy (as for an account in arrears), or restore it.")
@click.pass_obj
def policy(target: AdminTarget, policy_id: str, state) -> None:
    """Set what no API call can on an automatic snapshot policy: its state."""
    _call(target, "POST", f"/policies/{policy_id}", {"state": state} if state else {})


def _call(target: AdminTarget, method: str, path: str, body: dict | None = None,
          output: Path | None = None) -> dict:
    """Print the control plane's answer (or write it to `output`) and return it; on an error,
    print it and exit 1."""
    from cbslocal.control.client import ControlFailed, ControlUnreachable, call

    try:
        answer = call(target.endpoint, target.token, method, path, body)
    except ControlFailed as failure:
        click.echo(f"error: {failure.status}: {failure.message}", err=True)
        sys.exit(1)
    except ControlUnreachable as failure:
        click.echo(f"error: {failure}", err=True)
        sys.exit(1)
    text = json.dumps(answer, indent=2, ensure_ascii=False)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
    return answer


if __name__ == "__main__":
    main()
