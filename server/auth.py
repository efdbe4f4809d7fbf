"""HTTP authentication through the MCP SDK: a `TokenVerifier` over the policy file, and `AuthSettings`.

The server is an OAuth resource server in MCP's sense: the SDK's bearer middleware calls
`PolicyTokenVerifier.verify_token`, answers 401 (with ``WWW-Authenticate`` pointing at the protected
resource metadata) when no valid token is given and 403 ``insufficient_scope`` when the token lacks the
policy's `required_scopes`. The verified `AccessToken` carries the full `Principal` (roles, territories,
k) in its claims, so `access.current_principal()` can rebuild it for every request.

Two kinds of bearer token are accepted:

- opaque tokens minted by ``icp-mcp token create``, looked up by their SHA-256 digest;
- JWTs checked with pyjwt for signature, ``exp``, ``iss`` and ``aud`` (HS256 secret from an environment
  variable, or RS256 with a PEM public key or a JWKS file). The caller is the policy entry whose subject
  equals ``sub``; without one, the role and territories come from the configured claims (no territories
  claim = no territories, ``"*"`` = all). A ``scope`` / ``scp`` claim can only narrow the role's scopes.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from pydantic import AnyHttpUrl, ValidationError

from icp_mcp.surface.access import PRINCIPAL_CLAIM, ROLES, Principal
from icp_mcp.server.policy import Policy, PolicyError, hash_token, load_policy

logger = logging.getLogger(__name__)


class PolicyTokenVerifier:
    """Verify bearer tokens against a `Policy` (the SDK's `TokenVerifier` protocol)."""

    #: How often (seconds) the policy file is checked for changes, so `token revoke` takes effect live.
    RELOAD_CHECK_S = 1.0

    def __init__(self, policy: Policy, *, resource: str | None = None) -> None:
        self.resource = resource
        self._install(policy)
        self._mtime = self._policy_mtime()
        self._checked = time.monotonic()

    def _install(self, policy: Policy) -> None:
        self.policy = policy
        self._by_hash = policy.by_token_hash()
        self._jwt_keys = _load_jwt_keys(policy) if policy.jwt else None

    def _policy_mtime(self) -> float | None:
        try:
            return self.policy.source.stat().st_mtime if self.policy.source else None
        except OSError:
            return None

    def reload_if_changed(self) -> bool:
        """Re-read the policy file when it changed (at most once per RELOAD_CHECK_S); keep the old one if
        the new one is invalid. True when a new policy was installed."""
        now = time.monotonic()
        if self.policy.source is None or now - self._checked < self.RELOAD_CHECK_S:
            return False
        self._checked = now
        mtime = self._policy_mtime()
        if mtime is None or mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self._install(load_policy(self.policy.source))
        except PolicyError as exc:
            logger.error("policy %s changed but is invalid; still using the previous one: %s", self.policy.source, exc)
            return False
        logger.info("policy %s reloaded", self.policy.source)
        return True

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK hook: an `AccessToken` for a valid token, None otherwise (the SDK then answers 401)."""
        return self.verify(token)

    def verify(self, token: str) -> AccessToken | None:
        """Synchronous core of `verify_token`."""
        principal, expires_at, claims = self._authenticate(token)
        if principal is None:
            return None
        return AccessToken(
            token=token,
            client_id=principal.subject,
            subject=principal.subject,
            scopes=sorted(principal.scopes),
            expires_at=expires_at,
            resource=self.resource,
            claims={**claims, PRINCIPAL_CLAIM: principal.model_dump(mode="json")},
        )

    def refusal(self, token: str) -> str | None:
        """Why a refused token was refused, when the caller may be told: ``"expired"`` for a token that
        is genuine but past its expiry (opaque entry or JWT); None otherwise (junk stays anonymous)."""
        if not token or len(token) > 8192:
            return None
        if token.count(".") == 2 and self._jwt_keys is not None:
            settings = self.policy.jwt
            assert settings is not None
            try:
                header = jwt.get_unverified_header(token)
                algorithm, key = self._jwt_keys.key_for(header)
                claims = jwt.decode(token, key=key, algorithms=[algorithm], audience=settings.audience,
                                    issuer=settings.issuer, leeway=settings.leeway_seconds,
                                    options={"require": ["exp", "iss", "aud", "sub"]})
            except jwt.ExpiredSignatureError:
                return "expired"
            except (jwt.PyJWTError, KeyError, ValueError):
                return None
            entry = self.policy.by_subject(str(claims["sub"]))
            return "expired" if entry is not None and entry.expired() else None
        entry = self._by_hash.get(hash_token(token))
        return "expired" if entry is not None and entry.expired() else None

    def principal_for(self, token: str) -> Principal | None:
        """The principal behind `token`, or None when the token is refused."""
        return self._authenticate(token)[0]

    def _authenticate(self, token: str) -> tuple[Principal | None, int | None, dict[str, Any]]:
        self.reload_if_changed()
        if not token or len(token) > 8192:
            return None, None, {}
        if token.count(".") == 2 and self._jwt_keys is not None:
            return self._from_jwt(token)
        entry = self._by_hash.get(hash_token(token))
        if entry is None or entry.expired():
            return None, None, {}
        expires = int(entry.expires_at.timestamp()) if entry.expires_at else None
        return self.policy.entry_principal(entry), expires, {}

    def _from_jwt(self, token: str) -> tuple[Principal | None, int | None, dict[str, Any]]:
        settings = self.policy.jwt
        assert settings is not None and self._jwt_keys is not None
        try:
            header = jwt.get_unverified_header(token)
            algorithm, key = self._jwt_keys.key_for(header)
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            logger.info("JWT refused: %s", exc)
            return None, None, {}
        principal = self._jwt_principal(claims)
        if principal is None:
            return None, None, {}
        return principal, int(claims["exp"]), {"iss": claims.get("iss")}

    def _jwt_principal(self, claims: dict[str, Any]) -> Principal | None:
        settings = self.policy.jwt
        assert settings is not None
        subject = str(claims["sub"])
        entry = self.policy.by_subject(subject)
        if entry is not None:
            if entry.expired():
                return None
            principal = self.policy.entry_principal(entry)
        elif not settings.claims_choose_role:
            logger.info("JWT refused: subject %r is not in the policy (jwt.claims_choose_role is false)", subject)
            return None
        else:
            role = claims.get(settings.role_claim)
            roles = [role] if isinstance(role, str) else role
            if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
                logger.info("JWT refused: subject %r is not in the policy and carries no valid role", subject)
                return None
            territories = _territories_claim(claims.get(settings.territories_claim))
            if territories is False:
                return None
            principal = self.policy.principal(subject, roles, territories)
        narrowed = _scope_claim(claims)
        if narrowed is not None:
            principal = principal.model_copy(update={"scopes": principal.scopes & narrowed})
        return principal


def _territories_claim(value: Any) -> list[str] | None | bool:
    """Territories named by a JWT: a list of names, ``"*"`` for all; missing means none (fail closed).
    False when the claim is malformed."""
    if value is None:
        return []
    if value == "*" or value == ["*"]:
        return None
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return value
    return False


def _scope_claim(claims: dict[str, Any]) -> frozenset[str] | None:
    """Scopes named by the token itself (OAuth ``scope`` string or ``scp`` list), if any."""
    if isinstance(claims.get("scope"), str):
        return frozenset(claims["scope"].split())
    if isinstance(claims.get("scp"), list):
        return frozenset(str(s) for s in claims["scp"])
    return None


class _JWTKeys:
    """The verification key(s) of the policy: one algorithm per key type (no algorithm confusion)."""

    def __init__(self, algorithm: str, key: Any = None, jwks: jwt.PyJWKSet | None = None) -> None:
        self.algorithm = algorithm
        self.key = key
        self.jwks = jwks

    def key_for(self, header: dict[str, Any]) -> tuple[str, Any]:
        if header.get("alg") != self.algorithm:
            raise ValueError(f"algorithm {header.get('alg')!r} is not accepted")
        if self.jwks is None:
            return self.algorithm, self.key
        kid = header.get("kid")
        keys = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
        if not keys:
            raise ValueError(f"no JWKS key with kid {kid!r}")
        return self.algorithm, keys[0].key


def _load_jwt_keys(policy: Policy) -> _JWTKeys:
    """Read the key named by the policy once, failing clearly (PolicyError) when it is unusable."""
    settings = policy.jwt
    assert settings is not None
    if settings.secret_env:
        secret = os.environ.get(settings.secret_env)
        if not secret:
            raise PolicyError(f"jwt.secret_env: environment variable {settings.secret_env} is not set")
        if len(secret.encode()) < 32:
            raise PolicyError(f"jwt.secret_env: the secret in {settings.secret_env} must be at least 32 bytes")
        return _JWTKeys("HS256", key=secret)
    if settings.public_key_file:
        path = policy.resolve_path(settings.public_key_file, "jwt.public_key_file", must_exist=True)
        pem = path.read_bytes()
        try:
            key = RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(pem)
        except Exception as exc:  # pyjwt raises several types for a bad PEM
            raise PolicyError(f"jwt.public_key_file: not an RSA public key PEM: {exc}") from exc
        return _JWTKeys("RS256", key=key)
    path = policy.resolve_path(settings.jwks_file or "", "jwt.jwks_file", must_exist=True)
    try:
        jwks = jwt.PyJWKSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, jwt.PyJWTError) as exc:
        raise PolicyError(f"jwt.jwks_file: not a usable JWKS: {exc}") from exc
    return _JWTKeys("RS256", jwks=jwks)


EXPIRED_DESCRIPTION = "The access token expired; ask your administrator for a new one (icp-mcp token create)"


def explain_expired(app: Any, verifier: PolicyTokenVerifier, resource_metadata_url: str | None = None) -> Any:
    """ASGI wrapper: a request whose bearer token is genuine but expired gets 401 ``invalid_token`` saying
    "expired" (the SDK's own answer, "Authentication required", is kept for every other refusal)."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"authorization"),
                          "")
            if header.lower().startswith("bearer ") and verifier.refusal(header[7:]) == "expired":
                parts = ['error="invalid_token"', f'error_description="{EXPIRED_DESCRIPTION}"']
                if resource_metadata_url:
                    parts.append(f'resource_metadata="{resource_metadata_url}"')
                body = json.dumps({"error": "invalid_token", "error_description": EXPIRED_DESCRIPTION}).encode()
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", ("Bearer " + ", ".join(parts)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return wrapped


def resource_url(base_url: str, mcp_path: str = "/mcp") -> str:
    """The MCP endpoint URL that identifies this resource server."""
    return base_url.rstrip("/") + "/" + mcp_path.strip("/")


def auth_settings(policy: Policy, base_url: str, *, mcp_path: str = "/mcp") -> AuthSettings:
    """SDK auth settings for a resource server at `base_url`: protected-resource metadata, required scopes.

    The issuer advertised is the policy's JWT issuer when it is an http(s) URL, else the server itself
    (opaque tokens are minted locally by ``icp-mcp token create``). Audience is checked by the verifier.
    """
    issuer = base_url
    if policy.jwt and policy.jwt.issuer.startswith(("http://", "https://")):
        issuer = policy.jwt.issuer
    try:
        return AuthSettings(
            issuer_url=AnyHttpUrl(issuer),
            resource_server_url=AnyHttpUrl(resource_url(base_url, mcp_path)),
            required_scopes=list(policy.required_scopes) or None,
            validate_token_resource=False,
        )
    except ValidationError as exc:
        raise PolicyError(f"cannot build auth settings for {base_url!r}: {exc}") from exc


def http_auth(policy: Policy, base_url: str, *, mcp_path: str = "/mcp") -> tuple[PolicyTokenVerifier, AuthSettings]:
    """Both pieces `MCPServer(token_verifier=..., auth=...)` needs for HTTP with this policy."""
    return (
        PolicyTokenVerifier(policy, resource=resource_url(base_url, mcp_path)),
        auth_settings(policy, base_url, mcp_path=mcp_path),
    )

