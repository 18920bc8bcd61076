"""The `relay` command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relay.auth import passwords
from relay.config import Config, config_path, load
from relay.errors import ConfigError, StartupError, StoreUnavailable, UsageError
from relay.marketplace import buyers, conversations, review_request, sellers
from relay.ops import logs
from relay.store.backup import backup
from relay.store.checkpoints import Checkpointer
from relay.store.db import Store
from relay.store.startup import connect, load_secret, open_store, prepare

if TYPE_CHECKING:
    from relay.pipeline.parcel import Outcome

Command = Callable[[Config, argparse.Namespace], Awaitable[int]]


@asynccontextmanager
async def _store(cfg: Config, make_key: bool = True) -> AsyncIterator[Store]:
    """The store, migrated, closed again when the command is done: with a checkpoint when
    the command added to the chain (the relay may not be running to write one)."""
    store = await open_store(cfg.store, make_key)
    try:
        marks = Checkpointer(store, cfg.store.log_path, 1, 1.0)
        await marks.prime()
        yield store
        await marks.write()
    finally:
        await store.close()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _conversation_json(conv: conversations.Conversation, count: int | None = None) -> dict:
    out: dict[str, Any] = {
        "conversation_id": conv.id, "order_id": conv.order_id,
        "buyer_alias": conv.buyer_alias, "seller_alias": conv.seller_alias,
        "buyers": list(conv.buyers), "sellers": list(conv.sellers),
        "created_at": conv.created_at, "closed_at": conv.closed_at,
    }
    if count is not None:
        out["message_count"] = count
    return out


async def cmd_serve(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import templates
    from relay.server import serve

    templates.load_all(cfg.template_dir)  # its problems now, not at the first send
    await serve(cfg, config_path(args.config, os.environ))
    return 0


async def cmd_init(cfg: Config, args: argparse.Namespace) -> int:
    """A starter config: every setting with its default and a comment, from the package."""
    from importlib import resources

    target = Path(args.path)
    starter = (resources.files("relay") / "relay.example.toml").read_text(encoding="utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as out:  # never over a config in use
            out.write(starter)
    except FileExistsError:
        raise UsageError(f"{target} exists; not overwritten") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}: set domain and auth.inbound, then: relay --config {target}"
          " check-config")
    return 0


async def cmd_reload(cfg: Config, args: argparse.Namespace) -> int:
    """SIGHUP to the relay serving this config, found by its pid file."""
    import signal

    try:
        pid = int(cfg.pid_path.read_text(encoding="ascii"))
        os.kill(pid, signal.SIGHUP)
    except FileNotFoundError:
        print(f"relay: no relay is serving with this config (no {cfg.pid_path})",
              file=sys.stderr)
        return 1
    except ValueError:
        print(f"relay: {cfg.pid_path} holds no process ID", file=sys.stderr)
        return 1
    except ProcessLookupError:
        print(f"relay: no process {pid} (a stale {cfg.pid_path}: the relay did not stop"
              " cleanly)", file=sys.stderr)
        return 1
    except PermissionError:
        print(f"relay: process {pid} belongs to another user; run this as the relay's user",
              file=sys.stderr)
        return 1
    print(f"SIGHUP sent to the relay (pid {pid}); its log says what it applied")
    return 0


async def cmd_check_config(cfg: Config, args: argparse.Namespace) -> int:
    """Reached only when the file loaded: main() prints the problems of one that did not.
    Here, what else the relay reads at start or at a send: the templates."""
    from relay.marketplace import templates

    try:
        found = templates.load_all(cfg.template_dir)
    except ConfigError as exc:
        return _print_problems(exc)
    from relay.auth.exposure import unauthenticated_inbound

    risk = unauthenticated_inbound(cfg)
    if risk is not None:  # allowed (to try the relay out), but never silently
        print(f"WARNING: {risk}", file=sys.stderr)
    tokens = len(cfg.api.tokens)
    source = config_path(args.config, os.environ) or "built-in defaults"
    print(f"ok: {source} (domain {cfg.domain}, SMTP"
          f" {cfg.smtp.host}:{cfg.smtp.port}, API {cfg.api.host}:{cfg.api.port}"
          f" with {tokens} token{'' if tokens == 1 else 's'}, {len(found)} templates)")
    return 0


async def cmd_api_token(cfg: Config, args: argparse.Namespace) -> int:
    from relay.api import tokens

    scope = args.scope
    if scope == "seller":
        if not args.email:
            raise UsageError("a seller token needs the seller's address: relay api token"
                             " seller EMAIL")
        scope = f"seller:{conversations.normalize_address(args.email, cfg.domain)}"
    elif args.email:
        raise UsageError(f"an {scope} token is not for one seller; leave out {args.email!r}")
    token = tokens.new_token()
    print(f"token (shown once; give it to the client): {token}")
    print("add this to [api] tokens in the config, then SIGHUP or restart the relay:")
    print(f'  "{tokens.entry(scope, token)}"')
    return 0


async def cmd_migrate(cfg: Config, args: argparse.Namespace) -> int:
    store = await connect(cfg.store, await load_secret(cfg.store))
    try:
        applied = await prepare(store, cfg.store)
    finally:
        await store.close()
    print(f"applied: {', '.join(applied)}" if applied else "store is up to date")
    return 0


async def cmd_conv_open(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        conv, created = await conversations.open_conversation(
            store, cfg.domain, args.order, args.buyer, args.seller
        )
        if args.delivered_at is not None:
            review_request.not_in_future(args.delivered_at)
            await review_request.set_delivered(store, conv, args.delivered_at)
    if args.json:
        _print_json({**_conversation_json(conv), "created": created})
    else:
        state = "created" if created else "existing"
        if conv.closed_at:
            state += f", CLOSED at {conv.closed_at}: its aliases refuse mail"
        print(f"conversation {conv.id} ({state})")
        print(f"  order         {conv.order_id}")
        print(f"  buyer alias   {conv.buyer_alias}   (the seller writes here)")
        print(f"  seller alias  {conv.seller_alias}   (the buyer writes here)")
    return 0


async def cmd_conv_list(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        found = await conversations.list_all(store, cfg.domain)
        counts = [await conversations.message_count(store, c.id) for c in found]
    if args.json:
        _print_json([_conversation_json(c, n) for c, n in zip(found, counts, strict=True)])
        return 0
    if not found:
        print("no conversations")
    for conv, count in zip(found, counts, strict=True):
        state = " closed" if conv.closed_at else ""
        print(f"{conv.id}  order {conv.order_id}  {count} messages{state}")
    return 0


async def cmd_conv_show(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        conv = await conversations.get(store, cfg.domain, args.id)
        count = await conversations.message_count(store, conv.id)
    if args.json:
        _print_json(_conversation_json(conv, count))
        return 0
    print(f"conversation  {conv.id}")
    print(f"order         {conv.order_id}")
    print(f"created       {conv.created_at}")
    if conv.closed_at:
        print(f"closed        {conv.closed_at}")
    print(f"buyer alias   {conv.buyer_alias}")
    print(f"seller alias  {conv.seller_alias}")
    print(f"buyer         {', '.join(conv.buyers)}")
    print(f"sellers       {', '.join(conv.sellers)}   (the first receives mail)")
    print(f"messages      {count}")
    return 0


async def cmd_conv_close(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        conv = await conversations.close(store, cfg.domain, args.id)
    print(f"conversation {conv.id} closed at {conv.closed_at}; its aliases refuse mail")
    return 0


async def cmd_messages_list(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import message_center

    if args.sent and (args.received or args.needs_response):
        raise UsageError("--sent lists the seller's messages; it cannot go with --received"
                         " or --needs-response")
    filters = message_center.Filters(
        seller=args.seller, conversation=args.conversation, unread=args.unread, sent=args.sent,
        received=args.received, needs_response=args.needs_response,
        business_buyers=args.business_buyers,
        since=args.since.isoformat() if args.since else None,
        until=(args.until + timedelta(days=1)).isoformat() if args.until else None)
    async with _store(cfg) as store:
        rows = await message_center.query(store, filters)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no messages")
        return 0
    print(f"{'received at':<32}  {'message id':<16}  {'conversation':<13}  {'direction':<15}"
          f"  {'disposition':<18}  {'delivery':<9}  reasons")
    for row in rows:
        reasons = ",".join(row["reasons"]) or "-"
        print(f"{row['received_at']}  {row['id']}  {row['conversation_id']}  {row['direction']:<15}"
              f"  {row['disposition']:<18}  {row['delivery'] or '-':<9}  {reasons}")
    return 0


async def cmd_messages_mark(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import message_center

    async with _store(cfg) as store:
        await message_center.mark(store, args.id, args.mark.replace("-", "_"))
    print(f"message {args.id} marked {args.mark}")
    return 0


async def cmd_metrics_response_time(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import response_time

    now = args.now or datetime.now(UTC)
    conversations.normalize_address(args.seller, cfg.domain)  # a bad address: exit 2
    async with _store(cfg) as store:
        windows = await response_time.response_time(store, args.seller, now)
    if args.json:
        _print_json({"seller": args.seller, "as_of": now.isoformat(),
                     "windows": [w.as_dict() for w in windows]})
        return 0

    def hours(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} h"

    print(f"response time of {args.seller}, as of {now.isoformat(timespec='seconds')}")
    print(f"{'window':>8}  {'received':>8}  {'in 24 h':>7}  {'late':>4}  {'unanswered':>10}"
          f"  {'late rate':>9}  {'average':>8}  {'median':>8}")
    for w in windows:
        rate = "-" if w.late_rate is None else f"{w.late_rate:.0%}"
        print(f"{w.days:>6} d  {w.received:>8}  {w.answered_within_24h:>7}  {w.late:>4}"
              f"  {w.unanswered:>10}  {rate:>9}  {hours(w.average_hours):>8}"
              f"  {hours(w.median_hours):>8}")
    return 0


def _time_arg(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected an ISO time, 2026-11-26T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def cmd_audit_verify(cfg: Config, args: argparse.Namespace) -> int:
    from relay.store.audit import audit

    # No new key for a store chained with one: it would call every entry forged.
    async with _store(cfg, make_key=False) as store:
        at_seq = int(args.anchor.partition(":")[0]) if args.anchor else None
        found = await audit(store, cfg.store.log_path, at_seq)
    problems = list(found.problems)
    if args.anchor and found.records.anchor_at != args.anchor:
        last = int(found.records.anchor.partition(":")[0])
        why = (f"it is past the end of this store (last record {last})" if at_seq > last
               else "records up to it were removed or replaced")
        print(f"BROKEN: the store no longer matches anchor {args.anchor} ({why})")
        for more in problems:
            print(f"also broken: {more}")
        return 1
    if not problems:
        print(f"ok: {found.records.count} records, every conversation chain holds")
        print(f"anchor: {found.records.anchor}")
        entries = found.chain.entries
        if found.checkpoint is None:
            print(f"chain: {entries} entries over every append-only table hold; no checkpoint"
                  f" in {cfg.store.log_path} yet (nothing shows the newest were not cut off)")
        else:
            print(f"chain: {entries} entries over every append-only table hold; the latest"
                  f" checkpoint (entry {found.checkpoint.seq}, {found.checkpoint.at}) matches")
        return 0
    print(f"BROKEN: {problems[0]}")
    for more in problems[1:]:
        print(f"also broken: {more}")
    return 1


async def cmd_backup(cfg: Config, args: argparse.Namespace) -> int:
    target = Path(args.path)
    async with _store(cfg) as store:
        count = await backup(store, target)
    print(f"backed up {count} records to {target} (integrity ok, every chain holds)")
    return 0


async def cmd_store_copy(cfg: Config, args: argparse.Namespace) -> int:
    from relay.config import redact_url, url_problem
    from relay.store.copy import copy, summary
    from relay.store.pg import PgStore

    if cfg.store.url:
        raise UsageError("store.url is set: `relay store copy` copies the SQLite store at"
                         " store.path; run it with the config of the SQLite relay")
    if problem := url_problem(args.to):
        raise UsageError(f"--to: {problem}")
    async with _store(cfg, make_key=False) as source:
        target = await PgStore.connect(args.to, 2, cfg.store.busy_timeout, source.secret)
        try:
            copied = await copy(source, target, cfg.store.log_path)
        finally:
            await target.close()
    if not copied.findings.ok:
        problems = copied.findings.problems
        print(f"BROKEN: the copy in {redact_url(args.to)} does not verify: {problems[0]}")
        for more in problems[1:]:
            print(f"also broken: {more}")
        return 1
    print(f"copied {summary(copied)} to {redact_url(args.to)}; every chain verifies. Point"
          " the relay at it: store.url (the same store.chain_key and checkpoint log)")
    return 0


async def cmd_buyers_optout(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        address = await buyers.set_optout(store, args.email, cfg.domain, args.state == "on")
    if args.state == "on":
        print(f"{address} opted out: seller messages need [Important] or must answer the buyer")
    else:
        print(f"{address} opted back in to seller messages")
    return 0


async def cmd_buyers_show(cfg: Config, args: argparse.Namespace) -> int:
    async with _store(cfg) as store:
        address = conversations.normalize_address(args.email, cfg.domain)
        opted = await buyers.opted_out(store, address)
        events = await buyers.history(store, address)
    if args.json:
        _print_json({"address": address, "opted_out": opted,
                     "events": [e.__dict__ for e in events]})
        return 0
    print(f"buyer     {address}\nopted out {'yes' if opted else 'no'}")
    for event in events:
        print(f"  {event.at}  {event.kind} {event.value}")
    return 0


async def cmd_sellers_settings(cfg: Config, args: argparse.Namespace) -> int:
    notify = None if args.notify is None else args.notify == "on"
    async with _store(cfg) as store:
        settings = await sellers.update(store, args.email, cfg.domain, notify,
                                        args.notify_address)
    if args.json:
        _print_json({"seller": args.email, "notify": settings.notify,
                     "notify_address": settings.notify_address})
        return 0
    where = settings.notify_address or "the seller's first registered address"
    print(f"seller          {args.email}\nbuyer messages  "
          f"{'e-mailed to ' + where if settings.notify else 'recorded, not e-mailed'}")
    return 0


def _read_password() -> str:
    """Prompted twice on a terminal; otherwise the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass("new password: ")
        if getpass.getpass("again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def cmd_sellers_password(cfg: Config, args: argparse.Namespace) -> int:
    password = _read_password()
    async with _store(cfg) as store:
        address = await passwords.set_password(store, args.email, cfg.domain, password)
    print(f"password set for {address}: it may now AUTH on the submission port")
    return 0


async def cmd_buyers_set(cfg: Config, args: argparse.Namespace) -> int:
    if args.locale is None and args.business is None:
        raise UsageError("nothing to set: give --locale and/or --business")
    async with _store(cfg) as store:
        if args.locale is not None:
            await buyers.record(store, args.email, cfg.domain, "locale", args.locale)
        if args.business is not None:
            await buyers.record(store, args.email, cfg.domain, "business", args.business)
    print(f"{args.email}: " + ", ".join(
        f"{k} {v}" for k, v in (("locale", args.locale), ("business", args.business)) if v))
    return 0


async def cmd_conv_delivered(cfg: Config, args: argparse.Namespace) -> int:
    review_request.not_in_future(args.date)
    async with _store(cfg) as store:
        conv = await conversations.get(store, cfg.domain, args.id)
        await review_request.set_delivered(store, conv, args.date)
    print(f"conversation {conv.id}: order delivered on {args.date}")
    return 0


def _refused_or_sent(outcome: Outcome) -> int:
    if outcome.disposition.accepted:
        print(f"sent: {outcome.reply}")
        return 0
    print(f"refused: {outcome.reply}", file=sys.stderr)
    return 1


async def cmd_send(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import compose, templates

    values: dict[str, str] = {}
    for item in args.var or []:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"--var {item!r}: expected key=value")
        values[key] = value
    try:
        template = templates.load_all(cfg.template_dir)[args.template]
    except KeyError:
        raise UsageError(f"no template {args.template!r} in {cfg.template_dir}") from None
    if args.attach and not template.attachments:
        raise UsageError(f"template {template.id} does not allow attachments")
    async with _store(cfg) as store:
        conv = await conversations.get(store, cfg.domain, args.conversation)
        files = compose.read_files([Path(p) for p in args.attach or []])
        sender, raw = await compose.template_message(store, conv, template, values, files)
        outcome = await compose.submit(cfg, store, conv, sender, raw)
    return _refused_or_sent(outcome)


async def cmd_review_request(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import compose

    async with _store(cfg) as store:
        conv = await conversations.get(store, cfg.domain, args.conversation)
        await review_request.check(store, conv)
        sender, raw = compose.review_request_message(conv)
        outcome = await compose.submit(cfg, store, conv, sender, raw, kind="review_request")
    return _refused_or_sent(outcome)


async def cmd_templates_list(cfg: Config, args: argparse.Namespace) -> int:
    from relay.marketplace import templates

    found = templates.load_all(cfg.template_dir)
    for t in found.values():
        extra = [("critical" if t.critical else ""), ("attachments" if t.attachments else "")]
        print(f"{t.id:24} {','.join(sorted(t.texts)):16} vars: {', '.join(t.variables) or '-'}"
              f"  {' '.join(e for e in extra if e)}")
    return 0


async def cmd_dkim_keygen(cfg: Config, args: argparse.Namespace) -> int:
    from relay.delivery import dkim_sign

    path = cfg.dkim.ed25519_key if args.ed25519 else cfg.dkim.key
    if path.exists() and not args.force:
        raise UsageError(f"{path} exists; --force replaces it (publish the new record first)")
    if path.exists():
        path.unlink()
    try:
        pem = dkim_sign.generate(path, kind="ed25519" if args.ed25519 else "rsa")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    selector = cfg.dkim.ed25519_selector if args.ed25519 else cfg.dkim.selector
    _print_record(cfg, path, selector, dkim_sign.dns_record(pem))
    return 0


async def cmd_dkim_record(cfg: Config, args: argparse.Namespace) -> int:
    from relay.delivery import dkim_sign

    keys = [(cfg.dkim.key, cfg.dkim.selector, "")]
    if cfg.dkim.ed25519:
        keys.append((cfg.dkim.ed25519_key, cfg.dkim.ed25519_selector, " --ed25519"))
    for path, selector, flag in keys:
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"no DKIM key at {path} ({exc.strerror or exc}):"
                             f" `relay dkim keygen{flag}` makes one") from None
        _print_record(cfg, path, selector, dkim_sign.dns_record(pem))
    return 0


def _print_record(cfg: Config, path: Path, selector: str, value: str) -> None:
    print(f"publish this TXT record (key {path}):")
    print(f"{selector}._domainkey.{cfg.domain}. IN TXT \"{value}\"")




def _date_arg(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a date, YYYY-MM-DD") from None


def _anchor_arg(value: str) -> str:
    seq, _, digest = value.partition(":")
    if not (seq.isdigit() and len(digest) == 64):
        raise argparse.ArgumentTypeError("expected SEQ:SHA256 as printed by `audit verify`")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="relay", description="Anonymizing buyer-seller mail relay")
    p.add_argument(
        "--config", help="TOML config file (default: $RELAY_CONFIG or config/relay.toml)"
    )
    # --config also after the subcommand: `relay conversations list --config x.toml`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def command(group: Any, name: str, text: str, func: Command | None = None) -> Any:
        cmd = group.add_parser(name, parents=[common], help=text)
        if func is not None:
            cmd.set_defaults(func=func)
        return cmd

    sub = p.add_subparsers(dest="command", required=True)
    command(sub, "serve", "run the SMTP relay and delivery worker", cmd_serve)
    command(sub, "migrate", "apply pending store migrations", cmd_migrate)
    command(sub, "init", "write a starter config file (every setting, commented)",
            cmd_init).add_argument("path", nargs="?", default="relay.toml")
    command(sub, "reload", "make the running relay read its config and templates again"
            " (SIGHUP)", cmd_reload)
    command(sub, "check-config", "check the config file and templates; print every problem",
            cmd_check_config)
    api = command(sub, "api", "HTTP API tokens")
    api_sub = api.add_subparsers(dest="action", required=True)
    token = command(api_sub, "token", "make a bearer token and print its config entry",
                    cmd_api_token)
    token.add_argument("scope", choices=("admin", "seller", "metrics"))
    token.add_argument("email", nargs="?", help="the seller's address (scope seller)")
    command(sub, "backup", "copy the store to a new file while the relay runs, and check the"
            " copy", cmd_backup).add_argument("path")
    store_cmd = command(sub, "store", "move the store")
    store_sub = store_cmd.add_subparsers(dest="action", required=True)
    command(store_sub, "copy", "copy the SQLite store to an empty PostgreSQL database and"
            " verify every chain there", cmd_store_copy).add_argument(
                "--to", required=True, metavar="URL", help="postgresql://user@host:port/db")

    conv = command(sub, "conversations", "open, list and show conversations")
    conv_sub = conv.add_subparsers(dest="action", required=True)
    op = command(conv_sub, "open", "open (or find) the conversation of an order", cmd_conv_open)
    op.add_argument("--order", required=True, help="order ID, 123-1234567-1234567")
    op.add_argument("--buyer", required=True, help="the buyer's real address")
    op.add_argument("--seller", required=True, action="append",
                    help="a seller address; repeat for more; the first receives mail")
    op.add_argument("--delivered-at", type=_date_arg, metavar="DATE",
                    help="the order's delivery date (the review-request window counts from it)")
    op.add_argument("--json", action="store_true")
    dl = command(conv_sub, "delivered", "record the order's delivery date", cmd_conv_delivered)
    dl.add_argument("id")
    dl.add_argument("date", type=_date_arg, help="YYYY-MM-DD")
    ls = command(conv_sub, "list", "every conversation", cmd_conv_list)
    ls.add_argument("--json", action="store_true")
    show = command(conv_sub, "show", "one conversation: aliases, parties, message count",
                   cmd_conv_show)
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    close = command(conv_sub, "close", "close a conversation; its aliases refuse mail",
                    cmd_conv_close)
    close.add_argument("id")

    msgs = command(sub, "messages", "the message record")
    msgs_sub = msgs.add_subparsers(dest="action", required=True)
    ml = command(msgs_sub, "list", "recorded messages, oldest first", cmd_messages_list)
    ml.add_argument("--conversation", help="only this conversation")
    ml.add_argument("--seller", metavar="EMAIL", help="only this seller's conversations")
    ml.add_argument("--unread", action="store_true", help="not marked read")
    ml.add_argument("--sent", action="store_true", help="the seller's messages")
    ml.add_argument("--received", action="store_true", help="the buyers' messages")
    ml.add_argument("--needs-response", action="store_true",
                    help="buyer messages with no seller reply yet, not marked no-response-needed")
    ml.add_argument("--business-buyers", action="store_true",
                    help="only conversations whose buyer is a business account")
    ml.add_argument("--since", type=_date_arg, metavar="DATE", help="received on or after")
    ml.add_argument("--until", type=_date_arg, metavar="DATE", help="received on or before")
    ml.add_argument("--json", action="store_true")
    mk = command(msgs_sub, "mark", "mark a message read or no-response-needed",
                 cmd_messages_mark)
    mk.add_argument("id")
    mk.add_argument("mark", choices=("read", "no-response-needed"))

    met = command(sub, "metrics", "seller metrics")
    met_sub = met.add_subparsers(dest="action", required=True)
    rt = command(met_sub, "response-time", "contact response time over 7, 30 and 90 days",
                 cmd_metrics_response_time)
    rt.add_argument("--seller", required=True, metavar="EMAIL")
    rt.add_argument("--now", type=_time_arg, help="compute as of this time (default: now)")
    rt.add_argument("--json", action="store_true")

    buyer = command(sub, "buyers", "buyer preferences (opt-out)")
    buyer_sub = buyer.add_subparsers(dest="action", required=True)
    bset = command(buyer_sub, "set", "a buyer's language and business-account flag",
                   cmd_buyers_set)
    bset.add_argument("email")
    bset.add_argument("--locale", help="language for templates, e.g. de-DE (fallback: en)")
    bset.add_argument("--business", choices=("on", "off"), help="a business account")
    oo = command(buyer_sub, "optout", "opt a buyer out of (on) or back into (off) non-essential"
                 " seller messages", cmd_buyers_optout)
    oo.add_argument("email")
    oo.add_argument("state", choices=("on", "off"))
    bs = command(buyer_sub, "show", "a buyer's opt-out and its history", cmd_buyers_show)
    bs.add_argument("email")
    bs.add_argument("--json", action="store_true")

    seller = command(sub, "sellers", "seller settings")
    seller_sub = seller.add_subparsers(dest="action", required=True)
    st = command(seller_sub, "settings", "show or change whether buyer messages are e-mailed,"
                 " and where", cmd_sellers_settings)
    st.add_argument("email")
    st.add_argument("--notify", choices=("on", "off"), help="e-mail buyer messages or not")
    st.add_argument("--notify-address", metavar="ADDR",
                    help="where buyer messages go (\"\" for the first registered address)")
    st.add_argument("--json", action="store_true")
    command(seller_sub, "password", "set the seller's submission-port password (prompted, or"
            " the first line of stdin)", cmd_sellers_password).add_argument("email")

    snd = command(sub, "send", "send a template to the buyer as the seller, through every rule",
                  cmd_send)
    snd.add_argument("--conversation", required=True)
    snd.add_argument("--template", required=True)
    snd.add_argument("--var", action="append", metavar="KEY=VALUE")
    snd.add_argument("--attach", action="append", metavar="FILE")
    rr = command(sub, "review-request", "send the marketplace's one review request for an order",
                 cmd_review_request)
    rr.add_argument("--conversation", required=True)
    tpl = command(sub, "templates", "message templates")
    tpl_sub = tpl.add_subparsers(dest="action", required=True)
    command(tpl_sub, "list", "the templates and their variables", cmd_templates_list)

    dk = command(sub, "dkim", "the relay's DKIM key")
    dk_sub = dk.add_subparsers(dest="action", required=True)
    kg = command(dk_sub, "keygen", "make a 2048-bit RSA key at dkim.key and print its DNS record",
                 cmd_dkim_keygen)
    kg.add_argument("--force", action="store_true", help="replace an existing key")
    kg.add_argument("--ed25519", action="store_true",
                    help="the Ed25519 key at dkim.ed25519_key instead")
    command(dk_sub, "record", "print the DNS records of the current keys", cmd_dkim_record)

    audit = command(sub, "audit", "check the tamper-evident record")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    verify = command(audit_sub, "verify", "recompute every hash chain", cmd_audit_verify)
    verify.add_argument("--anchor", type=_anchor_arg,
                        help="an anchor printed by an earlier verify: check the store holds it")
    return p


def _print_problems(exc: ConfigError) -> int:
    """`relay check-config` on a file with problems: every one, and the templates' too."""
    from relay.marketplace import templates

    found = list(exc.problems)
    if exc.config is not None:
        found += templates.problems(exc.config.template_dir)
    for problem in found:
        print(f"problem: {problem}")
    print(f"{len(found)} problem{'s' if len(found) != 1 else ''} found", file=sys.stderr)
    return 1


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (a dependency except on Windows, where it does not exist): the same asyncio API
    with less overhead per callback and per wake-up from another thread, about 0.1 ms of CPU
    less per message in the bench (docs/performance.md). Without it (an install that left it
    out) asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _encodable(text: str) -> bool:
    """Not holding bytes that were no UTF-8 (Python keeps them as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    raw_args = sys.argv[1:] if argv is None else argv
    if any(not _encodable(a) for a in raw_args):
        print("relay: arguments must be valid UTF-8 text", file=sys.stderr)
        return 2
    args = parser().parse_args(argv)
    try:
        cfg = load(config_path(args.config, os.environ))
    except ConfigError as exc:
        if args.command == "check-config":
            return _print_problems(exc)
        for problem in exc.problems:
            print(f"relay: config error: {problem}", file=sys.stderr)
        return 2
    logs.setup(cfg.log_level, cfg.log.format)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(args.func(cfg, args))
    except UsageError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:  # e.g. a template file, read only by the command using it
        for problem in exc.problems:
            print(f"relay: config error: {problem}", file=sys.stderr)
        return 2
    except OverflowError:
        print("relay: a date or time is out of range", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
