"""`activate_icp` (write): make a stored version the active ICP, after the user confirms.

Confirmation comes through elicitation when the client supports it (a resolver asks before the tool body
runs, on every protocol version the SDK speaks). A client without elicitation must pass `confirm: true`,
which a person should only do after reading the version; otherwise the tool refuses and says so.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server import MCPServer
from mcp.server.mcpserver import Context, Elicit, ElicitationResult, Resolve
from mcp.server.mcpserver.resolve import AcceptedElicitation
from pydantic import BaseModel, Field

from icp_mcp.engine.scoring import state
from icp_mcp.engine.sql import versions
from icp_mcp.engine.sql.versions import VersionInfo
from icp_mcp.surface.access import allowed, current_principal
from icp_mcp.surface.archive_access import ArchiveHandle
from icp_mcp.surface.runner import register_tool, ToolRefusal, ToolRun, ToolSpec, run_tool

SPEC = ToolSpec(name="activate_icp", title="Activate an ICP version", write=True, destructive=True, idempotent=True)


class ConfirmActivation(BaseModel):
    """What the user is asked (elicitation form)."""

    confirm: bool = Field(description="activate this version now")


class Gate(BaseModel):
    """How the confirmation was settled without asking."""

    decision: Literal["argument", "no_elicitation", "denied"]


class ActivateResult(BaseModel):
    """The version now active and the one it replaced."""

    active: VersionInfo
    previous_version: int | None = None
    confirmed_by: Literal["elicitation", "argument"]
    truncated: bool = False


def _confirmation(version: int, confirm: bool, ctx: Context) -> Gate | Elicit[ConfirmActivation]:
    """Resolver: settle by argument, refuse early, or ask the user."""
    if not allowed(current_principal(), f"tool:{SPEC.name}"):
        return Gate(decision="denied")
    if confirm:
        return Gate(decision="argument")
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return Gate(decision="no_elicitation")
    return Elicit(f"Activate ICP version {version}? It replaces the active ICP for every user of this "
                  "server (roll back with `icp-mcp icp rollback`).", ConfirmActivation)


def activate(run: ToolRun, version: int, how: str) -> ActivateResult:
    """Switch the active version through the single writer."""
    try:
        previous = versions.get_version(run.engine, None).version
    except Exception:
        previous = None
    info = run.write(versions.activate, version, run.principal.subject)
    run.write(lambda engine: state.build(engine, progress=run.progress))  # the new version's ICP state
    return ActivateResult(active=info, previous_version=previous, confirmed_by=how)  # type: ignore[arg-type]


def refuse(message: str):
    def call(run: ToolRun) -> ActivateResult:
        raise ToolRefusal(message)
    return call


def register(server: MCPServer, archive: ArchiveHandle) -> None:
    """Add the tool."""

    @register_tool(server, SPEC)
    async def activate_icp(
        ctx: Context,
        version: Annotated[int, Field(ge=1, description="see icp://versions")],
        answer: Annotated[ElicitationResult[ConfirmActivation], Resolve(_confirmation)],
        confirm: Annotated[bool, Field(description="true only after the user confirmed")] = False,
    ) -> ActivateResult:
        """Make a stored ICP version the active one, only when the user asked. Asks the user to confirm;
        without elicitation pass confirm=true after they agreed."""
        args = {"version": version, "confirm": confirm}
        call = refuse(f"activate_icp: version {version} was not activated; the user did not confirm")
        if isinstance(answer, AcceptedElicitation):
            data = answer.data
            if isinstance(data, Gate) and data.decision == "argument":
                call = lambda run: activate(run, version, "argument")  # noqa: E731
            elif isinstance(data, Gate) and data.decision == "no_elicitation":
                call = refuse(
                    f"confirm: activating version {version} needs the user's confirmation and this client "
                    "cannot ask (no elicitation support). Ask the user; if they agree, call activate_icp again "
                    f"with version={version} and confirm=true (or run `icp-mcp icp activate {version}`)."
                )
            elif isinstance(data, ConfirmActivation) and data.confirm:
                call = lambda run: activate(run, version, "elicitation")  # noqa: E731
        return await run_tool(ctx, archive, SPEC, args, call)
