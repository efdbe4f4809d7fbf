"""`icp-mcp token ...` (mint, list, revoke opaque bearer tokens in a policy file) and `icp-mcp audit tail`."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import typer

from icp_mcp.server.cli_console import LazyConsole
from icp_mcp.surface.roles import ROLES

console = LazyConsole(stderr=True)
token_app = typer.Typer(rich_markup_mode=None, help="Mint, list and revoke bearer tokens (only their SHA-256 is stored).",
                        no_args_is_help=True)
audit_app = typer.Typer(rich_markup_mode=None, help="Read the audit trail of tool calls.", no_args_is_help=True)

POLICY_HELP = "The policy YAML file (created by `token create` when missing)."


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


@token_app.command("create")
def token_create(
    policy: str = typer.Option(..., "--policy", help=POLICY_HELP),
    subject: str = typer.Option(..., "--subject", help="Who holds the token (a person or service)."),
    role: list[str] = typer.Option(..., "--role", help=f"Role(s): {', '.join(ROLES)}."),
    territory: list[str] = typer.Option(None, "--territory", help="A territory the caller may see (repeat)."),
    all_territories: bool = typer.Option(False, "--all-territories", help="May see accounts of every territory."),
    expires_days: int = typer.Option(None, "--expires-days", min=1, max=3650, help="Expire after N days."),
) -> None:
    """Mint a random token for SUBJECT; print it once (stdout) and store only its hash in the policy."""
    from icp_mcp.server.policy import TOKEN_PREFIX, PolicyError, hash_token, read_raw, write_raw

    bad = [r for r in role if r not in ROLES]
    if bad:
        raise _fail(f"--role: unknown role(s) {bad}; allowed: {', '.join(ROLES)}")
    if territory and all_territories:
        raise _fail("--territory and --all-territories exclude each other")
    if "sales" in role and not territory and not all_territories:
        raise _fail("--territory: a sales token needs its territories (or --all-territories)")
    try:
        data = read_raw(policy, missing_ok=True)
        if any(p.get("subject") == subject and p.get("token_sha256")
               for p in data.get("principals") or [] if isinstance(p, dict)):
            raise _fail(f"--subject: {subject!r} already has a token; revoke it first")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC).replace(microsecond=0)
        entry: dict[str, object] = {"subject": subject, "roles": list(dict.fromkeys(role))}
        if territory:
            entry["territories"] = list(dict.fromkeys(territory))
        entry["token_sha256"] = hash_token(token)
        entry["created_at"] = now
        if expires_days:
            entry["expires_at"] = now + timedelta(days=expires_days)
        data.setdefault("version", 1)
        data["principals"] = [*(data.get("principals") or []), entry]
        write_raw(policy, data)
    except PolicyError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"token for {subject} stored in {policy} (hash only); it is shown once:")
    typer.echo(token)


@token_app.command("list")
def token_list(
    policy: str = typer.Option(..., "--policy", help=POLICY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
) -> None:
    """List the principals of the policy (never the tokens themselves)."""
    from rich.console import Console
    from rich.table import Table
    from icp_mcp.server.policy import PolicyError, load_policy

    try:
        loaded = load_policy(policy)
    except PolicyError as exc:
        raise _fail(str(exc)) from exc
    rows = []
    for entry in loaded.principals:
        rows.append({
            "subject": entry.subject,
            "roles": entry.roles,
            "territories": entry.territories if entry.territories is not None else "all",
            "auth": "token " + entry.token_sha256[7:19] + "…" if entry.token_sha256 else "jwt",
            "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
            "expired": entry.expired(),
        })
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    table = Table("subject", "roles", "territories", "auth", "expires", title=f"principals in {policy}")
    for row in rows:
        territories = row["territories"] if isinstance(row["territories"], str) else ", ".join(row["territories"])
        expires = (row["expires_at"] or "never") + (" (expired)" if row["expired"] else "")
        table.add_row(row["subject"], ", ".join(row["roles"]), territories, row["auth"], expires)
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    policy: str = typer.Option(..., "--policy", help=POLICY_HELP),
    subject: str = typer.Option(..., "--subject", help="Whose token(s) to revoke."),
) -> None:
    """Remove SUBJECT's token(s) from the policy; a running server notices within a second."""
    from icp_mcp.server.policy import PolicyError, read_raw, write_raw

    try:
        data = read_raw(policy)
        before = data.get("principals") or []
        kept = [p for p in before if not (isinstance(p, dict) and p.get("subject") == subject
                                          and p.get("token_sha256"))]
        if len(kept) == len(before):
            raise _fail(f"--subject: no token for {subject!r} in {policy}", code=1)
        data["principals"] = kept
        write_raw(policy, data)
    except PolicyError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"revoked {len(before) - len(kept)} token(s) of {subject}")


@audit_app.command("tail")
def audit_tail(
    archive: str = typer.Option(..., "--archive", help="The archive whose audit_log to read."),
    n: int = typer.Option(20, "-n", min=1, max=10_000, help="How many entries."),
    subject: str = typer.Option(None, "--subject", help="Only this subject's calls."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """Show the last N audit entries, oldest first."""
    from rich.console import Console
    from rich.table import Table
    from icp_mcp.archive.db import ArchiveError
    from icp_mcp.archive.opening import open_checked
    from icp_mcp.server import control
    from icp_mcp.server.audit import tail

    try:
        holder = control.find_holder(archive)
        if holder is not None:  # the server holding the file reads it for us
            rows = control.request(holder, "audit.tail", {"n": n, "subject": subject}, client="audit tail")["rows"]
        else:
            engine = open_checked(archive, read_only=True)
            rows = tail(engine, n=n, subject=subject)
            engine.dispose()
    except ArchiveError as exc:
        raise _fail(str(exc)) from exc
    except Exception as exc:  # a locked or foreign file: say so, no traceback
        raise _fail(f"cannot read the audit log of {archive}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
        return
    table = Table("at", "subject", "tool", "outcome", "rows", "ms", "arguments", title=f"audit log of {archive}")
    for row in rows:
        table.add_row(str(row["at"])[:19], row["subject"], row["tool"], row["outcome"],
                      "" if row["rows"] is None else str(row["rows"]),
                      "" if row["duration_ms"] is None else f"{row['duration_ms']:.1f}",
                      json.dumps(row["arguments"], ensure_ascii=False)[:80])
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Attach the `token` and `audit` command groups to the main CLI."""
    app.add_typer(token_app, name="token")
    app.add_typer(audit_app, name="audit")
