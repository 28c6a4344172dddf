"""OAuth 2.0: the token endpoint, who a session is (UserInfo and identity URL), the public versions list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

import jwt
from cryptography import x509
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from dev.salesforce import ids
from dev.salesforce.schema import API_VERSION
from dev.salesforce.seed import INTEGRATION_USERNAME
from dev.salesforce.web import DATA, form_body, session_user, store_of

ORG_ID = ids.make_id("00D", 1)
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The JWT bearer flow's assertion expires "within 3 minutes" of being issued; Salesforce allows no more.
JWT_MAX_LIFETIME_SECONDS = 3 * 60

router = APIRouter()


def _oauth_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        key, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return key, secret


def connected_apps(certificates: Mapping[str, bytes]) -> dict[str, Any]:
    """Consumer key -> the public key of the certificate uploaded to that connected app."""
    return {key: x509.load_pem_x509_certificate(pem).public_key() for key, pem in certificates.items()}


def _jwt_bearer(request: Request, assertion: str) -> tuple[str | None, JSONResponse | None]:
    """The username a JWT bearer assertion signs in as, or the error Salesforce answers.

    The flow (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration",
    https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5): a JWT signed with
    RS256 by the key whose certificate the connected app holds, with ``iss`` the app's consumer key, ``sub`` the
    username, ``aud`` the authorization server (login.salesforce.com, test.salesforce.com or the org's My Domain:
    here, this server's own address) and ``exp`` at most 3 minutes ahead. An unknown consumer key answers
    invalid_client_id "client identifier invalid"; a signature that does not verify, an expired or malformed
    assertion invalid_grant "invalid assertion"; another audience invalid_grant "audience is invalid".
    """
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None, _oauth_error("invalid_grant", "invalid assertion")
    apps: Mapping[str, Any] = request.app.state.connected_apps
    public_key = apps.get(str(claims.get("iss") or ""))
    if public_key is None:
        return None, _oauth_error("invalid_client_id", "client identifier invalid")
    if header.get("alg") != "RS256":
        return None, _oauth_error("invalid_grant", "invalid assertion")
    try:
        # exp is checked below: simple-salesforce sends it as a numeric string, which PyJWT's own check refuses.
        jwt.decode(assertion, public_key, algorithms=["RS256"], options={"verify_exp": False, "verify_aud": False})
        expires = float(claims["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None, _oauth_error("invalid_grant", "invalid assertion")
    if not time.time() <= expires <= time.time() + JWT_MAX_LIFETIME_SECONDS + 5:
        return None, _oauth_error("invalid_grant", "invalid assertion")
    if urlsplit(str(claims.get("aud") or "")).netloc != request.url.netloc:
        return None, _oauth_error("invalid_grant", "audience is invalid")
    username = str(claims.get("sub") or "")
    if not username:
        return None, _oauth_error("invalid_grant", "invalid assertion")
    return username, None


@router.post("/services/oauth2/token")
def token(request: Request, form: Annotated[dict[str, str], Depends(form_body)]) -> JSONResponse:
    """JWT bearer, client-credentials and password grants. Unknown query strings are ignored: simple-salesforce
    reaches a local host by making its ``domain`` end in ``?``, which turns its ``.salesforce.com/...`` into one."""
    store = store_of(request)
    rejected: str = request.app.state.rejected_secret
    grant = form.get("grant_type")
    if grant == JWT_BEARER:
        username, error = _jwt_bearer(request, form.get("assertion", ""))
        if error is not None:
            return error
        user = store.find_unique("User", "Username", username)
        if user is None or not user.fields["IsActive"]:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        issued_at = str(int(time.time() * 1000))
        access_token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
        store.save_token(access_token, user.id, issued_at)
        instance_url = f"{request.url.scheme}://{request.url.netloc}"
        # The flow's documented answer: no refresh token, no signature (there is no client secret to sign with).
        return JSONResponse(
            {
                "access_token": access_token,
                "scope": "api",
                "instance_url": instance_url,
                "id": f"{instance_url}/id/{ORG_ID}/{user.id}",
                "token_type": "Bearer",
            }
        )
    if grant == "client_credentials":
        client_id, client_secret = _basic_credentials(request.headers.get("Authorization", "")) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        username = None
    elif grant == "password":
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        username, password = form.get("username", ""), form.get("password", "")
        if not username or not password or password == rejected:
            return _oauth_error("invalid_grant", "authentication failure")
    else:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    if not client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    if not client_secret or client_secret == rejected:
        return _oauth_error("invalid_client", "invalid client credentials")
    user = store.find_unique("User", "Username", username) if username else None
    if user is not None and not user.fields["IsActive"]:
        return _oauth_error("invalid_grant", "authentication failure")
    # Any other username signs in as the integration user: the emulator has no passwords to check.
    user = user or store.find_unique("User", "Username", INTEGRATION_USERNAME)
    assert user is not None
    issued_at = str(int(time.time() * 1000))
    access_token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(72)}"
    store.save_token(access_token, user.id, issued_at)
    instance_url = f"{request.url.scheme}://{request.url.netloc}"
    identity = f"{instance_url}/id/{ORG_ID}/{user.id}"
    # Salesforce signs id + issued_at with the client secret, so clients can check the response.
    digest = hmac.new(client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
    return JSONResponse(
        {
            "access_token": access_token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
        }
    )


def _identity(request: Request, user_id: str) -> dict[str, Any]:
    """What Salesforce says about the session's user: the user and org Ids, names and e-mail."""
    user = store_of(request).get(user_id)
    assert user is not None
    fields = user.fields
    instance_url = f"{request.url.scheme}://{request.url.netloc}"
    return {
        "identity": f"{instance_url}/id/{ORG_ID}/{user_id}",
        "user_id": user_id,
        "organization_id": ORG_ID,
        "username": fields.get("Username"),
        "name": fields.get("Name"),
        "first_name": fields.get("FirstName"),
        "last_name": fields.get("LastName"),
        "email": fields.get("Email"),
        "active": bool(fields.get("IsActive")),
        "user_type": "STANDARD",
        "urls": {
            "rest": f"{instance_url}/services/data/v{{version}}/",
            "sobjects": f"{instance_url}/services/data/v{{version}}/sobjects/",
            "query": f"{instance_url}/services/data/v{{version}}/query/",
            "partner": f"{instance_url}/services/Soap/u/{{version}}/{ORG_ID}",
        },
    }


@router.get("/services/oauth2/userinfo")
def userinfo(request: Request, user_id: Annotated[str, Depends(session_user)]) -> dict[str, Any]:
    """The OpenID Connect UserInfo endpoint: who the access token's user is."""
    identity = _identity(request, user_id)
    return {
        "sub": identity["identity"],
        "user_id": user_id,
        "organization_id": ORG_ID,
        "preferred_username": identity["username"],
        "nickname": identity["username"],
        "name": identity["name"],
        "email": identity["email"],
        "email_verified": True,
        "given_name": identity["first_name"],
        "family_name": identity["last_name"],
        "active": identity["active"],
        "user_type": identity["user_type"],
        "urls": identity["urls"],
    }


@router.get("/id/{org_id}/{user_id}")
def identity_url(request: Request, org_id: str, user_id: str, caller: Annotated[str, Depends(session_user)]) -> Any:
    """The identity URL the token response's ``id`` names (any session may read any user's)."""
    if org_id != ORG_ID or (record := store_of(request).get(user_id)) is None or record.sobject != "User":
        return JSONResponse({"error": "Bad_Id", "error_description": "Bad Identity URL"}, status_code=404)
    identity = _identity(request, user_id)
    return {
        "id": identity["identity"],
        "asserted_user": user_id == caller,
        "user_id": user_id,
        "organization_id": ORG_ID,
        "username": identity["username"],
        "nick_name": identity["username"],
        "display_name": identity["name"],
        "email": identity["email"],
        "email_verified": True,
        "first_name": identity["first_name"],
        "last_name": identity["last_name"],
        "active": identity["active"],
        "user_type": identity["user_type"],
        "urls": identity["urls"],
    }


@router.get("/services/data")
def versions() -> list[dict[str, str]]:
    """Public, as on Salesforce: clients call it before they have a session."""
    return [{"label": "Winter '24", "url": DATA, "version": API_VERSION}]
