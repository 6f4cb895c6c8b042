package dev.wxgate.example;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.wxgate.v1.Code2SessionRequest;
import dev.wxgate.v1.Code2SessionResponse;
import dev.wxgate.v1.DecryptUserDataRequest;
import dev.wxgate.v1.DecryptUserDataResponse;
import dev.wxgate.v1.GetExternalContactRequest;
import dev.wxgate.v1.GetExternalContactResponse;
import dev.wxgate.v1.IdentityServiceGrpc;
import dev.wxgate.v1.JsapiSignature;
import dev.wxgate.v1.SignAgentConfigRequest;
import dev.wxgate.v1.SignJsapiConfigRequest;
import dev.wxgate.v1.SignatureServiceGrpc;
// Generated from wxgate's proto/google/rpc/error_details.proto: Debian's proto-google-common-protos
// (1.16) has no ErrorInfo. With a current one, import com.google.rpc.ErrorInfo instead.
import google.rpc.ErrorDetails.ErrorInfo;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;

/**
 * wxgate's two typical stories with the blocking stubs generated from proto/wxgate/v1, and how
 * to read the google.rpc.ErrorInfo of a failed call. Copy what you need: each method is one
 * thing a service of yours does.
 *
 * <p>Thread-safe: gRPC stubs and channels may be shared by any number of threads.
 */
public final class WxgateStories {
  /** Every call gets a deadline: wxgate may wait on WeChat's servers (up to its own timeouts). */
  private static final long DEADLINE_SECONDS = 20;

  private final IdentityServiceGrpc.IdentityServiceBlockingStub identity;
  private final SignatureServiceGrpc.SignatureServiceBlockingStub signature;

  /** The channel is the caller's: one per process, closed by whoever made it. */
  public WxgateStories(Channel channel) {
    identity = IdentityServiceGrpc.newBlockingStub(channel);
    signature = SignatureServiceGrpc.newBlockingStub(channel);
  }

  // ---- Story 1: a mini-program user logs in, then has wx.getUserInfo data decrypted ----------

  /**
   * Step 1, on the mini-program's login request: exchange the wx.login() code. wxgate keeps the
   * session_key (it never leaves wxgate); the answer is the user's openid and unionid.
   */
  public Code2SessionResponse login(String app, String jsCode) {
    return identity
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .code2Session(Code2SessionRequest.newBuilder().setApp(app).setJsCode(jsCode).build());
  }

  /**
   * Step 2: decrypt what the mini-program got from wx.getUserInfo (encryptedData, iv) with the
   * session_key wxgate holds for this openid. The answer's json is the decrypted user data.
   */
  public DecryptUserDataResponse decryptUserData(
      String app, String openid, String encryptedData, String iv) {
    return identity
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .decryptUserData(
            DecryptUserDataRequest.newBuilder()
                .setApp(app)
                .setOpenid(openid)
                .setEncryptedData(encryptedData)
                .setIv(iv)
                .build());
  }

  // ---- Story 2: a WeCom sidebar page recognises the customer by the same UnionID -------------

  /**
   * wx.config for the sidebar page: the signature over the corp's jsapi_ticket. Pass the page's
   * URL as the browser has it; wxgate drops the #fragment, as WeChat's JS-SDK expects.
   */
  public JsapiSignature signJsapiConfig(String app, String pageUrl) {
    return signature
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .signJsapiConfig(SignJsapiConfigRequest.newBuilder().setApp(app).setUrl(pageUrl).build());
  }

  /** wx.agentConfig for the same page: the signature over the agent's ticket. */
  public JsapiSignature signAgentConfig(String app, String pageUrl) {
    return signature
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .signAgentConfig(SignAgentConfigRequest.newBuilder().setApp(app).setUrl(pageUrl).build());
  }

  /**
   * The customer the sidebar shows (the page got its external_userid from
   * wx.invoke("getCurContExternalContact")). Its unionid is the mini-program user's unionid.
   */
  public GetExternalContactResponse externalContact(String app, String externalUserid) {
    return identity
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .getExternalContact(
            GetExternalContactRequest.newBuilder()
                .setApp(app)
                .setExternalUserid(externalUserid)
                .build());
  }

  // ---- Errors ---------------------------------------------------------------------------------

  /**
   * Decrypts like {@link #decryptUserData}, sending an x-request-id header that wxgate logs and
   * echoes in the ErrorInfo's metadata, so one failure can be found in wxgate's log.
   */
  public DecryptUserDataResponse decryptUserDataTraced(
      String app, String openid, String encryptedData, String iv, String requestId) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER), requestId);
    return identity
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS)
        .decryptUserData(
            DecryptUserDataRequest.newBuilder()
                .setApp(app)
                .setOpenid(openid)
                .setEncryptedData(encryptedData)
                .setIv(iv)
                .build());
  }

  /**
   * The google.rpc.ErrorInfo of a failed call, or null if it has none (e.g. a deadline hit on
   * the client's side). wxgate sends a google.rpc.Status in the grpc-status-details-bin trailer;
   * StatusProto.fromThrowable parses it and its details hold one ErrorInfo. Switch on
   * getReason() (e.g. "NO_SESSION": call login() again); getMetadataMap() has "app" and, when
   * one was sent, "request_id".
   */
  public static ErrorInfo errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return null;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class);
        } catch (InvalidProtocolBufferException malformed) {
          return null; // is() matched the type URL, so only corrupt bytes end up here
        }
      }
    }
    return null;
  }
}
