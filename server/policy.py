"""The policy file: who may call the server and with which roles, territories and limits (YAML, validated).

Opaque bearer tokens are stored only as ``sha256:<hex>`` digests; JWTs are checked against the ``jwt``
settings (issuer, audience, an HS256 secret read from an environment variable, or an RS256 public key PEM
or JWKS file). Relative file paths are resolved against the policy file's folder and must stay inside it;
absolute paths are allowed for key files but must exist. A validation error names the field.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from icp_mcp.surface.access import ALL_SCOPES, DEFAULT_MIN_GROUP, ROLES, Principal, scopes_for_roles

Role = Literal["sales", "marketing", "product", "revops", "admin"]
TOKEN_PREFIX = "icp_"


class PolicyError(ValueError):
    """The policy file is missing, unreadable or invalid; the message names the field."""


def hash_token(token: str) -> str:
    """The stored form of an opaque token: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JWTSettings(_Strict):
    """How to check JWT bearer tokens. Exactly one key source: secret_env, public_key_file or jwks_file."""

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    algorithms: list[Literal["HS256", "RS256"]] = Field(default_factory=lambda: ["HS256"])
    secret_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    public_key_file: str | None = None
    jwks_file: str | None = None
    role_claim: str = "icp_role"
    territories_claim: str = "icp_territories"
    leeway_seconds: int = Field(default=30, ge=0, le=600)
    #: A JWT whose subject is not under `principals` takes its role and territories from its claims.
    #: False: such tokens are refused (only listed subjects get in). `serve` warns while this is true.
    claims_choose_role: bool = True

    @model_validator(mode="after")
    def _one_key_source(self) -> JWTSettings:
        sources = [s for s in (self.secret_env, self.public_key_file, self.jwks_file) if s]
        if len(sources) != 1:
            raise ValueError("set exactly one of secret_env, public_key_file, jwks_file")
        if self.secret_env and "HS256" not in self.algorithms:
            raise ValueError("secret_env needs algorithms: [HS256]")
        if (self.public_key_file or self.jwks_file) and "RS256" not in self.algorithms:
            raise ValueError("public_key_file / jwks_file need algorithms: [RS256]")
        return self


class LocalEntry(_Strict):
    """The caller on stdio (and the CLI) when the server runs with this policy."""

    subject: str = "local"
    roles: list[Role] = Field(default_factory=lambda: ["admin"], min_length=1)
    territories: list[str] | None = None


class PrincipalEntry(_Strict):
    """One caller. With `token_sha256` it authenticates by opaque token; without, by a JWT whose sub matches."""

    subject: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    roles: list[Role] = Field(min_length=1)
    territories: list[str] | None = None
    token_sha256: str | None = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")
    expires_at: datetime | None = None
    created_at: datetime | None = None
    min_group: int | None = Field(default=None, ge=1)

    @field_validator("expires_at", "created_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    def expired(self, now: datetime | None = None) -> bool:
        """True when the entry has an expiry in the past."""
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC))


