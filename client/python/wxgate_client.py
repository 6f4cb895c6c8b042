"""A small Python client for wxgate (package wxgate.v1), on the generated stubs.

    from wxgate_client import WxgateClient, WxgateError

    with WxgateClient("wxgate.internal:50051") as wx:
        session = wx.code2session("shop", js_code)       # -> Code2SessionResponse
        try:
            user = wx.decrypt_user_data("shop", openid=session.openid,
                                        encrypted_data=data, iv=iv)
        except WxgateError as e:
            if e.reason == "SESSION_KEY_STALE":
                ...  # ask the mini program to wx.login again

Every method takes the app name as configured in wxgate, returns the response
message of its RPC (wxgate.v1.*Response, see proto/wxgate/v1/) and raises
WxgateError on any failure, with the gRPC code and the google.rpc.ErrorInfo
(reason, metadata) wxgate puts in the status details. See the README's error
table for every reason.

The generated modules (wxgate/v1/*_pb2*.py, google/rpc/*_pb2.py) are imported
from the directory named by the environment variable WXGATE_PY_GEN when it is
set, otherwise from sys.path. CMake generates them into <build>/python/
(target wxgate_python_stubs); README.md gives the protoc command.

Needs grpcio and protobuf >= 3.20 (Debian 12: python3-grpcio, python3-protobuf).
The grpcio-status package is not needed.
"""

import os
import sys

if os.environ.get("WXGATE_PY_GEN"):
    _gen = os.path.abspath(os.environ["WXGATE_PY_GEN"])
    if _gen not in sys.path:
        sys.path.insert(0, _gen)

import grpc  # noqa: E402

from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from wxgate.v1 import identity_pb2, identity_pb2_grpc  # noqa: E402
from wxgate.v1 import signature_pb2, signature_pb2_grpc  # noqa: E402
from wxgate.v1 import token_pb2, token_pb2_grpc  # noqa: E402

__all__ = ["WxgateClient", "WxgateError", "identity_pb2", "signature_pb2", "token_pb2"]

STATUS_DETAILS_KEY = "grpc-status-details-bin"


class WxgateError(Exception):
    """A failed wxgate call.

    Attributes:
      code:     grpc.StatusCode, e.g. grpc.StatusCode.FAILED_PRECONDITION.
      message:  the status message (human-readable; never names a secret).
      reason:   ErrorInfo.reason, e.g. "NO_SESSION"; "" when the status carries
                no ErrorInfo (errors made by gRPC itself: UNAVAILABLE when the
                server is unreachable, a client-side DEADLINE_EXCEEDED, ...).
      domain:   ErrorInfo.domain ("wxgate"), or "".
      metadata: dict of ErrorInfo.metadata: "app", "field" for bad input,
                "endpoint", "errcode", "errmsg" for upstream answers.
      details:  every message unpacked from google.rpc.Status.details that the
                generated modules know (ErrorInfo included); others as Any.
    """

    def __init__(self, code, message, reason="", metadata=None, domain="", details=()):
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.domain = domain
        self.details = list(details)
        super().__init__(f"{code.name}"
                         + (f" {reason}" if reason else "")
                         + f": {message}"
                         + (f" {self.metadata}" if self.metadata else ""))

    @classmethod
    def from_rpc_error(cls, error):
        """Builds a WxgateError from the grpc.RpcError of a unary call.

        The ErrorInfo comes from the trailer grpc-status-details-bin, the
        serialized google.rpc.Status whose details are google.protobuf.Any.
        """
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
        status = decode_status_details(trailers)
        if status is None:
            return cls(code, message or "")
        reason, domain, metadata, details = "", "", {}, []
        for any_detail in status.details:
            if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                any_detail.Unpack(info)
                if not reason:
                    reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
                details.append(info)
            else:
                details.append(_unpack_known(any_detail))
        return cls(code, message or status.message, reason, metadata, domain, details)


