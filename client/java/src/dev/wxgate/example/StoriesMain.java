package dev.wxgate.example;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.wxgate.v1.Code2SessionResponse;
import dev.wxgate.v1.DecryptUserDataResponse;
import google.rpc.ErrorDetails.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The test suite's glue around {@link WxgateStories} (tests/polyglot/stories.py): reads the
 * stories' inputs as one JSON object on stdin, runs them, writes one JSON object on stdout.
 * Nothing here is needed to use wxgate from Java.
 */
public final class StoriesMain {
  public static void main(String[] args) throws Exception {
    JsonObject in =
        JsonParser.parseReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
            .getAsJsonObject();
    // Plaintext for the test's loopback wxgate; use TlsChannelCredentials across machines.
    ManagedChannel channel =
        Grpc.newChannelBuilder(in.get("target").getAsString(), InsecureChannelCredentials.create())
            .build();
    try {
      WxgateStories wx = new WxgateStories(channel);
      JsonObject out = new JsonObject();
      out.add("login", login(wx, in.getAsJsonObject("login")));
      out.add("sidebar", sidebar(wx, in.getAsJsonObject("sidebar")));
      out.add("error", error(wx, in.getAsJsonObject("error")));
      System.out.println(new Gson().toJson(out));
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static JsonObject login(WxgateStories wx, JsonObject in) {
    String app = in.get("app").getAsString();
    Code2SessionResponse session = wx.login(app, in.get("js_code").getAsString());
    DecryptUserDataResponse user =
        wx.decryptUserData(
            app,
            session.getOpenid(),
            in.get("encrypted_data").getAsString(),
            in.get("iv").getAsString());
    JsonObject out = toJson(session);
    out.add("decrypted", toJson(user));
    return out;
  }

  private static JsonObject sidebar(WxgateStories wx, JsonObject in) {
    String app = in.get("app").getAsString();
    String url = in.get("url").getAsString();
    JsonObject out = new JsonObject();
    out.add("jsapi", toJson(wx.signJsapiConfig(app, url)));
    out.add("agent", toJson(wx.signAgentConfig(app, url)));
    out.addProperty(
        "unionid",
        wx.externalContact(app, in.get("external_userid").getAsString()).getUnionid());
    return out;
  }

  /** The call must fail; its code and ErrorInfo are the output. */
  private static JsonObject error(WxgateStories wx, JsonObject in) {
    try {
      wx.decryptUserDataTraced(
          in.get("app").getAsString(),
          in.get("openid").getAsString(),
          in.get("encrypted_data").getAsString(),
          in.get("iv").getAsString(),
          in.get("request_id").getAsString());
    } catch (StatusRuntimeException e) {
      JsonObject out = new JsonObject();
      Status status = Status.fromThrowable(e);
      out.addProperty("code", status.getCode().name());
      out.addProperty("message", status.getDescription());
      ErrorInfo info = WxgateStories.errorInfo(e);
      if (info != null) {
        out.addProperty("domain", info.getDomain());
        out.addProperty("reason", info.getReason());
        JsonObject metadata = new JsonObject();
        info.getMetadataMap().forEach(metadata::addProperty);
        out.add("metadata", metadata);
      }
      return out;
    }
    throw new IllegalStateException("DecryptUserData for a user without a session succeeded");
  }

  /** A response in the protobuf JSON mapping, with the .proto's field names. */
  private static JsonObject toJson(MessageOrBuilder message) {
    try {
      return JsonParser.parseString(
              JsonFormat.printer()
                  .preservingProtoFieldNames()
                  .includingDefaultValueFields()
                  .print(message))
          .getAsJsonObject();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e); // only for Any fields of unknown types: none here
    }
  }
}
