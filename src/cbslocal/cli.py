"""`cbslocal serve` and `cbslocal admin …` (the admin commands talk to a running server's
control plane, one subcommand per endpoint, and print JSON)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
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
def serve(host: str, port: int, data_dir: Path, database_url: str | None, timing: str,
          log_level: str, config_file: Path | None) -> None:
    """Start the emulator."""
    from cbslocal.app import make_server
    from cbslocal.config import Settings, topology_from_file
    from cbslocal.iam.accounts import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
    from cbslocal.observe import configure_logging
    from cbslocal.store.db import DataDirInUse

    configure_logging(log_level)
    settings = Settings(host=host, port=port, data_dir=data_dir, database_url=database_url,
                        timing=timing)
    if config_file is not None:
        try:
            settings.topology = topology_from_file(config_file)
        except ValueError as failure:
            raise click.ClickException(str(failure)) from None
    try:
        server, sock = make_server(settings)
    except DataDirInUse as failure:
        raise click.ClickException(f"{failure}; stop it or choose another --data-dir") from None
    bound_port = sock.getsockname()[1]
    where = database_url or str(data_dir.resolve() / "cbslocal.db")
    click.echo(json.dumps({
        "event": "ready", "version": __version__, "endpoint": f"http://{host}:{bound_port}",
        "port": bound_port, "database": _redact(where), "timing": timing,
        "default_credentials": {"SecretId": DEFAULT_SECRET_ID, "SecretKey": DEFAULT_SECRET_KEY},
    }), err=True)
    server.run(sockets=[sock])


def _redact(url: str) -> str:
    """Never print a database password."""
    if "://" in url and "@" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


# --- admin ---------------------------------------------------------------------------------------
@main.group()
@click.option("--endpoint", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True,
              envvar="CBSLOCAL_ENDPOINT", help="The running cbslocal to administer.")
@click.pass_context
def admin(ctx: click.Context, endpoint: str) -> None:
    """Administer a running cbslocal through its control plane (/_cbslocal/)."""
    ctx.obj = endpoint.rstrip("/")


@admin.group()
def account() -> None:
    """Accounts and their API keys."""


@account.command("create")
@click.option("--name", default="", help="A label for the account.")
@click.pass_obj
def account_create(endpoint: str, name: str) -> None:
    """Create an account with one API key; prints its credentials."""
    _call(endpoint, "POST", "/accounts", {"name": name} if name else {})


@account.command("list")
@click.pass_obj
def account_list(endpoint: str) -> None:
    """List the accounts."""
    _call(endpoint, "GET", "/accounts")


@account.command("create-key")
@click.argument("account_id")
@click.option("--ttl", type=float, default=None,
              help="Make temporary credentials (with a token) valid for this many seconds.")
@click.pass_obj
def account_create_key(endpoint: str, account_id: str, ttl: float | None) -> None:
    """Create another API key (or temporary credentials) for ACCOUNT_ID."""
    _call(endpoint, "POST", f"/accounts/{account_id}/keys", {"ttl": ttl} if ttl is not None else {})


@admin.command()
@click.pass_obj
def health(endpoint: str) -> None:
    """Is the server up, and which version is it?"""
    _call(endpoint, "GET", "/health")


@admin.command()
@click.pass_obj
def settle(endpoint: str) -> None:
    """Apply every pending transition that is due now."""
    _call(endpoint, "POST", "/settle", {})


@admin.command()
@click.option("--account", default=None, help="only this account's resources")
@click.option("--region", default=None, help="only this region's resources")
@click.pass_obj
def reset(endpoint: str, account: str | None, region: str | None) -> None:
    """Back to a fresh data dir — or remove only one account's or one region's resources."""
    body = {k: v for k, v in (("account", account), ("region", region)) if v is not None}
    _call(endpoint, "POST", "/reset", body)


@admin.group()
def clock() -> None:
    """The emulator's clock (API times, transitions, expiry; not signature checks)."""


@clock.command("show")
@click.pass_obj
def clock_show(endpoint: str) -> None:
    """What time it is for the emulator, and how its clock runs."""
    _call(endpoint, "GET", "/clock")


@clock.command("advance")
@click.argument("duration")
@click.pass_obj
def clock_advance(endpoint: str, duration: str) -> None:
    """Move the clock forward by DURATION (seconds, or e.g. 90s, 10m, 2h, 3d, 1w, 1d12h)."""
    _call(endpoint, "POST", "/clock", {"advance": duration})


@clock.command("set")
@click.argument("when")
@click.pass_obj
def clock_set(endpoint: str, when: str) -> None:
    """Move the clock forward to WHEN ('YYYY-MM-DD HH:MM:SS' China time, or ISO 8601)."""
    _call(endpoint, "POST", "/clock", {"set": when})


@clock.command("mode")
@click.argument("mode", type=click.Choice(["real", "running", "frozen", "scaled"]))
@click.option("--rate", type=float, default=None, help="Virtual seconds per real second (scaled).")
@click.pass_obj
def clock_mode(endpoint: str, mode: str, rate: float | None) -> None:
    """Run the clock in real time, on from where it is, frozen, or scaled (--rate)."""
    _call(endpoint, "POST", "/clock", {"mode": mode, **({"rate": rate} if rate is not None else {})})


@admin.group()
def state() -> None:
    """Export the whole state (or one account's) as JSON, or import it into an empty cbslocal."""


@state.command("export")
@click.option("--account", default=None, help="only this account's resources and keys")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write to this file instead of standard output")
@click.pass_obj
def state_export(endpoint: str, account: str | None, output: Path | None) -> None:
    """The state as a versioned JSON document."""
    path = "/state" + (f"?account={account}" if account else "")
    _call(endpoint, "GET", path, output=output)