def decode_status_details(trailing_metadata):
    """The google.rpc.Status in grpc-status-details-bin, or None when absent."""
    for key, value in trailing_metadata or ():
        if key == STATUS_DETAILS_KEY:
            status = status_pb2.Status()
            status.ParseFromString(value)  # grpcio hands "-bin" values over as bytes
            return status
    return None


def _unpack_known(any_detail):
    """Unpacks the google.rpc.error_details types; anything else stays an Any."""
    name = any_detail.TypeName()
    if name.startswith("google.rpc."):
        cls = getattr(error_details_pb2, name[len("google.rpc."):], None)
        if cls is not None:
            message = cls()
            if any_detail.Unpack(message):
                return message
    return any_detail


class WxgateClient:
    """A connection to wxgate; one per process is enough (channels multiplex).

    Args:
      target:      "host:port".
      timeout:     default deadline of each call, in seconds (None: no deadline;
                   wxgate then applies its own upstream timeout).
      credentials: grpc.ChannelCredentials for TLS; plaintext when None.
      options:     extra channel options, as for grpc.insecure_channel.
      channel:     an existing grpc.Channel to use instead (target,
                   credentials and options are then ignored; close() leaves
                   it open).

    Every method also takes timeout= (seconds; None: the client's default) and
    metadata= (extra request headers, a sequence of (key, value)) for that call.
    """

    def __init__(self, target, timeout=5.0, credentials=None, options=None, channel=None):
        self.target = target
        self.timeout = timeout
        self._owns_channel = channel is None
        if channel is None:
            if credentials is None:
                channel = grpc.insecure_channel(target, options=options)
            else:
                channel = grpc.secure_channel(target, credentials, options=options)
        self.channel = channel
        self.identity = identity_pb2_grpc.IdentityServiceStub(channel)
        self.signature = signature_pb2_grpc.SignatureServiceStub(channel)
        self.token = token_pb2_grpc.TokenServiceStub(channel)

    def close(self):
        if self._owns_channel:
            self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, timeout, metadata):
        try:
            return method(request, timeout=self.timeout if timeout is None else timeout,
                          metadata=metadata)
        except grpc.RpcError as error:
            raise WxgateError.from_rpc_error(error) from None

    # IdentityService

    def code2session(self, app, js_code, *, timeout=None, metadata=None):
        """wx.login code -> Code2SessionResponse(openid, unionid).

        App kind mini_program. The session_key stays in wxgate for
        decrypt_user_data. Codes are single-use: never retry this call with the
        same code (a reused code is INVALID_ARGUMENT WECHAT_INVALID_CODE).
        """
        return self._call(self.identity.Code2Session,
                          identity_pb2.Code2SessionRequest(app=app, js_code=js_code),
                          timeout, metadata)

    def wecom_code2session(self, app, js_code, *, timeout=None, metadata=None):
        """wx.qy.login code -> WeComCode2SessionResponse(corp_id, user_id). App kind wecom_app."""
        return self._call(self.identity.WeComCode2Session,
                          identity_pb2.WeComCode2SessionRequest(app=app, js_code=js_code),
                          timeout, metadata)

    def decrypt_user_data(self, app, *, openid=None, wecom_user_id=None, encrypted_data, iv,
                          raw_data="", signature="", timeout=None, metadata=None):
        """encryptedData + iv -> DecryptUserDataResponse(json, openid, unionid, phone_number, ...).

        Give openid (mini_program, from code2session) or wecom_user_id
        (wecom_app, from wecom_code2session). With raw_data and signature,
        wxgate also checks signature == sha1(raw_data + session_key).
        FAILED_PRECONDITION NO_SESSION: call code2session first;
        SESSION_KEY_STALE: the user logged in again since.
        """
        if openid is not None and wecom_user_id is not None:
            raise ValueError("give openid or wecom_user_id, not both")
        request = identity_pb2.DecryptUserDataRequest(
            app=app, encrypted_data=encrypted_data, iv=iv, raw_data=raw_data, signature=signature)
        if openid is not None:
            request.openid = openid
        if wecom_user_id is not None:
            request.wecom_user_id = wecom_user_id
        return self._call(self.identity.DecryptUserData, request, timeout, metadata)

    def get_phone_number(self, app, code, openid="", *, timeout=None, metadata=None):
        """getPhoneNumber button code -> GetPhoneNumberResponse. App kind mini_program."""
        return self._call(self.identity.GetPhoneNumber,
                          identity_pb2.GetPhoneNumberRequest(app=app, code=code, openid=openid),
                          timeout, metadata)

    def get_external_contact(self, app, external_userid, *, timeout=None, metadata=None):
        """WeCom external userid -> GetExternalContactResponse (unionid, name, follow_users, ...)."""
        return self._call(self.identity.GetExternalContact,
                          identity_pb2.GetExternalContactRequest(
                              app=app, external_userid=external_userid),
                          timeout, metadata)

    def batch_get_kf_customers(self, app, external_userids, need_enter_session_context=False, *,
                               timeout=None, metadata=None):
        """WeChat-KF customers -> BatchGetKfCustomersResponse(customers, invalid_external_userids)."""
        return self._call(self.identity.BatchGetKfCustomers,
                          identity_pb2.BatchGetKfCustomersRequest(
                              app=app, external_userids=list(external_userids),
                              need_enter_session_context=need_enter_session_context),
                          timeout, metadata)

    def exchange_oauth_code(self, app, code, with_user_info=False, *, timeout=None,
                            metadata=None):
        """Web / website / mobile-app login code -> ExchangeOAuthCodeResponse.

        App kind official_account (the code of connect/oauth2/authorize),
        website_app (connect/qrconnect) or mobile_app (the OpenSDK login):
        openid, unionid, scope, is_snapshot_user and, with with_user_info when
        the scope allows it, user_info. Codes are single-use: never retry.
        """
        return self._call(self.identity.ExchangeOAuthCode,
                          identity_pb2.ExchangeOAuthCodeRequest(
                              app=app, code=code, with_user_info=with_user_info),
                          timeout, metadata)

    def get_follower(self, app, openid, *, timeout=None, metadata=None):
        """An Official Account's user -> Follower(subscribed, unionid, ...). App kind official_account."""
        return self._call(self.identity.GetFollower,
                          identity_pb2.GetFollowerRequest(app=app, openid=openid),
                          timeout, metadata)

    def batch_get_followers(self, app, openids, *, timeout=None, metadata=None):
        """1 to 100 users of an Official Account -> BatchGetFollowersResponse(followers)."""
        return self._call(self.identity.BatchGetFollowers,
                          identity_pb2.BatchGetFollowersRequest(app=app, openids=list(openids)),
                          timeout, metadata)

    # SignatureService

    def sign_jsapi_config(self, app, url, *, timeout=None, metadata=None):
        """Page URL -> JsapiSignature for wx.config (wecom_app or official_account)."""
        return self._call(self.signature.SignJsapiConfig,
                          signature_pb2.SignJsapiConfigRequest(app=app, url=url),
                          timeout, metadata)

    def sign_agent_config(self, app, url, *, timeout=None, metadata=None):
        """Page URL -> JsapiSignature for wx.agentConfig (wecom_app with agent_id)."""
        return self._call(self.signature.SignAgentConfig,
                          signature_pb2.SignAgentConfigRequest(app=app, url=url),
                          timeout, metadata)

    # TokenService

    def get_access_token(self, app, failed_token="", *, timeout=None, metadata=None):
        """The app's cached access token -> GetAccessTokenResponse(access_token, expires_at).

        Pass the token WeChat just rejected as failed_token to have it refreshed
        (only if it is still the cached one). Needs token_service_enabled.
        """
        return self._call(self.token.GetAccessToken,
                          token_pb2.GetAccessTokenRequest(app=app, failed_token=failed_token),
                          timeout, metadata)