class Policy(_Strict):
    """The whole policy file."""

    version: Literal[1] = 1
    k: int = Field(default=DEFAULT_MIN_GROUP, ge=1, le=1000)
    audit_jsonl: str | None = None
    required_scopes: list[str] = Field(default_factory=lambda: ["icp:read"])
    roles: dict[Role, list[str]] = Field(default_factory=dict)
    jwt: JWTSettings | None = None
    local: LocalEntry = Field(default_factory=LocalEntry)
    principals: list[PrincipalEntry] = Field(default_factory=list)

    #: Where the policy was read from (relative paths resolve against its folder); not part of the file.
    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        """The file this policy was read from, if any."""
        return self._source

    @field_validator("required_scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ALL_SCOPES)
        if unknown:
            raise ValueError(f"unknown scope(s) {unknown}; allowed: {sorted(ALL_SCOPES)}")
        return value

    @field_validator("roles")
    @classmethod
    def _known_role_scopes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for role, scopes in value.items():
            unknown = sorted(set(scopes) - ALL_SCOPES)
            if unknown:
                raise ValueError(f"role {role}: unknown scope(s) {unknown}; allowed: {sorted(ALL_SCOPES)}")
        return value

    @model_validator(mode="after")
    def _unique_tokens(self) -> Policy:
        seen: set[str] = set()
        for entry in self.principals:
            if entry.token_sha256:
                if entry.token_sha256 in seen:
                    raise ValueError(f"principals: token of {entry.subject!r} is used twice")
                seen.add(entry.token_sha256)
        return self

    # -- principals --------------------------------------------------------------------------------------

    def role_overrides(self) -> dict[str, frozenset[str]]:
        """Role → scopes as overridden by this policy."""
        return {role: frozenset(scopes) for role, scopes in self.roles.items()}

    def principal(self, subject: str, roles: list[str], territories: list[str] | None,
                  min_group: int | None = None) -> Principal:
        """Build a `Principal` with this policy's role table and k."""
        return Principal(
            subject=subject,
            roles=list(roles),
            scopes=scopes_for_roles(list(roles), self.role_overrides()),
            territories=None if territories is None else frozenset(territories),
            min_group=min_group or self.k,
        )

    def local_principal(self) -> Principal:
        """The stdio / CLI caller."""
        return self.principal(self.local.subject, list(self.local.roles), self.local.territories)

    def entry_principal(self, entry: PrincipalEntry) -> Principal:
        """The principal of one policy entry."""
        return self.principal(entry.subject, list(entry.roles), entry.territories, entry.min_group)

    def by_token_hash(self) -> dict[str, PrincipalEntry]:
        """Opaque-token entries keyed by their stored digest."""
        return {e.token_sha256: e for e in self.principals if e.token_sha256}

    def by_subject(self, subject: str) -> PrincipalEntry | None:
        """The first entry for `subject` (JWT callers are matched this way)."""
        return next((e for e in self.principals if e.subject == subject), None)

    # -- paths -------------------------------------------------------------------------------------------

    def resolve_path(self, value: str, field: str, *, must_exist: bool) -> Path:
        """Resolve a path named in the policy; refuse traversal out of the policy folder and missing files."""
        return safe_path(value, field, base=self.source.parent if self.source else Path.cwd(),
                         must_exist=must_exist)

    def audit_path(self) -> Path | None:
        """The audit JSONL file, when configured (its folder must exist)."""
        if not self.audit_jsonl:
            return None
        path = self.resolve_path(self.audit_jsonl, "audit_jsonl", must_exist=False)
        if not path.parent.is_dir():
            raise PolicyError(f"audit_jsonl: folder {path.parent} does not exist")
        return path


def startup_warnings(policy: Policy) -> list[str]:
    """What `serve` should warn about when it starts with this policy."""
    out = []
    if policy.jwt is not None and policy.jwt.claims_choose_role:
        out.append(
            f"policy: a JWT from {policy.jwt.issuer} for a subject not listed under principals chooses its own "
            f"role and territories through the claims {policy.jwt.role_claim!r} / {policy.jwt.territories_claim!r} "
            "(anyone the issuer signs for may claim admin); list the subjects or set jwt.claims_choose_role: false")
    return out


def safe_path(value: str, field: str, *, base: Path, must_exist: bool) -> Path:
    """A path from configuration: no NUL or control characters, a relative path may not climb out of `base`
    (``..``), and with `must_exist` it must be an existing regular file."""
    if not value or any(ord(ch) < 32 for ch in value):
        raise PolicyError(f"{field}: empty path or control characters in {value!r}")
    raw = Path(value).expanduser()
    if not raw.is_absolute():
        if ".." in raw.parts:
            raise PolicyError(f"{field}: path traversal ('..') is not allowed in {value!r}")
        resolved = (base / raw).resolve()
        if not resolved.is_relative_to(base.resolve()):
            raise PolicyError(f"{field}: {value!r} resolves outside the policy folder {base}")
    else:
        resolved = raw.resolve()
    if must_exist and not resolved.is_file():
        raise PolicyError(f"{field}: file not found: {resolved}")
    return resolved


def _format_errors(exc: ValidationError, path: Path | str) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    return f"invalid policy {path}: " + "; ".join(parts)


def parse_policy(data: Any, source: Path | None = None) -> Policy:
    """Validate a parsed policy mapping; raise `PolicyError` naming the bad field(s)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(f"invalid policy {source}: the top level must be a mapping")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_format_errors(exc, source or "<data>")) from exc
    policy._source = source.resolve() if source else None
    if policy.jwt:
        for field in ("public_key_file", "jwks_file"):
            value = getattr(policy.jwt, field)
            if value:
                policy.resolve_path(value, f"jwt.{field}", must_exist=True)
    if policy.audit_jsonl:
        policy.audit_path()
    return policy


def read_raw(path: str | os.PathLike[str], *, missing_ok: bool = False) -> dict[str, Any]:
    """The policy file as a plain mapping (for editing); `missing_ok` yields {} for a missing file."""
    p = Path(path)
    if any(ord(ch) < 32 for ch in str(path)):
        raise PolicyError(f"policy: control characters in path {str(path)!r}")
    if not p.exists():
        if missing_ok:
            return {}
        raise PolicyError(f"policy file not found: {p}")
    if not p.is_file():
        raise PolicyError(f"policy path is not a file: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot read policy {p}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(f"invalid policy {p}: the top level must be a mapping")
    return data


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate the policy file at `path`."""
    return parse_policy(read_raw(path), Path(path))


def write_raw(path: str | os.PathLike[str], data: dict[str, Any]) -> Policy:
    """Validate `data` and write it atomically to `path` (mode 0600: it names who holds tokens)."""
    p = Path(path)
    policy = parse_policy(data, p)
    text = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True)
    if not p.parent.is_dir():
        raise PolicyError(f"policy: folder {p.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".policy-", dir=p.parent)
    except OSError as exc:
        raise PolicyError(f"policy: cannot write in {p.parent}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PolicyError(f"policy: cannot write {p}: {exc.strerror}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return policy


def _plain(value: Any) -> Any:
    """Datetimes as ISO strings, so that the YAML stays portable."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


__all__ = [
    "JWTSettings", "LocalEntry", "Policy", "PolicyError", "PrincipalEntry", "ROLES", "TOKEN_PREFIX",
    "hash_token", "load_policy", "parse_policy", "read_raw", "safe_path", "startup_warnings", "write_raw",
]
