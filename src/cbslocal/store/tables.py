"""The schema: every table of the store. Migrations (store/migrations) build exactly this.

Every row of a resource table carries the owning account and region; queries go through
`store.scoped` so that isolation between accounts is a property of the store, not of each handler.
Times are float epoch seconds on the emulator's clock; sizes are GiB.
"""

from __future__ import annotations

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint)
from sqlalchemy.sql.expression import true
from sqlalchemy.types import BigInteger

metadata = MetaData()

# 1,000,000.00 CNY: the emulator's default starting balance (defaults.toml [billing]).
DEFAULT_BALANCE_FEN = 100_000_000

accounts = Table(
    "accounts", metadata,
    Column("account_id", String(32), primary_key=True),  # the UIN, a decimal string
    Column("app_id", BigInteger, nullable=False),
    Column("name", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    # Money (billing/ledger.py): the balance in fen, negative in arrears; every change of it is a
    # row of `ledger`. The server default is what accounts of an earlier release start with.
    Column("balance", BigInteger, nullable=False, server_default=str(DEFAULT_BALANCE_FEN)),
    # Whether the account may pay for anything (buy, renew, upgrade prepaid resources).
    Column("payment_allowed", Boolean, nullable=False, server_default=true()),
    # Pay-as-you-go (billing/usage.py): up to when its postpaid disks are billed, and what was
    # used but not charged yet (an exact decimal of CNY: time set aside, a fraction of a fen).
    Column("usage_billed_until", Float, nullable=True),
    Column("unsettled", Text, nullable=False, server_default="0"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("secret_id", String(128), primary_key=True),
    Column("account_id", String(32), ForeignKey("accounts.account_id"), nullable=False, index=True),
    Column("secret_key", String(128), nullable=False),
    # Temporary credentials carry a token and an expiry; permanent keys have neither.
    Column("token", Text, nullable=True),
    Column("expires_at", Float, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
    # A key may be refused payment while its account may pay (UnauthorizedOperation).
    Column("payment_allowed", Boolean, nullable=False, server_default=true()),
)

# Every change of a balance, in order (billing/ledger.py): what was paid, refunded, topped up or
# set, by which order (`deal_name`) and for which resources. `amount` is signed fen (negative:
# paid); `balance_after` is the balance the change left.
ledger = Table(
    "ledger", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("deal_name", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("resource_ids", Text, nullable=False),  # a JSON list
    Column("description", Text, nullable=False),
    Index("ix_ledger_account", "account_id", "id"),
)


# A column the database keeps for itself, by triggers (`info` DERIVED): never written by the code,
# neither exported nor imported with the state (store/state.py).
DERIVED = {"derived": True}


def row_version() -> Column:
    """A new value whenever the row changes, set by the database itself (store/row_versions.py),
    never written by the code: what a copy of the row's rendered API object is checked against."""
    return Column("version", BigInteger, nullable=False, server_default="0", info=DERIVED)


disks = Table(
    "disks", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("disk_id", String(32), nullable=False, unique=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("project_id", BigInteger, nullable=False, default=0),
    Column("disk_name", String(256), nullable=False),
    Column("disk_type", String(32), nullable=False),
    Column("disk_size", BigInteger, nullable=False),
    Column("disk_usage", String(16), nullable=False),
    # PROVISIONING is internal: a disk being created is not listed (cbs-behavior §5.1).
    Column("disk_state", String(16), nullable=False),
    Column("charge_type", String(32), nullable=False),
    Column("portable", Boolean, nullable=False),
    Column("shareable", Boolean, nullable=False),
    Column("encrypt", Boolean, nullable=False),
    Column("encrypt_type", String(16), nullable=False, default=""),
    Column("kms_key_id", String(128), nullable=False, default=""),
    Column("instance_id", String(32), nullable=False, default=""),
    Column("instance_type", String(8), nullable=False, default=""),
    Column("last_attach_ins_id", String(32), nullable=True),
    Column("attach_mode", String(8), nullable=False, default=""),
    Column("delete_with_instance", Boolean, nullable=False, default=False),
    Column("delete_snapshot", Integer, nullable=False, default=0),
    Column("renew_flag", String(40), nullable=False, default=""),
    Column("deadline_at", Float, nullable=True),
    Column("throughput_performance", BigInteger, nullable=False, default=0),
    Column("burst_performance", Boolean, nullable=False, default=False),
    Column("disk_backup_quota", BigInteger, nullable=False, default=0),
    Column("snapshot_ability", Boolean, nullable=False, default=True),
    Column("source_snapshot_id", String(32), nullable=True),
    Column("error_prompt", Text, nullable=False, default=""),
    # The disk's tags as the API shows them (a JSON list of {"Key", "Value"}), so that listing
    # disks needs no second query; disk_tags holds the same pairs for filtering. Both are written
    # together, by cbs.disks only.
    Column("tags", Text, nullable=False, default="[]"),
    Column("created_at", Float, nullable=False),
    # The instances the disk is attached to, as the API lists them (InstanceIdList, a JSON list);
    # disk_attachments holds the same pairs for filtering and counting. Written by cbs.attachments.
    Column("instance_ids", Text, nullable=False, default="[]"),
    # The recycle bin: why a disk is TORECYCLE (RETURNED, EXPIRED), and what limits its refund.
    Column("recycle_reason", String(16), nullable=False, default=""),
    Column("refunded_before", Boolean, nullable=False, default=False),
    Column("returnable", Boolean, nullable=False, default=True),
    # A disk-type change in progress: the target type and the window its percentage runs over.
    Column("migrate_to", String(32), nullable=True),
    Column("op_started_at", Float, nullable=True),
    Column("op_due_at", Float, nullable=True),
    # Snapshots (cbs.snapshots keeps these with the snapshots it makes and deletes): how many the
    # disk has, and the MiB of the finished ones; whether it was ever rolled back.
    Column("snapshot_count", Integer, nullable=False, default=0),
    Column("snapshot_size", BigInteger, nullable=False, default=0),
    Column("rolled_back", Boolean, nullable=False, default=False),
    # A prepaid disk's money (cbs/prepaid.py): the fen paid for its current term (purchase and
    # renewals since it was bought or recovered), when that term began, and the months an
    # automatic renewal buys.
    Column("paid_fen", BigInteger, nullable=False, default=0, server_default="0"),
    Column("term_started_at", Float, nullable=True),
    Column("auto_renew_period", Integer, nullable=False, default=1, server_default="1"),
    # Its latest order (purchase, renewal, upgrade, refund) settles at this time: another before
    # then is TradeDealConflict ([billing] order_settle_seconds; NULL: none pending).
    Column("order_pending_until", Float, nullable=True),
    # A postpaid disk's time is billed from here when its rate last changed (billing/usage.py);
    # NULL: from its creation.
    Column("billed_from", Float, nullable=True),
    row_version(),
    Index("ix_disks_scope_created", "account_id", "region", "created_at", "seq"),
    Index("ix_disks_scope_zone", "account_id", "region", "zone", "created_at", "seq"),
    Index("ix_disks_scope_state", "account_id", "region", "disk_state", "created_at", "seq"),
    Index("ix_disks_scope_type", "account_id", "region", "disk_type", "created_at", "seq"),
    Index("ix_disks_scope_name", "account_id", "region", "disk_name"),
    Index("ix_disks_scope_instance", "account_id", "region", "instance_id"),
    Index("ix_disks_scope_deadline", "account_id", "region", "deadline_at", "seq"),
)

instances = Table(
    "instances", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", String(32), nullable=False, unique=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("project_id", BigInteger, nullable=False, default=0),
    Column("instance_name", String(256), nullable=False),
    Column("instance_type", String(64), nullable=False),
    Column("cpu", Integer, nullable=False),
    Column("memory", Integer, nullable=False),
    Column("image_id", String(32), nullable=False),
    Column("os_name", String(128), nullable=False),
    Column("charge_type", String(32), nullable=False),
    Column("renew_flag", String(40), nullable=False, default=""),
    Column("instance_state", String(32), nullable=False),
    Column("restrict_state", String(16), nullable=False, default="NORMAL"),
    Column("private_ip", String(64), nullable=False),
    Column("public_ip", String(64), nullable=True),
    Column("internet_charge_type", String(32), nullable=False, default=""),
    Column("bandwidth_out", Integer, nullable=False, default=0),
    Column("host_name", String(128), nullable=False),
    Column("uuid", String(64), nullable=False),
    Column("security_group_ids", Text, nullable=False, default="[]"),
    Column("tags", Text, nullable=False, default="[]"),
    Column("max_attach_count", Integer, nullable=False, default=20),
    # Emulator flags (cbs-behavior.md §8.1), changed through the control plane.
    Column("supports_cbs", Boolean, nullable=False, default=True),
    Column("online_resize", Boolean, nullable=False, default=True),
    Column("vpc_id", String(32), nullable=False),
    Column("subnet_id", String(32), nullable=False),
    Column("stop_charging_mode", String(32), nullable=False, default="NOT_APPLICABLE"),
    Column("disable_api_termination", Boolean, nullable=False, default=False),
    Column("latest_operation", String(64), nullable=True),
    Column("latest_operation_state", String(16), nullable=True),
    Column("latest_operation_request_id", String(64), nullable=True),
    Column("expired_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_instances_scope_created", "account_id", "region", "created_at", "seq"),
    Index("ix_instances_scope_state", "account_id", "region", "instance_state"),
    Index("ix_instances_scope_name", "account_id", "region", "instance_name"),
)

# Which disk is attached (or attaching) to which instance: one row per pair, several for a
# shareable disk. The system disk has its row too; `disk_usage` lets counts leave it out.
disk_attachments = Table(
    "disk_attachments", metadata,
    Column("disk_id", String(32), ForeignKey("disks.disk_id", ondelete="CASCADE"),
           primary_key=True),
    Column("instance_id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("disk_usage", String(16), nullable=False),
    Column("attached_at", Float, nullable=True),  # NULL while the attach is in progress
    Index("ix_disk_attachments_scope_instance", "account_id", "region", "instance_id"),
)

# How many disks there are of each combination of the low-cardinality attributes, kept by
# database triggers (store/census.py) so that DescribeDisks' TotalCount costs the same at 100,000
# disks as at 10: a SUM over a few rows instead of a COUNT over every matching disk.
CENSUS_COLUMNS = ("zone", "disk_type", "disk_state", "disk_usage", "charge_type", "portable",
                  "project_id")
disk_census = Table(
    "disk_census", metadata,
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    *(Column(name, disks.c[name].type, nullable=False) for name in CENSUS_COLUMNS),
    Column("n", BigInteger, nullable=False),
    UniqueConstraint("account_id", "region", *CENSUS_COLUMNS, name="uq_disk_census_key"),
)

disk_tags = Table(
    "disk_tags", metadata,
    Column("disk_id", String(32), ForeignKey("disks.disk_id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("tag_key", String(255), nullable=False),
    Column("tag_value", String(255), nullable=False),
    # The disk's creation time and seq, copied by a trigger (store/census.py) when the tag is
    # written: a `tag:<key>` filter walks the disks that carry the pair in creation order, from
    # the index below (which holds all a page needs of the tag), however few disks carry it.
    Column("created_at", Float, nullable=False, server_default="0", info=DERIVED),
    Column("disk_seq", Integer, nullable=False, server_default="0", info=DERIVED),
    UniqueConstraint("disk_id", "tag_key", name="uq_disk_tags_disk_key"),
    Index("ix_disk_tags_scope_key_value", "account_id", "region", "tag_key", "tag_value",
          "created_at", "disk_seq", "disk_id"),
    Index("ix_disk_tags_scope_value", "account_id", "region", "tag_value"),
)

# Disks per (tag key, tag value, state), kept by triggers like disk_census: the count of a
# `tag:<key>` filter.
disk_tag_census = Table(
    "disk_tag_census", metadata,
    *(Column(name, disk_tags.c[name].type, nullable=False)
      for name in ("account_id", "region", "tag_key", "tag_value")),
    Column("disk_state", disks.c.disk_state.type, nullable=False),
    Column("n", BigInteger, nullable=False),
    UniqueConstraint("account_id", "region", "tag_key", "tag_value", "disk_state",
                     name="uq_disk_tag_census_key"),
)

# Idempotency: the first answer given to a ClientToken is the answer for every retry.
client_tokens = Table(
    "client_tokens", metadata,
    Column("account_id", String(32), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("token", String(64), primary_key=True),
    Column("result", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# "Later" is data: an asynchronous move, applied once its due time has come on the clock.
transitions = Table(
    "transitions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("resource_id", String(32), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("due_at", Float, nullable=False),
    Column("payload", Text, nullable=False, default="{}"),
    Index("ix_transitions_due", "due_at", "id"),
    Index("ix_transitions_resource", "resource_id"),
)

# The emulator's clock (one row): now = anchor_virtual + (wall - anchor_wall) * rate.
# `generation` counts the changes of what every process serving the database must agree on (the
# clock, the configuration, the timing, the fault rules): a process that sees it move re-reads
# them (store/shared.py).
clock = Table(
    "clock", metadata,
    Column("id", Integer, primary_key=True),
    Column("anchor_wall", Float, nullable=False),
    Column("anchor_virtual", Float, nullable=False),
    Column("rate", Float, nullable=False),
    Column("generation", BigInteger, nullable=False, server_default="0"),
)

# Named settings shared by every process of one emulator (a JSON value each): the configuration
# and timing in force and those a reset goes back to, the hash of the control plane's token.
shared_settings = Table(
    "shared_settings", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Request rates counted across processes (router/throttle.py): the wall times of the admitted calls
# of the last second (a JSON list), per account, action and region, and whether the latest call
# was admitted (what the one statement that counts a call answers).
request_rates = Table(
    "request_rates", metadata,
    Column("account_id", String(32), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("region", String(64), primary_key=True),
    Column("recent", Text, nullable=False),
    Column("admitted", Boolean, nullable=False),
)


# Fault injection (the control plane): a rule answers matching API calls with an error code, a
# delay, or a closed connection, before anything changes. Empty matchers match anything.
fault_rules = Table(
    "fault_rules", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(16), nullable=True),
    Column("action", String(64), nullable=True),
    Column("account_id", String(32), nullable=True),
    Column("region", String(64), nullable=True),
    Column("code", String(128), nullable=True),
    Column("message", Text, nullable=True),
    Column("latency", Float, nullable=True),
    Column("close", Boolean, nullable=False, default=False),
    Column("remaining", Integer, nullable=True),  # NULL: no limit
    Column("probability", Float, nullable=True),  # NULL: always
    Column("seed", BigInteger, nullable=True),
    Column("fired", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)

fault_firings = Table(
    "fault_firings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("service", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("effect", String(160), nullable=False),
)


# Snapshots (cbs-behavior.md §4.2). A copy from another region has disk_id "".
snapshots = Table(
    "snapshots", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("snapshot_id", String(32), nullable=False, unique=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("zone", String(64), nullable=False),
    Column("project_id", BigInteger, nullable=False, default=0),
    Column("snapshot_name", String(256), nullable=False),
    Column("snapshot_state", String(24), nullable=False),
    Column("disk_id", String(32), nullable=False),
    Column("disk_size", BigInteger, nullable=False),
    Column("disk_usage", String(16), nullable=False),
    Column("encrypt", Boolean, nullable=False, default=False),
    Column("snapshot_mode", String(24), nullable=False),
    Column("copy_from_remote", Boolean, nullable=False, default=False),
    Column("copying_to_regions", Text, nullable=False, default="[]"),  # JSON, as the API shows it
    Column("share_reference", Integer, nullable=False, default=0),
    Column("time_start_share", Float, nullable=True),
    # Custom images built on it, as the API shows them (JSON list of {ImageId, ImageName});
    # image_snapshots holds the same pairs for lookups. Both written by cvm.images.
    Column("images", Text, nullable=False, default="[]"),
    Column("tags", Text, nullable=False, default="[]"),
    Column("auto_snapshot_policy_id", String(32), nullable=True),
    Column("deadline_at", Float, nullable=True),  # NULL: permanent
    # The window of the operation in progress (creation, copy, rollback): Percent runs over it.
    Column("op_started_at", Float, nullable=True),
    Column("op_due_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    row_version(),
    Index("ix_snapshots_scope_created", "account_id", "region", "created_at", "seq"),
    Index("ix_snapshots_scope_disk", "account_id", "region", "disk_id", "created_at", "seq"),
    Index("ix_snapshots_scope_state", "account_id", "region", "snapshot_state", "created_at", "seq"),
    Index("ix_snapshots_scope_name", "account_id", "region", "snapshot_name"),
    Index("ix_snapshots_state", "snapshot_state"),
)

# Snapshots per combination of their low-cardinality attributes, kept by triggers like
# disk_census: DescribeSnapshots' TotalCount at 100,000 snapshots is a SUM over a few rows.
SNAPSHOT_CENSUS_COLUMNS = ("zone", "snapshot_state", "disk_usage", "encrypt", "project_id")
snapshot_census = Table(
    "snapshot_census", metadata,
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    *(Column(name, snapshots.c[name].type, nullable=False) for name in SNAPSHOT_CENSUS_COLUMNS),
    Column("n", BigInteger, nullable=False),
    UniqueConstraint("account_id", "region", *SNAPSHOT_CENSUS_COLUMNS,
                     name="uq_snapshot_census_key"),
)

# Which snapshot is shared with which other account (ModifySnapshotsSharePermission).
snapshot_shares = Table(
    "snapshot_shares", metadata,
    Column("snapshot_id", String(32), ForeignKey("snapshots.snapshot_id", ondelete="CASCADE"),
           primary_key=True),
    Column("shared_with", String(32), primary_key=True),  # the receiving account
    Column("account_id", String(32), nullable=False),  # the owner
    Column("region", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_snapshot_shares_receiver", "shared_with", "region"),
)

# Custom images (the CVM image calls a user makes on snapshots).
images = Table(
    "images", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("image_id", String(32), nullable=False, unique=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("image_name", String(256), nullable=False),
    Column("image_description", String(256), nullable=False, default=""),
    Column("image_state", String(24), nullable=False),
    Column("os_name", String(128), nullable=False),
    Column("platform", String(64), nullable=False),
    Column("architecture", String(16), nullable=False),
    Column("image_size", BigInteger, nullable=False),
    Column("source_instance_id", String(32), nullable=True),
    Column("tags", Text, nullable=False, default="[]"),
    Column("created_at", Float, nullable=False),
    Index("ix_images_scope_created", "account_id", "region", "created_at", "seq"),
)

image_snapshots = Table(
    "image_snapshots", metadata,
    Column("image_id", String(32), ForeignKey("images.image_id", ondelete="CASCADE"),
           primary_key=True),
    Column("snapshot_id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Index("ix_image_snapshots_snapshot", "snapshot_id"),
)

# Automatic snapshot policies (cbs-behavior.md §4.3, §5.3). `schedule` is the Policy list as
# the API shows it; the engine fires the policy at next_trigger_at.
auto_snapshot_policies = Table(
    "auto_snapshot_policies", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("policy_id", String(32), nullable=False, unique=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("policy_name", String(256), nullable=False),
    Column("policy_state", String(16), nullable=False),
    Column("is_activated", Boolean, nullable=False),
    Column("is_permanent", Boolean, nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("schedule", Text, nullable=False),
    # IntervalDays count from this moment (creation, or the last change of the schedule).
    Column("anchor_at", Float, nullable=False),
    Column("next_trigger_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Index("ix_auto_snapshot_policies_scope_created", "account_id", "region", "created_at", "seq"),
)

policy_disks = Table(
    "policy_disks", metadata,
    Column("policy_id", String(32),
           ForeignKey("auto_snapshot_policies.policy_id", ondelete="CASCADE"), primary_key=True),
    Column("disk_id", String(32), ForeignKey("disks.disk_id", ondelete="CASCADE"),
           primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("bound_at", Float, nullable=False),
    Index("ix_policy_disks_disk", "disk_id"),
)