@state.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def state_import(endpoint: str, file: Path) -> None:
    """Load FILE (from `state export`) into this cbslocal, which must hold no resources."""
    try:
        document = json.loads(file.read_text("utf-8"))
    except ValueError as failure:
        raise click.BadParameter(f"{file}: {failure}", param_hint="FILE")
    _call(endpoint, "POST", "/state", document)


@admin.group()
def config() -> None:
    """The configuration in force: zones, disk types sold, sizes, limits, stock, instance types."""


@config.command("show")
@click.pass_obj
def config_show(endpoint: str) -> None:
    """The whole configuration, as the server uses it now."""
    _call(endpoint, "GET", "/config")


@config.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def config_set(endpoint: str, file: Path) -> None:
    """Lay FILE (TOML, or JSON if it ends in .json) over the configuration in force."""
    import tomllib

    text = file.read_text("utf-8")
    try:
        body = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as failure:
        raise click.BadParameter(f"{file}: {failure}", param_hint="FILE")
    _call(endpoint, "POST", "/config", body)


@admin.group()
def timing() -> None:
    """How long asynchronous moves take."""


@timing.command("show")
@click.pass_obj
def timing_show(endpoint: str) -> None:
    """The current profile and every transition's duration."""
    _call(endpoint, "GET", "/timing")


@timing.command("set")
@click.option("--profile", type=click.Choice(["instant", "realistic"]), default=None)
@click.option("--duration", "durations", multiple=True, metavar="KIND=SECONDS",
              help="e.g. --duration disk.attach=5 (repeatable)")
@click.pass_obj
def timing_set(endpoint: str, profile: str | None, durations: tuple[str, ...]) -> None:
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
    _call(endpoint, "POST", "/timing", body)


@admin.command()
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def calls(endpoint: str, limit: int) -> None:
    """The last API calls: time, action, account, region, code, latency, RequestId."""
    _call(endpoint, "GET", f"/calls?limit={limit}")


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
def fault_add(endpoint: str, **options) -> None:
    """Add a rule; prints it with its id."""
    body = {k: v for k, v in options.items() if v is not None and v is not False}
    _call(endpoint, "POST", "/faults", body)


@fault.command("list")
@click.pass_obj
def fault_list(endpoint: str) -> None:
    """The rules, with how often each has fired."""
    _call(endpoint, "GET", "/faults")


@fault.command("delete")
@click.argument("rule_id", required=False)
@click.option("--all", "everything", is_flag=True, help="delete every rule")
@click.pass_obj
def fault_delete(endpoint: str, rule_id: str | None, everything: bool) -> None:
    """Delete rule RULE_ID, or --all."""
    if (rule_id is None) == (not everything):
        raise click.UsageError("give a RULE_ID or --all")
    _call(endpoint, "DELETE", "/faults" if everything else f"/faults/{rule_id}")


@fault.command("firings")
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def fault_firings(endpoint: str, limit: int) -> None:
    """The last times a rule fired: which rule, when, on which call."""
    _call(endpoint, "GET", f"/faults/firings?limit={limit}")


@admin.command()
@click.argument("instance_id")
@click.option("--state", default=None, help="Any InstanceState, e.g. SHUTDOWN.")
@click.option("--supports-cbs/--no-supports-cbs", default=None)
@click.option("--online-resize/--no-online-resize", default=None)
@click.option("--max-attach-count", type=int, default=None)
@click.pass_obj
def instance(endpoint: str, instance_id: str, state, supports_cbs, online_resize,
             max_attach_count) -> None:
    """Set what no API call can on an instance: its state, its flags."""
    body = {k: v for k, v in (("state", state), ("supports_cbs", supports_cbs),
                              ("online_resize", online_resize),
                              ("max_attach_count", max_attach_count)) if v is not None}
    _call(endpoint, "POST", f"/instances/{instance_id}", body)


@admin.command()
@click.argument("disk_id")
@click.option("--dumping/--no-dumping", default=None, help="Put the disk into DUMPING, or end it.")
@click.option("--returnable/--no-returnable", default=None)
@click.option("--snapshot-ability/--no-snapshot-ability", default=None)
@click.pass_obj
def disk(endpoint: str, disk_id: str, dumping, returnable, snapshot_ability) -> None:
    """Set what no API call can on a disk: DUMPING, non-returnable, no snapshot ability."""
    body = {k: v for k, v in (("dumping", dumping), ("returnable", returnable),
                              ("snapshot_ability", snapshot_ability)) if v is not None}
    _call(endpoint, "POST", f"/disks/{disk_id}", body)


@admin.command()
@click.argument("policy_id")
@click.option("--state", type=click.Choice(["ISOLATED", "NORMAL"]), default=None,
              help="Isolate the automatic snapshot policy (as for an account in arrears), or restore it.")
@click.pass_obj
def policy(endpoint: str, policy_id: str, state) -> None:
    """Set what no API call can on an automatic snapshot policy: its state."""
    _call(endpoint, "POST", f"/policies/{policy_id}", {"state": state} if state else {})


def _call(endpoint: str, method: str, path: str, body: dict | None = None,
          output: Path | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_cbslocal{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=600) as response:
            text = json.dumps(json.loads(response.read()), indent=2, ensure_ascii=False)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            click.echo(text)
    except urllib.error.HTTPError as failure:
        detail = failure.read().decode("utf-8", "replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        click.echo(f"error: {failure.code}: {detail}", err=True)
        sys.exit(1)
    except urllib.error.URLError as failure:
        click.echo(f"error: cannot reach cbslocal at {endpoint}: {failure.reason}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
